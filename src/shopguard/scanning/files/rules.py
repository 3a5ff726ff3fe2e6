"""Load and compile YARA rules with yara-x: ShopGuard's own set plus the user's.

A rule file with an error stops the scan before it starts, with the file and
line in the message: silently dropping a rule would make a scan look clean when
it was not looking.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yara_x

RULE_SUFFIXES = (".yar", ".yara")

GLOBALS: dict[str, str] = {"filekind": "", "filename": "", "filepath": "", "extension": "", "filetype": ""}
"""External variables every rule may use. ``filekind`` is ShopGuard's content kind
(php, js, html, config, text, image, binary); the others are the names common
public rule sets (signature-base, php-malware-finder) expect."""


class RuleError(Exception):
    """A rule file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class RuleSource:
    path: str
    """Where the text came from (shown in errors)."""
    text: str
    namespace: str


def builtin_rules_dir() -> Path:
    return Path(str(resources.files("shopguard") / "data" / "rules"))


def rule_files(folder: Path) -> list[Path]:
    """Every rule file below ``folder``, sorted, or a RuleError if it is unusable."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise RuleError(f"{folder}: rule folder not found (expected a folder of .yar/.yara files)")
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in RULE_SUFFIXES)
    if not found:
        raise RuleError(f"{folder}: no .yar or .yara files in this rule folder")
    return found


def read_sources(folders: Iterable[Path], namespace_prefix: str = "user") -> list[RuleSource]:
    out: list[RuleSource] = []
    for folder in folders:
        for path in rule_files(folder):
            try:
                text = path.read_text(encoding="utf-8", errors="strict")
            except UnicodeDecodeError as exc:
                raise RuleError(f"{path}: not UTF-8 text (byte {exc.start})") from None
            except OSError as exc:
                raise RuleError(f"{path}: cannot read rule file: {exc.strerror}") from None
            ns = f"{namespace_prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
            out.append(RuleSource(str(path), text, ns))
    return out


_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")


def describe_compile_error(origin: str, exc: Exception) -> str:
    """``file:line: message`` from a yara-x error (its first line is the message)."""
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    m = _LOCATION.search(text)
    if m:
        return f"{m['file']}:{m['line']}:{m['col']}: {first}"
    return f"{origin}: {first}"


def compile_rules(sources: Sequence[RuleSource], *, third_party: bool = False) -> yara_x.Rules:
    """Compile every source into one rule set; the first error raises RuleError."""
    compiler = yara_x.Compiler(relaxed_re_syntax=third_party)
    for name, value in GLOBALS.items():
        compiler.define_global(name, value)
    for src in sources:
        compiler.new_namespace(src.namespace)
        compiler.add_include_dir(str(Path(src.path).parent))
        try:
            compiler.add_source(src.text, origin=src.path)
        except yara_x.CompileError as exc:
            raise RuleError(describe_compile_error(src.path, exc)) from None
    try:
        return compiler.build()
    except yara_x.CompileError as exc:  # pragma: no cover - build errors surface in add_source
        raise RuleError(describe_compile_error("rules", exc)) from None


def load_rules(
    extra_folders: Iterable[Path] = (), *, third_party: bool = False, builtin: bool = True
) -> yara_x.Rules:
    sources = read_sources([builtin_rules_dir()], "shopguard") if builtin else []
    sources += read_sources(extra_folders, "user")
    if not sources:
        raise RuleError("no rules to load")
    return compile_rules(sources, third_party=third_party)


def serialize(rules: yara_x.Rules) -> bytes:
    buf = io.BytesIO()
    rules.serialize_into(buf)
    return buf.getvalue()


def deserialize(data: bytes) -> yara_x.Rules:
    return yara_x.Rules.deserialize_from(io.BytesIO(data))
