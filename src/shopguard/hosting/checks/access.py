"""Access: SSH daemon effective settings, privileged accounts, sudo, root's keys,
brute-force protection."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import FileMissing, TransportError

WEAK_CIPHERS = re.compile(r"(^3des|-cbc$|^arcfour|^blowfish|^cast128|^rijndael)")
WEAK_MACS = re.compile(r"(md5|^hmac-sha1|^umac-64|-96)")
WEAK_KEX = re.compile(r"(group1-sha1|group14-sha1|group-exchange-sha1|^gss-)")


PRIVSEP_MISSING = "Missing privilege separation directory"
SSHD_DEFAULTS = {
    "permitrootlogin": "prohibit-password",
    "passwordauthentication": "yes",
    "kbdinteractiveauthentication": "yes",
    "permitemptypasswords": "no",
    "maxauthtries": "6",
}
"""OpenSSH's compiled-in defaults (sshd_config(5)) for the settings this check reads."""


async def read_sshd_config(facts: Facts, path: str, depth: int = 0) -> dict[str, str]:
    """The effective global settings read from the files, the way sshd resolves them: the first
    value of a keyword wins, ``Include`` is expanded in place (globs, relative to /etc/ssh), and
    ``Match`` blocks are not global, so reading stops there. Defaults fill the rest."""
    import fnmatch
    import posixpath

    out: dict[str, str] = {}
    if depth > 16:
        raise CouldNotCheck(f"could not read {path}: Include nested more than 16 deep (a loop?)")
    text = await facts.transport.read_text(path)
    for line in text.splitlines():
        parts = line.split("#", 1)[0].strip().replace("=", " ", 1).split(None, 1)
        if len(parts) != 2:
            continue
        key, value = parts[0].lower(), parts[1].strip().strip('"')
        if key == "match":
            break
        if key != "include":
            out.setdefault(key, value)
            continue
        for pattern in value.split():
            full = pattern if pattern.startswith("/") else posixpath.join(facts.etc("ssh"), pattern)
            folder, name = posixpath.split(full)
            try:
                names = sorted(n for n in await facts.transport.listdir(folder) if fnmatch.fnmatch(n, name))
            except FileMissing:
                continue
            for n in names:
                for k, v in (await read_sshd_config(facts, posixpath.join(folder, n), depth + 1)).items():
                    out.setdefault(k, v)
    if depth == 0:
        for k, v in SSHD_DEFAULTS.items():
            out.setdefault(k, v)
    return out


