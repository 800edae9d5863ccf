"""Two stories written from the municipal credit policies, end to end over HTTP.

Each runs a Beijing gateway on an embedded chain whose clock starts on Tuesday 29
September 2026, 09:30 Beijing time, two days before the National Day holiday, and moves
the chain's clock forward as the story needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from chain_client import BEIJING, CommitmentStatus, RecordStatus
from chain_client.dev import DevChain
from chain_client.verify.report import verify_report
from credit_client.client import GatewayClientError, subject_salt_of
from gateway.infra.settings import Settings
from tests.support.payloads import BREACH, PENALTY, SAMR, TAX, TAX_GRADE, commitment_breach, penalty, taxpayer_grade
from tests.support.served import Served, serve_gateway
from tests.support.subjects import new_uscc

START = dt.datetime(2026, 9, 29, 9, 30, tzinfo=BEIJING)
DAY = 86_400
DEPARTMENT = TAX  # files objections and repair requests on the subject's paper application
GOVERNOR = "governor-tianjin"
EVIDENCE = bytes.fromhex("5e" * 32)


@pytest.fixture
def beijing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("beijing"), batch_interval_s=0.1, chain_poll_interval_s=0.2)
    with serve_gateway(settings, chain=DevChain.embedded(start_time=int(START.timestamp()))) as running:
        yield running


def travel_to(served: Served, moment: dt.datetime) -> None:
    chain = served.gateway.stack.chain
    chain.increase_time(int(moment.timestamp()) - chain.now())


def public_records(served: Served, subject: str) -> dict[str, dict[str, object]]:
    with served.client() as anonymous:
        return {d["recordId"]: d for d in anonymous.disclosures(subject)["disclosures"]}


def lists_of(served: Served, subject: str) -> dict[str, object]:
    with served.client(GOVERNOR) as governor:
        return governor.measures(subject)["answer"]  # type: ignore[no-any-return]


def test_a_penalty_is_published_objected_to_corrected_and_repaired(beijing: Served) -> None:
    """行政处罚 published; 异议 upheld with a correction; 信用修复 after 90 days ends publicity and punishment."""
    ledger = beijing.gateway.stack.ledger
    subject = new_uscc()

    # The market regulator publishes an administrative penalty (class A, black list).
    original = beijing.submit(SAMR, PENALTY, subject, penalty(penalty={"kind": "fine", "amountYuan": 200000}))
    beijing.wait_anchored(original)
    assert set(public_records(beijing, subject)) == {original.record_id_hex}
    assert lists_of(beijing, subject)["lists"] == {"red": False, "black": True}

    # The company objects on paper at a department: the record is disputed, and publicity says so.
    with beijing.client(DEPARTMENT) as member:
        member.file_objection(original.record_id_hex, bytes.fromhex("0b" * 32))
    assert ledger.state(original.leaf.record_id).status == RecordStatus.DISPUTED
    assert public_records(beijing, subject)[original.record_id_hex]["disputed"] is True

    # The regulator upholds it: the fine was wrong; a correcting record supersedes the original.
    correction = beijing.submit(
        SAMR,
        PENALTY,
        subject,
        penalty(penalty={"kind": "fine", "amountYuan": 20000}),
        supersedes=original.leaf.record_id,
        subject_salt=subject_salt_of(original.submission),  # a correction carries its original's subjectTag
    )
    beijing.wait_anchored(correction)
    with beijing.client(SAMR) as regulator:
        regulator.resolve_objection(original.record_id_hex, "corrected", correction.record_id_hex)
    state = ledger.state(original.leaf.record_id)
    assert (state.status, state.superseded_by) == (RecordStatus.CORRECTED, correction.leaf.record_id)
    assert set(public_records(beijing, subject)) == {correction.record_id_hex}

    # The company pays and applies for credit repair; too early before the 90 days.
    with beijing.client(DEPARTMENT) as member:
        member.request_repair(correction.record_id_hex, "penalty-fulfilled", EVIDENCE)
    with beijing.client(SAMR) as regulator, pytest.raises(GatewayClientError) as early:
        regulator.approve_repair(correction.record_id_hex)
    assert early.value.code == "REPAIR_TOO_EARLY"

    # 91 days on, the regulator approves: publicity stops and joint punishment ends at once.
    travel_to(beijing, START + dt.timedelta(days=91))
    with beijing.client(SAMR) as regulator:
        assert regulator.approve_repair(correction.record_id_hex)["status"] == "REPAIRED"
    assert ledger.state(correction.leaf.record_id).status == RecordStatus.REPAIRED
    assert public_records(beijing, subject) == {}
    answer = lists_of(beijing, subject)
    assert (answer["lists"], answer["measures"]) == ({"red": False, "black": False}, [])
    with beijing.client(SAMR) as regulator:
        assert regulator.report(subject)["report"]["records"] == []


def test_an_incomplete_acceptance_commitment_across_national_day_is_breached(beijing: Served) -> None:
    """容缺受理: documents due in 7 working days across the National Day holiday; the breach is a
    dishonesty record, linked on chain, that puts the company on the black list with its measures."""
    registry = beijing.gateway.stack.commitments
    subject = new_uscc()

    # Accepted on Tuesday 29 September with documents missing: 30 Sep, 8, 9, 10 (a Saturday
    # made a working day), 12, 13, 14 October.
    with beijing.client(SAMR) as regulator:
        commitment = regulator.record_commitment(
            subject=subject,
            kind="incomplete-acceptance",
            doc_hash=bytes.fromhex("c0" * 32),
            subject_key=beijing.gateway.subject_key,
            working_days=7,
        )
    cid = commitment["commitmentId"]
    assert (commitment["term"]["acceptedOn"], commitment["dueOn"]) == ("2026-09-29", "2026-10-14")
    assert commitment["dueBy"] == int(dt.datetime(2026, 10, 14, 23, 59, 59, tzinfo=BEIJING).timestamp())

    # The last evening of the period: not overdue, and a breach is refused.
    travel_to(beijing, dt.datetime(2026, 10, 14, 22, 0, tzinfo=BEIJING))
    breach_record = beijing.prepare(
        SAMR,
        BREACH,
        subject,
        commitment_breach(cid, "2026-10-14", "2026-10-15"),
        subject_salt=subject_salt_of(commitment),
    )
    with beijing.client(SAMR) as regulator:
        assert regulator.overdue_commitments()["commitments"] == []
        with pytest.raises(GatewayClientError) as early:
            regulator.breach_commitment(cid, breach_record)
    assert early.value.code == "COMMITMENT_NOT_DUE"

    # The next morning the documents have not come: overdue, then breached with its record.
    travel_to(beijing, dt.datetime(2026, 10, 15, 9, 0, tzinfo=BEIJING))
    breach_record = beijing.prepare(
        SAMR,
        BREACH,
        subject,
        commitment_breach(cid, "2026-10-14", "2026-10-15"),
        subject_salt=subject_salt_of(commitment),
    )
    with beijing.client(SAMR) as regulator:
        assert [c["commitmentId"] for c in regulator.overdue_commitments()["commitments"]] == [cid]
        result = regulator.breach_commitment(cid, breach_record)
        after = regulator.overdue_commitments()
        assert after["commitments"] == []
        assert after["asOfBlock"] == beijing.gateway.index.position.block > 0  # read your writes: the breach shows
    assert (result["status"], result["breachRecordId"]) == ("BREACHED", breach_record.record_id_hex)
    beijing.wait_anchored(breach_record)

    # Linked both ways: the chain names the record; the record names the commitment.
    on_chain = registry.commitment(bytes.fromhex(cid[2:]))
    assert (on_chain.status, on_chain.breach_record_id) == (CommitmentStatus.BREACHED, breach_record.leaf.record_id)
    (published,) = public_records(beijing, subject).values()
    assert published["fields"]["commitmentId"] == cid  # type: ignore[index]

    # The company is on the black list and the joint measures apply.
    answer = lists_of(beijing, subject)
    assert answer["lists"] == {"red": False, "black": True}
    assert {"BL-PROCUREMENT", "BL-FISCAL-SUPPORT", "BL-KEY-SUPERVISION"} <= {
        m["code"]
        for m in answer["measures"]  # type: ignore[attr-defined]
    }
    with beijing.client(GOVERNOR) as governor:
        report = governor.report(subject)
    assert [r["recordId"] for r in report["report"]["records"]] == [breach_record.record_id_hex]
    assert verify_report(report, beijing.gateway.stack.chain).valid


def test_records_leave_publicity_and_lists_when_their_publicity_period_ends(beijing: Served) -> None:
    """An A-grade taxpayer (red list, 365 days of publicity) is public and listed for a year, then neither."""
    subject = new_uscc()
    grade = beijing.submit(TAX, TAX_GRADE, subject, taxpayer_grade())
    beijing.wait_anchored(grade)
    travel_to(beijing, START + dt.timedelta(days=364))
    assert set(public_records(beijing, subject)) == {grade.record_id_hex}
    assert lists_of(beijing, subject)["lists"] == {"red": True, "black": False}

    travel_to(beijing, START + dt.timedelta(days=366))
    assert public_records(beijing, subject) == {}
    assert lists_of(beijing, subject)["lists"] == {"red": False, "black": False}
    assert beijing.gateway.stack.ledger.state(grade.leaf.record_id).status == RecordStatus.ACTIVE  # still authentic
    with beijing.client(TAX) as provider:
        view = provider.record(grade.record_id_hex)
    assert view["publicUntil"] < beijing.gateway.now()
