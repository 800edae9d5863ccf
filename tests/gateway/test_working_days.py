"""Chinese working days from the maintained holiday calendar (chinese-calendar)."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.working_days import BEIJING, WorkingDaysError, add_working_days, deadline_after, is_working_day

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 10, 1), False),  # National Day
        (D(2026, 10, 7), False),  # National Day holiday, a Wednesday
        (D(2026, 10, 10), True),  # Saturday made a working day (调休上班)
        (D(2026, 10, 11), False),  # an ordinary Sunday
        (D(2026, 2, 14), True),  # Saturday working day before the Spring Festival
        (D(2026, 2, 17), False),  # Spring Festival
        (D(2026, 9, 29), True),
    ],
)
def test_holidays_and_adjusted_weekends(day: dt.date, working: bool) -> None:
    assert is_working_day(day) is working


def test_seven_working_days_across_national_day() -> None:
    """Accepted on Tuesday 29 September 2026: 30 Sep, 8, 9, 10 (Sat), 12, 13, 14 October."""
    assert add_working_days(D(2026, 9, 29), 7) == D(2026, 10, 14)


def test_the_deadline_is_the_end_of_the_last_working_day_in_beijing() -> None:
    deadline = deadline_after(D(2026, 9, 29), 7)
    assert dt.datetime.fromtimestamp(deadline, BEIJING) == dt.datetime(2026, 10, 14, 23, 59, 59, tzinfo=BEIJING)


def test_the_acceptance_day_itself_is_not_counted() -> None:
    assert add_working_days(D(2026, 11, 20), 1) == D(2026, 11, 23)  # Friday -> Monday


def test_a_year_the_calendar_does_not_cover_fails_loudly() -> None:
    """2027's holiday notice is not in the library yet: no guessing from weekdays."""
    with pytest.raises(WorkingDaysError) as error:
        add_working_days(D(2026, 12, 28), 7)
    assert error.value.code == "WORKING_DAYS_YEAR_NOT_COVERED"
    assert error.value.detail["year"] == 2027


@pytest.mark.parametrize("count", [0, -1, 251])
def test_working_day_counts_are_bounded(count: int) -> None:
    with pytest.raises(WorkingDaysError) as error:
        add_working_days(D(2026, 9, 29), count)
    assert error.value.code == "WORKING_DAYS_INVALID"
