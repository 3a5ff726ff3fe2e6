"""What every hosting check shares: the transport, the "could not check" rules,
and a helper that builds findings with PCI DSS and CIS references.

When a check cannot see what it needs, ShopGuard never passes silently:

* the thing is simply **not installed** (no nginx, no PHP) and the check declares
  it optional -> an ``info`` finding ``<check>.not-checked`` ("nginx not checked:
  nginx is not installed"). The check ran cleanly: there is nothing to harden.
* anything else (permission denied, a syntax error, a timeout, the host dropped,
  a required tool missing) -> the check fails with :class:`CouldNotCheck`,
  recorded by the runner as a check error "could not check X because Y". Earlier
  findings of that check stay open (a check that did not finish resolves nothing)
  and the hardening score deducts points for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import ClassVar

from shopguard.checks import BaseCheck, CheckContext
from shopguard.findings import Finding, Refs, Severity
from shopguard.hosting.facts import Facts, host_facts
from shopguard.hosting.transport.interface import CommandMissing, TransportError


class CouldNotCheck(Exception):
    """The check could not assess its subject; the message says what and why."""


class HostCheck(BaseCheck):
    subject: ClassVar[str] = ""
    """Plain words for "could not check <subject> because ..."."""
    optional: ClassVar[bool] = False
    """True when the audited component may legitimately be absent (nginx, PHP ...)."""

    def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:  # pragma: no cover
        raise NotImplementedError

    async def run(self, ctx: CheckContext) -> list[Finding]:
        facts = await host_facts(ctx)
        found: list[Finding] = []
        try:
            async for f in self.inspect(ctx, facts):
                found.append(f)
        except CommandMissing as exc:
            if not self.optional:
                raise CouldNotCheck(f"could not check {self.subject} because {exc}") from None
            return [
                Finding(
                    check_id=f"{self.id}.not-checked",
                    severity=Severity.INFO,
                    title=f"{self.subject[:1].upper() + self.subject[1:]} not checked: {exc}",
                    location=self.subject,
                    detail="ShopGuard found nothing to audit here. If this host should run it, "
                    "check the binary path in [stores.hosting].",
                    evidence={"reason": str(exc)},
                    key="missing",
                )
            ]
        except TransportError as exc:
            raise CouldNotCheck(f"could not check {self.subject} because {exc}") from None
        return found

    def finding(
        self,
        name: str,
        severity: Severity,
        title: str,
        location: str,
        *,
        detail: str = "",
        remediation: str = "",
        evidence: Mapping[str, object] | None = None,
        pci: Sequence[str] = (),
        cis: Sequence[str] = (),
        cwe: Sequence[str] = (),
        key: str = "",
    ) -> Finding:
        """A finding with id ``<check id>.<name>``. CIS benchmark section numbers
        (Debian/Ubuntu Linux benchmarks) go into the evidence under ``cis``."""
        ev: dict[str, object] = dict(evidence or {})
        if cis:
            ev["cis"] = list(cis)
        return Finding(
            check_id=f"{self.id}.{name}" if name else self.id,
            severity=severity,
            title=title,
            location=location,
            detail=detail,
            remediation=remediation,
            evidence=ev,
            refs=Refs(pci=tuple(pci), cwe=tuple(cwe)),
            key=key,
        )
