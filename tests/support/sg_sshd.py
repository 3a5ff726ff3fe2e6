"""A real OpenSSH server on a free loopback port, shared by the hosting and
maintenance tests (on the pytest path via pyproject's ``pythonpath``).

A conftest that wants the fixtures imports them: ``from sg_sshd import sshd, own_sshd``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shopguard.config import Store
from shopguard.hosting.settings import HostingSettings


def store_for(
    host: str = "local",
    *,
    name: str = "t",
    web_roots: Sequence[Path] = (),
    databases: Any = (),
    **hosting_settings: Any,
) -> Store:
    """A test store on ``host``; extra keywords are its ``[stores.hosting]`` settings."""
    return Store.model_validate(
        {
            "name": name,
            "storefront_url": "https://shop.example/",
            "host": host,
            "web_roots": [str(p) for p in web_roots],
            "databases": list(databases),
            "hosting": HostingSettings(**hosting_settings).model_dump(),
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass
class Sshd:
    port: int
    dir: Path
    user_key: Path
    known_hosts: Path
    host_pub: str
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def store(self, **kw: Any) -> Store:
        """A store whose host is this sshd, its key and known_hosts set; ``kw`` as for :func:`store_for`."""
        return store_for(self.url, **kw).model_copy(
            update={"ssh_key": self.user_key, "known_hosts": self.known_hosts}
        )

    def trust(self) -> None:
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {self.host_pub}\n")

    def sshd_pids(self) -> list[int]:
        """The listener and the per-connection sshd processes, not the user's shells:
        killing a shell mid-startup could leave its own lock files behind (root's
        .bashrc runs `pyenv init`, which holds a lock while it rehashes)."""
        out = []
        for pid in self.pids():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "sshd":
                    out.append(pid)
            except OSError:
                continue
        return out

    def pids(self) -> list[int]:
        """sshd and every descendant (the per-connection session processes)."""
        out = [self.proc.pid]
        frontier = [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            try:
                kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            out += [int(k) for k in kids]
            frontier += [int(k) for k in kids]
        return out


def start_sshd(base: Path) -> Sshd:
    base.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(
        mode=0o755, exist_ok=True
    )  # sshd's privilege-separation dir (what `service ssh start` makes)
    host_key = base / "host_ed25519"
    user_key = base / "user_ed25519"
    for key in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (base / "authorized_keys").write_text(user_key.with_suffix(".pub").read_text())
    port = free_port()
    cfg = base / "sshd_config"
    cfg.write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {host_key}\nAuthorizedKeysFile {base}/authorized_keys\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"UsePAM no\nStrictModes no\nPidFile {base}/sshd.pid\nMaxSessions 20\nMaxStartups 50\n"
    )
    proc = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_port(port, proc)
    pub = host_key.with_suffix(".pub").read_text().split()
    return Sshd(port, base, user_key, base / "known_hosts", f"{pub[0]} {pub[1]}", proc)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """One sshd for the session, its host key already trusted."""
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    server.trust()
    yield server
    stop(server.proc)


@pytest.fixture
def own_sshd(tmp_path: Path) -> Iterator[Sshd]:
    """An sshd this test may kill or freeze; its host key is NOT trusted yet."""
    server = start_sshd(tmp_path / "sshd")
    yield server
    for pid in server.pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    stop(server.proc)
