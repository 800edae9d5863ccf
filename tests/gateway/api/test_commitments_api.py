"""Commitments over HTTP: working-day deadlines, fulfil, withdraw, breach with its record, refusals.

The module's gateway runs on an embedded chain whose clock starts on Monday 2 November
2026, so deadlines fall on days the adopted calendars cover whatever day the suite runs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain_client import (
    BEIJING,
    CommitmentKind,
    CommitmentStatus,
    Role,
    Term,
    TermUnit,
    beijing_date,
    count_deadline,
    devnet_for,
    shipped_calendars,
    subject_tag,
)
from chain_client.dev import DevChain
from credit_client.client import GatewayClientError, subject_salt_of
from gateway.infra.settings import Settings
from gateway.infra.storage import StoredRecord
from gateway.infra.subject_ids import parse_subject
from tests.support.payloads import BREACH, PENALTY, SAMR, commitment_breach, penalty
from tests.support.served import Served, serve_gateway
from tests.support.subjects import new_uscc

GOVERNOR = "governor-tianjin"
START = int(dt.datetime(2026, 11, 2, 10, 0, tzinfo=BEIJING).timestamp())
SHIPPED = {calendar.year: calendar for calendar in shipped_calendars()}


def due_by(accepted: dt.date, working_days: int) -> int:
    """The deadline counted over the shipped calendars, which the demo consortium adopted."""
    return count_deadline(accepted, Term(TermUnit.WORKING_DAYS, working_days), SHIPPED.__getitem__).due_by


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway on an embedded chain whose clock starts at START."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("gateway"), batch_interval_s=0.1, chain_poll_interval_s=0.2)
    with serve_gateway(settings, chain=DevChain.embedded(start_time=START)) as running:
        yield running


def commit(served: Served, subject: str, *, kind: str = "incomplete-acceptance", days: int = 7) -> dict[str, object]:
    with served.client(SAMR) as department:
        return department.record_commitment(  # type: ignore[no-any-return]
            subject=subject,
            kind=kind,
            doc_hash=os.urandom(32),
            subject_key=served.gateway.subject_key,
            working_days=days,
        )


def test_a_commitment_is_recorded_with_its_working_day_deadline(served: Served) -> None:
    subject = new_uscc()
    result = commit(served, subject)
    today = beijing_date(served.gateway.now())
    assert result["term"] == {
        "acceptedOn": today.isoformat(),
        "unit": "working-days",
        "length": 7,
        "calendars": [{"year": 2026, "version": 1}],
    }
    assert result["dueBy"] == due_by(today, 7)
    assert (result["status"], result["kind"], result["overdue"]) == ("PENDING", "incomplete-acceptance", False)
    on_chain = served.gateway.stack.commitments.commitment(bytes.fromhex(str(result["commitmentId"])[2:]))
    assert on_chain.kind == CommitmentKind.INCOMPLETE_ACCEPTANCE
    assert on_chain.deadline == result["dueBy"]
    assert on_chain.department == served.account(SAMR).address
    # The chain holds only the tag; the department alone is shown its opening, kept by the gateway.
    with served.client(SAMR) as department:
        opening = department.commitment(str(result["commitmentId"]))["subject"]
    with served.client("auditor-hebei") as auditor:
        assert "subject" not in auditor.commitment(str(result["commitmentId"]))
    assert opening["subjectRef"] == "0x" + served.gateway.subject_ref(parse_subject(subject)).hex()
    assert on_chain.subject_tag == subject_tag(
        bytes.fromhex(opening["subjectRef"][2:]), bytes.fromhex(opening["subjectSalt"][2:])
    )
    assert result["subjectTag"] == "0x" + on_chain.subject_tag.hex()


def test_fulfil_and_withdraw(served: Served) -> None:
    fulfilled = commit(served, new_uscc())
    withdrawn = commit(served, new_uscc(), kind="notification", days=20)
    with served.client(SAMR) as department:
        assert department.fulfil_commitment(str(fulfilled["commitmentId"]))["status"] == "FULFILLED"
        assert department.withdraw_commitment(str(withdrawn["commitmentId"]))["status"] == "WITHDRAWN"
    registry = served.gateway.stack.commitments
    assert registry.commitment(bytes.fromhex(str(fulfilled["commitmentId"])[2:])).status == CommitmentStatus.FULFILLED


def test_a_violation_before_the_deadline_is_breached_with_its_linked_record(served: Served) -> None:
    subject = new_uscc()
    commitment = commit(served, subject)
    cid = str(commitment["commitmentId"])
    today = beijing_date(served.gateway.now()).isoformat()
    record = served.prepare(
        SAMR,
        BREACH,
        subject,
        commitment_breach(cid, str(commitment["dueOn"]), today),
        subject_salt=subject_salt_of(commitment),
    )
    with served.client(SAMR) as department:
        with pytest.raises(GatewayClientError) as early:
            department.breach_commitment(cid, record)
        assert (early.value.status, early.value.code) == (409, "COMMITMENT_NOT_DUE")
        result = department.breach_commitment(cid, record, violation=True)
    assert (result["status"], result["breachRecordId"]) == ("BREACHED", record.record_id_hex)
    served.wait_anchored(record)
    on_chain = served.gateway.stack.commitments.commitment(bytes.fromhex(cid[2:]))
    assert on_chain.breach_record_id == record.leaf.record_id
    with served.client(SAMR) as department:
        assert department.record(record.record_id_hex)["payload"]["commitmentId"] == cid


def test_refusals_carry_codes_and_change_nothing(served: Served) -> None:
    subject = new_uscc()
    commitment = commit(served, subject)
    cid = str(commitment["commitmentId"])
    wrong_entry = served.prepare(SAMR, PENALTY, subject, penalty())
    other_subject = served.prepare(SAMR, BREACH, new_uscc(), commitment_breach(cid, "2026-11-11", "2026-11-02"))
    with served.client(SAMR) as department:
        for record, code in ((wrong_entry, "BREACH_ENTRY_NOT_ALLOWED"), (other_subject, "BREACH_RECORD_MISMATCH")):
            with pytest.raises(GatewayClientError) as refused:
                department.breach_commitment(cid, record, violation=True)
            assert refused.value.code == code
    with served.client(GOVERNOR) as governor, pytest.raises(GatewayClientError) as not_department:
        governor.fulfil_commitment(cid)
    assert (not_department.value.status, not_department.value.code) == (403, "COMMITMENT_NOT_DEPARTMENT")
    on_chain = served.gateway.stack.commitments.commitment(bytes.fromhex(cid[2:]))
    assert (on_chain.status, on_chain.breach_record_id) == (CommitmentStatus.PENDING, None)


def test_only_providers_record_commitments(served: Served) -> None:
    with served.client(GOVERNOR) as governor, pytest.raises(GatewayClientError) as refused:
        governor.record_commitment(
            subject=new_uscc(), kind="notification", doc_hash=os.urandom(32), subject_key=b"k" * 32, working_days=5
        )
    assert (refused.value.status, refused.value.code) == (403, "ACCESS_ROLE_REQUIRED")


def test_a_deadline_that_is_not_the_calendar_s_is_refused(served: Served) -> None:
    today = beijing_date(served.gateway.now())
    body = {
        "subject": new_uscc(),
        "subjectSalt": "0x" + "5a" * 32,
        "kind": "incomplete-acceptance",
        "docHash": "0x" + "11" * 32,
        "acceptedOn": today.isoformat(),
        "workingDays": 7,
        "dueBy": due_by(today, 7) + 86_400,  # counted in calendar days, say
        "calendars": [{"year": 2026, "version": 1}],
        "instruction": {"nonce": 0, "deadline": 2**40, "signature": "0x" + "00" * 65},
    }
    with served.client(SAMR) as department, pytest.raises(GatewayClientError) as refused:
        department.call("POST", "/v1/commitments", body=body)
    assert refused.value.code == "COMMITMENT_DUE_MISMATCH"
    assert refused.value.detail["expected"]["dueBy"] == due_by(today, 7)
    body["dueBy"] = due_by(today, 7)
    body["calendars"] = [{"year": 2026, "version": 1}, {"year": 2027, "version": 1}]  # not the calendars counted with
    with served.client(SAMR) as department, pytest.raises(GatewayClientError) as refused:
        department.call("POST", "/v1/commitments", body=body)
    assert refused.value.code == "COMMITMENT_DUE_MISMATCH"
    assert refused.value.detail["expected"]["calendars"] == [{"year": 2026, "version": 1}]


def test_a_deadline_in_a_year_the_calendar_does_not_cover_fails_loudly(served: Served) -> None:
    """60 working days from 2 November 2026 reach into 2027, whose calendar nobody adopted: the message says
    how governors adopt it."""
    body = {
        "subject": new_uscc(),
        "subjectSalt": "0x" + "5a" * 32,
        "kind": "notification",
        "docHash": "0x" + "22" * 32,
        "acceptedOn": beijing_date(served.gateway.now()).isoformat(),
        "workingDays": 60,
        "dueBy": 0,
        "instruction": {"nonce": 0, "deadline": 2**40, "signature": "0x" + "00" * 65},
    }
    with served.client(SAMR) as department, pytest.raises(GatewayClientError) as refused:
        department.call("POST", "/v1/commitments", body=body)
    assert (refused.value.status, refused.value.code) == (422, "WORKING_DAYS_YEAR_NOT_COVERED")
    assert refused.value.detail["year"] == 2027
    assert "2027" in refused.value.message
    assert "credit-ledger calendar propose" in refused.value.message


def test_an_instruction_signed_before_a_suspension_is_refused_after_it(tmp_path: Path) -> None:
    """A department suspended after signing gets 403 AUTH_NOT_MEMBER for its relayed fulfil and withdraw, even while
    the gateway's role cache still shows it active, and nothing changes on chain."""
    # An hour between role refreshes: the cache keeps showing the department active.
    settings = Settings(
        data_dir=tmp_path / "gateway", batch_interval_s=0.1, chain_poll_interval_s=3600, roles_max_age_s=7200
    )
    with serve_gateway(settings, chain=DevChain.embedded(start_time=START)) as served:
        stack = served.gateway.stack
        governors = [d.account for d in devnet_for(stack.chain.chain_id).with_role(Role.GOVERNOR)][:2]
        ids = [str(commit(served, new_uscc())["commitmentId"]) for _ in range(2)]
        with served.client(SAMR) as department:
            signed_before = department.call("GET", "/v1/instructions")  # nonce and deadline, signed with below
            stack.consortium.govern(governors, stack.consortium.suspend_call(served.account(SAMR).address))
            assert served.gateway.view.roles(served.account(SAMR).address)  # the cache has not seen it
            for name, cid in (("Fulfil", ids[0]), ("Withdraw", ids[1])):
                with pytest.raises(GatewayClientError) as refused:
                    department.send_instruction(
                        name, (bytes.fromhex(cid[2:]),), {}, context=signed_before, commitment_id=cid
                    )
                assert (refused.value.status, refused.value.code) == (403, "AUTH_NOT_MEMBER")
        statuses = [stack.commitments.commitment(bytes.fromhex(cid[2:])).status for cid in ids]
        assert statuses == [CommitmentStatus.PENDING] * 2


