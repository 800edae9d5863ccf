"""Typed wrapper over the CalendarRegistry contract: adopted working calendars, read back and checked.

The contract keeps each adoption's document hash and block; the document itself is in
the adoption's CalendarAdopted event. `read()` fetches it from there and trusts it only
after checking it against the stored hash, that it is a valid calendar of that year,
and that it is in its RFC 8785 form, so a node (or a gateway) that alters a document is
caught by whoever reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress
from web3.types import TxReceipt

from chain_client.contracts.chain import Chain, Event
from chain_client.contracts.consortium import Call
from chain_client.spec.calendar import CalendarError, CalendarYearNotAdoptedError, WorkingCalendar, parse_calendar
from chain_client.spec.keccak import keccak

CONTRACT_NAME = "CalendarRegistry"


@dataclass(frozen=True)
class CalendarAdoption:
    """One adopted version of a year's calendar, as the contract stores it."""

    year: int
    version: int
    document_hash: bytes
    adopted_at: int
    block_number: int


@dataclass(frozen=True)
class AdoptedCalendar:
    """An adopted calendar whose document has been checked against its adoption."""

    adoption: CalendarAdoption
    calendar: WorkingCalendar
    document: bytes


class CalendarRegistry:
    """Adopted calendars; adoptions are Calls for the consortium to propose."""

    def __init__(self, chain: Chain, address: ChecksumAddress) -> None:
        self.chain = chain
        self.address = address
        self._contract = chain.contract(CONTRACT_NAME, address)

    def adopt_call(self, calendar: WorkingCalendar) -> Call:
        """Adopt a year's calendar as its next version: the proposal carries the document's RFC 8785 bytes."""
        data = self._contract.encode_abi("adopt", args=[calendar.year, calendar.canonical_bytes()])
        return Call(self.address, bytes.fromhex(data.removeprefix("0x")))

    def latest_version(self, year: int) -> int:
        """The latest adopted version of a year, 0 when none."""
        return int(self.chain.call(self._contract.functions.latestVersion(year)))

    def adoption(self, year: int, version: int) -> CalendarAdoption:
        """One adoption; ContractRevertError CalendarUnknownVersion otherwise."""
        document_hash, adopted_at, block_number = self.chain.call(self._contract.functions.adoption(year, version))
        return CalendarAdoption(year, version, bytes(document_hash), int(adopted_at), int(block_number))

    def document(self, adoption: CalendarAdoption) -> bytes:
        """The bytes the adoption's CalendarAdopted event carries (not yet checked)."""
        logs = self._contract.events.CalendarAdopted().get_logs(
            argument_filters={"year": adoption.year, "version": adoption.version},
            from_block=adoption.block_number,
            to_block=adoption.block_number,
        )
        if not logs:
            raise CalendarError(
                "CALENDAR_DOCUMENT_MISSING",
                f"no CalendarAdopted event for {adoption.year} version {adoption.version} "
                f"in block {adoption.block_number}",
            )
        return bytes(logs[0]["args"]["document"])

    def read(self, year: int, version: int | None = None) -> AdoptedCalendar:
        """A year's calendar (the latest version unless one is named), checked against the chain.

        CalendarYearNotAdoptedError when the year has none; CalendarError when the document
        does not match its hash (CALENDAR_HASH_MISMATCH), is not a valid calendar, is not of
        that year (CALENDAR_YEAR_MISMATCH) or is not in its RFC 8785 form (CALENDAR_NOT_CANONICAL).
        """
        if version is None:
            version = self.latest_version(year)
            if version == 0:
                raise CalendarYearNotAdoptedError(year)
        adoption = self.adoption(year, version)
        document = self.document(adoption)
        return check_adopted_document(adoption, document)

    def events(self, receipt: TxReceipt) -> list[Event]:
        """The registry's events in a receipt."""
        return self.chain.decode_events(self._contract, receipt)


def check_adopted_document(adoption: CalendarAdoption, document: bytes) -> AdoptedCalendar:
    """The calendar in document, once it is shown to be exactly what the adoption anchored."""
    found = keccak(document)
    if found != adoption.document_hash:
        raise CalendarError(
            "CALENDAR_HASH_MISMATCH",
            f"the {adoption.year} calendar version {adoption.version} has hash 0x{found.hex()}, "
            f"the chain adopted 0x{adoption.document_hash.hex()}",
        )
    calendar = parse_calendar(document)
    if calendar.year != adoption.year:
        raise CalendarError(
            "CALENDAR_YEAR_MISMATCH", f"adopted as {adoption.year}, the document is the calendar of {calendar.year}"
        )
    if calendar.canonical_bytes() != document:
        raise CalendarError("CALENDAR_NOT_CANONICAL", "the adopted document is not in its RFC 8785 form")
    return AdoptedCalendar(adoption, calendar, document)
