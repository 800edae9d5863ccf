"""Commitments over HTTP: working-day deadlines, fulfil, withdraw, breach with its record, refusals.

The module's gateway runs on an embedded chain whose clock starts on Monday 2 November
2026, so deadlines fall on days the holiday calendar covers whatever day the suite runs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest

from chain_client import Chain, CommitmentKind, CommitmentStatus
from gateway.client import GatewayClientError
from gateway.lifecycle_terms import due_by
from gateway.settings import Settings
from gateway.subject_ids import parse_subject
from gateway.working_days import BEIJING, beijing_date
from tests.support.payloads import BREACH, PENALTY, SAMR, commitment_breach, penalty
from tests.support.served import Served, serve_gateway
from tests.support.subjects import new_uscc

GOVERNOR = "governor-tianjin"
START = int(dt.datetime(2026, 11, 2, 10, 0, tzinfo=BEIJING).timestamp())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway on an embedded chain whose clock starts at START."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("gateway"), batch_interval_s=0.1, chain_poll_interval_s=0.2)
    with serve_gateway(settings, chain=Chain.embedded(start_time=START)) as running:
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
    assert result["acceptedOn"] == today.isoformat()
    assert result["dueBy"] == due_by(today, 7)
    assert (result["status"], result["kind"], result["overdue"]) == ("PENDING", "incomplete-acceptance", False)
    on_chain = served.gateway.stack.commitments.commitment(bytes.fromhex(str(result["commitmentId"])[2:]))
    assert on_chain.kind == CommitmentKind.INCOMPLETE_ACCEPTANCE
    assert on_chain.deadline == result["dueBy"]
    assert on_chain.department == served.account(SAMR).address
    assert on_chain.subject_ref == served.gateway.subject_ref(parse_subject(subject))


def test_fulfil_and_withdraw(served: Served) -> None:
    fulfilled = commit(served, new_uscc())
    withdrawn = commit(served, new_uscc(), kind="self-discipline", days=20)
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
    record = served.prepare(SAMR, BREACH, subject, commitment_breach(cid, str(commitment["dueOn"]), today))
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
        "kind": "incomplete-acceptance",
        "docHash": "0x" + "11" * 32,
        "acceptedOn": today.isoformat(),
        "workingDays": 7,
        "dueBy": due_by(today, 7) + 86_400,  # counted in calendar days, say
        "instruction": {"nonce": 0, "deadline": 2**40, "signature": "0x" + "00" * 65},
    }
    with served.client(SAMR) as department, pytest.raises(GatewayClientError) as refused:
        department.call("POST", "/v1/commitments", body=body)
    assert refused.value.code == "COMMITMENT_DUE_MISMATCH"
    assert refused.value.detail["expected"] == due_by(today, 7)


def test_a_deadline_in_a_year_the_calendar_does_not_cover_fails_loudly(served: Served) -> None:
    """60 working days from 2 November 2026 reach into 2027, whose holidays the library does not know yet."""
    body = {
        "subject": new_uscc(),
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
