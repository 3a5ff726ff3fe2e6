"""Load and compile YARA rules with yara-x: ShopGuard's own set plus the user's.

A rule file with an error stops the scan before it starts, with the file and
line in the message: silently dropping a rule would make a scan look clean when
it was not looking.

Public rule sets load unchanged. They rely on features this module provides:

- ``include "other.yar"`` resolved against the including file's folder, as YARA
  does (yara-x only searches fixed include folders): includes are expanded here,
  with a line map so that an error inside an included file names that file and
  its line. A file that another file of the same folder set includes (for example
  php-malware-finder's ``whitelist.yar``, which uses ``hash`` without importing it)
  is compiled only through the file that includes it.
- the external variables LOKI and THOR define (signature-base's
  ``yara_mixed_ext_vars.yar`` and friends): ``filename``, ``filepath`` (the folder),
  ``extension`` (with its dot), ``filetype``, ``owner`` and ``md5``;
- modules (``hash``, ``math``, ``pe``, ``elf``, ...), private and global rules, which
  yara-x supports as such; relaxed regular expressions with ``third_party``.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yara_x

RULE_SUFFIXES = (".yar", ".yara")

GLOBALS: dict[str, str] = {
    "filekind": "",
    "filename": "",
    "filepath": "",
    "extension": "",
    "filetype": "",
    "owner": "",
    "md5": "",
}
"""External variables every rule may use. ``filekind`` is ShopGuard's content kind
(php, js, html, config, text, image, binary); the others are set per file the way
LOKI sets them for signature-base: ``filename`` the base name, ``filepath`` the
folder, ``extension`` lower case with its dot (``.php``), ``filetype`` an upper-case
type (``PHP``, ``EXE`` ...), ``owner`` the owning user's name, ``md5`` the hex MD5 of
the scanned data (third-party mode only; empty otherwise)."""


class RuleError(Exception):
    """A rule file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class RuleSource:
    path: str
    """Where the text came from (shown in errors)."""
    text: str
    """The text with its includes expanded."""
    namespace: str
    lines: tuple[tuple[str, int], ...] = ()
    """For each line of ``text``: the file and line it came from (empty: ``path`` itself)."""
    includes: frozenset[str] = frozenset()
    """Real paths of the files this one includes, directly or not."""

    def origin(self, line: int) -> tuple[str, int]:
        if self.lines and 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return self.path, line


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


_INCLUDE = re.compile(r'^\s*include\s+"((?:[^"\\\n]|\\.)*)"\s*(?://.*)?$')
_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"')
MAX_INCLUDE_DEPTH = 32


def _read_text(path: Path, where: str = "") -> str:
    prefix = f"{where}: " if where else ""
    try:
        return path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise RuleError(f"{prefix}{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise RuleError(f"{prefix}{path}: cannot read rule file: {exc.strerror}") from None


def _comment_state(line: str, inside: bool) -> bool:
    """Whether a ``/* ... */`` comment is still open after ``line``."""
    code = _STRINGS.sub('""', line)
    pos = 0
    while True:
        if inside:
            end = code.find("*/", pos)
            if end < 0:
                return True
            inside, pos = False, end + 2
        else:
            start, cut = code.find("/*", pos), code.find("//", pos)
            if start < 0 or (0 <= cut < start):
                return False
            inside, pos = True, start + 2


def expand_includes(
    path: Path, text: str, _stack: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[str, int]], set[str]]:
    """The lines of ``text`` with every ``include`` replaced by the included file
    (found relative to the including file, like YARA), where each line came from,
    and the real paths included."""
    real = os.path.realpath(path)
    stack = (*_stack, real)
    out: list[str] = []
    where: list[tuple[str, int]] = []
    included: set[str] = set()
    in_comment = False
    for n, line in enumerate(text.splitlines(), 1):
        m = None if in_comment else _INCLUDE.match(line)
        if m is None:
            out.append(line)
            where.append((str(path), n))
            in_comment = _comment_state(line, in_comment)
            continue
        name = m.group(1).encode().decode("unicode_escape")
        target = Path(name) if os.path.isabs(name) else path.parent / name
        here = f"{path}:{n}"
        if not target.is_file():
            raise RuleError(f'{here}: include "{name}": no such file ({target})')
        target_real = os.path.realpath(target)
        if target_real in stack:
            raise RuleError(f'{here}: include "{name}" includes itself (through {" -> ".join(stack)})')
        if len(stack) >= MAX_INCLUDE_DEPTH:
            raise RuleError(f'{here}: include "{name}": includes nested more than {MAX_INCLUDE_DEPTH} deep')
        sub_lines, sub_where, sub_inc = expand_includes(target, _read_text(target, here), stack)
        out.extend(sub_lines)
        where.extend(sub_where)
        included |= {target_real, *sub_inc}
    return out, where, included


