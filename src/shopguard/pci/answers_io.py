"""Answers as YAML, so a merchant or agency can keep them in git.

Import validates the whole file first and writes it in one transaction: a malformed
file names the requirement id and the field at fault and changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from shopguard.pci.assessment import (
    Answer,
    AnswerInput,
    PciError,
    answers_of,
    require_assessment,
    save_answers,
    validate_answer,
)
from shopguard.pci.catalogue import Saq, load_catalogue

FORMAT = 1
_FIELDS = {"answer", "justification", "person", "date"}


def export_answers(db: sessionmaker[Session], store: str, year: int) -> str:
    with db() as s:
        a = require_assessment(s, store, year)
        answers = answers_of(s, a)
        cat = load_catalogue()
        body: dict[str, Any] = {}
        for req in cat.for_saq(Saq(a.saq)):
            rec = answers.get(req.id)
            if rec is None:
                continue
            body[req.id] = {
                "answer": rec.answer,
                "justification": rec.justification,
                "person": rec.person,
                "date": rec.answered_on.isoformat(),
            }
        doc = {"shopguard_pci_answers": FORMAT, "store": store, "year": year, "saq": a.saq, "answers": body}
    header = (
        f"# ShopGuard PCI DSS answers for store {store}, {year} ({Saq(str(doc['saq'])).long_name}).\n"
        "# Answers: in-place, in-place-ccw, in-place-customized, not-applicable, not-tested, not-in-place.\n"
        "# Import with: shopguard pci import --answers FILE\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _fail(path: Path, where: str, msg: str) -> PciError:
    return PciError(f"{path}: {where}: {msg}; nothing was changed")


def parse_answers(path: Path, text: str, store: str, year: int, saq: Saq) -> list[AnswerInput]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PciError(f"{path}: not valid YAML: {exc}; nothing was changed") from None
    if not isinstance(doc, dict):
        raise _fail(
            path, "top level", "expected a mapping with shopguard_pci_answers, store, year, saq, answers"
        )
    if doc.get("shopguard_pci_answers") != FORMAT:
        raise _fail(path, "field 'shopguard_pci_answers'", f"expected {FORMAT}")
    if doc.get("store") != store:
        raise _fail(path, "field 'store'", f"file is for {doc.get('store')!r}, importing into {store!r}")
    if doc.get("year") != year:
        raise _fail(path, "field 'year'", f"file is for {doc.get('year')!r}, importing into {year}")
    try:
        file_saq = Saq.parse(str(doc.get("saq", "")))
    except ValueError as exc:
        raise _fail(path, "field 'saq'", str(exc)) from None
    if file_saq is not saq:
        raise _fail(
            path, "field 'saq'", f"file answers {file_saq.long_name}, the assessment is {saq.long_name}"
        )
    body = doc.get("answers")
    if not isinstance(body, dict):
        raise _fail(path, "field 'answers'", "expected a mapping of requirement id to answer")
    cat = load_catalogue()
    items: list[AnswerInput] = []
    for rid_raw, entry in body.items():
        rid = str(rid_raw)
        where = f"requirement {rid}"
        if not isinstance(entry, dict):
            raise _fail(path, where, "expected a mapping with answer, justification, person, date")
        if extra := set(entry) - _FIELDS:
            raise _fail(path, f"{where}: field '{sorted(extra)[0]}'", "unknown field")
        try:
            ans = Answer.parse(str(entry.get("answer", "")))
        except ValueError as exc:
            raise _fail(path, f"{where}: field 'answer'", str(exc)) from None
        raw_date = entry.get("date")
        on: date | None
        if raw_date is None:
            on = None
        elif isinstance(raw_date, date):
            on = raw_date
        else:
            try:
                on = date.fromisoformat(str(raw_date))
            except ValueError:
                raise _fail(
                    path, f"{where}: field 'date'", f"{raw_date!r} is not a date like 2026-11-25"
                ) from None
        justification = entry.get("justification") or ""
        person = entry.get("person") or ""
        if not isinstance(justification, str):
            raise _fail(path, f"{where}: field 'justification'", "expected text")
        if not isinstance(person, str):
            raise _fail(path, f"{where}: field 'person'", "expected text")
        item = AnswerInput(rid, ans, person, justification, on, source="import")
        try:
            validate_answer(cat, saq, item)
        except PciError as exc:
            raise PciError(f"{path}: {exc}; nothing was changed") from None
        items.append(item)
    return items


def import_answers(db: sessionmaker[Session], store: str, year: int, path: Path) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PciError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PciError(f"{path}: not UTF-8 text") from None
    with db() as s:
        saq = Saq(require_assessment(s, store, year).saq)
    items = parse_answers(path, text, store, year, saq)
    return save_answers(db, store, year, items)
