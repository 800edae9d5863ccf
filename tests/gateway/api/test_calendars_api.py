"""Working calendars over HTTP: the adopted documents, the public deadline preview, adopting a future year,
and a node that alters an adopted document.

The module's gateway runs on an embedded chain whose clock starts on Thursday 24 December
2026, when a 7-working-day commitment already reaches into 2027, whatever day the suite runs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain_client import (
    BEIJING,
    CalendarRef,
    CommitmentKind,
    CommitmentSpec,
    CommitmentTerm,
    Role,
    Stack,
    Term,
    TermUnit,
    check_commitment_deadline,
    count_deadline,
    devnet_for,
    shipped_calendars,
)
from chain_client.dev import DevChain
from credit_client.client import GatewayClientError
from gateway.infra.calendars import CalendarBook
from gateway.infra.settings import Settings
from gateway.serving import serve_app_in_thread
from tests.support.calendars import labelled_test_calendar
from tests.support.hardhat import HardhatNode
from tests.support.payloads import SAMR
from tests.support.rpc_tampering import lying_node
from tests.support.served import Served, serve_gateway, wait_until
from tests.support.subjects import new_uscc

START = int(dt.datetime(2026, 12, 24, 10, 0, tzinfo=BEIJING).timestamp())
CHRISTMAS_EVE = "2026-12-24"
# A TEST-ONLY 2027 calendar (no State Council notice is shipped for 2027): New Year's Day off,
# and 4-6 January off too, so that its deadline differs from a weekdays-only count.
TEST_2027 = labelled_test_calendar(2027, holidays=[dt.date(2027, 1, d) for d in (1, 4, 5, 6)])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway on an embedded chain whose clock starts at START."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("gateway"), batch_interval_s=0.1, chain_poll_interval_s=0.2)
    with serve_gateway(settings, chain=DevChain.embedded(start_time=START)) as running:
        yield running


def governors(served: Served) -> list[object]:
    return [d.account for d in devnet_for(served.gateway.stack.chain.chain_id).with_role(Role.GOVERNOR)]


def test_the_adopted_calendar_is_served_as_adopted(served: Served) -> None:
    """GET /public/v1/calendars/2026 is the shipped document, version 1, under the hash the chain adopted."""
    shipped = next(c for c in shipped_calendars() if c.year == 2026)
    with served.client() as public:
        served_calendar = public.calendar(2026)
    assert served_calendar["document"] == shipped.to_json()
    assert (served_calendar["version"], served_calendar["latestVersion"]) == (1, 1)
    assert served_calendar["documentHash"] == "0x" + shipped.document_hash().hex()
    with served.client() as public, pytest.raises(GatewayClientError) as missing:
        public.calendar(2026, version=2)
    assert (missing.value.status, missing.value.code) == (404, "CALENDAR_VERSION_UNKNOWN")


def test_the_preview_counts_across_national_day_from_the_adopted_document(served: Served) -> None:
    """Seven working days from 30 September 2026 end on 15 October, the adjusted Saturday 10 October counted."""
    with served.client() as public:
        preview = public.deadline_preview(accepted_on="2026-09-30", working_days=7)
    assert (preview["dueOn"], preview["unit"], preview["length"]) == ("2026-10-15", "working-days", 7)
    assert preview["dueBy"] == int(dt.datetime(2026, 10, 15, 23, 59, 59, tzinfo=BEIJING).timestamp())
    shipped = next(c for c in shipped_calendars() if c.year == 2026)
    assert preview["calendars"] == [{"year": 2026, "version": 1, "documentHash": "0x" + shipped.document_hash().hex()}]


def test_a_self_discipline_commitment_runs_twelve_months_without_a_calendar(served: Served) -> None:
    """The policy counts 自律承诺 in months, so a year nobody adopted does not stop it."""
    with served.client() as public:
        preview = public.deadline_preview(kind="self-discipline")
    assert (preview["acceptedOn"], preview["dueOn"]) == (CHRISTMAS_EVE, "2027-12-24")
    assert (preview["unit"], preview["length"], preview["calendars"]) == ("months", 12, [])
    with served.client(SAMR) as department:
        recorded = department.record_commitment(
            subject=new_uscc(), kind="self-discipline", doc_hash=os.urandom(32), subject_key=served.gateway.subject_key
        )
    assert recorded["term"] == {"acceptedOn": CHRISTMAS_EVE, "unit": "months", "length": 12, "calendars": []}
    assert recorded["dueOn"] == "2027-12-24"


def test_a_preview_takes_one_term(served: Served) -> None:
    """workingDays and months together are refused with a stable code, and nothing is counted."""
    with served.client() as public, pytest.raises(GatewayClientError) as refused:
        public.deadline_preview(accepted_on="2026-09-30", working_days=7, months=1)
    assert (refused.value.status, refused.value.code) == (422, "TERM_INVALID")


def test_adopting_a_future_year_opens_its_deadlines(served: Served) -> None:
    """Before 2027 is adopted a 7-working-day commitment of 24 December 2026 is refused and /readyz warns;
    one governor alone changes nothing; after a 2-of-3 adoption the commitment gets the deadline that
    calendar gives, and a corrected 2027 notice applies to new commitments only."""
    stack = served.gateway.stack
    with served.client() as public:
        assert public.call("GET", "/readyz", signed=False)["warnings"][0]["code"] == "CALENDAR_NEXT_YEAR_NOT_ADOPTED"
        assert "credit_ledger_calendar_next_year_missing 1.0" in public.request("GET", "/metrics").text
    with served.client(SAMR) as department, pytest.raises(GatewayClientError) as refused:
        department.record_commitment(
            subject=new_uscc(),
            kind="incomplete-acceptance",
            doc_hash=os.urandom(32),
            subject_key=served.gateway.subject_key,
            working_days=7,
        )
    assert (refused.value.status, refused.value.code, refused.value.detail) == (
        422,
        "WORKING_DAYS_YEAR_NOT_COVERED",
        {"year": 2027},
    )

    first, second = governors(served)[:2]
    call = stack.calendars.adopt_call(TEST_2027)
    proposal_id, _ = stack.consortium.propose(first, call)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="ConsortiumInsufficientApprovals"):
        stack.consortium.execute(first, proposal_id, call.data)  # type: ignore[arg-type]
    assert stack.calendars.latest_version(2027) == 0
    stack.consortium.approve(second, proposal_id)  # type: ignore[arg-type]
    stack.consortium.execute(first, proposal_id, call.data)  # type: ignore[arg-type]
    wait_until(lambda: served.gateway.view.calendars.latest_version(2027) == 1, what="2027 adopted, seen")

    # 25, 28-31 December, then 7 January: New Year's Day and 4-6 January are off in TEST_2027.
    with served.client(SAMR) as department:
        recorded = department.record_commitment(
            subject=new_uscc(),
            kind="incomplete-acceptance",
            doc_hash=os.urandom(32),
            subject_key=served.gateway.subject_key,
            working_days=7,
        )
    assert recorded["dueOn"] == "2027-01-08"
    assert recorded["term"]["calendars"] == [{"year": 2026, "version": 1}, {"year": 2027, "version": 1}]
    commitment_id = bytes.fromhex(recorded["commitmentId"][2:])
    assert check_commitment_deadline(stack.commitments, stack.calendars, commitment_id).valid
    with served.client() as public:
        assert public.call("GET", "/readyz", signed=False)["warnings"] == []

    corrected = labelled_test_calendar(2027)  # only New Year's Day off
    stack.consortium.govern([first, second], stack.calendars.adopt_call(corrected))  # type: ignore[list-item]
    wait_until(lambda: served.gateway.view.calendars.latest_version(2027) == 2, what="2027 version 2 seen")
    with served.client() as public:
        preview = public.deadline_preview(accepted_on=CHRISTMAS_EVE, working_days=7)
    assert (preview["dueOn"], [c["version"] for c in preview["calendars"]]) == ("2027-01-05", [1, 2])
    kept = check_commitment_deadline(stack.commitments, stack.calendars, commitment_id)
    assert (kept.valid, kept.recounted and kept.recounted.last_day) == (True, dt.date(2027, 1, 8))
    with served.client(SAMR) as department:
        assert department.commitment(recorded["commitmentId"])["term"]["calendars"][1] == {"year": 2027, "version": 1}


def test_the_warning_starts_on_the_first_of_november(served: Served) -> None:
    """Before 1 November nothing warns of next year's calendar; from 1 November a missing one is named."""
    book = CalendarBook(served.gateway.stack.calendars)
    at = lambda *day: int(dt.datetime(*day, 12, 0, tzinfo=BEIJING).timestamp())  # noqa: E731
    assert book.next_year_missing(at(2027, 10, 31)) is None
    assert book.next_year_missing(at(2027, 11, 1)) == 2028
    assert book.next_year_missing(at(2026, 11, 1)) is None  # 2027 has been adopted above


