"""A small Apache httpd configuration reader: directives and ``<Section>`` blocks
from the files ``apache2 -t -D DUMP_INCLUDES`` lists, in load order.

The include dump is a tree: each file is indented under the file that includes
it and prefixed with the line number of that ``Include``. Directives of an
included file are placed where the ``Include`` stands, so a file included inside
a ``<VirtualHost>`` belongs to that virtual host, not to the whole server."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

_INCLUDED = re.compile(r"^(\s*)\((\*|\d+)\)\s+(\S.*)$")


@dataclass
class Node:
    name: str
    """Directive or section name, lower-case (``servertokens``, ``directory``)."""
    args: list[str]
    file: str
    line: int
    children: list[Node] | None = None
    parent: Node | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def walk(self) -> Iterator[Node]:
        for c in self.children or []:
            yield c
            yield from c.walk()

    def find(self, name: str) -> list[Node]:
        return [n for n in self.walk() if n.name == name]

    def top(self, name: str) -> Node | None:
        """The last directive of that name outside any section (server-wide)."""
        found = [c for c in self.children or [] if c.name == name]
        return found[-1] if found else None


@dataclass
class Included:
    """One entry of the include dump: a file, and the line of the ``Include`` in its parent."""

    path: str
    line: int
    children: list[Included] = field(default_factory=list)

    def flat(self) -> Iterator[Included]:
        yield self
        for c in self.children:
            yield from c.flat()


def include_tree(dump: str) -> list[Included]:
    """The ``-D DUMP_INCLUDES`` output as a tree (usually one root: the main file)."""
    roots: list[Included] = []
    stack: list[tuple[int, Included]] = []
    for line in dump.splitlines():
        m = _INCLUDED.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        entry = Included(m.group(3).strip(), 0 if m.group(2) == "*" else int(m.group(2)))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(entry)
        stack.append((indent, entry))
    return roots


def included_files(dump: str) -> list[str]:
    """Paths from ``-D DUMP_INCLUDES`` output, in load order."""
    return [e.path for root in include_tree(dump) for e in root.flat()]


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def parse(files: list[tuple[str, str]], includes: list[Included] | None = None) -> Node:
    """Parse ``(path, text)`` pairs into one tree.

    With ``includes`` (from :func:`include_tree`) each included file is parsed at
    the place of its ``Include`` line. Without it the files are read one after the
    other at the top level (``Include`` lines skipped)."""
    root = Node("root", [], files[0][0] if files else "", 0, [])
    texts = dict(files)
    if includes is None:
        for path, text in files:
            _parse_file(path, text, root, [], texts)
    else:
        for inc in includes:
            if inc.path in texts:
                _parse_file(inc.path, texts[inc.path], root, inc.children, texts)
    return root


def _parse_file(
    path: str, text: str, container: Node, includes: list[Included], texts: dict[str, str]
) -> None:
    at_line: dict[int, list[Included]] = {}
    for inc in includes:
        at_line.setdefault(inc.line, []).append(inc)

    def splice(first: int, last: int, into: Node) -> None:
        for ln in range(first, last + 1):
            for inc in at_line.pop(ln, []):
                if inc.path in texts:
                    _parse_file(inc.path, texts[inc.path], into, inc.children, texts)

    stack = [container]
    pending = ""
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending:
            line = pending + " " + line
        elif not line or line.startswith("#"):
            continue
        else:
            start = n
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        if line.startswith("</"):
            if len(stack) > 1:
                stack.pop()
            continue
        if line.startswith("<") and line.endswith(">"):
            words = _split(line[1:-1])
            node = Node(words[0].lower() if words else "", words[1:], path, start, [], stack[-1])
            assert stack[-1].children is not None
            stack[-1].children.append(node)
            stack.append(node)
            continue
        words = _split(line)
        if not words:
            continue
        if words[0].lower() in ("include", "includeoptional"):
            splice(start, n, stack[-1])
            continue
        assert stack[-1].children is not None
        stack[-1].children.append(Node(words[0].lower(), words[1:], path, start, None, stack[-1]))
    # Includes the dump placed on a line we did not see as an Include: keep them, at this level.
    for ln in sorted(at_line):
        splice(ln, ln, container)
