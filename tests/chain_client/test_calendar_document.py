"""The working-calendar documents (credit-ledger/working-calendar@1) and deadlines counted over them."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import rfc8785
from eth_utils.crypto import keccak

from chain_client.spec.calendar import (
    CALENDAR_FORMAT,
    CalendarError,
    CalendarYearNotAdoptedError,
    Deadline,
    Term,
    TermError,
    TermUnit,
    WorkingCalendar,
    beijing_date,
    calendar_schema,
    count_deadline,
    parse_calendar,
    shipped_calendars,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED_YEARS = (2024, 2025, 2026)
UTC_PLUS_8 = dt.timezone(dt.timedelta(hours=8))


def shipped_file(year: int) -> bytes:
    return resources.files("chain_client").joinpath("calendars", f"{year}.json").read_bytes()


def calendars_of(*calendars: WorkingCalendar) -> Any:
    by_year = {c.year: c for c in calendars}

    def calendar_for(year: int) -> WorkingCalendar:
        if year not in by_year:
            raise CalendarYearNotAdoptedError(year)
        return by_year[year]

    return calendar_for


def shipped() -> Any:
    return calendars_of(*shipped_calendars())


def end_of_day(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC_PLUS_8).timestamp())


def working_days(count: int) -> Term:
    return Term(TermUnit.WORKING_DAYS, count)


def months(count: int) -> Term:
    return Term(TermUnit.MONTHS, count)


# A TEST-ONLY document: not a State Council notice, only the shape of one year.
TEST_ONLY_2027: dict[str, Any] = {
    "format": CALENDAR_FORMAT,
    "year": 2027,
    "holidays": ["2027-01-01"],
    "adjustedWorkingDays": [],
    "notice": {"title": "TEST ONLY - not a State Council notice"},
}


def valid_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": CALENDAR_FORMAT,
        "year": 2026,
        "holidays": ["2026-01-01", "2026-01-02", "2026-01-03"],
        "adjustedWorkingDays": ["2026-01-04"],
        "notice": {"title": "TEST ONLY - not a State Council notice"},
    }
    document.update(changes)
    return document


def test_shipped_years() -> None:
    """The shipped calendars are exactly 2024, 2025 and 2026, ascending."""
    assert [c.year for c in shipped_calendars()] == list(SHIPPED_YEARS)


@pytest.mark.parametrize("year", SHIPPED_YEARS)
def test_shipped_calendar_matches_chinese_calendar(year: int) -> None:
    """Every day of a shipped year is a working day exactly when chinese_calendar.is_workday says so."""
    (calendar,) = [c for c in shipped_calendars() if c.year == year]
    day = dt.date(year, 1, 1)
    while day.year == year:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_generator_reproduces_shipped_files(tmp_path: Path) -> None:
    """Running the generator for the shipped years writes the shipped files byte for byte."""
    script = REPO / "scripts" / "generate_calendars.py"
    subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path), *map(str, SHIPPED_YEARS)],
        check=True,
        capture_output=True,
    )
    for year in SHIPPED_YEARS:
        assert (tmp_path / f"{year}.json").read_bytes() == shipped_file(year), year


def test_generator_refuses_uncovered_year(tmp_path: Path) -> None:
    """The generator refuses a year chinese-calendar does not cover with exit 2 and writes nothing."""
    script = REPO / "scripts" / "generate_calendars.py"
    result = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path), "2026", "2099"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "2099" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_shipped_2026_notice() -> None:
    """The 2026 document names its notice and its publication date, and no number."""
    (calendar,) = [c for c in shipped_calendars() if c.year == 2026]
    assert calendar.title == "国务院办公厅关于2026年部分节假日安排的通知"
    assert calendar.published_on == dt.date(2025, 11, 4)
    assert calendar.number is None
    for older in (c for c in shipped_calendars() if c.year < 2026):
        assert older.number is None
        assert older.published_on is None


@pytest.mark.parametrize(
    ("accepted_on", "last_day"),
    [
        # Spring Festival: Fri 02-13, then Sat 02-14 (adjusted) is day 1, 02-15..02-23 rest,
        # Sat 02-28 (adjusted) is day 6, Mon 03-02 day 7.
        (dt.date(2026, 2, 13), dt.date(2026, 3, 2)),
        # Labor Day: 05-01..05-05 rest, Sat 05-09 (adjusted) is day 4.
        (dt.date(2026, 4, 30), dt.date(2026, 5, 13)),
        # Before Mid-Autumn and National Day: Sun 09-20 (adjusted) is day 1, 09-25..09-27 rest.
        (dt.date(2026, 9, 18), dt.date(2026, 9, 29)),
        # National Day: 10-01..10-07 rest, Sat 10-10 (adjusted) is day 3.
        (dt.date(2026, 9, 30), dt.date(2026, 10, 15)),
    ],
)
def test_2026_deadlines_across_holidays(accepted_on: dt.date, last_day: dt.date) -> None:
    """Seven working days across a 2026 holiday end on the day the 2026 notice implies, at 23:59:59 Beijing."""
    deadline = count_deadline(accepted_on, working_days(7), shipped())
    assert deadline == Deadline(last_day=last_day, due_by=end_of_day(last_day), years=(2026,))


@pytest.mark.parametrize(
    ("accepted_on", "last_day", "years"),
    [
        # Wed 2025-12-31 is day 1, 2026-01-01..01-03 rest, Sun 2026-01-04 (adjusted) is day 2.
        (dt.date(2025, 12, 30), dt.date(2026, 1, 9), (2025, 2026)),
        # The acceptance day is not examined: only 2026 is consulted.
        (dt.date(2025, 12, 31), dt.date(2026, 1, 12), (2026,)),
    ],
)
def test_deadline_across_new_year_2026(accepted_on: dt.date, last_day: dt.date, years: tuple[int, ...]) -> None:
    """Seven working days across New Year 2026 count the adjusted Sunday and name the years of the days examined."""
    deadline = count_deadline(accepted_on, working_days(7), shipped())
    assert (deadline.last_day, deadline.years) == (last_day, years)


def test_due_by_is_end_of_beijing_day() -> None:
    """due_by is 23:59:59 Beijing time of the last day, which beijing_date maps back to that day."""
    deadline = count_deadline(dt.date(2026, 2, 13), working_days(7), shipped())
    assert deadline.due_by == int(dt.datetime(2026, 3, 2, 15, 59, 59, tzinfo=dt.UTC).timestamp())
    assert beijing_date(deadline.due_by) == dt.date(2026, 3, 2)
    assert beijing_date(deadline.due_by + 1) == dt.date(2026, 3, 3)


def test_term_into_unadopted_year_is_refused() -> None:
    """A working-days term reaching into 2027 fails with CalendarYearNotAdoptedError(2027) on shipped calendars."""
    with pytest.raises(CalendarYearNotAdoptedError) as caught:
        count_deadline(dt.date(2026, 12, 24), working_days(7), shipped())
    assert caught.value.year == 2027
    assert "2027" in str(caught.value)


def test_term_into_test_only_2027() -> None:
    """With a TEST-ONLY 2027 document the term ends where that document implies, consulting 2026 and 2027."""
    calendar_for = calendars_of(*shipped_calendars(), parse_calendar(TEST_ONLY_2027))
    deadline = count_deadline(dt.date(2026, 12, 24), working_days(7), calendar_for)
    # 12-25, 12-28..12-31 are days 1-5; Fri 2027-01-01 is the test document's holiday.
    assert deadline.last_day == dt.date(2027, 1, 5)
    assert deadline.years == (2026, 2027)
    assert deadline.due_by == end_of_day(dt.date(2027, 1, 5))


@pytest.mark.parametrize(
    ("accepted_on", "length", "last_day"),
    [
        (dt.date(2026, 3, 15), 12, dt.date(2027, 3, 15)),
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2026, 12, 31), 60, dt.date(2031, 12, 31)),
    ],
)
def test_months_term(accepted_on: dt.date, length: int, last_day: dt.date) -> None:
    """A months term ends on the same day of the month, clamped to a shorter month, consulting no calendar."""

    def no_calendar(year: int) -> WorkingCalendar:
        raise AssertionError(f"calendar of {year} consulted")

    deadline = count_deadline(accepted_on, months(length), no_calendar)
    assert deadline == Deadline(last_day=last_day, due_by=end_of_day(last_day), years=())


@pytest.mark.parametrize(
    ("unit", "length"),
    [
        (TermUnit.WORKING_DAYS, 0),
        (TermUnit.WORKING_DAYS, 251),
        (TermUnit.MONTHS, 0),
        (TermUnit.MONTHS, 61),
    ],
)
def test_term_bounds(unit: TermUnit, length: int) -> None:
    """A term of 0, of more than 250 working days or of more than 60 months is refused."""
    with pytest.raises(TermError) as caught:
        Term(unit, length)
    assert caught.value.code == "TERM_INVALID"


def test_term_limits_accepted() -> None:
    """Terms of exactly 250 working days and 60 months are accepted."""
    assert Term(TermUnit.WORKING_DAYS, 250).length == 250
    assert Term(TermUnit.MONTHS, 60).length == 60


@pytest.mark.parametrize(
    ("document", "code", "date"),
    [
        (valid_document(holidays=["2025-12-31", "2026-01-01"]), "CALENDAR_DATE_OUTSIDE_YEAR", "2025-12-31"),
        (valid_document(adjustedWorkingDays=["2026-01-03", "2026-01-04"]), "CALENDAR_DATE_CONFLICT", "2026-01-03"),
        (
            valid_document(adjustedWorkingDays=["2026-01-04", "2026-01-05"]),
            "CALENDAR_WORKDAY_NOT_WEEKEND",
            "2026-01-05",
        ),
        (valid_document(holidays=["2026-01-01", "2026-02-30"]), "CALENDAR_DATE_INVALID", "2026-02-30"),
        (
            valid_document(notice={"title": "TEST ONLY", "publishedOn": "2025-13-01"}),
            "CALENDAR_DATE_INVALID",
            "2025-13-01",
        ),
        # The first offending date in ascending order is reported, whichever list holds it.
        (
            valid_document(holidays=["2026-01-01", "2027-01-01"], adjustedWorkingDays=["2026-01-05"]),
            "CALENDAR_WORKDAY_NOT_WEEKEND",
            "2026-01-05",
        ),
    ],
)
def test_date_refusals(document: dict[str, Any], code: str, date: str) -> None:
    """A document with an offending date is refused with the date's code and the date itself."""
    with pytest.raises(CalendarError) as caught:
        parse_calendar(document)
    assert (caught.value.code, caught.value.date) == (code, date)
    assert date in str(caught.value)


