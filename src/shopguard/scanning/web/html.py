"""A small, forgiving read of an HTML page: the parts the checks look at."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass(frozen=True)
class Script:
    src: str | None
    """Absolute URL, or None for an inline script."""
    integrity: str = ""
    sha256: str = ""
    """``sha256-...`` of an inline script's text (CSP hash form)."""
    type: str = ""


@dataclass
class PageModel:
    url: str
    scripts: list[Script] = field(default_factory=list)
    stylesheets: list[tuple[str, str]] = field(default_factory=list)
    """(absolute href, integrity)."""
    iframes: list[str] = field(default_factory=list)
    resources: list[tuple[str, str]] = field(default_factory=list)
    """(tag, absolute URL) of every sub-resource: img, script, link, iframe, audio, video, source, object."""
    forms: list[tuple[str, str]] = field(default_factory=list)
    """(method, absolute action URL)."""
    meta: dict[str, str] = field(default_factory=dict)
    """``<meta name=... content=...>`` (generator ...)."""
    links: list[str] = field(default_factory=list)
    """``<a href>`` targets, absolute."""
    text_sample: str = ""


def csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


class _Parser(HTMLParser):
    def __init__(self, model: PageModel) -> None:
        super().__init__(convert_charrefs=True)
        self.m = model
        self.base = model.url
        self._in_script: dict[str, str] | None = None
        self._script_text: list[str] = []

    def _abs(self, value: str | None) -> str | None:
        if not value:
            return None
        value = value.strip()
        if value.startswith(("javascript:", "data:", "mailto:", "tel:", "#", "about:")):
            return None
        return urljoin(self.base, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href"):
            self.base = urljoin(self.m.url, a["href"])
        elif tag == "script":
            src = self._abs(a.get("src"))
            if src:
                self.m.scripts.append(Script(src, a.get("integrity", "").strip(), "", a.get("type", "")))
                self.m.resources.append(("script", src))
            else:
                self._in_script = a
                self._script_text = []
        elif tag == "link":
            href = self._abs(a.get("href"))
            rel = a.get("rel", "").lower().split()
            if href and ("stylesheet" in rel or "preload" in rel or "icon" in rel or "modulepreload" in rel):
                self.m.resources.append(("link", href))
                if "stylesheet" in rel:
                    self.m.stylesheets.append((href, a.get("integrity", "").strip()))
        elif tag in ("img", "audio", "video", "source", "embed", "track", "input"):
            src = self._abs(a.get("src"))
            if src and (tag != "input" or a.get("type", "").lower() == "image"):
                self.m.resources.append((tag, src))
        elif tag == "object":
            src = self._abs(a.get("data"))
            if src:
                self.m.resources.append((tag, src))
        elif tag == "iframe":
            src = self._abs(a.get("src"))
            if src:
                self.m.iframes.append(src)
                self.m.resources.append(("iframe", src))
        elif tag == "form":
            action = self._abs(a.get("action")) or self.m.url
            self.m.forms.append((a.get("method", "get").lower(), action))
        elif tag == "meta" and a.get("name"):
            self.m.meta.setdefault(a["name"].lower(), a.get("content", ""))
        elif tag == "a":
            href = self._abs(a.get("href"))
            if href and len(self.m.links) < 2000:
                self.m.links.append(href)

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            text = "".join(self._script_text)
            attrs = self._in_script
            self._in_script = None
            kind = attrs.get("type", "").lower()
            if kind in ("", "text/javascript", "module", "application/javascript"):
                self.m.scripts.append(Script(None, "", csp_hash(text), kind))


def parse_page(url: str, html: str) -> PageModel:
    model = PageModel(url=url)
    parser = _Parser(model)
    try:
        parser.feed(html[:2_000_000])
        parser.close()
    except Exception:  # noqa: S110 - a broken page still gives what was parsed so far
        pass
    model.text_sample = html[:4096]
    return model


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def same_site_host(a: str, b: str) -> bool:
    return (urlsplit(a).hostname or "") == (urlsplit(b).hostname or "")
