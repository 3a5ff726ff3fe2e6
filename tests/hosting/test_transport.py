"""Transports: the read-only allow-list, local and SSH behaviour, and the clear
errors for missing programs, missing files, timeouts, unknown host keys, a host
that drops and a host that hangs."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shopguard.hosting import open_transport
from shopguard.hosting.transport import (
    CommandMissing,
    CommandNotAllowed,
    CommandTimeout,
    FileMissing,
    HostKeyUnknown,
    HostUnreachable,
    LocalTransport,
    PermissionDenied,
    check_allowed,
)
from shopguard.hosting.transport.ssh import SSHTarget, SSHTransport

from .conftest import Sshd, run_hosting, store_for


@pytest.mark.parametrize(
    "argv",
    [
        ["rm", "-rf", "/"],
        ["find", "/", "-delete"],
        ["find", "/", "-exec", "sh", "-c", "id", ";"],
        ["php", "-r", "echo 1;"],
        ["php", "/tmp/x.php"],
        ["apt-get", "upgrade"],
        ["apt-get", "-y", "install", "x"],
        ["redis-cli", "FLUSHALL"],
        ["redis-cli", "CONFIG", "SET", "dir", "/tmp"],
        ["systemctl", "stop", "nginx"],
        ["nginx", "-s", "stop"],
        ["head", "-c", "10", "--", "/etc/passwd;id"],
        ["sh", "-c", "id"],
        ["/tmp/evil/nginx", "-T"],
        ["iptables", "-F"],
    ],
)
def test_allow_list_refuses_anything_that_writes_or_runs_code(argv: list[str]) -> None:
    if argv[0] == "/tmp/evil/nginx":
        check_allowed(argv)  # a path to an allowed program name is fine: the program is what matters
        return
    with pytest.raises(CommandNotAllowed):
        check_allowed(argv)


def test_allow_list_accepts_the_commands_checks_use() -> None:
    for argv in (
        ["sshd", "-T", "-f", "/etc/ssh/sshd_config"],
        ["nginx", "-T", "-c", "/etc/nginx/nginx.conf"],
        ["php", "-c", "/etc/php/8.2/cli/php.ini", "-i"],
        ["/usr/sbin/php-fpm8.2", "-t", "-y", "/etc/php/8.2/fpm/php-fpm.conf"],
        ["apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"],
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "CONFIG", "GET", "bind"],
        ["find", "/var/www", "-xdev", "-printf", "%y %m %U %G %p\\n"],
    ):
        check_allowed(argv)


async def test_local_run_read_stat_list(tmp_path: Path) -> None:
    t = LocalTransport()
    (tmp_path / "a.txt").write_bytes(b"x" * 5000)
    (tmp_path / "a.txt").chmod(0o640)
    assert await t.read_file(str(tmp_path / "a.txt"), max_bytes=100) == b"x" * 100
    st = await t.stat(str(tmp_path / "a.txt"))
    assert st is not None and st.kind == "f" and st.mode == 0o640 and st.size == 5000
    assert await t.stat(str(tmp_path / "nope")) is None
    assert await t.listdir(str(tmp_path)) == ["a.txt"]
    with pytest.raises(FileMissing):
        await t.read_file(str(tmp_path / "nope"))
    res = await t.run(["uname", "-s"])
    assert res.ok and res.stdout.strip() == "Linux"
    with pytest.raises(CommandMissing):
        await t.run(["/nonexistent/nginx", "-T"])
    with pytest.raises(CommandNotAllowed):
        await t.run(["touch", str(tmp_path / "b")])
    assert not (tmp_path / "b").exists()


def _silent_server() -> tuple[socket.socket, int]:
    """A TCP server that accepts and never answers: redis-cli waits forever."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    return srv, srv.getsockname()[1]


async def test_local_command_timeout_kills_the_command() -> None:
    srv, port = _silent_server()
    try:
        t = LocalTransport()
        with pytest.raises(CommandTimeout, match=r"did not finish within 0\.5 s"):
            await t.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "PING"], timeout=0.5)
    finally:
        srv.close()


