from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopguard.findings import Finding, Refs, Severity, fingerprint, protocol_of


def make(**kw: object) -> Finding:
    base: dict[str, object] = {
        "check_id": "scanning.web.server-banner",
        "severity": Severity.LOW,
        "title": "Server version shown",
        "location": "http://127.0.0.1:8080/",
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_severity_is_ordered() -> None:
    assert Severity.INFO < Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert max([Severity.LOW, Severity.CRITICAL, Severity.MEDIUM]) is Severity.CRITICAL
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(ValueError, match="expected one of info, low"):
        Severity.parse("urgent")


def test_fingerprint_ignores_wording_but_not_identity() -> None:
    a = make()
    reworded = make(title="Your server tells its version", detail="new text", severity=Severity.MEDIUM)
    assert a.fingerprint == reworded.fingerprint
    assert a.fingerprint != make(location="http://127.0.0.1:8080/checkout").fingerprint
    assert a.fingerprint != make(key="x-powered-by").fingerprint
    assert a.fingerprint != make(check_id="scanning.web.https").fingerprint
    assert len(a.fingerprint) == 32


@given(st.text(), st.text(), st.text())
def test_fingerprint_is_deterministic_and_unambiguous(check: str, loc: str, key: str) -> None:
    assert fingerprint(check, loc, key) == fingerprint(check, loc, key)
    # joining without a separator would make ("a","bc") collide with ("ab","c")
    if loc:
        assert fingerprint(check, loc, key) != fingerprint(check + loc[0], loc[1:], key)


def test_protocol_of() -> None:
    assert protocol_of("hosting.ssh.root-login") == "hosting"
    assert protocol_of("monitoring.http") == "scanning"
    with pytest.raises(ValueError, match="does not start with a protocol"):
        protocol_of("nonsense.check")


def test_to_dict_has_the_stable_keys() -> None:
    d = make(refs=Refs(pci=("4.2.1",), cwe=("CWE-319",))).to_dict()
    assert set(d) == {
        "check_id", "protocol", "severity", "title", "detail", "location",
        "evidence", "remediation", "refs", "fingerprint",
    }  # fmt: skip
    assert d["refs"] == {"pci": ["4.2.1"], "cwe": ["CWE-319"], "cve": []}
    assert d["protocol"] == "scanning"
