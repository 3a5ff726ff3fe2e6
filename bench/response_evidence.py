"""Evidence preservation throughput: ShopGuard's copy-and-hash vs Debian's cp + sha256sum.

Run: .venv/bin/python bench/response_evidence.py [size_mb]
Prints MB/s for both and the ratio (ShopGuard time / anchor time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shopguard.response.evidence import copy_into_store


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "access.log"
        with src.open("wb") as fh:
            block = os.urandom(1024 * 1024)
            for _ in range(size_mb):
                fh.write(block)
        t0 = time.perf_counter()
        copied = copy_into_store(src, Path(tmp) / "store")
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run(["cp", str(src), str(Path(tmp) / "anchor.log")], check=True)
        subprocess.run(["sync"], check=True)  # ShopGuard fsyncs its copy; make the anchor comparable
        out = subprocess.run(
            ["sha256sum", str(Path(tmp) / "anchor.log")], check=True, capture_output=True, text=True
        )
        anchor = time.perf_counter() - t0
        assert out.stdout.split()[0] == copied.sha256
        print(f"file size            {size_mb} MB")
        print(f"shopguard copy+hash  {ours:.2f} s  {size_mb / ours:.0f} MB/s")
        print(f"cp+sync+sha256sum    {anchor:.2f} s  {size_mb / anchor:.0f} MB/s")
        print(f"ratio (ours/anchor)  {ours / anchor:.2f}")


if __name__ == "__main__":
    main()
