"""Per-store settings of the file scan (the ``[stores.files]`` table in shopguard.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class FileScan(BaseModel):
    """How ShopGuard scans a store's web roots for malicious code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_folders: tuple[Path, ...] = ()
    """Extra folders of YARA rules (``*.yar``, ``*.yara``) to load besides ShopGuard's own."""
    third_party_rules: bool = False
    """Define the external variables that public rule sets expect (``filename``,
    ``filepath``, ``extension``, ``filetype``) and accept their relaxed regexes."""
    trusted_folders: tuple[Path, ...] = ()
    """Folders (vendor code you trust) that are not scanned at all."""
    allow_hashes: tuple[Path, ...] = ()
    """Files listing sha256 hashes of known-good files, one per line (``sha256  path`` works too)."""
    max_file_mb: Annotated[int, Field(ge=1, le=65536)] = 64
    """Bytes read per file; bigger files are scanned up to here and reported."""
    remote_max_mb: Annotated[int, Field(ge=1, le=1048576)] = 4096
    """For web roots on a remote host (``host = "ssh://..."``): most bytes read over SSH in one
    scan, all roots together; files past it are not scanned and a finding lists them."""
    follow_symlinks: bool = False
    """Follow symbolic links that stay inside the web root (never outside, loops detected)."""
    jobs: Annotated[int, Field(ge=0, le=256)] = 0
    """Worker processes; 0 means one per CPU core."""
    quarantine_dir: Path | None = None
    """When set, ``scan files`` copies each flagged file here (it never moves or deletes)."""
    fim_hash: Literal["blake3", "sha256"] = "blake3"
    """Hash recorded in the file-integrity baseline."""
    fim_paranoid: bool = False
    """Re-hash every file on each integrity check instead of trusting unchanged size/mtime/ctime/inode."""
    release_urls: dict[str, str] = Field(default_factory=dict)
    """Where ``files allow --from-release store`` downloads official releases: platform
    (``wordpress``, ``prestashop``, ``opencart``) -> URL with ``{version}``; adds to or
    overrides the official addresses (for a local mirror)."""
    wordpress_checksums_url: str = (
        "https://api.wordpress.org/core/checksums/1.0/?version={version}&locale={locale}"
    )
    """WordPress's checksums API (``files allow --from-release store --checksums``)."""
    release_cache: Path | None = None
    """Folder keeping downloaded release archives (default: in the user data folder)."""
    release_max_mb: Annotated[int, Field(ge=1, le=4096)] = 200
    """Largest release archive (and total of its files) that is downloaded and read."""
