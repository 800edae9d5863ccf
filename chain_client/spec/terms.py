"""How a commitment's deadline was counted, as the chain records it (normative).

A commitment names its acceptance day, its term (so many Chinese working days, or
calendar months) and, for working days, the adopted calendar version of each year the
count ran through. Anyone can count the deadline again from these and the adopted
documents; `CalendarRef[]` is hashed for EIP-712 as the array of its struct hashes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chain_client.spec.calendar import Term, TermUnit
from chain_client.spec.keccak import keccak

CALENDAR_REF_TYPE = "CalendarRef(uint16 year,uint16 version)"
_CALENDAR_REF_TYPEHASH = keccak(CALENDAR_REF_TYPE.encode())
UNIT_NAMES = {TermUnit.WORKING_DAYS: "working-days", TermUnit.MONTHS: "months"}


@dataclass(frozen=True, order=True)
class CalendarRef:
    """One adopted calendar: a year and the version of it that was used."""

    year: int
    version: int

    def to_json(self) -> dict[str, int]:
        """The reference as the API and the check report show it."""
        return {"year": self.year, "version": self.version}


@dataclass(frozen=True)
class CommitmentTerm:
    """The acceptance day, the term, and the calendars a deadline was counted with."""

    accepted_on: dt.date
    term: Term
    calendars: tuple[CalendarRef, ...] = ()

    @property
    def accepted_on_number(self) -> int:
        """The acceptance day as the chain holds it: YYYYMMDD."""
        return self.accepted_on.year * 10000 + self.accepted_on.month * 100 + self.accepted_on.day

    def as_abi(self) -> tuple[object, ...]:
        """The Term tuple."""
        refs = [(ref.year, ref.version) for ref in self.calendars]
        return (self.accepted_on_number, int(self.term.unit), self.term.length, refs)

    @classmethod
    def from_abi(cls, raw: Any) -> CommitmentTerm:
        """Parse a Term tuple (or the dict web3 decodes an event's struct into)."""
        if isinstance(raw, Mapping):
            raw = (raw["acceptedOn"], raw["unit"], raw["length"], raw["calendars"])
        accepted, unit, length, refs = raw
        number = int(accepted)
        return cls(
            accepted_on=dt.date(number // 10000, number // 100 % 100, number % 100),
            term=Term(TermUnit(int(unit)), int(length)),
            calendars=tuple(CalendarRef(int(_field(r, "year", 0)), int(_field(r, "version", 1))) for r in refs),
        )

    def calendars_hash(self) -> bytes:
        """EIP-712 encoding of the CalendarRef[] member."""
        return keccak(
            b"".join(
                keccak(_CALENDAR_REF_TYPEHASH + ref.year.to_bytes(32, "big") + ref.version.to_bytes(32, "big"))
                for ref in self.calendars
            )
        )

    def to_json(self) -> dict[str, Any]:
        """The term as the API and the check report show it."""
        return {
            "acceptedOn": self.accepted_on.isoformat(),
            "unit": UNIT_NAMES[self.term.unit],
            "length": self.term.length,
            "calendars": [ref.to_json() for ref in self.calendars],
        }


def _field(ref: Any, name: str, index: int) -> Any:
    return ref[name] if isinstance(ref, Mapping) else ref[index]
