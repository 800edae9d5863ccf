"""The working calendars a gateway counts deadlines with: adopted on chain, checked, cached.

Deadlines in Chinese working days are counted only over calendars the consortium has
adopted (CalendarRegistry), each read from the chain and checked against its adopted
hash before use. A (year, version) never changes and is cached for good; which version
is the latest is re-read whenever the registry emitted (ChainView's poll). New
commitments count with each year's latest version; a deadline counted earlier keeps the
versions it names. A year nobody adopted is refused with WORKING_DAYS_YEAR_NOT_COVERED,
never guessed from weekdays.
"""

from __future__ import annotations

import datetime as dt
import threading

from chain_client import (
    AdoptedCalendar,
    CalendarError,
    CalendarRef,
    CalendarRegistry,
    CalendarYearNotAdoptedError,
    CommitmentTerm,
    ContractRevertError,
    Deadline,
    Term,
    TermError,
    TermUnit,
    WorkingCalendar,
    beijing_date,
    count_deadline,
)
from gateway.infra.errors import GatewayError, InputError

# From this day of the year on, next year's calendar should be adopted (the State
# Council publishes its notice in October or November); /readyz and a metric warn.
WARN_FROM = (11, 1)


class CalendarIntegrityError(GatewayError):
    """An adopted calendar's document read from the chain does not match its adoption."""


def year_not_covered(year: int) -> InputError:
    """The 422 a deadline in a year without an adopted calendar gets."""
    return InputError(
        "WORKING_DAYS_YEAR_NOT_COVERED",
        f"no working calendar is adopted for {year}: the consortium's governors adopt the State Council's "
        f"holiday notice for {year} with `credit-ledger calendar propose` and `credit-ledger proposals "
        "approve`/`execute` (see the README's runbook)",
        detail={"year": year},
    )


class CalendarBook:
    """Adopted calendars of one deployment, checked against the chain before use."""

    def __init__(self, registry: CalendarRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._checked: dict[tuple[int, int], AdoptedCalendar] = {}
        self._latest: dict[int, int] = {}

    def forget_latest(self) -> None:
        """Re-read which version of each year is the latest (the registry emitted)."""
        with self._lock:
            self._latest.clear()

    def latest_version(self, year: int) -> int:
        """The latest adopted version of a year, 0 when none."""
        with self._lock:
            cached = self._latest.get(year)
        if cached is not None:
            return cached
        version = self.registry.latest_version(year)
        with self._lock:
            self._latest[year] = version
        return version

    def adopted(self, year: int, version: int | None = None) -> AdoptedCalendar:
        """A year's adopted calendar (its latest version unless named), checked against the chain."""
        if version is None:
            version = self.latest_version(year)
            if version == 0:
                raise year_not_covered(year)
        key = (year, version)
        with self._lock:
            cached = self._checked.get(key)
        if cached is not None:
            return cached
        try:
            adopted = self.registry.read(year, version)
        except ContractRevertError:
            raise InputError(
                "CALENDAR_VERSION_UNKNOWN",
                f"no version {version} of the {year} calendar has been adopted",
                detail={"year": year, "version": version},
            ) from None
        except CalendarError as exc:
            raise CalendarIntegrityError(
                "CALENDAR_INTEGRITY_FAILED",
                f"the adopted {year} calendar version {version} read from the chain fails its check",
                detail={"year": year, "version": version, "check": exc.code},
            ) from None
        with self._lock:
            self._checked[key] = adopted
        return adopted

    def count(self, accepted_on: dt.date, term: Term) -> tuple[Deadline, CommitmentTerm]:
        """The deadline of a new commitment, and the term to record with it (the latest calendars)."""
        used: dict[int, AdoptedCalendar] = {}

        def calendar_for(year: int) -> WorkingCalendar:
            used[year] = self.adopted(year)
            return used[year].calendar

        try:
            deadline = count_deadline(accepted_on, term, calendar_for)
        except CalendarYearNotAdoptedError as exc:  # pragma: no cover - adopted() raises the 422 itself
            raise year_not_covered(exc.year) from None
        refs = tuple(CalendarRef(year, used[year].adoption.version) for year in deadline.years)
        return deadline, CommitmentTerm(accepted_on, term, refs)

    def next_year_missing(self, now: int) -> int | None:
        """Next year, when today (Beijing) is on or after WARN_FROM and its calendar is not adopted."""
        today = beijing_date(now)
        if (today.month, today.day) < WARN_FROM:
            return None
        year = today.year + 1
        return year if self.latest_version(year) == 0 else None


def parse_term(*, working_days: int | None, months: int | None, default: Term) -> Term:
    """The term a request asks for: workingDays or months (not both), else the policy's default."""
    if working_days is not None and months is not None:
        raise InputError("TERM_INVALID", "give workingDays or months, not both")
    try:
        if working_days is not None:
            return Term(TermUnit.WORKING_DAYS, working_days)
        if months is not None:
            return Term(TermUnit.MONTHS, months)
    except TermError as exc:
        raise InputError("TERM_INVALID", str(exc)) from None
    return default
