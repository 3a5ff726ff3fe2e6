"""The upgrade command for a component, where it is knowable."""

from __future__ import annotations

from shopguard.maintenance.model import Component


def upgrade_command(c: Component, target: str | None) -> str:
    """A command (or the updater to use) that moves ``c`` to ``target``."""
    t = target or "the latest release"
    loc = c.location
    if c.kind == "js-file":
        return (
            f"replace {loc} with {c.name} {t} (download it from npm: npm pack {c.name}@{target or 'latest'})"
        )
    if c.ecosystem == "Packagist":
        if c.name.startswith("magento/product-"):
            return (
                f"composer require-commerce {c.name} {target or ''} --no-update && composer update".replace(
                    "  ", " "
                )
            )
        return (
            f"composer require {c.name}:^{target} --update-with-dependencies"
            if target
            else f"composer update {c.name}"
        )
    if c.ecosystem == "npm":
        return f"npm install {c.name}@{target}" if target else f"npm update {c.name}"
    if c.ecosystem == "PyPI":
        if loc.endswith("poetry.lock"):
            return f"poetry add {c.name}@^{target}" if target else f"poetry update {c.name}"
        if loc.endswith("uv.lock"):
            return f"uv lock --upgrade-package {c.name}" + (f"=={target}" if target else "")
        if loc.endswith("Pipfile.lock"):
            return f"pipenv install {c.name}=={target}" if target else f"pipenv update {c.name}"
        return (
            f"pip install '{c.name}=={target}' and pin it in {loc.rsplit('/', 1)[-1]}"
            if target
            else f"pip install -U {c.name}"
        )
    if c.kind == "os-package":
        if c.ecosystem.startswith(("Debian", "Ubuntu")):
            return f"apt-get install --only-upgrade {c.name}"
        return f"dnf upgrade {c.name}"
    if c.kind == "os":
        return f"upgrade {c.name} to a supported release ({t}); follow the distribution's upgrade guide"
    if c.kind == "runtime":
        return f"upgrade {c.name} to {t} with your package manager or hosting panel"
    if c.name == "wordpress":
        return f"wp core update --version={target}" if target else "wp core update (or Dashboard > Updates)"
    if c.kind == "plugin":
        return f"wp plugin update {c.name}" + (f" --version={target}" if target else "")
    if c.kind == "theme":
        return f"wp theme update {c.name}" + (f" --version={target}" if target else "")
    return f"upgrade {c.name} to {t} with the platform's updater"