def test_a_breach_stores_its_record_before_it_is_relayed(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """A breach whose transaction never reaches the node leaves its record stored for anchoring and no breach; sent
    again, it breaches naming that record, stored once."""
    subject = new_uscc()
    commitment = commit(served, subject)
    cid = str(commitment["commitmentId"])
    today = beijing_date(served.gateway.now()).isoformat()
    record = served.prepare(
        SAMR,
        BREACH,
        subject,
        commitment_breach(cid, str(commitment["dueOn"]), today),
        subject_salt=subject_salt_of(commitment),
    )
    eth = served.gateway.stack.chain.w3.eth

    def node_lost_on_send(raw: Any) -> Any:
        raise requests.ConnectionError("the node went away")  # as the transport reports a node that is gone

    with served.client(SAMR) as department:
        monkeypatch.setattr(eth, "send_raw_transaction", node_lost_on_send)
        with pytest.raises(GatewayClientError) as lost:
            department.breach_commitment(cid, record, violation=True)
        monkeypatch.undo()
        assert (lost.value.status, lost.value.code) == (503, "CHAIN_UNAVAILABLE")
        registry = served.gateway.stack.commitments
        assert registry.commitment(bytes.fromhex(cid[2:])).status == CommitmentStatus.PENDING
        with Session(served.gateway.engine) as session:
            assert session.get(StoredRecord, record.leaf.record_id) is not None
        result = department.breach_commitment(cid, record, violation=True)
    assert (result["status"], result["breachRecordId"]) == ("BREACHED", record.record_id_hex)
    served.wait_anchored(record)
    with Session(served.gateway.engine) as session:
        stored = select(func.count()).select_from(StoredRecord).where(StoredRecord.record_id == record.leaf.record_id)
        assert session.scalar(stored) == 1
