"""How long PCI auto-evidence and the PDF working copy take on a busy store.

Seeds N findings (a fifth of them medium or higher) through the foundation's repository,
then times `compute_suggestions` for SAQ D (234 requirements) and the PDF render.
Usage: python bench/pci_suggest.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from shopguard.checks import CheckRun, Outcome
from shopguard.config import parse_config
from shopguard.db import open_database
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Severity
from shopguard.pci.assessment import current_year, save_decision
from shopguard.pci.autoevidence import compute_suggestions
from shopguard.pci.report import build_context, render_html, render_pdf
from shopguard.pci.saq import Integration, SaqAnswers, decide

CHECKS = ["scanning.web.tls", "scanning.pages", "maintenance.vulns", "hosting.ssh", "scanning.files"]


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    db = open_database(f"sqlite:///{tmp / 'bench.db'}")
    sev = [Severity.LOW, Severity.LOW, Severity.INFO, Severity.LOW, Severity.HIGH]
    run = begin_run(db, ["demo"], "bench")
    t0 = time.perf_counter()
    for i, cid in enumerate(CHECKS):
        found = [
            Finding(f"{cid}.x", sev[(j + i) % 5], f"finding {j}", f"/srv/www/{j}", key=str(j))
            for j in range(n // len(CHECKS))
        ]
        record_check(db, run, CheckRun(cid, "demo", Outcome.OK, found))
    finish_run(db, run)
    seed = time.perf_counter() - t0
    year = current_year()
    save_decision(
        db, "demo", year, decide(SaqAnswers(Integration.API, servers_receive_card_data=True)), "bench"
    )
    t0 = time.perf_counter()
    sugs = compute_suggestions(db, "demo", year, registered=CHECKS)
    suggest_s = time.perf_counter() - t0
    config = parse_config({"stores": [{"name": "demo", "storefront_url": "https://shop.example"}]})
    t0 = time.perf_counter()
    pdf = render_pdf(render_html(build_context(db, config, "demo", year)))
    pdf_s = time.perf_counter() - t0
    print(f"findings seeded: {n} in {seed:.2f} s")
    print(f"suggestions for SAQ D: {len(sugs)} requirements in {suggest_s:.3f} s")
    print(f"PDF working copy: {len(pdf):,} bytes in {pdf_s:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
