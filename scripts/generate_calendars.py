"""Generate the shipped working calendars (credit-ledger/working-calendar@1) from chinese-calendar.

Run once per year by a maintainer, after the State Council publishes the next year's
holiday notice and chinese-calendar carries it:

    python scripts/generate_calendars.py [--out DIR] YEAR...

writes DIR/<year>.json (DIR defaults to chain_client/calendars). Each file is checked with
chain_client's parse_calendar before it is written. The maintainer reads the new file
against the notice itself before committing it; the tests cross-check every day of the
shipped files against chinese-calendar and that this script reproduces them byte for byte.
A year chinese-calendar does not cover is refused (exit 2): no date is ever invented.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import chinese_calendar

from chain_client.spec.calendar import CALENDAR_FORMAT, CalendarError, parse_calendar

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "chain_client" / "calendars"

# What we know of each notice beyond its title, from the published notice itself. A shipped
# document carries only what we can vouch for: no document number or publication date for a
# year where we have not checked them against the notice.
NOTICE_FACTS: dict[int, dict[str, str]] = {
    2026: {"publishedOn": "2025-11-04"},
}


def notice_title(year: int) -> str:
    """The title of the State Council notice on the holidays of year."""
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


def covered_years() -> range:
    """The years chinese-calendar carries a notice for."""
    years = [day.year for day in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def calendar_document(year: int) -> dict[str, Any]:
    """The working-calendar document of year, from chinese-calendar's holidays and workdays."""
    holidays: list[dt.date] = sorted(day for day in chinese_calendar.holidays if day.year == year)
    workdays: list[dt.date] = sorted(day for day in chinese_calendar.workdays if day.year == year)
    return {
        "format": CALENDAR_FORMAT,
        "year": year,
        "holidays": [day.isoformat() for day in holidays],
        "adjustedWorkingDays": [day.isoformat() for day in workdays],
        "notice": {"title": notice_title(year), **NOTICE_FACTS.get(year, {})},
    }


def render(document: dict[str, Any]) -> str:
    """The file text of a document: pretty, sorted keys, UTF-8 characters as they are."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the requested years' calendar documents; 2 when a year is not covered or is refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory to write <year>.json into")
    parser.add_argument("years", metavar="YEAR", type=int, nargs="+")
    args = parser.parse_args(argv)

    covered = covered_years()
    documents: dict[int, dict[str, Any]] = {}
    for year in args.years:
        if year not in covered or not any(day.year == year for day in chinese_calendar.holidays):
            print(
                f"error: chinese-calendar {chinese_calendar.__version__} does not cover {year} "
                f"(it covers {covered.start}-{covered.stop - 1}); no calendar written",
                file=sys.stderr,
            )
            return 2
        document = calendar_document(year)
        try:
            parse_calendar(document)
        except CalendarError as exc:
            print(f"error: the {year} document is refused: {exc}", file=sys.stderr)
            return 2
        documents[year] = document

    args.out.mkdir(parents=True, exist_ok=True)
    for year, document in documents.items():
        path = args.out / f"{year}.json"
        path.write_text(render(document), encoding="utf-8", newline="\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
