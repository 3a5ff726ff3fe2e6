"""Parse ``nginx -T`` output into a directive tree.

``nginx -T`` prints every configuration file it loaded, each preceded by
``# configuration file PATH:``. The main file comes first and ``include``
directives point at the others, so we parse each file into a tree and splice
included files in where the ``include`` stood (what nginx itself does).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_FILE_HEADER = re.compile(r"^# configuration file (.+):$", re.M)


@dataclass
class Directive:
    name: str
    args: list[str]
    file: str
    line: int
    block: list[Directive] | None = None
    parent: Directive | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def children(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def first(self, name: str) -> Directive | None:
        found = self.children(name)
        return found[-1] if found else None

    def walk(self) -> Iterator[Directive]:
        for d in self.block or []:
            yield d
            yield from d.walk()


class NginxParseError(ValueError):
    pass


def _tokens(text: str) -> Iterator[tuple[str, int, bool]]:
    """(token, line, quoted) for words, ``;``, ``{`` and ``}``."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            yield c, line, False
            i += 1
        elif c in "\"'":
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            yield "".join(buf), line, True
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ";{}":
                if text[j] == "\\" and j + 1 < n:
                    j += 2
                    continue
                j += 1
            yield text[i:j], line, False
            i = j


def parse_file(text: str, file: str) -> list[Directive]:
    root: list[Directive] = []
    stack: list[list[Directive]] = [root]
    parents: list[Directive | None] = [None]
    words: list[str] = []
    start = 0
    for tok, line, quoted in _tokens(text):
        if not quoted and tok == ";":
            if words:
                stack[-1].append(Directive(words[0], words[1:], file, start, None, parents[-1]))
            words = []
        elif not quoted and tok == "{":
            if not words:
                raise NginxParseError(f"{file}:{line}: block without a name")
            d = Directive(words[0], words[1:], file, start, [], parents[-1])
            stack[-1].append(d)
            stack.append(d.block)  # type: ignore[arg-type]
            parents.append(d)
            words = []
        elif not quoted and tok == "}":
            if len(stack) == 1:
                raise NginxParseError(f"{file}:{line}: unexpected }}")
            stack.pop()
            parents.pop()
        else:
            if not words:
                start = line
            words.append(tok)
    return root


def split_dump(dump: str) -> dict[str, str]:
    """``nginx -T`` output -> {file path: text}, in the order printed."""
    files: dict[str, str] = {}
    heads = list(_FILE_HEADER.finditer(dump))
    for k, m in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(dump)
        files.setdefault(m.group(1), dump[m.end() + 1 : end])
    return files


def parse_dump(dump: str) -> Directive:
    """The whole configuration as one tree rooted at a synthetic ``main`` block."""
    files = split_dump(dump)
    if not files:
        raise NginxParseError("nginx -T printed no configuration files")
    parsed = {path: parse_file(text, path) for path, text in files.items()}
    main_path = next(iter(files))
    root = Directive("main", [], main_path, 0, [])

    def expand(items: list[Directive], parent: Directive, depth: int) -> list[Directive]:
        out: list[Directive] = []
        for d in items:
            d.parent = parent
            if d.name == "include" and d.args and depth < 20:
                pattern = d.args[0]
                for path in parsed:
                    if path == pattern or fnmatch.fnmatch(
                        path, pattern if pattern.startswith("/") else "*/" + pattern
                    ):
                        out.extend(expand(_copy(parsed[path]), parent, depth + 1))
                continue
            if d.block is not None:
                d.block = expand(d.block, d, depth)
            out.append(d)
        return out

    root.block = expand(_copy(parsed[main_path]), root, 0)
    return root


def _copy(items: list[Directive]) -> list[Directive]:
    return [
        Directive(d.name, list(d.args), d.file, d.line, _copy(d.block) if d.block is not None else None)
        for d in items
    ]
