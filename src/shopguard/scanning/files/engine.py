"""The file-scan engine: sniff, pre-filter, YARA (yara-x), heuristics, verdict.

One :class:`Engine` per process. ``scan_tree`` walks in the calling process and
hands batches of paths to worker processes (one per core), so scanning uses
both cores while memory stays flat: a worker holds one read window at a time
and sends back only the files that matched.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import multiprocessing
import os
import pwd
import resource
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yara_x

from shopguard.findings import Severity
from shopguard.scanning.files import heuristics
from shopguard.scanning.files.defang import excerpt, line_of
from shopguard.scanning.files.rules import deserialize
from shopguard.scanning.files.sniff import Kind, classify
from shopguard.scanning.files.walker import WalkStats, display_path, walk

hyperscan: Any
try:  # Hyperscan is optional: pure yara-x works everywhere.
    import hyperscan

    HAVE_HYPERSCAN = True
except Exception:  # pragma: no cover - depends on the platform's wheel
    hyperscan = None
    HAVE_HYPERSCAN = False

WINDOW = 16 * 1024 * 1024
OVERLAP = 64 * 1024
CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class Detection:
    """One reason a file looks malicious."""

    rule: str
    """Rule identifier, or ``heuristic`` for the scored heuristics."""
    source: str
    """``shopguard`` (our rules), the user rule file's namespace, or ``heuristic``."""
    family: str
    severity: Severity
    confidence: str
    description: str
    excerpt: str = ""
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "source": self.source,
            "family": self.family,
            "severity": self.severity.value,
            "confidence": self.confidence,
            "description": self.description,
            "excerpt": self.excerpt,
            "line": self.line,
        }


@dataclass(frozen=True)
class FileResult:
    path: str
    """Printable path (undecodable bytes shown as ``\\xNN``)."""
    kind: str
    size: int
    sha256: str
    detections: tuple[Detection, ...]
    capped_at: int | None = None
    """Bytes scanned when the file was bigger than the cap."""

    @property
    def severity(self) -> Severity:
        return max((d.severity for d in self.detections), default=Severity.INFO)

    @property
    def confidence(self) -> str:
        top = [d for d in self.detections if d.severity == self.severity]
        best = max((CONFIDENCE_ORDER.get(d.confidence, 0) for d in top), default=0)
        families = {d.family for d in self.detections if d.source != "heuristic"}
        if len(families) >= 2 or (families and any(d.source == "heuristic" for d in self.detections)):
            best = min(2, best + 1)
        return {v: k for k, v in CONFIDENCE_ORDER.items()}[best]


@dataclass
class ScanStats(WalkStats):
    scanned: int = 0
    bytes_scanned: int = 0
    dismissed_by_prefilter: int = 0
    changed_during_read: int = 0
    allowed_by_hash: int = 0
    capped: int = 0
    peak_worker_rss_kb: int = 0
    """Largest resident memory of a scanning process (for the benchmark's flat-memory figure)."""

    def merge(self, other: WalkStats) -> None:
        super().merge(other)
        if isinstance(other, ScanStats):
            for name in (
                "scanned",
                "bytes_scanned",
                "dismissed_by_prefilter",
                "changed_during_read",
                "allowed_by_hash",
                "capped",
            ):
                setattr(self, name, getattr(self, name) + getattr(other, name))
            self.peak_worker_rss_kb = max(self.peak_worker_rss_kb, other.peak_worker_rss_kb)

    def as_dict(self) -> dict[str, int]:
        d = super().as_dict()
        d.update(
            scanned=self.scanned,
            bytes_scanned=self.bytes_scanned,
            dismissed_by_prefilter=self.dismissed_by_prefilter,
            changed_during_read=self.changed_during_read,
            allowed_by_hash=self.allowed_by_hash,
            capped=self.capped,
        )
        return d


@dataclass(frozen=True)
class EngineSpec:
    """Everything a worker needs to build the same engine (picklable)."""

    rules: bytes
    """Serialized yara-x rules (compiled once, in the parent, so errors surface before the scan)."""
    builtin_only: bool = True
    """Only ShopGuard's rules are loaded: the Hyperscan pre-filter covers them all."""
    use_hyperscan: bool = True
    max_file_bytes: int = 64 * 1024 * 1024
    shop_hosts: tuple[str, ...] = ()
    allow_hashes: frozenset[str] = field(default_factory=frozenset)
    third_party: bool = False


