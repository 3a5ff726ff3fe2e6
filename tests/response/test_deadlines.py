"""Deadline arithmetic, pinned with worked scenarios (time zones, DST, business days)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shopguard.response import deadlines, hooks
from shopguard.response.appraisal import AppraisalError, parse_appraisal
from shopguard.response.laws import Sent, law_table, obligations, sorted_obligations

from .conftest import make_config

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_72_hours_across_berlin_spring_forward_is_elapsed_time() -> None:
    # Noticed Saturday 28 March 2026, 10:00 CET (UTC+1); clocks go forward on Sunday 29 March.
    start = datetime(2026, 3, 28, 10, 0, tzinfo=BERLIN)
    due = deadlines.compute(start, {"hours": 72}, BERLIN)
    assert due == utc(2026, 3, 31, 9, 0)
    assert due.astimezone(BERLIN).strftime("%d %H:%M %Z") == "31 11:00 CEST"  # one hour "later" on the wall


def test_72_hours_across_berlin_fall_back() -> None:
    start = datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN)  # CEST, UTC+2; clocks go back 25 October
    due = deadlines.compute(start, {"hours": 72}, BERLIN)
    assert due == utc(2026, 10, 27, 8, 0)
    assert due.astimezone(BERLIN).strftime("%d %H:%M %Z") == "27 09:00 CET"


def test_calendar_days_keep_the_local_clock_across_new_york_dst() -> None:
    start = datetime(2026, 2, 20, 14, 0, tzinfo=NEW_YORK)  # EST, 19:00 UTC
    due = deadlines.compute(start, {"days": 30}, NEW_YORK)
    assert due.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-22 14:00 EDT"
    assert due == utc(2026, 3, 22, 18, 0)  # 30 days minus the lost hour


def test_calendar_day_landing_in_the_dst_gap_moves_forward() -> None:
    start = datetime(2026, 2, 28, 2, 30, tzinfo=NEW_YORK)
    due = deadlines.compute(start, {"days": 8}, NEW_YORK)  # 8 March 02:30 does not exist
    assert due.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-08 03:30 EDT"


def test_business_days_skip_weekends_not_holidays() -> None:
    # Friday 20 November 2026, 16:00 in New York; Thanksgiving (26 Nov) is NOT skipped: earlier, never later.
    start = datetime(2026, 11, 20, 16, 0, tzinfo=NEW_YORK)
    due = deadlines.compute(start, {"business_days": 14}, NEW_YORK)
    assert due.astimezone(NEW_YORK).strftime("%a %Y-%m-%d %H:%M") == "Thu 2026-12-10 16:00"
    saturday = datetime(2026, 11, 21, 9, 0, tzinfo=NEW_YORK)
    assert deadlines.compute(saturday, {"business_days": 1}, NEW_YORK).astimezone(NEW_YORK).day == 23


def test_unknown_time_zone_names_the_field() -> None:
    with pytest.raises(
        deadlines.TimeZoneError, match=r"stores.demo.timezone: unknown time zone 'Mars/Olympus'"
    ):
        deadlines.zone("Mars/Olympus", "stores.demo.timezone")


def _obs(
    appraisal: dict | None,
    juris: list[str],
    discovered: datetime,
    tz: ZoneInfo = NEW_YORK,
    sent: dict | None = None,
    insurer: int | None = None,
):  # type: ignore[no-untyped-def]
    a = parse_appraisal(appraisal) if appraisal else None
    return {
        o.id: o
        for o in obligations(
            appraisal=a,
            store_jurisdictions=juris,
            discovered_at=discovered,
            tz=tz,
            sent=sent or {},
            acquirer_hours=24,
            insurer_hours=insurer,
        )
    }


def test_texas_attorney_general_only_from_250_residents() -> None:
    found = utc(2026, 6, 1, 15, 0)
    base = {"data_kinds": ["name", "card_number"], "records": 400, "assessed_at": "2026-06-03T12:00:00Z"}
    many = _obs({**base, "affected": {"US-TX": 300}}, [], found)
    assert many["us-tx-individuals"].due == utc(2026, 7, 31, 15, 0)  # 60 days, same New York clock (EDT)
    assert many["us-tx-attorney-general"].due == utc(2026, 7, 1, 15, 0)  # 30 days
    few = _obs({**base, "affected": {"US-TX": 249}}, [], found)
    assert "us-tx-attorney-general" not in few and "us-tx-individuals" in few


def test_california_ag_counts_from_the_residents_notice() -> None:
    found = utc(2026, 6, 1, 15, 0)
    a = {"data_kinds": ["email", "password"], "records": 900, "affected": {"US-CA": 900}}
    before = _obs(a, [], found)
    assert before["us-ca-individuals"].due == utc(2026, 7, 1, 15, 0)
    assert before["us-ca-attorney-general"].due == utc(2026, 7, 16, 15, 0)  # 15 days after the latest date
    sent = {"us-ca-individuals": Sent(utc(2026, 6, 10, 12, 0), "letter", "Aoife")}
    after = _obs(a, [], found, sent=sent)
    assert after["us-ca-attorney-general"].due == utc(2026, 6, 25, 12, 0)
    small = _obs({**a, "records": 500, "affected": {"US-CA": 500}}, [], found)
    assert "us-ca-attorney-general" not in small  # "more than 500"


def test_gdpr_in_dublin_time_and_sorting_by_urgency() -> None:
    dublin = ZoneInfo("Europe/Dublin")
    found = datetime(2026, 3, 27, 23, 30, tzinfo=dublin)  # GMT; Irish summer time starts 29 March
    a = {
        "data_kinds": ["card_number", "cvv", "name", "email"],
        "records": 340,
        "affected": {"IE": 200, "US-CA": 140},
    }
    items = _obs(a, [], found, tz=dublin, insurer=48)
    assert items["gdpr-authority"].due == utc(2026, 3, 30, 23, 30)
    assert items["gdpr-authority"].due.astimezone(dublin).strftime("%H:%M %Z") == "00:30 IST"
    assert items["insurer"].due == utc(2026, 3, 29, 23, 30)
    now = utc(2026, 3, 28, 12, 0)
    order = [o.id for o in sorted_obligations(list(items.values()), now)]
    assert order[:4] == ["acquirer", "insurer", "gdpr-authority", "gdpr-individuals"]
    assert order[-1] == "us-ca-individuals"
    # Overdue goes first, and a late notice stays marked late after it is sent.
    later = utc(2026, 4, 2, 0, 0)
    order = sorted_obligations(list(items.values()), later)
    assert all(o.overdue(later) for o in order[:3])
    late = _obs(a, [], found, tz=dublin, sent={"gdpr-authority": Sent(utc(2026, 3, 31, 8, 0), "portal", "A")})
    assert late["gdpr-authority"].overdue(later)


def test_singapore_counts_three_days_from_the_assessment() -> None:
    found = utc(2026, 5, 4, 2, 0)
    sg = ZoneInfo("Asia/Singapore")
    a = {
        "data_kinds": ["name", "email", "password"],
        "records": 800,
        "affected": {"SG": 800},
        "assessed_at": "2026-05-20T09:00:00+08:00",
    }
    items = _obs(a, [], found, tz=sg)
    assert items["sg-pdpa-assessment"].due == utc(2026, 6, 3, 2, 0)
    assert items["sg-pdpa-commission"].due == utc(2026, 5, 23, 1, 0)
    assert items["sg-pdpa-individuals"].due is None  # "on or after notifying the Commission"


def test_no_appraisal_assumes_the_worst_for_the_store_jurisdictions() -> None:
    items = _obs(None, ["EU", "US-CA"], utc(2026, 1, 5, 9, 0))
    assert {"gdpr-authority", "gdpr-individuals", "us-ca-individuals", "acquirer", "insurer"} <= set(items)
    assert all(o.provisional for o in items.values())
    assert items["insurer"].due is None and "no notification window" in items["insurer"].note


def test_insurer_window_from_the_register_then_the_setting(sqlite_url: str) -> None:
    from datetime import timedelta

    from shopguard.db import open_database
    from shopguard.db.base import utcnow
    from shopguard.insurance.register import import_data

    cfg = make_config(insurer_notification_window_hours=72)
    assert hooks.insurer_window_hours(cfg, "demo") == (
        72,
        "shopguard.toml [response] insurer_notification_window_hours",
    )
    db = open_database(sqlite_url)
    with db() as s:  # an empty register falls back to the setting
        assert hooks.insurer_window_hours(cfg, "demo", s)[0] == 72
    today = utcnow().date()

    def policy(number: str, hours: int) -> dict[str, object]:
        return {
            "insurer": "Example Mutual",
            "policy_number": number,
            "period_start": (today - timedelta(days=10)).isoformat(),
            "period_end": (today + timedelta(days=300)).isoformat(),
            "notification": {"window_hours": hours, "hotline": "+44 800 000 000"},
            "coverages": {"breach_response": {"limit": "1M"}},
        }

    import_data(db, {"insurance": [policy("CY-1", 48), policy("CY-2", 24)]})
    with db() as s:  # the strictest policy in force wins
        assert hooks.insurer_window_hours(cfg, "demo", s) == (24, "insurance register")
        # before the policies started, the register has nothing in force
        assert hooks.insurer_window_hours(cfg, "demo", s, utcnow() - timedelta(days=30))[0] == 72


def test_encrypted_data_drops_us_state_duties_but_not_gdpr_authority() -> None:
    a = {
        "data_kinds": ["name", "card_number"],
        "records": 10,
        "affected": {"US-FL": 10, "EU": 0},
        "encrypted": True,
    }
    items = _obs(a, [], utc(2026, 1, 5, 9, 0))
    assert "us-fl-individuals" not in items and "acquirer" in items


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"data_kinds": ["card_number"], "records": 1, "affected": {"XX": 1}}, "affected"),
        ({"data_kinds": ["credit"], "records": 1}, "data_kinds.0"),
        ({"data_kinds": ["email"], "records": -1}, "records"),
        ({"data_kinds": [], "records": 1}, "data_kinds"),
        ({"data_kinds": ["email"], "records": 1, "window_start": "2026-01-01T10:00"}, "window_start"),
        ({"data_kinds": ["email"], "records": 1, "colour": "red"}, "colour"),
        ({"data_kinds": ["email"], "records": 1, "affected": {"EU": 5}}, "exceed"),
    ],
)
def test_malformed_appraisal_is_refused_naming_the_field(data: dict, field: str) -> None:
    with pytest.raises(AppraisalError) as exc:
        parse_appraisal(data)
    assert field in str(exc.value)


def test_unknown_jurisdiction_message_lists_what_is_expected() -> None:
    with pytest.raises(AppraisalError, match=r"affected: unknown jurisdiction 'US-ZZ'.*US-XX"):
        parse_appraisal({"data_kinds": ["email"], "records": 3, "affected": {"US-ZZ": 3}})


def test_every_law_row_cites_a_source() -> None:
    for row in law_table():
        assert row.citation.strip() and row.source.strip(), row.id
        assert row.trigger in ("discovery", "assessment") or row.trigger.startswith("after:")


def test_singapore_commission_also_from_500_people_even_at_low_risk() -> None:
    found = utc(2026, 5, 4, 2, 0)
    sg = ZoneInfo("Asia/Singapore")
    base = {"data_kinds": ["name", "email"], "high_risk": False, "assessed_at": "2026-05-06T09:00:00+08:00"}
    big = _obs({**base, "records": 600, "affected": {"SG": 600}}, [], found, tz=sg)
    assert big["sg-pdpa-commission"].due == utc(2026, 5, 9, 1, 0)
    assert "sg-pdpa-individuals" not in big  # individuals only when significant harm
    small = _obs({**base, "records": 100, "affected": {"SG": 100}}, [], found, tz=sg)
    assert "sg-pdpa-commission" not in small and "sg-pdpa-assessment" in small
