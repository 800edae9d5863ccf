"""Deadlines in Chinese working days (工作日).

A working day is a day the State Council's yearly holiday notice does not make a rest
day: weekends are rest days unless adjusted to working days (调休上班), and official
holidays are rest days whatever weekday they fall on. The calendar comes from the
maintained `chinese-calendar` package, which carries each year's notice; a year it does
not carry yet (the notice comes out in November or December for the next year) fails
loudly with WORKING_DAYS_YEAR_NOT_COVERED instead of guessing from weekdays.

A deadline of N working days after an acceptance day ends at 24:00 Beijing time of the
Nth working day after it (the acceptance day itself is not counted), as the 容缺受理
policies count "补齐材料 within 7 working days".
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar

from gateway.errors import GatewayError

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_WORKING_DAYS = 250  # about one year of working days


class WorkingDaysError(GatewayError):
    """The calendar cannot answer for this period."""

    status = 422


def is_working_day(day: dt.date) -> bool:
    """Whether day is a working day under the State Council's notice for its year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise WorkingDaysError(
            "WORKING_DAYS_YEAR_NOT_COVERED",
            f"the holiday calendar does not cover {day.year} yet; update chinese-calendar",
            detail={"year": day.year, "calendar": f"chinese-calendar {chinese_calendar.__version__}"},
        ) from exc


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The `count`-th working day after start (start itself not counted)."""
    if not 1 <= count <= MAX_WORKING_DAYS:
        raise WorkingDaysError(
            "WORKING_DAYS_INVALID", f"working days must be between 1 and {MAX_WORKING_DAYS}", detail={"count": count}
        )
    day = start
    remaining = count
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def deadline_after(accepted_on: dt.date, count: int) -> int:
    """Unix time of the end (24:00 Beijing time) of the `count`-th working day after accepted_on."""
    last_day = add_working_days(accepted_on, count)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=BEIJING)
    return int(end.timestamp()) - 1


def beijing_date(unix_time: int) -> dt.date:
    """The calendar day in Beijing at unix_time."""
    return dt.datetime.fromtimestamp(unix_time, tz=BEIJING).date()
