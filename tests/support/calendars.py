"""Test-only working calendars for years no State Council notice covers yet (never shipped)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from chain_client import WorkingCalendar

TEST_ONLY_TITLE = "TEST ONLY - not a State Council notice"


def labelled_test_calendar(
    year: int, holidays: Iterable[dt.date] = (), adjusted_working_days: Iterable[dt.date] = ()
) -> WorkingCalendar:
    """A calendar labelled test-only: by default New Year's Day is its one holiday."""
    return WorkingCalendar(
        year=year,
        holidays=frozenset(holidays) or frozenset({dt.date(year, 1, 1)}),
        adjusted_working_days=frozenset(adjusted_working_days),
        title=TEST_ONLY_TITLE,
    )