def read_sources(folders: Iterable[Path], namespace_prefix: str = "user") -> list[RuleSource]:
    """One source per rule file, includes expanded; files that another file of the
    same folder set includes are not compiled again on their own."""
    out: list[RuleSource] = []
    for folder in folders:
        sources: list[RuleSource] = []
        for path in rule_files(folder):
            lines, where, included = expand_includes(path, _read_text(path))
            ns = f"{namespace_prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
            plain = all(w == (str(path), i) for i, w in enumerate(where, 1))
            sources.append(
                RuleSource(str(path), "\n".join(lines) + "\n", ns, () if plain else tuple(where),
                           frozenset(included))
            )  # fmt: skip
        used = set().union(*(s.includes for s in sources)) if sources else set()
        out.extend(s for s in sources if os.path.realpath(s.path) not in used)
    return out


_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")


def describe_compile_error(source: RuleSource | str, exc: Exception) -> str:
    """``file:line:col: message`` from a yara-x error (its first line is the message),
    pointing into the included file when the error is in one."""
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    origin = source.path if isinstance(source, RuleSource) else source
    m = _LOCATION.search(text)
    if m:
        line = int(m["line"])
        if isinstance(source, RuleSource) and m["file"] == source.path:
            file, line = source.origin(line)
        else:
            file = m["file"]
        return f"{file}:{line}:{m['col']}: {first}"
    return f"{origin}: {first}"


def compile_rules(sources: Sequence[RuleSource], *, third_party: bool = False) -> yara_x.Rules:
    """Compile every source into one rule set; the first error raises RuleError."""
    compiler = yara_x.Compiler(relaxed_re_syntax=third_party)
    for name, value in GLOBALS.items():
        compiler.define_global(name, value)
    for src in sources:
        compiler.new_namespace(src.namespace)
        try:
            compiler.add_source(src.text, origin=src.path)
        except yara_x.CompileError as exc:
            raise RuleError(describe_compile_error(src, exc)) from None
    try:
        return compiler.build()
    except yara_x.CompileError as exc:  # pragma: no cover - build errors surface in add_source
        raise RuleError(describe_compile_error("rules", exc)) from None


def load_rules(
    extra_folders: Iterable[Path] = (), *, third_party: bool = False, builtin: bool = True
) -> yara_x.Rules:
    sources = read_sources([builtin_rules_dir()], "shopguard") if builtin else []
    taken: set[str] = {s.namespace for s in sources}
    for src in read_sources(extra_folders, "user"):
        ns, n = src.namespace, 1
        while ns in taken:  # two folders with a php.yar each: two namespaces
            n += 1
            ns = f"{src.namespace}_{n}"
        taken.add(ns)
        sources.append(dataclasses.replace(src, namespace=ns))
    if not sources:
        raise RuleError("no rules to load")
    return compile_rules(sources, third_party=third_party)


def serialize(rules: yara_x.Rules) -> bytes:
    buf = io.BytesIO()
    rules.serialize_into(buf)
    return buf.getvalue()


def deserialize(data: bytes) -> yara_x.Rules:
    return yara_x.Rules.deserialize_from(io.BytesIO(data))
