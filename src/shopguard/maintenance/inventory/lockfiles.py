"""Lockfile parsers: composer.lock, package-lock.json, yarn.lock, pnpm-lock.yaml,
requirements.txt, poetry.lock, uv.lock, Pipfile.lock.

Each parser takes the file's text and returns ``(components, notes)`` where
notes are warnings about parts it could not read; it raises
:class:`LockfileError` when nothing in the file can be trusted.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from shopguard.maintenance.inventory.known import classify
from shopguard.maintenance.model import Component, make_purl


class LockfileError(ValueError):
    """The file is not a lockfile of its kind (malformed, truncated, unknown shape)."""


Parsed = tuple[list[Component], list[str]]


def _comp(eco: str, name: str, version: str, location: str, *, direct: bool = True) -> Component:
    owner, kind, eol = classify(eco, name)
    return Component(
        name=name,
        version=version,
        ecosystem=eco,
        purl=make_purl(eco, name, version),
        owner=owner,
        location=location,
        kind=kind,
        eol_product=eol,
        direct=direct,
    )


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file ends abruptly: it looks truncated)" if text.rstrip()[-1:] not in ("}", "]") else ""
        raise LockfileError(
            f"not valid JSON at line {exc.lineno} column {exc.colno}{hint}; expected {what}"
        ) from None


def composer_lock(text: str, loc: str) -> Parsed:
    data = _json(text, "a composer.lock object")
    if not isinstance(data, dict) or "packages" not in data:
        raise LockfileError("no 'packages' list; expected a composer.lock")
    out, notes = [], []
    for section, direct in (("packages", True), ("packages-dev", True)):
        for i, pkg in enumerate(data.get(section) or ()):
            if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
                notes.append(f"{section}[{i}] has no package name; skipped")
                continue
            version = str(pkg.get("version") or "")
            if version.startswith("dev-") or not version:
                notes.append(
                    f"{pkg['name']}: version {version or '(none)'} is a branch, not a release; not checked"
                )
                version = ""
            out.append(_comp("Packagist", pkg["name"], version.removeprefix("v"), loc, direct=direct))
    return out, notes


def package_lock(text: str, loc: str) -> Parsed:
    data = _json(text, "a package-lock.json object")
    if not isinstance(data, dict):
        raise LockfileError("expected a JSON object")
    lv = data.get("lockfileVersion")
    notes = []
    if lv not in (1, 2, 3):
        notes.append(f"lockfileVersion {lv!r} is not one ShopGuard knows (1-3); read as version 3")
    out: list[Component] = []
    packages = data.get("packages")
    if isinstance(packages, dict) and packages:
        for path, meta in packages.items():
            if not path or not isinstance(meta, dict) or meta.get("link"):
                continue
            name = meta.get("name") or path.rsplit("node_modules/", 1)[-1]
            version = str(meta.get("version") or "")
            if not version:
                notes.append(f"{path}: no version; not checked")
            direct = path.count("node_modules/") == 1
            out.append(_comp("npm", name, version, loc, direct=direct))
        return out, notes
    deps = data.get("dependencies")
    if not isinstance(deps, dict):
        raise LockfileError("neither 'packages' (v2/v3) nor 'dependencies' (v1) found")

    def walk(d: dict[str, Any], depth: int) -> None:
        for name, meta in d.items():
            if not isinstance(meta, dict):
                continue
            out.append(_comp("npm", name, str(meta.get("version") or ""), loc, direct=depth == 0))
            if isinstance(meta.get("dependencies"), dict):
                walk(meta["dependencies"], depth + 1)

    walk(deps, 0)
    return out, notes


def _spec_name(spec: str) -> str:
    spec = spec.strip().strip('"')
    at = spec.find("@", 1)
    return spec[:at] if at > 0 else spec


def yarn_lock(text: str, loc: str) -> Parsed:
    """yarn v1 (``version "1.2.3"``) and berry (``version: 1.2.3``) lockfiles."""
    out, notes = [], []
    names: list[str] = []
    saw_header = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if not line.rstrip().endswith(":"):
                raise LockfileError(f"line {lineno}: expected an entry header ending in ':'")
            saw_header = True
            head = line.rstrip()[:-1]
            names = [] if head.strip('"') == "__metadata" else [_spec_name(s) for s in head.split(",")]
            continue
        m = re.match(r'^\s+version:?\s+"?([^"\s]+)"?\s*$', line)
        if m and names:
            out.append(_comp("npm", names[0], m.group(1), loc))
            names = []
    if not saw_header:
        raise LockfileError("no entries found; expected a yarn.lock")
    if names:
        notes.append(f"last entry {names[0]} has no version (the file may be truncated)")
    return out, notes


_PNPM_KEY = re.compile(r"^/?((?:@[^/@]+/)?[^/@(]+)[@/]([^/@(]+)")


def pnpm_lock(text: str, loc: str) -> Parsed:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LockfileError(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or "lockfileVersion" not in data:
        raise LockfileError("no 'lockfileVersion'; expected a pnpm-lock.yaml")
    notes = []
    lv = str(data.get("lockfileVersion"))
    if not re.match(r"^[5-9](\.\d+)?$", lv):
        notes.append(f"lockfileVersion {lv} is not one ShopGuard knows (5-9); read it anyway")
    out = []
    for key in data.get("packages") or {}:
        m = _PNPM_KEY.match(str(key))
        if not m:
            notes.append(f"package key {key!r} not understood; skipped")
            continue
        out.append(_comp("npm", m.group(1), m.group(2), loc))
    return out, notes


_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(===?|~=|>=|<=|!=|<|>)?\s*([^\s;,#]*)")


def requirements_txt(text: str, loc: str) -> Parsed:
    out, notes = [], []
    joined = re.sub(r"\\\r?\n", " ", text)
    for lineno, raw in enumerate(joined.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "--")) or "://" in line:
            continue
        m = _REQ.match(line)
        if not m:
            notes.append(f"line {lineno}: {line[:60]!r} is not a requirement; skipped")
            continue
        name, op, ver = m.group(1), m.group(3), m.group(4)
        if op in ("==", "===") and ver and "*" not in ver:
            out.append(_comp("PyPI", name, ver, loc))
        else:
            notes.append(f"line {lineno}: {name} is not pinned with == (version unknown); not checked")
            out.append(_comp("PyPI", name, "", loc))
    return out, notes


def _toml_packages(text: str, what: str, loc: str) -> Parsed:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(f"not valid TOML ({exc}); expected {what}") from None
    pkgs = data.get("package")
    if not isinstance(pkgs, list):
        raise LockfileError(f"no [[package]] entries; expected {what}")
    out, notes = [], []
    for i, p in enumerate(pkgs):
        if not isinstance(p, dict) or "name" not in p:
            notes.append(f"package[{i}] has no name; skipped")
            continue
        src = p.get("source") or {}
        if isinstance(src, dict) and ("editable" in src or "virtual" in src):
            continue  # the project itself
        out.append(_comp("PyPI", str(p["name"]), str(p.get("version") or ""), loc))
    return out, notes


def poetry_lock(text: str, loc: str) -> Parsed:
    return _toml_packages(text, "a poetry.lock", loc)


def uv_lock(text: str, loc: str) -> Parsed:
    return _toml_packages(text, "a uv.lock", loc)


def pipfile_lock(text: str, loc: str) -> Parsed:
    data = _json(text, "a Pipfile.lock object")
    if not isinstance(data, dict) or not ({"default", "develop"} & set(data)):
        raise LockfileError("no 'default' or 'develop' section; expected a Pipfile.lock")
    out, notes = [], []
    for section in ("default", "develop"):
        for name, meta in (data.get(section) or {}).items():
            ver = str((meta or {}).get("version") or "") if isinstance(meta, dict) else ""
            if not ver.startswith("=="):
                notes.append(f"{section}.{name}: no pinned version; not checked")
                ver = ""
            out.append(_comp("PyPI", name, ver.removeprefix("=="), loc))
    return out, notes


PARSERS: dict[str, Callable[[str, str], Parsed]] = {
    "composer.lock": composer_lock,
    "package-lock.json": package_lock,
    "npm-shrinkwrap.json": package_lock,
    "yarn.lock": yarn_lock,
    "pnpm-lock.yaml": pnpm_lock,
    "requirements.txt": requirements_txt,
    "poetry.lock": poetry_lock,
    "uv.lock": uv_lock,
    "Pipfile.lock": pipfile_lock,
}


def parser_for(path: Path) -> Callable[[str, str], Parsed] | None:
    name = path.name
    if name in PARSERS:
        return PARSERS[name]
    if re.match(r"^requirements[\w.-]*\.txt$", name):
        return requirements_txt
    return None