def _prefilter_patterns(shop_hosts: Iterable[str], php_only: bool = False) -> list[bytes]:
    text = (resources.files("shopguard") / "data" / "rules" / "prefilter.txt").read_text(encoding="utf-8")
    out: list[bytes] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("php-re:"):
            if php_only:
                out.append(line[7:].encode())
            continue
        if php_only:
            continue
        if line.startswith("re:"):
            out.append(line[3:].encode())
        else:
            out.append(b"".join(b"\\x%02x" % b for b in line.encode()))
    for host in () if php_only else shop_hosts:  # imitations of the shop's own name
        parts = host.split(".")
        stem = parts[-2] if len(parts) >= 2 else host
        if len(stem) >= 4:
            out.append(b"//[a-z0-9.-]*" + b"".join(b"\\x%02x" % b for b in stem.encode()))
    return out


def _hs_database(patterns: list[bytes]) -> Any:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
    db.compile(expressions=patterns, ids=list(range(len(patterns))), flags=[flags] * len(patterns))
    return db


def _hs_hit(db: Any, data: bytes) -> bool:
    """Whether any pattern matches (stops at the first match)."""
    hit = False

    def on_match(_id: int, _from: int, _to: int, _flags: int, _ctx: object) -> bool:
        nonlocal hit
        hit = True
        return True  # stop at the first match

    try:
        db.scan(data, match_event_handler=on_match)
    except hyperscan.ScanTerminated:
        pass
    except hyperscan.HyperscanError as exc:
        if "SCAN_TERMINATED" not in repr(exc) and "-3" not in str(exc):
            raise
    return hit


@functools.lru_cache(maxsize=256)
def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


_MAGIC_TYPES = ((b"MZ", "EXE"), (b"\x7fELF", "ELF"), (b"PK\x03\x04", "ZIP"), (b"%PDF", "PDF"))


def _filetype(data: bytes, kind: Kind) -> str:
    """An upper-case file type for the ``filetype`` variable: executables and archives
    by their magic bytes (the types signature-base's rules compare with), else the
    content kind."""
    for magic, name in _MAGIC_TYPES:
        if data.startswith(magic):
            return name
    return kind.value.upper()


