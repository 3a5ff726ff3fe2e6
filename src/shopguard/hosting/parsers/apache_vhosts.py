"""Apache's own view of its virtual hosts: the ``-D DUMP_VHOSTS`` block (what
``apachectl -S`` prints) and the main DocumentRoot from ``-D DUMP_RUN_CFG``.

For each address (``IP:port`` or ``*:port``) Apache lists its virtual hosts in
load order; for a name-based address the first one is the "default server" that
answers requests whose Host header matches no ServerName/ServerAlias::

    127.0.0.1:8080         is a NameVirtualHost
             default server shop.example (/etc/apache2/sites-enabled/shop.conf:1)
             port 8080 namevhost shop.example (/etc/apache2/sites-enabled/shop.conf:1)
                     alias www.shop.example
             port 8080 namevhost admin.example (/etc/apache2/sites-enabled/admin.conf:1)
    *:443                  shop.example (/etc/apache2/sites-enabled/shop-ssl.conf:2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME_BASED = re.compile(r"^(?P<addr>\S+)\s+is a NameVirtualHost\s*$")
_DEFAULT = re.compile(r"^\s+default server (?P<name>\S+) \((?P<where>.+:\d+)\)\s*$")
_NAMEVHOST = re.compile(r"^\s+port \S+ namevhost (?P<name>\S+) \((?P<where>.+:\d+)\)\s*$")
_SINGLE = re.compile(r"^(?P<addr>\S+)\s+(?P<name>\S+) \((?P<where>.+:\d+)\)\s*$")
_MAIN_ROOT = re.compile(r'^Main DocumentRoot: "(?P<root>.*)"\s*$', re.MULTILINE)


@dataclass(frozen=True)
class Vhost:
    name: str
    where: str
    """``file:line`` of the ``<VirtualHost>`` line, as Apache reports it."""


@dataclass
class VhostSet:
    address: str
    """``127.0.0.1:8080``, ``*:80``, ``[::1]:443``."""
    name_based: bool
    default: Vhost
    names: list[str] = field(default_factory=list)

    @property
    def port(self) -> str:
        return self.address.rsplit(":", 1)[-1]


def vhost_sets(dump: str) -> list[VhostSet]:
    """The addresses and their virtual hosts from ``-D DUMP_VHOSTS`` output."""
    sets: list[VhostSet] = []
    inside = False
    current: VhostSet | None = None
    for line in dump.splitlines():
        if line.startswith("VirtualHost configuration:"):
            inside = True
            continue
        if not inside:
            continue
        if m := _NAME_BASED.match(line):
            current = VhostSet(m.group("addr"), True, Vhost("", ""))
            sets.append(current)
        elif m := _DEFAULT.match(line):
            if current is not None and current.name_based:
                current.default = Vhost(m.group("name"), m.group("where"))
        elif m := _NAMEVHOST.match(line):
            if current is not None and current.name_based:
                current.names.append(m.group("name"))
        elif m := _SINGLE.match(line):
            vh = Vhost(m.group("name"), m.group("where"))
            sets.append(VhostSet(m.group("addr"), False, vh, [vh.name]))
            current = sets[-1]
        elif line and not line[0].isspace():
            inside = False  # the next section of the dump (ServerRoot: ..., Main DocumentRoot: ...)
            current = None
    return [s for s in sets if s.default.where]


def main_document_root(dump: str) -> str | None:
    """The server-wide DocumentRoot Apache really uses (``-D DUMP_RUN_CFG``)."""
    m = _MAIN_ROOT.search(dump)
    return m.group("root") if m else None
