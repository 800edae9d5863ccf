"""Recount a commitment's deadline from the chain alone (an auditor's check).

The commitment's CommitmentRecorded event carries its acceptance day, its term and the
calendar versions it was counted with; the CalendarRegistry holds those calendars'
hashes and, in its events, their documents. Counting again from them must give the
deadline the registry stores, or the check names what differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chain_client._errors import ChainClientError, ContractRevertError
from chain_client.contracts.calendar_registry import CalendarRegistry
from chain_client.contracts.commitments import CommitmentRegistry
from chain_client.spec.calendar import (
    CalendarError,
    CalendarYearNotAdoptedError,
    Deadline,
    TermUnit,
    WorkingCalendar,
    beijing_date,
    count_deadline,
)
from chain_client.spec.terms import CommitmentTerm


@dataclass(frozen=True)
class DeadlineCheck:
    """What a recount of one commitment's deadline found."""

    commitment_id: bytes
    term: CommitmentTerm | None
    recorded_due_by: int | None
    recounted: Deadline | None
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """True when the recount gives the recorded deadline from the calendars the term names."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The check as `commitments check-deadline --json` prints it."""
        return {
            "commitmentId": "0x" + self.commitment_id.hex(),
            "valid": self.valid,
            "term": self.term.to_json() if self.term else None,
            "recordedDueBy": self.recorded_due_by,
            "recordedDueOn": beijing_date(self.recorded_due_by).isoformat() if self.recorded_due_by else None,
            "recountedDueBy": self.recounted.due_by if self.recounted else None,
            "recountedDueOn": self.recounted.last_day.isoformat() if self.recounted else None,
            "problems": list(self.problems),
        }


def check_commitment_deadline(
    commitments: CommitmentRegistry, calendars: CalendarRegistry, commitment_id: bytes
) -> DeadlineCheck:
    """Recount a commitment's deadline from its recorded term and the adopted calendars it names."""
    try:
        commitment = commitments.commitment(commitment_id)
        term, event_due_by, _ = commitments.recorded_term(commitment_id)
    except ContractRevertError:
        return DeadlineCheck(commitment_id, None, None, None, ("no commitment has this id",))
    except ChainClientError as exc:
        return DeadlineCheck(commitment_id, None, None, None, (str(exc),))
    problems: list[str] = []
    if event_due_by != commitment.deadline:
        problems.append(f"the event states dueBy {event_due_by}, the registry stores {commitment.deadline}")
    named: dict[int, WorkingCalendar] = {}
    for ref in term.calendars:
        try:
            named[ref.year] = calendars.read(ref.year, ref.version).calendar
        except CalendarError as exc:
            problems.append(f"calendar {ref.year} version {ref.version}: {exc.code}: {exc}")
        except ContractRevertError as exc:
            problems.append(f"calendar {ref.year} version {ref.version}: {exc}")
    if problems:
        return DeadlineCheck(commitment_id, term, commitment.deadline, None, tuple(problems))

    def calendar_for(year: int) -> WorkingCalendar:
        if year not in named:
            raise CalendarYearNotAdoptedError(year)
        return named[year]

    try:
        recounted = count_deadline(term.accepted_on, term.term, calendar_for)
    except CalendarYearNotAdoptedError as exc:
        problems.append(f"the count runs into {exc.year}, whose calendar the term does not name")
        return DeadlineCheck(commitment_id, term, commitment.deadline, None, tuple(problems))
    used = tuple(sorted(named))
    if term.term.unit == TermUnit.WORKING_DAYS and recounted.years != used:
        problems.append(f"the term names the calendars of {list(used)}, the count used {list(recounted.years)}")
    if recounted.due_by != commitment.deadline:
        problems.append(
            f"dueBy is {commitment.deadline} ({beijing_date(commitment.deadline).isoformat()}), "
            f"the recount gives {recounted.due_by} ({recounted.last_day.isoformat()})"
        )
    return DeadlineCheck(commitment_id, term, commitment.deadline, recounted, tuple(problems))
