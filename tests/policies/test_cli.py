"""The policies commands end to end: exit codes and messages a person sees."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli.app import app


def _cfg(tmp_path: Path) -> Path:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text('[company]\nname = "Acme Socks Ltd"\n[policies]\npayment_processor = "Stripe"\n')
    return cfg


def test_roster_ack_training_cycle(tmp_path: Path, sqlite_url: str):
    runner = CliRunner()
    base = ["--config", str(_cfg(tmp_path)), "--db", sqlite_url]

    def run(*args: str) -> tuple[int, str]:
        r = runner.invoke(app, ["policies", *args, *base])
        return r.exit_code, r.output

    assert run("init")[0] == 0
    code, out = run("approve", "acceptable-use", "--by", "Ann")
    assert code == 0 and "approved by Ann" in out
    assert run("publish", "acceptable-use")[0] == 0
    code, out = run("publish", "acceptable-use")
    assert code == 2 and "no approved version" in out

    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,roles,start_date\nbob@acme.example,Bob,support,2026-13-01\n")
    code, out = run("people", "import", str(bad))
    assert code == 2 and "row 2, field start_date" in out and "nothing imported" in out
    good = tmp_path / "roster.csv"
    good.write_text("email,name,roles,start_date\nbob@acme.example,Bob,support,2026-01-05\n")
    assert run("people", "import", str(good)) == (0, "1 people imported\n")

    code, out = run("pending")
    assert code == 1 and "bob@acme.example" in out and "acceptable-use" in out
    code, out = run("ack", "bob@acme.example", "--method", "paper")
    assert code == 0 and "acknowledged acceptable-use" in out
    code, out = run("pending")
    assert code == 0 and "nothing pending" in out

    code, out = run("training", "list")
    assert code == 1 and "never" in out
    assert run("training", "add", "bob@acme.example", "--course", "Phishing", "--date", "2026-02-01")[0] == 0
    code, out = run("vendors", "add", "Stripe", "--service", "payments", "--pci-attestation", "2026-01-31")
    assert code == 0
    assert run("regenerate", "vendors", "--note", "vendor register")[0] == 0
    code, out = run("show", "vendors")
    assert code == 0 and "| Stripe | payments |" in out and "v2 draft" not in out  # v1 was still a draft

    exported = tmp_path / "export.yaml"
    assert run("export", str(exported))[0] == 0
    assert "bob@acme.example" in exported.read_text()


def test_unknown_policy_is_a_usage_error(tmp_path: Path, sqlite_url: str):
    r = CliRunner().invoke(
        app,
        ["policies", "approve", "nope", "--by", "Ann", "--config", str(_cfg(tmp_path)), "--db", sqlite_url],
    )
    assert r.exit_code == 2 and "no policy 'nope'" in r.output