# ------------------------------------------------------------------ a node that alters documents


@pytest.mark.hardhat
def test_a_document_altered_on_its_way_is_refused_by_the_gateway_and_the_auditor(
    hardhat_node: HardhatNode, tmp_path: Path
) -> None:
    """Behind a node that rewrites adopted documents, the gateway answers 500 CALENDAR_INTEGRITY_FAILED
    instead of counting, and the auditor's recount names the hash mismatch; the honest node passes both."""
    with serve_app_in_thread(lying_node(hardhat_node.url)) as node:
        settings = Settings(data_dir=tmp_path / "gateway", rpc_url=node.url, chain_poll_interval_s=0.2)
        with serve_gateway(settings) as served:
            stack: Stack = served.gateway.stack
            with served.client() as public:
                for call in (
                    lambda: public.calendar(2026),
                    lambda: public.deadline_preview(accepted_on="2026-09-30", working_days=7),
                ):
                    with pytest.raises(GatewayClientError) as refused:
                        call()
                    assert (refused.value.status, refused.value.code) == (500, "CALENDAR_INTEGRITY_FAILED")
                    assert refused.value.detail["check"] == "CALENDAR_HASH_MISMATCH"
                assert "credit_ledger_integrity_failures_total 2.0" in public.request("GET", "/metrics").text

            department = devnet_for(stack.chain.chain_id).by_label(SAMR).account
            calendar = labelled_test_calendar(2031)
            stack.consortium.govern(
                [d.account for d in devnet_for(stack.chain.chain_id).with_role(Role.GOVERNOR)][:2],
                stack.calendars.adopt_call(calendar),
            )
            term = Term(TermUnit.WORKING_DAYS, 7)
            deadline = count_deadline(dt.date(2030, 12, 31), term, {2031: calendar}.__getitem__)
            spec = CommitmentSpec(
                os.urandom(32),
                CommitmentKind.INCOMPLETE_ACCEPTANCE,
                os.urandom(32),
                deadline.due_by,
                CommitmentTerm(dt.date(2030, 12, 31), term, (CalendarRef(2031, 1),)),
            )
            commitment_id, _ = stack.commitments.record(department, spec)
            lied_to = check_commitment_deadline(stack.commitments, stack.calendars, commitment_id)
            assert not lied_to.valid
            assert "CALENDAR_HASH_MISMATCH" in lied_to.problems[0]
            honest = DevChain.connect(hardhat_node.url)
            honest_check = check_commitment_deadline(
                type(stack.commitments)(honest, stack.commitments.address),
                type(stack.calendars)(honest, stack.calendars.address),
                commitment_id,
            )
            assert honest_check.valid, honest_check.problems