class Engine:
    """Scans bytes and files. Build one per process (it holds a yara-x scanner)."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.rules = deserialize(spec.rules)
        self.scanner = yara_x.Scanner(self.rules)
        self.scanner.set_timeout(60)
        self.prefilter: Any = None
        self.php_prefilter: Any = None
        self.dismissed = 0
        if spec.use_hyperscan and spec.builtin_only and HAVE_HYPERSCAN:
            self.prefilter = _hs_database(_prefilter_patterns(spec.shop_hosts))
            self.php_prefilter = _hs_database(_prefilter_patterns((), php_only=True))

    # -- pre-filter ------------------------------------------------------------

    def _passes_prefilter(self, data: bytes, kind: Kind) -> bool:
        if self.prefilter is None:
            return True
        if _hs_hit(self.prefilter, data):
            return True
        return kind is Kind.PHP and _hs_hit(self.php_prefilter, data)

    # -- one buffer -------------------------------------------------------------

    def scan_bytes(
        self,
        data: bytes,
        path: str,
        kind: Kind | None = None,
        *,
        offset_base: int = 0,
        rel_path: str | None = None,
        owner: str = "",
    ) -> list[Detection]:
        """Detections in one buffer (a whole file, a window of one, or a database value)."""
        if kind is None:
            kind = classify(os.fsencode(path), data)
        always = kind in (Kind.IMAGE, Kind.SERVER_CONFIG)
        if not always and not self._passes_prefilter(data, kind):
            self.dismissed += 1
            return []
        shown = display_path(path)
        folder, name = os.path.split(shown)
        sc = self.scanner
        sc.set_global("filekind", kind.value)
        # as LOKI defines them for signature-base (see rules.GLOBALS)
        sc.set_global("filename", name)
        sc.set_global("filepath", folder)
        sc.set_global("extension", os.path.splitext(name)[1].lower())
        sc.set_global("filetype", _filetype(data, kind))
        sc.set_global("owner", owner)
        if self.spec.third_party:
            sc.set_global("md5", hashlib.md5(data, usedforsecurity=False).hexdigest())
        try:
            results = sc.scan(data)
        except yara_x.TimeoutError:
            return [
                Detection(
                    "scan-timeout",
                    "shopguard",
                    "scan-limit",
                    Severity.LOW,
                    "low",
                    "The rules took too long on this file; it was not fully checked",
                )
            ]
        out: list[Detection] = []
        features: dict[str, int] = {}
        for rule in results.matching_rules:
            if "hint" in rule.tags:
                features[rule.identifier] = min(
                    (m.offset for p in rule.patterns for m in p.matches), default=0
                )
                continue
            out.append(self._from_rule(rule, data, offset_base))
        where = "/" + (rel_path if rel_path is not None else shown).lstrip("/")
        signals = heuristics.kind_signals(kind, data, where, self.spec.shop_hosts, features)
        out = self._adjust(out, signals, data, kind)
        det = self._score(signals, data, offset_base)
        if det is not None:
            out.append(det)
        return out

    def _from_rule(self, rule: Any, data: bytes, offset_base: int) -> Detection:
        meta = dict(rule.metadata)
        ours = rule.namespace.startswith("shopguard_")
        sev_text = str(meta.get("severity", "medium" if not ours else "high")).lower()
        try:
            sev = Severity.parse(sev_text)
        except ValueError:
            sev = Severity.MEDIUM
        conf = str(meta.get("confidence", "medium")).lower()
        if conf not in CONFIDENCE_ORDER:
            conf = "medium"
        desc = str(meta.get("description", "") or f"matches the rule {rule.identifier}")
        family = str(meta.get("family", "third-party" if not ours else "unknown"))
        first = None
        for pat in rule.patterns:
            for m in pat.matches:
                if first is None or m.offset < first[0]:
                    first = (m.offset, m.length)
        ex, line = "", None
        if first is not None:
            ex = excerpt(data, first[0], first[1])
            line = line_of(data, first[0]) if offset_base == 0 else None
        source = "shopguard" if ours else rule.namespace
        return Detection(rule.identifier, source, family, sev, conf, desc, ex, line)

    def _adjust(
        self, found: list[Detection], signals: list[heuristics.Signal], data: bytes, kind: Kind
    ) -> list[Detection]:
        """Context the rules cannot see: the shop's own domains, known-good targets."""
        out: list[Detection] = []
        for d in found:
            if d.rule in ("SG_JS_Card_Skimmer", "SG_JS_Fake_Payment_Form"):
                hosts = heuristics.foreign_hosts(data, self.spec.shop_hosts)
                hidden = any(s.name in ("obfuscator-names", "hex-escaped-code") for s in signals) or any(
                    marker in data for marker in (b"atob(", b"fromCharCode", b"\\x")
                )
                if hosts:
                    d = Detection(
                        d.rule,
                        d.source,
                        d.family,
                        d.severity,
                        "high",
                        f"{d.description}; sends to {', '.join(hosts[:3])}",
                        d.excerpt,
                        d.line,
                    )
                elif not hidden:
                    d = Detection(
                        d.rule,
                        d.source,
                        d.family,
                        Severity.LOW,
                        "low",
                        d.description + " (only to the shop itself or known payment services: "
                        "check it is your own code)",
                        d.excerpt,
                        d.line,
                    )
            elif d.rule == "SG_Config_Auto_Prepend":
                if any(s.name == "prepend-suspicious-target" for s in signals):
                    d = Detection(
                        d.rule, d.source, d.family, Severity.HIGH, "high", d.description, d.excerpt, d.line
                    )
                elif b"wordfence-waf.php" in data:
                    d = Detection(
                        d.rule,
                        d.source,
                        d.family,
                        Severity.INFO,
                        "low",
                        d.description + " (Wordfence's firewall loader, usually expected)",
                        d.excerpt,
                        d.line,
                    )
            out.append(d)
        return out

    @staticmethod
    def _score(signals: list[heuristics.Signal], data: bytes, offset_base: int) -> Detection | None:
        signals = [s for s in signals if s.name != "prepend-suspicious-target"]
        score = sum(s.weight for s in signals)
        if score < 3:
            return None
        if score >= 10:
            sev, conf = Severity.HIGH, "medium"
        elif score >= 6:
            sev, conf = Severity.MEDIUM, "low"
        else:
            sev, conf = Severity.LOW, "low"
        top = max(signals, key=lambda s: s.weight)
        ex = excerpt(data, top.offset, top.length) if top.length else ""
        line = line_of(data, top.offset) if top.length and offset_base == 0 else None
        names = ", ".join(s.name for s in signals)
        desc = "; ".join(s.description for s in signals)
        return Detection("heuristic", "heuristic", f"heuristic:{names}", sev, conf, desc, ex, line)

    # -- one file ---------------------------------------------------------------

    def scan_file(self, path: str, stats: ScanStats, root_len: int = 0) -> FileResult | None:
        """Read (in windows, up to the cap) and scan one file; None when clean."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            stats.vanished += 1
            return None
        except OSError as exc:
            if exc.errno == 40:  # ELOOP: replaced by a symlink since the walk
                stats.symlinks_skipped += 1
            else:
                stats.note_unreadable(path)
            return None
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):  # swapped for a FIFO or device since the walk
                stats.special_skipped += 1
                return None
            return self._scan_fd(fd, path, before, stats, root_len)
        except OSError:
            stats.note_unreadable(path)
            return None
        finally:
            os.close(fd)

    def _scan_fd(
        self,
        fd: int,
        path: str,
        before: os.stat_result,
        stats: ScanStats,
        root_len: int = 0,
        retry: bool = True,
    ) -> FileResult | None:
        cap = self.spec.max_file_bytes
        detections: list[Detection] = []
        seen_rules: set[str] = set()
        digest = hashlib.sha256()
        pos = 0
        kind: Kind | None = None
        tail = b""
        chunk = b""
        dismissed_before = self.dismissed
        while pos < cap:
            want = min(WINDOW, cap - pos)
            chunk = os.read(fd, want)
            if not chunk:
                break
            buf = tail + chunk
            if kind is None:
                kind = classify(os.fsencode(path), buf)
            # Heuristics read the path inside the scanned root, never where the root lives
            # (a shop under /tmp is not "PHP in a temp folder"); a lone file is its own root.
            rel = display_path(path[root_len or len(os.path.dirname(path)) :])
            owner = _owner_name(before.st_uid)
            for d in self.scan_bytes(buf, path, kind, offset_base=pos, rel_path=rel, owner=owner):
                if d.rule not in seen_rules:
                    seen_rules.add(d.rule)
                    detections.append(d)
            pos += len(chunk)
            stats.bytes_scanned += len(chunk)
            if len(chunk) < want:
                break
            digest.update(chunk)  # only multi-window files are hashed as they stream
            tail = chunk[-OVERLAP:]
            chunk = b""
        stats.scanned += 1
        if self.dismissed > dismissed_before and not detections:
            stats.dismissed_by_prefilter += 1
        capped = None
        if pos >= cap and os.read(fd, 1):
            capped = pos
            stats.capped += 1
        after = os.fstat(fd)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            stats.changed_during_read += 1
            if retry:  # being written right now: read it once more from the start
                stats.scanned -= 1
                os.lseek(fd, 0, os.SEEK_SET)
                return self._scan_fd(fd, path, after, stats, root_len, retry=False)
        if not detections and capped is None:
            return None
        digest.update(chunk)
        if capped is not None and not detections:
            sha = ""  # not worth reading gigabytes of a clean-looking file just to hash it
        else:
            if capped is not None:
                # Hash the whole file so the allow-list and quarantine records are exact.
                os.lseek(fd, pos, os.SEEK_SET)
                while more := os.read(fd, WINDOW):
                    digest.update(more)
            sha = digest.hexdigest()
        if sha and sha in self.spec.allow_hashes:
            stats.allowed_by_hash += 1
            return None
        return FileResult(
            display_path(path), (kind or Kind.BINARY).value, before.st_size, sha, tuple(detections), capped
        )


# --- process pool -------------------------------------------------------------

_WORKER: Engine | None = None


def _init_worker(spec: EngineSpec) -> None:
    global _WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and shuts us down
    _WORKER = Engine(spec)


def _scan_batch(paths: list[tuple[str, int]]) -> tuple[list[FileResult], ScanStats]:
    assert _WORKER is not None
    stats = ScanStats()
    found = [r for p, n in paths if (r := _WORKER.scan_file(p, stats, n)) is not None]
    stats.peak_worker_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return found, stats


@dataclass
class TreeScan:
    results: list[FileResult]
    stats: ScanStats
    interrupted: bool = False
    not_fetched: list[str] = field(default_factory=list)
    """Remote web roots only: files not read because the scan's read limit was reached."""
    not_fetched_reason: str = ""