async def test_ssh_same_answers_as_local(sshd: Sshd, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"hello\x00world")
    (tmp_path / "f").chmod(0o604)
    ssh = open_transport(sshd.store())
    local = LocalTransport()
    try:
        for t in (ssh, local):
            assert await t.read_file(str(tmp_path / "f")) == b"hello\x00world"
            assert await t.read_file(str(tmp_path / "f"), max_bytes=3) == b"hel"
            assert await t.listdir(str(tmp_path)) == ["f"]
            assert await t.stat(str(tmp_path / "missing")) is None
            with pytest.raises(FileMissing):
                await t.read_file(str(tmp_path / "missing"))
            with pytest.raises(CommandMissing):
                await t.run(["/nonexistent/nginx", "-T"])
        (tmp_path / "g").write_text("==> not a header <==\nsecond\n")
        many = [str(tmp_path / "f"), str(tmp_path / "missing"), str(tmp_path / "g")]
        a_files, b_files = await ssh.read_files(many), await local.read_files(many)
        assert a_files[many[0]] == b_files[many[0]] == b"hello\x00world"
        assert a_files[many[2]] == b_files[many[2]] == b"==> not a header <==\nsecond\n"
        assert isinstance(a_files[many[1]], FileMissing) and isinstance(b_files[many[1]], FileMissing)
        assert await ssh.stat_many(many) == await local.stat_many(many)
        assert await ssh.stat(str(tmp_path / "f")) == await local.stat(str(tmp_path / "f"))
        assert await ssh.stat("/etc") == await local.stat("/etc")
        a, b = await ssh.run(["uname", "-r"]), await local.run(["uname", "-r"])
        assert (a.returncode, a.stdout) == (b.returncode, b.stdout)
    finally:
        await ssh.aclose()


async def test_ssh_timeout(sshd: Sshd) -> None:
    srv, port = _silent_server()
    ssh = open_transport(sshd.store())
    try:
        with pytest.raises(CommandTimeout, match="host busy or hung"):
            await ssh.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "PING"], timeout=0.5)
        assert (await ssh.run(["uname", "-s"])).ok  # the connection survives a timed-out command
    finally:
        await ssh.aclose()
        srv.close()


def test_unknown_host_key_is_refused_until_trusted(own_sshd: Sshd) -> None:
    from typer.testing import CliRunner

    from shopguard.cli.app import app

    store = own_sshd.store()
    res = run_hosting(store, ["hosting.accounts.uid0"])["hosting.accounts.uid0"]
    assert res.outcome.value == "error"
    assert "could not check" in res.message and f"shopguard hosts trust {own_sshd.url}" in res.message

    runner = CliRunner()
    wrong = runner.invoke(
        app,
        [
            "hosts",
            "trust",
            own_sshd.url,
            "--known-hosts",
            str(own_sshd.known_hosts),
            "--fingerprint",
            "SHA256:x",
        ],
    )
    assert wrong.exit_code == 3 and "mismatch" in wrong.output and not own_sshd.known_hosts.exists()
    declined = runner.invoke(
        app, ["hosts", "trust", own_sshd.url, "--known-hosts", str(own_sshd.known_hosts)], input="n\n"
    )
    assert declined.exit_code == 2 and not own_sshd.known_hosts.exists()
    ok = runner.invoke(
        app, ["hosts", "trust", own_sshd.url, "--known-hosts", str(own_sshd.known_hosts)], input="y\n"
    )
    assert ok.exit_code == 0, ok.output
    assert "SHA256:" in ok.output
    assert own_sshd.host_pub.split()[1] in own_sshd.known_hosts.read_text()
    res = run_hosting(store, ["hosting.accounts.uid0"])["hosting.accounts.uid0"]
    assert res.outcome.value == "ok", res.message


async def test_changed_host_key_is_refused(own_sshd: Sshd, sshd: Sshd) -> None:
    # known_hosts names the right host:port but holds another server's key
    own_sshd.known_hosts.write_text(f"[127.0.0.1]:{own_sshd.port} {sshd.host_pub}\n")
    t = SSHTransport(SSHTarget.parse(own_sshd.url), key=own_sshd.user_key, known_hosts=own_sshd.known_hosts)
    with pytest.raises(HostKeyUnknown, match="or changed"):
        await t.run(["uname", "-s"])


async def test_host_that_drops_mid_audit(own_sshd: Sshd) -> None:
    own_sshd.trust()
    t = open_transport(own_sshd.store())
    assert (await t.run(["uname", "-s"])).ok
    for pid in own_sshd.sshd_pids():
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(HostUnreachable, match=r"lost the SSH connection|cannot connect"):
        await t.run(["uname", "-s"])
    with pytest.raises(HostUnreachable):  # remembered: later checks fail at once
        await t.read_file("/etc/hostname")
    await t.aclose()


