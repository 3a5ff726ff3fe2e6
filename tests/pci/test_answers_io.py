from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.pci.answers_io import export_answers, import_answers
from shopguard.pci.assessment import Answer, AnswerInput, PciError, current_year, save_answers, save_decision
from shopguard.pci.models import PciAnswer
from shopguard.pci.saq import Integration, SaqAnswers, decide

STORE = "demo"
YEAR = current_year()


def snapshot(db: sessionmaker[Session]) -> list[tuple[str, str, str, str]]:
    with db() as s:
        return sorted(
            (a.requirement_id, a.answer, a.justification, a.person) for a in s.scalars(select(PciAnswer))
        )


def seed(db: sessionmaker[Session]) -> sessionmaker[Session]:
    save_decision(db, STORE, YEAR, decide(SaqAnswers(Integration.REDIRECT)), "Ann")
    save_answers(
        db,
        STORE,
        YEAR,
        [
            AnswerInput("2.2.2", Answer.IN_PLACE, "Ann"),
            AnswerInput("3.2.1", Answer.NOT_APPLICABLE, "Ann", "We never keep card data, not even on paper."),
            AnswerInput("11.3.2", Answer.NOT_IN_PLACE, "Bob"),
        ],
    )
    return db


@pytest.fixture
def seeded(pci_db: sessionmaker[Session]) -> sessionmaker[Session]:
    return seed(pci_db)


@pytest.fixture
def seeded_any(pci_any_db: sessionmaker[Session]) -> sessionmaker[Session]:
    """Seeded on SQLite and on PostgreSQL."""
    return seed(pci_any_db)


def test_round_trip(seeded_any: sessionmaker[Session], tmp_path: Path) -> None:
    seeded = seeded_any
    before = snapshot(seeded)
    text = export_answers(seeded, STORE, YEAR)
    assert text.startswith("# ShopGuard PCI DSS answers")
    doc = yaml.safe_load(text)
    assert doc["saq"] == "A" and list(doc["answers"]) == ["2.2.2", "3.2.1", "11.3.2"]
    doc["answers"]["8.2.1"] = {
        "answer": "In Place",
        "person": "Cara",
        "date": "2026-01-05",
        "justification": "",
    }
    f = tmp_path / "answers.yaml"
    f.write_text(yaml.safe_dump(doc))
    assert import_answers(seeded, STORE, YEAR, f) == 4
    after = snapshot(seeded)
    assert set(before) < set(after)
    assert ("8.2.1", "in-place", "", "Cara") in after


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda d: d["answers"]["2.2.2"].update(answer="sort of"), r"requirement 2\.2\.2: field 'answer'"),
        (
            lambda d: d["answers"]["3.2.1"].update(justification=""),
            r"requirement 3\.2\.1: field 'justification'",
        ),
        (lambda d: d["answers"]["2.2.2"].update(date="yesterday"), r"requirement 2\.2\.2: field 'date'"),
        (lambda d: d["answers"]["2.2.2"].update(colour="red"), r"requirement 2\.2\.2: field 'colour'"),
        (lambda d: d["answers"]["2.2.2"].update(person=""), r"requirement 2\.2\.2: field 'person'"),
        (
            lambda d: d["answers"].update({"1.2.1": {"answer": "in-place", "person": "Ann"}}),
            r"requirement 1\.2\.1: field 'id'",
        ),
        (lambda d: d.update(store="other"), r"field 'store'"),
        (lambda d: d.update(saq="D"), r"field 'saq'"),
    ],
)
def test_malformed_file_names_requirement_and_field_and_changes_nothing(
    seeded: sessionmaker[Session], tmp_path: Path, mutate, pattern: str
) -> None:
    before = snapshot(seeded)
    doc = yaml.safe_load(export_answers(seeded, STORE, YEAR))
    for rid in doc["answers"]:  # a valid change earlier in the file must not be applied either
        doc["answers"][rid]["person"] = "Changed"
    mutate(doc)
    f = tmp_path / "answers.yaml"
    f.write_text(yaml.safe_dump(doc))
    with pytest.raises(PciError, match=pattern) as err:
        import_answers(seeded, STORE, YEAR, f)
    assert "nothing was changed" in str(err.value)
    assert snapshot(seeded) == before


def test_not_yaml(seeded: sessionmaker[Session], tmp_path: Path) -> None:
    f = tmp_path / "answers.yaml"
    f.write_text("answers: [unclosed\n")
    with pytest.raises(PciError, match="not valid YAML"):
        import_answers(seeded, STORE, YEAR, f)