def _walk_roots(
    roots: Iterable[str | os.PathLike[str]], stats: WalkStats, **kw: Any
) -> Iterator[tuple[str, int, os.stat_result]]:
    """Like walk(), with the length of each file's root prefix (heuristics look at the
    path inside the web root, not at where the web root happens to live)."""
    for root in roots:
        top = os.path.abspath(os.fspath(root))
        for path, st in walk([top], stats, **kw):
            yield path, (len(top) if path != top else len(os.path.dirname(top))), st


def _batches(
    items: Iterator[tuple[str, int, os.stat_result]], size: int, max_bytes: int
) -> Iterator[list[tuple[str, int]]]:
    batch: list[tuple[str, int]] = []
    total = 0
    for path, root_len, st in items:
        batch.append((path, root_len))
        total += st.st_size
        if len(batch) >= size or total >= max_bytes:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def scan_tree(
    roots: Iterable[str | os.PathLike[str]],
    spec: EngineSpec,
    *,
    jobs: int = 0,
    follow_symlinks: bool = False,
    exclude: Iterable[str | os.PathLike[str]] = (),
    should_stop: Callable[[], bool] = lambda: False,
    batch_files: int = 128,
) -> TreeScan:
    """Scan every regular file below ``roots``. Small trees are scanned in this
    process; bigger ones by ``jobs`` worker processes (default: one per core)."""
    walk_stats = WalkStats()
    stats = ScanStats()
    results: list[FileResult] = []
    files = _walk_roots(roots, walk_stats, follow_symlinks=follow_symlinks, exclude=exclude)
    batches = _batches(files, batch_files, 32 * 1024 * 1024)
    first = next(batches, None)
    second = next(batches, None) if first is not None else None
    jobs = jobs or default_jobs()
    interrupted = False
    if second is None or jobs == 1:
        engine = Engine(spec)
        for batch in (b for b in (first, second) if b is not None):
            for p, n in batch:
                if (r := engine.scan_file(p, stats, n)) is not None:
                    results.append(r)
        for batch in batches:
            if should_stop():
                interrupted = True
                break
            for p, n in batch:
                if (r := engine.scan_file(p, stats, n)) is not None:
                    results.append(r)
    else:
        interrupted = _scan_parallel([first, second], batches, spec, jobs, stats, results, should_stop)
    stats.merge(walk_stats)
    return TreeScan(results, stats, interrupted)