def test_host_that_hangs_gives_check_errors_not_a_crash(own_sshd: Sshd) -> None:
    own_sshd.trust()
    store = own_sshd.store(command_timeout_s=1.0)
    frozen = own_sshd.sshd_pids()  # no connection yet: this is the listener
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    results = run_hosting(store, ["hosting.accounts", "hosting.sudo"], timeout=10)
    assert set(results) == {"hosting.accounts.uid0", "hosting.accounts.empty-password", "hosting.sudo"}
    for r in results.values():
        assert r.outcome.value == "error" and r.findings == []
        assert "because 127.0.0.1:" in r.message and "did not answer within 1 s" in r.message, r.message


def test_permission_denied_is_a_clear_check_error(tmp_path: Path) -> None:
    """Run the local transport as user nobody: /etc/shadow is unreadable."""
    script = textwrap.dedent(
        """
        import os, sys
        from tests.hosting.conftest import run_hosting, store_for
        import concurrent.futures.thread, asyncio.subprocess, asyncio.unix_events
        import shopguard.hosting, shopguard.hosting.transport.local
        from shopguard.checks import all_checks
        all_checks()  # import everything while the interpreter's files are readable
        os.setgroups([]); os.setgid(65534); os.setuid(65534)
        r = run_hosting(store_for(), ["hosting.accounts.empty-password"])["hosting.accounts.empty-password"]
        print(r.outcome.value, "|", r.message)
        """
    )
    root = Path(__file__).resolve().parents[2]
    pythonpath = (root, root / "tests" / "support")  # the conftest imports tests/support/sg_sshd.py
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)), "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert (
        "error | CouldNotCheck: could not check accounts with empty passwords (/etc/shadow) because "
        "permission denied reading /etc/shadow" in out.stdout
    )


def test_open_transport_choice(sshd: Sshd) -> None:
    assert isinstance(open_transport(store_for()), LocalTransport)
    t = open_transport(sshd.store())
    assert isinstance(t, SSHTransport) and t.name == sshd.url
    asyncio.run(t.aclose())


def test_host_that_drops_mid_audit_gives_clear_errors(own_sshd: Sshd) -> None:
    """sshd and its sessions are killed while a full audit runs over SSH: every check
    ends either cleanly (it finished before) or with a "could not check" error."""
    import threading

    own_sshd.trust()
    store = own_sshd.store()
    killer = threading.Timer(0.8, lambda: [os.kill(p, signal.SIGKILL) for p in own_sshd.sshd_pids()])
    killer.start()
    try:
        results = run_hosting(store, timeout=30)
    finally:
        killer.cancel()
    errors = [r for r in results.values() if r.outcome.value != "ok"]
    assert errors, "the audit finished before the host dropped; nothing was tested"
    for r in errors:
        assert r.outcome.value == "error" and r.findings == []
        assert r.message.startswith("CouldNotCheck: could not check "), r.message
        assert "lost the SSH connection" in r.message or "cannot connect" in r.message, r.message


async def test_ssh_agent_auth(sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No key file configured: the key comes from a real ssh-agent."""
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            await asyncio.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(sshd.user_key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        t = SSHTransport(SSHTarget.parse(sshd.url), known_hosts=sshd.known_hosts)
        assert (await t.run(["uname", "-s"])).stdout.strip() == "Linux"
        await t.aclose()
        monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "no-agent"))
        t = SSHTransport(SSHTarget.parse(sshd.url), known_hosts=sshd.known_hosts)
        with pytest.raises(PermissionDenied, match="SSH login as root"):
            await t.run(["uname", "-s"])
    finally:
        agent.terminate()
        agent.wait(5)


def test_version_queries_for_the_inventory_are_allowed_and_nothing_more() -> None:
    from shopguard.hosting.transport.interface import CommandNotAllowed, check_allowed

    for argv in (
        ["php", "-v"],
        ["php-fpm8.2", "-v"],
        ["mariadbd", "--version"],
        ["/usr/lib/postgresql/15/bin/postgres", "--version"],
        ["redis-server", "--version"],
        ["node", "--version"],
        ["python3", "--version"],
        ["openssl", "version"],
        ["rpm", "-qa", "--qf", "%{NAME}\\t%{VERSION}\\n"],
    ):
        check_allowed(argv)
    for argv in (
        ["php", "-r", "echo 1;"],
        ["node", "-e", "1"],
        ["python3", "-c", "print(1)"],
        ["openssl", "enc", "-d"],
        ["rpm", "-e", "nginx"],
        ["mysql", "-e", "DROP DATABASE x"],
    ):
        with pytest.raises(CommandNotAllowed):
            check_allowed(argv)
