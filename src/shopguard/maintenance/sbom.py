"""CycloneDX 1.6 SBOM of an inventory (cyclonedx-python-lib)."""

from __future__ import annotations

from collections.abc import Sequence

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from shopguard import __version__
from shopguard.maintenance.model import Component

_TYPES = {
    "os": ComponentType.OPERATING_SYSTEM,
    "runtime": ComponentType.APPLICATION,
    "platform": ComponentType.APPLICATION,
    "plugin": ComponentType.LIBRARY,
    "theme": ComponentType.LIBRARY,
}


def build_bom(components: Sequence[Component], name: str = "shop") -> Bom:
    bom = Bom()
    root = CdxComponent(name=name, type=ComponentType.APPLICATION, bom_ref="shop-root")
    bom.metadata.component = root
    bom.metadata.properties.add(Property(name="shopguard:version", value=__version__))
    seen: set[str] = set()
    for c in components:
        ref = f"{c.purl}#{c.location}"
        if ref in seen:
            continue
        seen.add(ref)
        cdx = CdxComponent(
            name=c.name,
            version=c.version or None,
            type=_TYPES.get(c.kind, ComponentType.LIBRARY),
            purl=PackageURL.from_string(c.purl),
            bom_ref=ref,
            properties=[
                Property(name="shopguard:location", value=c.location),
                Property(name="shopguard:owner", value=c.owner.value),
                Property(name="shopguard:kind", value=c.kind),
            ],
        )
        bom.components.add(cdx)
    bom.register_dependency(root, list(bom.components))
    return bom


def render_cyclonedx(components: Sequence[Component], name: str = "shop") -> str:
    return JsonV1Dot6(build_bom(components, name)).output_as_string(indent=2)
