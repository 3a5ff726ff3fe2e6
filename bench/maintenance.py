#!/usr/bin/env python3
"""Maintenance benchmark: vulnerability-database sync and matching a 5,000-component inventory.

Usage: .venv/bin/python bench/maintenance.py [--shared ../shared/data]

Prints seconds and peak memory (RSS of a fresh child process per phase, so each
figure is that phase's own). Targets (issue 5): matching 5,000 components in
under 1 s once synced; sync memory flat in the number of advisories.
No Debian package offers an equivalent whole-shop matcher to compare against.

CPU time is printed beside wall time because this machine is shared (wall time grows with the
load average; CPU time much less). The worst case ("every one vulnerable": 5,000 components,
about 226,000 advisory matches) went from 3.7 s CPU for matching and 7.1 s more for findings to
0.67 s and 2.1 s once each row's ranges were parsed once per query and checked once per distinct
version (see docs/maintenance.md for the figures).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any


def _scaled_zip(src: Path, dest: Path, copies: int) -> int:
    """The real PyPI export repeated ``copies`` times under new ids (to show memory does not grow)."""
    import zipfile

    n = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        for k in range(copies):
            for name in names:
                rec = json.loads(zin.read(name))
                rec["id"] = f"{rec['id']}-x{k}"
                zout.writestr(f"{rec['id']}.json", json.dumps(rec))
                n += 1
    return n


def _scaled_wordfence(src: Path, dest: Path, records: int) -> int:
    """A feed of ``records`` entries built from the test sample under new ids and slugs, about the
    real feed's size (42,504 records, 158 MB in October 2026), to show the import streams."""
    sample = [r for r in json.loads(src.read_text()).values() if r["software"][0]["type"] != "widget"]
    with dest.open("w") as fh:
        fh.write("{")
        for k in range(records):
            rec = json.loads(json.dumps(sample[k % len(sample)]))
            rec["id"] = f"{k:08d}-0000-4000-8000-000000000000"
            rec["description"] = "x" * 3000  # the real feed's records carry long descriptions
            for sw in rec["software"]:
                sw["slug"] = f"{sw['slug']}-{k}"
            fh.write(("," if k else "") + json.dumps(rec["id"]) + ":" + json.dumps(rec))
        fh.write("}")
    return dest.stat().st_size


def _sync_wordfence(path: str, db: str, out: Any) -> None:
    from shopguard.maintenance.vulndb.sync import sync

    base = _peak_mb()
    t = time.perf_counter()
    report = sync(download=False, db_path=Path(db), eol_url=None, wordfence_feeds=[Path(path)])
    out.put(
        {
            "seconds": time.perf_counter() - t,
            "peak_mb": _peak_mb(),
            "baseline_mb": base,
            "advisories": sum(s.advisories for s in report.stats.values()),
        }
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sync(paths: list[str], db: str, out: Any) -> None:
    from shopguard.maintenance.vulndb.sync import sync

    base = _peak_mb()
    t = time.perf_counter()
    report = sync([Path(p) for p in paths], db_path=Path(db), download=False, eol_url=None)
    out.put(
        {
            "seconds": time.perf_counter() - t,
            "peak_mb": _peak_mb(),
            "baseline_mb": base,
            "advisories": sum(s.advisories for s in report.stats.values()),
        }
    )


def _inventory(
    db: str, n: int, all_vulnerable: bool
) -> list[tuple[str, str, str, tuple[tuple[str, str], ...]]]:
    """n (ecosystem, name, version) triples built from the database.

    Realistic mix (default): every distinct package name that has advisories, once, at a version its
    records mention, and the rest of the n components packages without advisories (as in a real shop,
    where most of a composer.lock / package-lock.json / dpkg list is not affected).
    ``all_vulnerable``: worst case, every component drawn from affected rows (popular packages repeat).
    """
    conn = sqlite3.connect(db)
    rng = random.Random(5000)
    rows = conn.execute("SELECT ecosystem, name, ranges, versions FROM affected").fetchall()
    by_key: dict[tuple[str, str], list[str]] = {}
    picks: list[tuple[str, str, str]] = []
    for eco, name, ranges, versions in rows:
        vs = json.loads(versions) or [v for iv in json.loads(ranges) for v in (iv[0], iv[2]) if v]
        if vs:
            by_key.setdefault((eco, name), []).extend(vs)
            picks.append((eco, name, rng.choice(vs)))

    def triple(eco: str, name: str, version: str) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        return (
            ("npm", name, version, (("retirejs", name),)) if eco == "retirejs" else (eco, name, version, ())
        )

    if all_vulnerable:
        return [triple(*rng.choice(picks)) for _ in range(n)]
    out = [triple(eco, name, rng.choice(vs)) for (eco, name), vs in sorted(by_key.items())][:n]
    ecos = ["PyPI", "npm", "Packagist"]
    i = 0
    while len(out) < n:
        eco = ecos[i % 3]
        name = f"acme/clean-{i}" if eco == "Packagist" else f"clean-{i}"
        out.append((eco, name, f"1.{i % 20}.{i % 7}", ()))
        i += 1
    rng.shuffle(out)
    return out


def _match(db: str, n: int, all_vulnerable: bool, out: Any) -> None:
    import datetime as dt

    from shopguard.maintenance.assess import vulnerability_findings
    from shopguard.maintenance.model import Component, Owner, make_purl
    from shopguard.maintenance.sources.local import LocalSource

    triples = _inventory(db, n, all_vulnerable)
    comps = [
        Component(
            name, version, eco, make_purl(eco, name, version), Owner.LIBRARY, f"/srv/lock{i}", match_keys=keys
        )
        for i, (eco, name, version, keys) in enumerate(triples)
    ]
    base = _peak_mb()
    t = time.perf_counter()
    c = time.process_time()
    found = LocalSource(Path(db)).query(comps)
    t_match = time.perf_counter() - t
    c_match = time.process_time() - c
    findings = vulnerability_findings(found, dt.date.today(), "local")
    t_all = time.perf_counter() - t
    c_all = time.process_time() - c
    out.put(
        {
            "components": len(comps),
            "vulnerable": len(found),
            "matches": sum(len(v) for v in found.values()),
            "findings": len(findings),
            "match_seconds": t_match,
            "with_findings_seconds": t_all,
            "match_cpu": c_match,
            "with_findings_cpu": c_all,
            "peak_mb": _peak_mb(),
            "baseline_mb": base,
        }
    )


def _js(retire: str, out: Any) -> None:
    """retire.js detection over every JavaScript file Debian installed on this machine."""
    from shopguard.maintenance.vulndb.retirejs import Detector, load_repository

    roots = ("/usr/share/javascript", "/usr/share/nodejs", "/usr/lib/node_modules")
    files = [p for r in roots for p in Path(r).rglob("*.js") if p.is_file()]
    data = [(p.name, p.read_bytes()) for p in files]
    det = Detector(load_repository(Path(retire)))
    t = time.perf_counter()
    hits = sum(1 for name, b in data if det.detect(name, b))
    out.put(
        {
            "files": len(data),
            "mb": sum(len(b) for _, b in data) / 1048576,
            "seconds": time.perf_counter() - t,
            "hits": hits,
        }
    )


def _child(target: Any, *args: Any) -> dict[str, Any]:
    q: Any = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=target, args=(*args, q))
    p.start()
    res = q.get()
    p.join()
    return dict(res)


