"""CalendarRegistry: working calendars adopted by the consortium, versioned per year, read back and checked."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from eth_account.signers.local import LocalAccount

from chain_client import (
    CalendarAdoption,
    CalendarError,
    CalendarYearNotAdoptedError,
    Stack,
    Term,
    TermUnit,
    WorkingCalendar,
    check_adopted_document,
    count_deadline,
    keccak,
    shipped_calendars,
)
from chain_client.contracts.consortium import Call
from tests.chain_client.conftest import govern
from tests.support.calendars import labelled_test_calendar
from tests.support.reverts import expect_revert

D = dt.date


def test_the_demo_consortium_adopted_the_shipped_calendars(stack: Stack) -> None:
    """Deploying the demo consortium adopts 2024, 2025 and 2026 as version 1, each exactly the shipped document."""
    for shipped in shipped_calendars():
        adopted = stack.calendars.read(shipped.year)
        assert (adopted.adoption.version, adopted.calendar) == (1, shipped)
        assert adopted.adoption.document_hash == shipped.document_hash() == keccak(adopted.document)
    assert stack.calendars.latest_version(2027) == 0
    with pytest.raises(CalendarYearNotAdoptedError) as missing:
        stack.calendars.read(2027)
    assert missing.value.year == 2027


@pytest.mark.parametrize(
    ("accepted", "last_day"),
    [
        (D(2026, 2, 13), D(2026, 3, 2)),  # Spring Festival 15 to 23 Feb; Saturdays 14 and 28 Feb worked
        (D(2026, 4, 30), D(2026, 5, 13)),  # Labor Day 1 to 5 May; Saturday 9 May worked
        (D(2026, 9, 30), D(2026, 10, 15)),  # National Day 1 to 7 Oct; Saturday 10 Oct worked
    ],
    ids=["spring-festival", "labor-day", "national-day"],
)
def test_held_deadlines_recount_from_the_adopted_documents(stack: Stack, accepted: dt.date, last_day: dt.date) -> None:
    """Seven working days across a 2026 holiday, counted over the documents read from the chain, end on the
    day the State Council's notice gives, adjusted weekend working days counted."""
    deadline = count_deadline(
        accepted, Term(TermUnit.WORKING_DAYS, 7), lambda year: stack.calendars.read(year).calendar
    )
    assert (deadline.last_day, deadline.years) == (last_day, (2026,))


def test_one_governor_alone_cannot_adopt_a_calendar(stack: Stack, governors: list[LocalAccount]) -> None:
    """A proposal with one approval does not execute, and no member adopts directly."""
    call = stack.calendars.adopt_call(labelled_test_calendar(2031))
    proposal_id, _ = stack.consortium.propose(governors[0], call)
    expect_revert(
        lambda: stack.consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumInsufficientApprovals",
        proposalId=proposal_id,
        approvals=1,
        threshold=2,
    )
    direct = stack.chain.contract("CalendarRegistry", stack.calendars.address).functions.adopt(2031, b"{}")
    expect_revert(
        lambda: stack.chain.transact(governors[0], direct), "CalendarOnlyConsortium", caller=governors[0].address
    )
    assert stack.calendars.latest_version(2031) == 0


def test_a_two_of_three_adoption_carries_the_document(stack: Stack, governors: list[LocalAccount]) -> None:
    """The proposal's calldata and the CalendarAdopted event both carry the document; the event names year,
    version and hash."""
    calendar = labelled_test_calendar(2031)
    call = stack.calendars.adopt_call(calendar)
    proposal_id, _ = stack.consortium.propose(governors[0], call)
    assert stack.consortium.proposed_call(proposal_id) == call
    assert calendar.canonical_bytes() in call.data
    stack.consortium.approve(governors[1], proposal_id)
    receipt = stack.consortium.execute(governors[0], proposal_id, call.data)
    (event,) = stack.calendars.events(receipt)
    assert (event.name, event.args) == (
        "CalendarAdopted",
        {"year": 2031, "version": 1, "documentHash": calendar.document_hash(), "document": calendar.canonical_bytes()},
    )
    adopted = stack.calendars.read(2031)
    block = stack.chain.w3.eth.get_block(receipt["blockNumber"])
    assert adopted.adoption == CalendarAdoption(2031, 1, calendar.document_hash(), block["timestamp"], block["number"])
    assert adopted.calendar == calendar


