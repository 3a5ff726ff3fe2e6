"""A small Apache httpd configuration reader: directives and ``<Section>`` blocks
from the files ``apache2 -t -D DUMP_INCLUDES`` lists, in load order."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

_INCLUDED = re.compile(r"^\s*\((?:\*|\d+)\)\s+(\S.*)$")


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


def included_files(dump: str) -> list[str]:
    """Paths from ``-D DUMP_INCLUDES`` output, in load order."""
    return [m.group(1).strip() for line in dump.splitlines() if (m := _INCLUDED.match(line))]


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def parse(files: list[tuple[str, str]]) -> Node:
    """Parse ``(path, text)`` pairs into one tree; ``Include`` lines are skipped
    because the file list already has the included files in order."""
    root = Node("root", [], files[0][0] if files else "", 0, [])
    for path, text in files:
        stack = [root]
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
            if not words or words[0].lower() in ("include", "includeoptional"):
                continue
            assert stack[-1].children is not None
            stack[-1].children.append(Node(words[0].lower(), words[1:], path, start, None, stack[-1]))
    return root