def main() -> None:
    ap = argparse.ArgumentParser()
    here = Path(__file__).resolve().parents[1]
    places = (here.parent / "shared/data", here.parent.parent / "shared/data")
    default = next((p for p in places if p.exists()), places[0])
    ap.add_argument("--shared", type=Path, default=default)
    ap.add_argument("--components", type=int, default=5000)
    args = ap.parse_args()
    osv = args.shared / "advisories" / "osv-PyPI-all.zip"
    fop = args.shared / "advisories" / "friendsofphp-security-advisories.tar.gz"
    retire = args.shared / "retirejs" / "jsrepository.json"
    with tempfile.TemporaryDirectory() as tmp:
        sets = (("FriendsOfPHP only", [fop]), ("OSV PyPI only", [osv]), ("both shipped sets", [osv, fop]))
        for label, paths in sets:
            r = _child(_sync, [str(p) for p in paths], f"{tmp}/{label[:4]}.sqlite")
            print(
                f"sync {label:18s}: {r['advisories']:5d} advisories in {r['seconds']:.2f} s, "
                f"peak RSS {r['peak_mb']:.0f} MB (process baseline {r['baseline_mb']:.0f} MB)"
            )
        big = Path(tmp) / "scaled.zip"
        _scaled_zip(osv, big, 10)
        r = _child(_sync, [str(big)], f"{tmp}/scaled.sqlite")
        print(
            f"sync 10x PyPI (scaled)  : {r['advisories']:5d} advisories in {r['seconds']:.2f} s, "
            f"peak RSS {r['peak_mb']:.0f} MB (process baseline {r['baseline_mb']:.0f} MB)"
        )
        feed = Path(tmp) / "wordfence.json"
        size = _scaled_wordfence(here / "tests/data/wordfence/production-feed-sample.json", feed, 42_000)
        r = _child(_sync_wordfence, str(feed), f"{tmp}/wf.sqlite")
        print(
            f"sync Wordfence feed ({size / 1048576:.0f} MB, scaled): {r['advisories']} advisories in "
            f"{r['seconds']:.2f} s, peak RSS {r['peak_mb']:.0f} MB "
            f"(process baseline {r['baseline_mb']:.0f} MB)"
        )
        db = f"{tmp}/all.sqlite"
        _child(_sync, [str(osv), str(fop), str(retire)], db)
        r = _child(_js, str(retire))
        print(
            f"JS file detection: {r['files']} files, {r['mb']:.1f} MB in {r['seconds']:.2f} s "
            f"({r['mb'] / r['seconds']:.1f} MB/s), {r['hits']} with a known library"
        )
        for label, worst in (
            ("realistic mix", False),
            ("realistic mix", False),
            ("every one vulnerable", True),
        ):
            r = _child(_match, db, args.components, worst)
            print(
                f"match {r['components']} components ({label}): {r['match_seconds']:.3f} s "
                f"(CPU {r['match_cpu']:.3f} s; {r['with_findings_seconds']:.3f} s, CPU "
                f"{r['with_findings_cpu']:.3f} s with findings and smallest fixes); "
                f"{r['vulnerable']} vulnerable, {r['matches']} advisory matches; "
                f"peak RSS {r['peak_mb']:.0f} MB (baseline {r['baseline_mb']:.0f} MB)"
            )


if __name__ == "__main__":
    main()
