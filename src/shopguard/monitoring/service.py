"""A systemd unit for ``shopguard monitor`` (written, never enabled by us)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def unit_text(
    config_path: Path, db_url: str | None = None, user: str = "shopguard", listen: str = "127.0.0.1:9464"
) -> str:
    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "shopguard" else None
    cmd = [str(exe)] if exe else [sys.executable, "-m", "shopguard"]
    cmd += ["monitor", "--config", str(config_path.resolve()), "--listen", listen]
    if db_url and db_url.startswith("sqlite"):
        cmd += ["--db", db_url]  # a SQLite path is not a secret; other URLs go in EnvironmentFile
    return "\n".join(
        [
            "[Unit]",
            "Description=ShopGuard monitoring daemon (uptime, resources, alerts)",
            "After=network-online.target",
            "Wants=network-online.target",
            "",
            "[Service]",
            "Type=simple",
            f"User={user}",
            "# Put SHOPGUARD_DB and alert channel secrets here (chmod 600):",
            "EnvironmentFile=-/etc/shopguard/monitor.env",
            "ExecStart=" + " ".join(shlex.quote(c) for c in cmd),
            "Restart=always",
            "RestartSec=5",
            "NoNewPrivileges=true",
            "PrivateTmp=true",
            "ProtectSystem=full",
            "ProtectHome=read-only",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )
