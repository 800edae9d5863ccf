"""Working calendars (工作日历), format `credit-ledger/working-calendar@1`, and commitment deadlines.

A commitment's deadline in working days is counted over a calendar document the
consortium has adopted, never over a library that may change under it. One document
covers one year and transcribes the State Council's holiday notice for that year:

- `holidays`: every rest day of the notice's holiday periods, weekends inside a period included;
- `adjustedWorkingDays`: the Saturdays and Sundays the notice makes working days (调休上班).

A day is a working day when it is an adjusted working day, or when it is Monday to
Friday and not a holiday. The document is checked against the committed JSON Schema
(schemas/working-calendar.schema.json), then semantically: both lists sorted ascending,
every date valid and in the document's year, no date in both lists, every adjusted
working day a Saturday or Sunday. Its hash is keccak256 of its RFC 8785 canonical form,
which are the bytes anchored on chain.

A term is either N working days (1..250) or N months (1..60). N working days after an
acceptance day ends with the Nth working day after it (the acceptance day not counted),
each day judged by the calendar of its own year; a year with no adopted calendar fails
with CalendarYearNotAdoptedError rather than guessing from weekdays. N months ends on the
same day of the month N months later, clamped to the end of a shorter month, without
consulting any calendar, so a long commitment never depends on a future year's notice.
A deadline ends at 23:59:59 Beijing time of its last day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from importlib import resources
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import rfc8785
from eth_utils.crypto import keccak

from chain_client._errors import ChainClientError
from chain_client.spec.schemas import load_schema, schema_problems

CALENDAR_FORMAT = "credit-ledger/working-calendar@1"
BEIJING = ZoneInfo("Asia/Shanghai")
MAX_WORKING_DAYS = 250  # about one year of working days
MAX_MONTHS = 60

# Every code a CalendarError carries: the document's own checks, then those a reader of an
# adoption applies (chain_client.contracts.calendar_registry).
CALENDAR_CHECK_CODES = (
    "CALENDAR_MALFORMED",
    "CALENDAR_DATE_INVALID",
    "CALENDAR_DATE_OUTSIDE_YEAR",
    "CALENDAR_DATE_CONFLICT",
    "CALENDAR_WORKDAY_NOT_WEEKEND",
    "CALENDAR_HASH_MISMATCH",
    "CALENDAR_YEAR_MISMATCH",
    "CALENDAR_NOT_CANONICAL",
    "CALENDAR_DOCUMENT_MISSING",
)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_SATURDAY = 5

SCHEMA_FILE = "working-calendar.schema.json"


class CalendarError(ChainClientError):
    """A calendar document is refused.

    `code` is one of CALENDAR_MALFORMED, CALENDAR_DATE_INVALID, CALENDAR_DATE_OUTSIDE_YEAR,
    CALENDAR_DATE_CONFLICT, CALENDAR_WORKDAY_NOT_WEEKEND; `date` is the offending ISO date
    for the date codes.
    """

    def __init__(self, code: str, message: str, *, date: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.date = date


class CalendarYearNotAdoptedError(ChainClientError):
    """No adopted calendar covers this year."""

    def __init__(self, year: int) -> None:
        super().__init__(f"no adopted working calendar covers {year}")
        self.year = year


class TermError(ChainClientError):
    """A commitment term outside its bounds."""

    code = "TERM_INVALID"


@dataclass(frozen=True)
class WorkingCalendar:
    """One year's adopted working calendar."""

    year: int
    holidays: frozenset[dt.date]
    adjusted_working_days: frozenset[dt.date]
    title: str
    number: str | None = None
    published_on: dt.date | None = None

    def is_working_day(self, day: dt.date) -> bool:
        """Whether day is a working day; ValueError when day is not in this calendar's year."""
        if isinstance(day, dt.datetime):
            raise TypeError("a calendar day (datetime.date) is expected, not a datetime")
        if day.year != self.year:
            raise ValueError(f"{day.isoformat()} is not in the {self.year} calendar")
        if day in self.adjusted_working_days:
            return True
        return day.weekday() < _SATURDAY and day not in self.holidays

    def to_json(self) -> dict[str, Any]:
        """The calendar as a credit-ledger/working-calendar@1 document."""
        notice: dict[str, Any] = {"title": self.title}
        if self.number is not None:
            notice["number"] = self.number
        if self.published_on is not None:
            notice["publishedOn"] = self.published_on.isoformat()
        return {
            "format": CALENDAR_FORMAT,
            "year": self.year,
            "holidays": [day.isoformat() for day in sorted(self.holidays)],
            "adjustedWorkingDays": [day.isoformat() for day in sorted(self.adjusted_working_days)],
            "notice": notice,
        }

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 canonical form of the document: the bytes anchored on chain."""
        return rfc8785.dumps(self.to_json())

    def document_hash(self) -> bytes:
        """keccak256 of the canonical form."""
        return keccak(self.canonical_bytes())


def calendar_schema() -> dict[str, Any]:
    """The committed JSON Schema of credit-ledger/working-calendar@1."""
    return load_schema(SCHEMA_FILE)


def parse_calendar(document: bytes | str | Mapping[str, Any]) -> WorkingCalendar:
    """Check a calendar document (JSON bytes or text, or already decoded) and return its calendar.

    Raises CalendarError: CALENDAR_MALFORMED for what is not JSON, fails the schema or has
    an unsorted list; otherwise the code of the first offending date in ascending order.
    """
    data = _decode(document) if isinstance(document, bytes | str) else dict(document)
    problems = schema_problems(SCHEMA_FILE, data)
    if problems:
        _malformed(problems[0])
    year = data["year"]
    if type(year) is not int:  # the schema's integer admits 2026.0
        _malformed(f"year: {year!r} is not an integer")
    holidays: list[str] = data["holidays"]
    adjusted: list[str] = data["adjustedWorkingDays"]
    notice: dict[str, Any] = data["notice"]
    published: str | None = notice.get("publishedOn")
    strings = [(f"holidays/{i}", text) for i, text in enumerate(holidays)]
    strings += [(f"adjustedWorkingDays/{i}", text) for i, text in enumerate(adjusted)]
    strings += [] if published is None else [("notice/publishedOn", published)]
    for path, text in strings:  # Python's `$` in the schema's pattern also admits a trailing newline
        if _ISO_DATE.fullmatch(text) is None:
            _malformed(f"{path}: {text!r} is not of the form YYYY-MM-DD")
    for name, values in (("holidays", holidays), ("adjustedWorkingDays", adjusted)):
        for index in range(1, len(values)):
            if values[index] < values[index - 1]:
                _malformed(f"{name}/{index}: {values[index]} comes after {values[index - 1]}; dates must be ascending")

    holiday_set, adjusted_set = set(holidays), set(adjusted)
    dates: dict[str, dt.date] = {}
    for text in sorted(holiday_set | adjusted_set):
        day = _date(text)
        if day.year != year:
            raise CalendarError("CALENDAR_DATE_OUTSIDE_YEAR", f"{text} is not in {year}", date=text)
        if text in holiday_set and text in adjusted_set:
            raise CalendarError(
                "CALENDAR_DATE_CONFLICT", f"{text} is both a holiday and an adjusted working day", date=text
            )
        if text in adjusted_set and day.weekday() < _SATURDAY:
            raise CalendarError(
                "CALENDAR_WORKDAY_NOT_WEEKEND",
                f"{text} is a {day.strftime('%A')}, not a weekend day made a working day",
                date=text,
            )
        dates[text] = day

    return WorkingCalendar(
        year=year,
        holidays=frozenset(dates[text] for text in holidays),
        adjusted_working_days=frozenset(dates[text] for text in adjusted),
        title=notice["title"],
        number=notice.get("number"),
        published_on=None if published is None else _date(published),
    )


def shipped_calendars() -> list[WorkingCalendar]:
    """The calendars committed in chain_client/calendars, ascending by year."""
    found: list[WorkingCalendar] = []
    for entry in resources.files("chain_client").joinpath("calendars").iterdir():
        if not entry.name.endswith(".json"):
            continue
        parsed = parse_calendar(entry.read_bytes())
        if entry.name != f"{parsed.year}.json":
            _malformed(f"calendars/{entry.name} holds the calendar of {parsed.year}")
        found.append(parsed)
    return sorted(found, key=lambda c: c.year)


def _decode(document: bytes | str) -> Any:
    try:
        text = document.decode("utf-8") if isinstance(document, bytes) else document
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        _malformed(f"(document): not JSON: {exc}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate object key")
    return result


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CalendarError("CALENDAR_DATE_INVALID", f"{text!r} is not a valid date: {exc}", date=text) from exc


def _malformed(message: str) -> NoReturn:
    raise CalendarError("CALENDAR_MALFORMED", message)


class TermUnit(IntEnum):
    """The unit a commitment term is counted in."""

    WORKING_DAYS = 0
    MONTHS = 1


@dataclass(frozen=True)
class Term:
    """A commitment term: length working days (1..250) or length months (1..60)."""

    unit: TermUnit
    length: int

    def __post_init__(self) -> None:
        """Refuse a term outside its bounds with TermError."""
        if not isinstance(self.unit, TermUnit):
            raise TermError(f"unknown term unit {self.unit!r}")
        limit = MAX_WORKING_DAYS if self.unit is TermUnit.WORKING_DAYS else MAX_MONTHS
        if isinstance(self.length, bool) or not isinstance(self.length, int) or not 1 <= self.length <= limit:
            unit = "working days" if self.unit is TermUnit.WORKING_DAYS else "months"
            raise TermError(f"a term in {unit} must be between 1 and {limit}, not {self.length!r}")


@dataclass(frozen=True)
class Deadline:
    """The end of a term: its last day, the unix time it ends at, and the calendar years consulted."""

    last_day: dt.date
    due_by: int
    years: tuple[int, ...]


def count_deadline(accepted_on: dt.date, term: Term, calendar_for: Callable[[int], WorkingCalendar]) -> Deadline:
    """The deadline of term counted from accepted_on (not itself counted).

    Working days are judged by calendar_for(year) of each day examined; the
    CalendarYearNotAdoptedError it raises for a year it lacks propagates. A months term
    consults no calendar.
    """
    if isinstance(accepted_on, dt.datetime):
        raise TypeError("accepted_on must be a calendar day (datetime.date), not a datetime")
    if term.unit is TermUnit.MONTHS:
        last_day = _add_months(accepted_on, term.length)
        return Deadline(last_day, _end_of(last_day), ())
    calendars: dict[int, WorkingCalendar] = {}
    day = accepted_on
    remaining = term.length
    while remaining:
        day += dt.timedelta(days=1)
        if day.year not in calendars:
            calendars[day.year] = calendar_for(day.year)
        if calendars[day.year].is_working_day(day):
            remaining -= 1
    return Deadline(day, _end_of(day), tuple(sorted(calendars)))


def beijing_date(unix_time: int) -> dt.date:
    """The Beijing calendar day at unix_time."""
    return dt.datetime.fromtimestamp(unix_time, tz=BEIJING).date()


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _end_of(day: dt.date) -> int:
    """Unix time of 23:59:59 Beijing time of day."""
    return int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=BEIJING).timestamp()) - 1
