"""Time to render the whole policy library (13 policies) in each output format.

Run: .venv/bin/python bench/policies_render.py
Prints seconds per format and per policy. There is no Debian anchor tool that renders
policy libraries; pandoc is the closest (Markdown -> DOCX) and is timed when installed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from shopguard.config import parse_config
from shopguard.policies.catalog import LIBRARY
from shopguard.policies.documents import Format
from shopguard.policies.output import render_library

CONFIG = parse_config(
    {
        "company": {"name": "Acme Socks Ltd"},
        "stores": [
            {
                "name": "socks",
                "storefront_url": "https://socks.example",
                "platform": "woocommerce",
                "payment_integration": "iframe",
            }
        ],
        "policies": {"payment_processor": "Stripe", "roles": {"owner": "Ann Owner"}},
    }
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for fmt in Format:
            start = time.perf_counter()
            render_library(CONFIG, out / fmt.value, [fmt])
            took = time.perf_counter() - start
            print(
                f"{fmt.value:5} {took:6.2f} s for {len(LIBRARY)} policies "
                f"({took / len(LIBRARY) * 1000:6.1f} ms each)"
            )
        pandoc = shutil.which("pandoc")
        if pandoc:
            start = time.perf_counter()
            for md in sorted((out / "md").glob("*.md")):
                subprocess.run([pandoc, str(md), "-o", str(md.with_suffix(".docx"))], check=True)
            print(f"pandoc md->docx {time.perf_counter() - start:6.2f} s (anchor)")
        else:
            print("pandoc not installed: no anchor ratio")


if __name__ == "__main__":
    main()
