"""A process killed in the middle of writing answers leaves the assessment as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select

from shopguard.db import open_database
from shopguard.pci.answers_io import export_answers, import_answers
from shopguard.pci.assessment import Answer, AnswerInput, current_year, save_answers, save_decision
from shopguard.pci.models import PciAnswer, PciTask
from shopguard.pci.saq import Integration, SaqAnswers, decide

CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from shopguard.db import open_database
    from shopguard.pci.answers_io import import_answers

    db = open_database(sys.argv[1])
    # Die hard (no cleanup, no rollback) right after the first rows reach the database.
    event.listen(Session, "after_flush", lambda *a: os._exit(9))
    import_answers(db, "demo", int(sys.argv[3]), Path(sys.argv[2]))
    """
)


def test_kill_during_import_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    year = current_year()
    db = open_database(url)
    save_decision(db, "demo", year, decide(SaqAnswers(Integration.REDIRECT)), "Ann")
    save_answers(db, "demo", year, [AnswerInput("2.2.2", Answer.IN_PLACE, "Ann")])
    text = export_answers(db, "demo", year).replace("answer: in-place", "answer: not-in-place")
    text = text.replace("answers:\n", "answers:\n  8.2.1: {answer: in-place, person: Bob}\n")
    f = tmp_path / "answers.yaml"
    f.write_text(text)

    proc = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(f), str(year)], capture_output=True, timeout=60
    )
    assert proc.returncode == 9, proc.stderr.decode()

    db = open_database(url)
    with db() as s:
        rows = {(a.requirement_id, a.answer) for a in s.scalars(select(PciAnswer))}
        assert rows == {("2.2.2", "in-place")}
        assert s.scalar(select(PciTask)) is None
    # and the database still works: the same import now succeeds
    assert import_answers(db, "demo", year, f) == 2
    with db() as s:
        assert {(a.requirement_id, a.answer) for a in s.scalars(select(PciAnswer))} == {
            ("2.2.2", "not-in-place"),
            ("8.2.1", "in-place"),
        }
    db.kw["bind"].dispose()
