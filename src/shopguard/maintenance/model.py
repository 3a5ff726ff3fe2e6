"""The inventory's data model: components, where they were found, and warnings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from packageurl import PackageURL


class Owner(StrEnum):
    """Who upgrades a component (the update plan groups by this)."""

    CORE = "core"
    """The shop platform itself (WordPress, Magento, PrestaShop ...)."""
    EXTENSION = "extension"
    """Plugins, themes, modules of the platform."""
    LIBRARY = "library"
    """PHP, JavaScript and Python libraries."""
    OS = "os"
    """Operating system and its packages."""
    RUNTIME = "runtime"
    """Server software: PHP, nginx, databases, Node.js, Python."""


@dataclass(frozen=True)
class Component:
    """One piece of software at one version, found in one place."""

    name: str
    """Name as its ecosystem spells it (``django``, ``magento/product-community-edition``)."""
    version: str
    """Version as found; empty when it could not be read."""
    ecosystem: str
    """OSV ecosystem (``PyPI``, ``npm``, ``Packagist``, ``Debian``, ``WordPress``, ``generic``)."""
    purl: str
    """Package URL (https://github.com/package-url/purl-spec)."""
    owner: Owner
    location: str
    """The file (or ``host:...``) the version was read from."""
    kind: str = "library"
    """Finer type: ``platform``, ``plugin``, ``theme``, ``library``, ``js-file``, ``os-package``,
    ``runtime``, ``os``."""
    eol_product: str = ""
    """endoflife.date product id when this component has release cycles there (``php``, ``wordpress``)."""
    match_keys: tuple[tuple[str, str], ...] = ()
    """Extra (ecosystem, name) pairs to look up advisories under (e.g. retire.js library names)."""
    direct: bool = True
    """False for transitive lockfile entries."""
    match_version: str = ""
    """Version advisories are compared against when it differs from ``version``: a Debian binary
    package (``bsdutils 1:2.38.1-5``) is matched by its source package's version (``util-linux
    2.38.1-5``), which is what advisories name. Empty means ``version``."""

    @property
    def keys(self) -> tuple[tuple[str, str], ...]:
        """Every (ecosystem, normalised name) this component's advisories are filed under."""
        own = (self.ecosystem, normalise_name(self.ecosystem, self.name))
        return (own, *[(e, normalise_name(e, n)) for e, n in self.match_keys if (e, n) != own])

    @property
    def advisory_version(self) -> str:
        """The version advisories are compared against."""
        return self.match_version or self.version


@dataclass(frozen=True)
class InventoryWarning:
    """Something that could not be read; the rest of the inventory went on."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class Inventory:
    components: list[Component] = field(default_factory=list)
    warnings: list[InventoryWarning] = field(default_factory=list)

    def add(self, items: Iterable[Component]) -> None:
        self.components.extend(items)

    def warn(self, location: str, message: str) -> None:
        self.warnings.append(InventoryWarning(str(location), message))

    def extend(self, other: Inventory) -> None:
        self.components.extend(other.components)
        self.warnings.extend(other.warnings)

    def unique(self) -> list[Component]:
        """Components without exact duplicates (same purl and location)."""
        seen: set[tuple[str, str]] = set()
        out = []
        for c in self.components:
            k = (c.purl, c.location)
            if k not in seen:
                seen.add(k)
                out.append(c)
        return out


_PURL_TYPES = {
    "PyPI": "pypi",
    "npm": "npm",
    "Packagist": "composer",
    "Debian": "deb",
    "Ubuntu": "deb",
    "Red Hat": "rpm",
    "AlmaLinux": "rpm",
    "Rocky Linux": "rpm",
}


def normalise_name(ecosystem: str, name: str) -> str:
    """Name as advisories file it: PEP 503 for PyPI, lower case for Composer."""
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    if ecosystem in ("Packagist", "WordPress", "generic", "retirejs"):
        return name.lower()
    return name


def make_purl(
    ecosystem: str,
    name: str,
    version: str,
    *,
    namespace: str | None = None,
    qualifiers: dict[str, str] | None = None,
) -> str:
    """Build a Package URL for a component of an ecosystem."""
    ptype = _PURL_TYPES.get(ecosystem, "generic")
    ns = namespace
    nm = name
    if ptype in ("composer", "npm") and "/" in name:
        ns, nm = name.rsplit("/", 1)
    if ptype == "pypi":
        nm = normalise_name("PyPI", name)
    return PackageURL(
        type=ptype, namespace=ns, name=nm, version=version or None, qualifiers=qualifiers or None
    ).to_string()