def without(key: str) -> dict[str, Any]:
    document = valid_document()
    del document[key]
    return document


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (valid_document(holidays=["2026-01-02", "2026-01-01"]), "holidays/1"),
        (valid_document(adjustedWorkingDays=["2026-01-10", "2026-01-04"]), "adjustedWorkingDays/1"),
        ({**valid_document(), "source": "chinese-calendar"}, "source"),
        (valid_document(notice={"title": "TEST ONLY", "url": "https://example.org"}), "url"),
        (without("notice"), "notice"),
        (valid_document(notice={}), "title"),
        (valid_document(format="credit-ledger/working-calendar@2"), "format"),
        (valid_document(year=1999), "year"),
        (valid_document(year=2026.0), "year"),
        (valid_document(holidays=["2026-01-01", "2026-01-01"]), "holidays"),
        (valid_document(holidays=["2026-1-01"]), "holidays/0"),
        (valid_document(holidays=["2026-01-01\n"]), "holidays/0"),
    ],
)
def test_malformed_refusals(document: dict[str, Any], says: str) -> None:
    """A document that fails the schema or has an unsorted list is refused as malformed, naming where."""
    with pytest.raises(CalendarError) as caught:
        parse_calendar(document)
    assert caught.value.code == "CALENDAR_MALFORMED"
    assert caught.value.date is None
    assert says in str(caught.value)


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe not utf-8",
        b"{not json",
        b'{"year": 2026, "year": 2027}',
        b'{"year": NaN}',
        "",
    ],
)
def test_not_json_refused(raw: bytes | str) -> None:
    """Bytes or text that are not JSON (or repeat a key) are refused as malformed."""
    with pytest.raises(CalendarError) as caught:
        parse_calendar(raw)
    assert caught.value.code == "CALENDAR_MALFORMED"
    assert "not JSON" in str(caught.value)