def test_a_corrected_notice_is_a_new_version_and_every_version_stays_readable(
    stack: Stack, governors: list[LocalAccount]
) -> None:
    """Re-adopting a year makes version 2 the latest; version 1 still reads, with its own document."""
    first = labelled_test_calendar(2031)
    corrected = labelled_test_calendar(2031, holidays=[D(2031, 1, 1), D(2031, 1, 2)])
    govern(stack.consortium, governors, stack.calendars.adopt_call(first))
    govern(stack.consortium, governors, stack.calendars.adopt_call(corrected))
    assert stack.calendars.latest_version(2031) == 2
    assert stack.calendars.read(2031).calendar == corrected
    assert stack.calendars.read(2031, 1).calendar == first
    expect_revert(lambda: stack.calendars.adoption(2031, 3), "CalendarUnknownVersion", year=2031, version=3)
    expect_revert(lambda: stack.calendars.adoption(2031, 0), "CalendarUnknownVersion", year=2031, version=0)


@pytest.mark.parametrize(
    ("year", "document", "error"), [(1999, b"{}", "CalendarInvalidYear"), (2031, b"", "CalendarEmptyDocument")]
)
def test_an_adoption_needs_a_year_and_a_document(
    stack: Stack, governors: list[LocalAccount], year: int, document: bytes, error: str
) -> None:
    """An executed proposal adopting an impossible year or no document reverts with the registry's error."""
    contract = stack.chain.contract("CalendarRegistry", stack.calendars.address)
    data = contract.encode_abi("adopt", args=[year, document])
    call = Call(stack.calendars.address, bytes.fromhex(data.removeprefix("0x")))
    expect_revert(lambda: govern(stack.consortium, governors, call), error, year=year)


def test_readers_refuse_a_document_that_is_not_what_was_adopted(stack: Stack) -> None:
    """A document altered after adoption fails its hash; the adopted bytes pass."""
    adopted = stack.calendars.read(2026)
    tampered = adopted.document.replace(b"2026-10-10", b"2026-10-11")  # one more rest day
    assert tampered != adopted.document
    with pytest.raises(CalendarError) as refused:
        check_adopted_document(adopted.adoption, tampered)
    assert refused.value.code == "CALENDAR_HASH_MISMATCH"
    assert check_adopted_document(adopted.adoption, adopted.document).calendar == adopted.calendar


def _adopt_bytes(stack: Stack, governors: list[LocalAccount], year: int, document: bytes) -> None:
    contract = stack.chain.contract("CalendarRegistry", stack.calendars.address)
    data = contract.encode_abi("adopt", args=[year, document])
    govern(stack.consortium, governors, Call(stack.calendars.address, bytes.fromhex(data.removeprefix("0x"))))


@pytest.mark.parametrize(
    ("year", "document", "code"),
    [
        (2032, labelled_test_calendar(2031).canonical_bytes(), "CALENDAR_YEAR_MISMATCH"),
        (2031, json.dumps(labelled_test_calendar(2031).to_json(), indent=2).encode(), "CALENDAR_NOT_CANONICAL"),
        (2031, b'{"format": "something else"}', "CALENDAR_MALFORMED"),
    ],
    ids=["another-year", "not-canonical", "malformed"],
)
def test_an_adoption_readers_cannot_use_is_refused_when_read(
    stack: Stack, governors: list[LocalAccount], year: int, document: bytes, code: str
) -> None:
    """The chain cannot read the document, so readers refuse an adopted document of another year, not in its
    RFC 8785 form, or not a calendar at all."""
    _adopt_bytes(stack, governors, year, document)
    with pytest.raises(CalendarError) as refused:
        stack.calendars.read(year)
    assert refused.value.code == code


def test_the_document_round_trips_through_the_chain(stack: Stack, governors: list[LocalAccount]) -> None:
    """What a governor proposes is, byte for byte, what every reader gets back."""
    calendar: WorkingCalendar = replace(labelled_test_calendar(2031), number="TEST-1", published_on=D(2030, 11, 1))
    govern(stack.consortium, governors, stack.calendars.adopt_call(calendar))
    assert stack.calendars.read(2031).document == calendar.canonical_bytes()
    assert stack.calendars.read(2031).calendar == calendar