def _scan_parallel(
    head: list[list[tuple[str, int]] | None],
    rest: Iterator[list[tuple[str, int]]],
    spec: EngineSpec,
    jobs: int,
    stats: ScanStats,
    results: list[FileResult],
    should_stop: Callable[[], bool],
) -> bool:
    ctx = multiprocessing.get_context("forkserver")
    pool = cf.ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(spec,)
    )
    pending: set[cf.Future[tuple[list[FileResult], ScanStats]]] = set()
    limit = jobs * 3  # bounded in-flight work keeps memory flat
    interrupted = False

    def collect(done: Iterable[cf.Future[tuple[list[FileResult], ScanStats]]]) -> None:
        for fut in done:
            found, st = fut.result()
            results.extend(found)
            stats.merge(st)

    try:
        for first in head:
            if first is not None:
                pending.add(pool.submit(_scan_batch, first))
        for batch in rest:
            if should_stop():
                interrupted = True
                break
            while len(pending) >= limit:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                collect(done)
            pending.add(pool.submit(_scan_batch, batch))
        done, pending = cf.wait(pending)
        collect(done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return interrupted


def make_spec(
    rule_folders: Iterable[os.PathLike[str] | str] = (),
    *,
    third_party: bool = False,
    use_hyperscan: bool = True,
    max_file_bytes: int = 64 * 1024 * 1024,
    shop_hosts: Iterable[str] = (),
    allow_hashes: Iterable[str] = (),
) -> EngineSpec:
    """Compile the rules now (a broken rule file raises RuleError before any scan)."""
    from pathlib import Path

    from shopguard.scanning.files.rules import load_rules, serialize

    folders = [Path(f) for f in rule_folders]
    rules = load_rules(folders, third_party=third_party)
    return EngineSpec(
        rules=serialize(rules),
        builtin_only=not folders,
        use_hyperscan=use_hyperscan,
        max_file_bytes=max_file_bytes,
        shop_hosts=tuple(h.lower() for h in shop_hosts),
        allow_hashes=frozenset(h.lower() for h in allow_hashes),
        third_party=third_party,
    )