def test_valid_document_parses() -> None:
    """A valid document parses into the calendar it describes."""
    calendar = parse_calendar(json.dumps(valid_document()).encode())
    assert calendar == WorkingCalendar(
        year=2026,
        holidays=frozenset({dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)}),
        adjusted_working_days=frozenset({dt.date(2026, 1, 4)}),
        title="TEST ONLY - not a State Council notice",
    )
    assert calendar.is_working_day(dt.date(2026, 1, 4))
    assert not calendar.is_working_day(dt.date(2026, 1, 2))
    assert calendar.is_working_day(dt.date(2026, 1, 5))
    assert not calendar.is_working_day(dt.date(2026, 1, 10))
    with pytest.raises(ValueError, match="2027"):
        calendar.is_working_day(dt.date(2027, 1, 4))


@pytest.mark.parametrize("year", SHIPPED_YEARS)
def test_shipped_hash_and_round_trip(year: int) -> None:
    """The document hash is keccak256 of the file's RFC 8785 form, and the canonical bytes parse back equal."""
    raw = shipped_file(year)
    calendar = parse_calendar(raw)
    assert calendar.canonical_bytes() == rfc8785.dumps(json.loads(raw))
    assert calendar.document_hash() == keccak(rfc8785.dumps(json.loads(raw)))
    assert parse_calendar(calendar.canonical_bytes()) == calendar
    assert calendar.to_json() == json.loads(raw)


def test_schema_is_draft_2020_12_and_closed() -> None:
    """The committed schema is draft 2020-12 and closes every object it describes."""
    schema = calendar_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["properties"]["notice"]["additionalProperties"] is False
