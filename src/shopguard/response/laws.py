"""The shipped law table and the notification obligations it gives an incident."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field

from shopguard.response import deadlines
from shopguard.response.appraisal import Appraisal, DataKind
from shopguard.response.jurisdictions import normalise

NOT_LEGAL_ADVICE = (
    "ShopGuard is not a lawyer and this is not legal advice. The deadlines come from ShopGuard's own "
    "summaries of the law (each with its source) and assume the worst where facts are missing; confirm "
    "every duty with your lawyer."
)


class LawRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    jurisdictions: tuple[str, ...]
    kind: Literal["authority", "individuals", "acquirer", "insurer", "assessment"]
    recipient: str
    when: Literal["personal", "personal_high_risk", "us_pi", "card", "any"]
    min_affected: Annotated[int, Field(ge=0)] = 0
    or_affected: Annotated[int, Field(ge=1)] | None = None
    """The row also applies, whatever ``when`` says, once this many people are affected."""
    trigger: str
    deadline: dict[str, int | str]
    summary: str
    citation: str
    source: str

    @property
    def deadline_text(self) -> str:
        d = self.deadline
        if "asap" in d:
            return str(d["asap"])
        if "hours" in d:
            if d["hours"] == "insurer":
                return "the window in your cyber policy"
            if d["hours"] == "acquirer":
                return "the hours in your acquirer contract"
            return f"{d['hours']} hours"
        if "days" in d:
            return f"{d['days']} calendar days"
        return f"{d['business_days']} business days"


@cache
def law_table() -> tuple[LawRow, ...]:
    text = resources.files("shopguard.data").joinpath("response/laws.yaml").read_text(encoding="utf-8")
    rows = tuple(LawRow.model_validate(r) for r in yaml.safe_load(text)["laws"])
    ids = [r.id for r in rows]
    if len(ids) != len(set(ids)):
        raise ValueError("laws.yaml: duplicate ids")
    return rows


def party_ids() -> list[str]:
    return [r.id for r in law_table()]


@dataclass(frozen=True)
class Sent:
    at: datetime
    method: str
    by: str
    reference: str = ""


@dataclass(frozen=True)
class Obligation:
    law: LawRow
    jurisdiction: str
    due: datetime | None
    """UTC; None when the law sets no fixed time or the trigger has not happened yet."""
    base: datetime | None
    """When the clock started (None: waiting for the trigger)."""
    note: str
    sent: Sent | None
    provisional: bool
    """True while no appraisal is recorded: ShopGuard assumes the worst."""

    @property
    def id(self) -> str:
        return self.law.id

    def overdue(self, now: datetime) -> bool:
        if self.due is None:
            return False
        when = self.sent.at if self.sent else now
        return when > self.due

    def sort_key(self, now: datetime) -> tuple[int, datetime]:
        # Unsent first; overdue before the rest; then by due time. A duty with no fixed time is
        # ordered as if due 72 hours after its trigger (ordering only; it is still "as soon as ...").
        far = datetime.max.replace(tzinfo=now.tzinfo)
        key = self.due or (self.base.astimezone(UTC) + timedelta(hours=72) if self.base else far)
        return (2 if self.sent else 0 if self.overdue(now) else 1, key)


def _applies(row: LawRow, a: Appraisal) -> bool:
    kinds = set(a.data_kinds)
    if row.when == "any":
        return True
    if row.when == "card":
        return bool(kinds & {DataKind.CARD_NUMBER, DataKind.CVV})
    if row.when == "personal":
        return bool(kinds)
    if row.when == "personal_high_risk":
        return a.is_high_risk
    # us_pi, read broadly; encrypted data with the key safe is exempt in every state.
    if a.encrypted:
        return False
    name_plus = DataKind.NAME in kinds and bool(
        kinds & {DataKind.CARD_NUMBER, DataKind.GOVERNMENT_ID, DataKind.BANK_ACCOUNT}
    )
    login = DataKind.EMAIL in kinds and DataKind.PASSWORD in kinds
    card = DataKind.CARD_NUMBER in kinds and DataKind.CVV in kinds
    return name_plus or login or card


WORST_CASE = dict(data_kinds=tuple(DataKind), records=1_000_000, high_risk=True)


def obligations(
    *,
    appraisal: Appraisal | None,
    store_jurisdictions: Iterable[str],
    discovered_at: datetime,
    tz: ZoneInfo,
    sent: Mapping[str, Sent],
    acquirer_hours: int,
    insurer_hours: int | None,
    card_data_suspected: bool = True,
) -> list[Obligation]:
    """Every party to notify, with its deadline. Without an appraisal the worst case is assumed
    for the store's configured jurisdictions (provisional)."""
    provisional = appraisal is None
    discovered_at = discovered_at.astimezone(UTC)
    a = appraisal or Appraisal.model_validate(WORST_CASE)
    if appraisal is not None and appraisal.affected:
        counts = dict(appraisal.affected)
    else:
        counts = {normalise(j): a.records for j in store_jurisdictions}
    assessed = appraisal.assessed_at if appraisal is not None else None
    total = sum(counts.values()) if counts else a.records

    def scale(row: LawRow) -> bool:
        if row.or_affected is None:
            return False
        return any(counts.get(j, 0) >= row.or_affected for j in row.jurisdictions) or (
            "*" in row.jurisdictions and total >= row.or_affected
        )

    rows = [r for r in law_table() if _applies(r, a) or scale(r)]
    if provisional and not card_data_suspected:
        rows = [r for r in rows if r.when != "card"]
    by_id: dict[str, Obligation] = {}
    out: list[Obligation] = []
    pending_after = []
    for row in rows:
        if "*" in row.jurisdictions:
            juris = "*"
        else:
            hit = [j for j in row.jurisdictions if j in counts and counts[j] >= max(row.min_affected, 1)]
            if not hit:
                continue
            juris = hit[0]
        if row.trigger.startswith("after:"):
            pending_after.append((row, juris))
            continue
        base = discovered_at if row.trigger == "discovery" else assessed
        ob = _make(row, juris, base, tz, sent, acquirer_hours, insurer_hours, provisional)
        by_id[row.id] = ob
        out.append(ob)
    for row, juris in pending_after:
        first = by_id.get(row.trigger.removeprefix("after:"))
        if first is None:
            continue
        base = first.sent.at if first.sent else first.due
        ob = _make(row, juris, base, tz, sent, acquirer_hours, insurer_hours, provisional)
        if not first.sent:
            ob = Obligation(
                ob.law,
                ob.jurisdiction,
                ob.due,
                ob.base,
                f"counted from {first.id}'s deadline until it is marked sent",
                ob.sent,
                provisional,
            )
        by_id[row.id] = ob
        out.append(ob)
    return out


def _make(
    row: LawRow,
    juris: str,
    base: datetime | None,
    tz: ZoneInfo,
    sent: Mapping[str, Sent],
    acquirer_hours: int,
    insurer_hours: int | None,
    provisional: bool,
) -> Obligation:
    spec: dict[str, object] = dict(row.deadline)
    note = ""
    if spec.get("hours") == "acquirer":
        spec = {"hours": acquirer_hours}
    elif spec.get("hours") == "insurer":
        if insurer_hours is None:
            spec = {"asap": "at once"}
            note = "no notification window recorded for your insurer: notify at once and record the window"
        else:
            spec = {"hours": insurer_hours}
    if base is None:
        note = note or "the clock starts when the trigger happens (e.g. the appraisal is recorded)"
        due = None
    else:
        due = deadlines.compute(base, spec, tz)
    return Obligation(row, juris, due, base, note, sent.get(row.id), provisional)


def sorted_obligations(items: list[Obligation], now: datetime) -> list[Obligation]:
    return sorted(items, key=lambda o: o.sort_key(now))