def parse_sshd_t(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            out.setdefault(parts[0].lower(), parts[1].strip())
    return out


@register_check
class SshDaemon(HostCheck):
    id = "hosting.ssh"
    title = "SSH server configuration is hardened"
    subject = "the SSH server configuration (sshd -T)"
    optional = True

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        s = facts.settings
        argv = [s.sshd_bin, "-T"] + (["-f", s.sshd_config] if s.sshd_config else [])
        res = await facts.run(argv)
        conf_path = s.sshd_config or facts.etc("ssh/sshd_config")
        if res.ok:
            conf = parse_sshd_t(res.stdout)
        elif PRIVSEP_MISSING in res.stderr:
            # sshd is installed but has never run since boot (no /run/sshd), so it refuses -T;
            # the configuration still decides how it will run once started: read the files.
            conf = await read_sshd_config(facts, conf_path)
        else:
            raise CouldNotCheck(
                f"could not check {self.subject} because `{res.command}` failed (exit {res.returncode}): "
                f"{res.stderr.strip()[:300]}"
            )
        loc = s.sshd_config or ("sshd -T" if res.ok else conf_path)
        fix = f"Edit {conf_path}, then `sshd -t && systemctl reload ssh`."
        root = conf.get("permitrootlogin", "")
        if root == "yes":
            yield self.finding(
                "root-login",
                Severity.HIGH,
                "root can log in over SSH with a password",
                loc,
                detail="Attackers try root passwords all day; one good guess owns the whole server.",
                remediation="Set `PermitRootLogin no` and log in as a named user who uses sudo. " + fix,
                evidence={"permitrootlogin": root},
                pci=("8.2.2", "2.2.6"),
                cis=("5.2.10",),
            )
        elif root in ("prohibit-password", "without-password"):
            yield self.finding(
                "root-login",
                Severity.LOW,
                "root can log in over SSH (with a key)",
                loc,
                detail="Shared root logins hide who did what; PCI DSS wants individual accounts.",
                remediation="Set `PermitRootLogin no` and use named accounts with sudo. " + fix,
                evidence={"permitrootlogin": root},
                pci=("8.2.2",),
                cis=("5.2.10",),
            )
        if conf.get("passwordauthentication") == "yes" or conf.get("kbdinteractiveauthentication") == "yes":
            yield self.finding(
                "password-auth",
                Severity.MEDIUM,
                "SSH accepts passwords (brute-force target)",
                loc,
                detail="Keys cannot be guessed; passwords can. Use SSH keys only.",
                remediation="Set `PasswordAuthentication no` and `KbdInteractiveAuthentication no`. " + fix,
                evidence={
                    "passwordauthentication": conf.get("passwordauthentication"),
                    "kbdinteractiveauthentication": conf.get("kbdinteractiveauthentication"),
                },
                pci=("8.3.1", "8.4.2"),
                cis=("5.2.12",),
            )
        if conf.get("permitemptypasswords") == "yes":
            yield self.finding(
                "empty-passwords",
                Severity.CRITICAL,
                "SSH lets accounts with an empty password log in",
                loc,
                remediation="Set `PermitEmptyPasswords no`. " + fix,
                evidence={"permitemptypasswords": "yes"},
                pci=("8.3.1",),
                cis=("5.2.11",),
            )
        tries = conf.get("maxauthtries", "6")
        if tries.isdigit() and int(tries) > 4:
            yield self.finding(
                "max-auth-tries",
                Severity.LOW,
                f"SSH allows {tries} login attempts per connection",
                loc,
                remediation="Set `MaxAuthTries 4` (or lower). " + fix,
                evidence={"maxauthtries": int(tries)},
                pci=("8.3.4",),
                cis=("5.2.7",),
            )
        for key, pattern, what, cis in (
            ("ciphers", WEAK_CIPHERS, "ciphers", "5.2.13"),
            ("macs", WEAK_MACS, "MACs", "5.2.14"),
            ("kexalgorithms", WEAK_KEX, "key exchange algorithms", "5.2.15"),
        ):
            weak = [a for a in conf.get(key, "").split(",") if a and pattern.search(a)]
            if weak:
                # SHA-1 MACs and umac-64 are still in OpenSSH's defaults and not practically broken: low
                mild = key == "macs" and all(
                    re.search(r"^(hmac-sha1|umac-64)", a) and "96" not in a for a in weak
                )
                yield self.finding(
                    f"weak-{key}",
                    Severity.LOW if mild else Severity.MEDIUM,
                    f"SSH offers weak {what}: {', '.join(weak[:5])}",
                    loc,
                    detail="Old algorithms make SSH sessions easier to break or tamper with.",
                    remediation=f"Remove them from the `{key.capitalize()}` line (OpenSSH's defaults are "
                    "safe). " + fix,
                    evidence={key: weak},
                    pci=("4.2.1", "2.2.7"),
                    cis=(cis,),
                    cwe=("CWE-327",),
                )


@register_check
class Uid0Accounts(HostCheck):
    id = "hosting.accounts.uid0"
    title = "Only root has user id 0"
    subject = "accounts with user id 0"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        for acc in await facts.accounts():
            if acc.uid == 0 and acc.name != "root":
                yield self.finding(
                    "",
                    Severity.CRITICAL,
                    f"Account {acc.name!r} has root powers (user id 0)",
                    facts.etc("passwd"),
                    detail="A second UID 0 account is a classic backdoor left by intruders.",
                    remediation="Find out who created it; if unknown, treat as an incident. Then "
                    f"`userdel {acc.name}`.",
                    evidence={"account": acc.name, "shell": acc.shell},
                    pci=("7.2.1", "8.2.1"),
                    cis=("6.2.10",),
                    key=acc.name,
                )


@register_check
class EmptyPasswords(HostCheck):
    id = "hosting.accounts.empty-password"
    title = "No account has an empty password"
    subject = "accounts with empty passwords (/etc/shadow)"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        path = facts.etc("shadow")
        for line in (await facts.transport.read_text(path)).splitlines():
            parts = line.split(":")
            if len(parts) >= 2 and parts[1] == "":
                yield self.finding(
                    "",
                    Severity.CRITICAL,
                    f"Account {parts[0]!r} has no password",
                    path,
                    remediation=f"Lock it: `passwd -l {parts[0]}` (or set a strong password).",
                    evidence={"account": parts[0]},
                    pci=("8.3.1",),
                    cis=("6.2.1",),
                    key=parts[0],
                )


@register_check
class SudoNoPassword(HostCheck):
    id = "hosting.sudo"
    title = "sudo asks for a password"
    subject = "sudo rules"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        files = [facts.etc("sudoers")]
        with contextlib.suppress(FileMissing):
            files += [
                f"{facts.etc('sudoers.d')}/{n}" for n in await facts.transport.listdir(facts.etc("sudoers.d"))
            ]
        contents = await facts.transport.read_files(files)
        for path, data in contents.items():
            if isinstance(data, FileMissing):
                continue
            if isinstance(data, TransportError):
                raise data
            text = data.decode("utf-8", "replace")
            for n, line in enumerate(text.splitlines(), 1):
                rule = line.split("#", 1)[0].strip()
                if "NOPASSWD" in rule and not rule.startswith("Defaults"):
                    yield self.finding(
                        "nopasswd",
                        Severity.MEDIUM,
                        f"sudo rule without password: {rule[:80]}",
                        f"{path}:{n}",
                        detail="Anyone who gets this user's session (a stolen SSH key, a web shell "
                        "running as "
                        "this user) becomes root without knowing any password.",
                        remediation=f"Remove NOPASSWD from the rule (`visudo -f {path}`), or limit it to one "
                        "exact command.",
                        evidence={"rule": rule[:200]},
                        pci=("7.2.2", "8.2.2"),
                        cis=("5.3.4",),
                        key=rule,
                    )


_KEY_TYPES = ("ssh-", "ecdsa-", "sk-")


@register_check
class RootAuthorizedKeys(HostCheck):
    id = "hosting.root-keys"
    title = "root's SSH keys are restricted"
    subject = "root's authorized_keys"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        home = facts.settings.root_home.rstrip("/")
        for name in ("authorized_keys", "authorized_keys2"):
            path = f"{home}/.ssh/{name}"
            try:
                text = await facts.transport.read_text(path)
            except FileMissing:
                continue
            for line in text.splitlines():
                parts = line.strip().split()
                if not parts or parts[0].startswith("#") or not parts[0].startswith(_KEY_TYPES):
                    continue  # has options (from=, command=, restrict ...) or is not a key
                try:
                    fp = (
                        base64.b64encode(hashlib.sha256(base64.b64decode(parts[1])).digest())
                        .decode()
                        .rstrip("=")
                    )
                except (ValueError, IndexError):
                    fp = "unparsable"
                comment = " ".join(parts[2:])[:60]
                yield self.finding(
                    "unrestricted",
                    Severity.LOW,
                    f"root accepts an SSH key with no restrictions ({comment or parts[0]})",
                    path,
                    detail="Whoever holds this key is root from anywhere. Restrict where it may come from "
                    "or what it may run, or remove it if nobody needs it.",
                    remediation="Prefix the line with options, e.g. "
                    f'`from="203.0.113.10",restrict {parts[0]} ...`, '
                    "or delete it.",
                    evidence={"type": parts[0], "fingerprint": f"SHA256:{fp}", "comment": comment},
                    pci=("8.2.2", "7.2.1"),
                    key=fp,
                )


BRUTE_FORCE_TOOLS = ("fail2ban-server", "crowdsec", "sshguard")


@register_check
class BruteForceProtection(HostCheck):
    id = "hosting.brute-force"
    title = "Brute-force protection is running"
    subject = "brute-force protection (fail2ban, CrowdSec, sshguard)"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        if await facts.running(*BRUTE_FORCE_TOOLS):
            return
        installed = [t for t in BRUTE_FORCE_TOOLS if await facts.installed(t)]
        yield self.finding(
            "missing",
            Severity.MEDIUM,
            "Brute-force protection is installed but not running"
            if installed
            else "No brute-force protection (fail2ban, CrowdSec or sshguard)",
            "brute-force protection",
            detail="Login pages and SSH are guessed at all day; a banning tool blocks an address after a few "
            "failures (PCI DSS asks for lockout after at most 10 attempts).",
            remediation="apt-get install fail2ban && systemctl enable --now fail2ban"
            if not installed
            else "systemctl enable --now fail2ban",
            evidence={"installed": installed},
            pci=("8.3.4",),
        )
