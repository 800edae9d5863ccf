"""A subject signed in with its key files its own objections and repair requests (issue 16, point 1).

The gateway that anchored the record's batch files them on chain (fileSubjectObjection,
requestSubjectRepair) with the digest of the subject's signed document as subjectEvidence,
and keeps that document so an auditor can check it against the chain.
"""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import RecordStatus, SubjectFiling, recover_signer
from credit_client.client import GatewayClientError, PreparedRecord
from credit_client.subject import subject_domain
from gateway.infra.storage import SubjectFiling as FilingRow
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import Served
from tests.support.subject_keys import bind_subject
from tests.support.subjects import new_uscc

REASON = bytes.fromhex("ab" * 32)
DOCUMENTS = bytes.fromhex("cd" * 32)


def _anchored(served: Served, subject: str) -> PreparedRecord:
    record = served.submit(SAMR, PENALTY, subject, penalty())
    served.wait_anchored(record)
    return record


def _refused(action: object) -> tuple[int, str]:
    with pytest.raises(GatewayClientError) as caught:
        action()  # type: ignore[operator]
    return caught.value.status, caught.value.code


def _chain_events(served: Served, tx_hash: str) -> list[tuple[str, dict[str, object]]]:
    receipt = served.gateway.stack.chain.receipt(bytes.fromhex(tx_hash[2:]))
    assert receipt is not None
    return [(e.name, e.args) for e in served.gateway.stack.ledger.events(receipt)]


def test_the_subject_files_its_own_objection_and_repair_request(served: Served) -> None:
    """The record becomes Disputed, or repairPending, on chain; the events name the gateway and carry
    the subject's signed digest, which the kept document reproduces and recovers to the subject's key."""
    subject = new_uscc()
    objected, repaired = _anchored(served, subject), _anchored(served, subject)
    gateway = served.gateway.account.address
    ledger = served.gateway.stack.ledger
    with bind_subject(served, subject) as company:
        filed = company.file_objection(objected.record_id_hex, REASON)
        requested = company.request_repair(repaired.record_id_hex, "penalty-fulfilled", DOCUMENTS)
        domain = subject_domain(company.deployment())
    assert (filed["action"], filed["status"]) == ("objection-filed", "DISPUTED")
    assert ledger.state(objected.leaf.record_id).status == RecordStatus.DISPUTED
    assert (requested["action"], requested["repairPending"]) == ("repair-requested", True)
    assert ledger.state(repaired.leaf.record_id).repair_pending
    objection_events = _chain_events(served, filed["txHash"])
    assert [name for name, _ in objection_events] == ["ObjectionFiled", "SubjectFiling"]
    assert objection_events[0][1]["member"] == gateway
    assert objection_events[1][1] == {
        "recordId": objected.leaf.record_id,
        "gateway": gateway,
        "subjectEvidence": bytes.fromhex(filed["subjectEvidence"][2:]),
    }
    repair_events = _chain_events(served, requested["txHash"])
    assert [name for name, _ in repair_events] == ["RepairRequested", "SubjectFiling"]
    assert repair_events[0][1]["evidenceHash"].hex() == requested["evidenceHash"][2:]  # type: ignore[union-attr]
    # An auditor's check: the kept document's digest is the chain's subjectEvidence, signed by the key.
    with Session(served.gateway.engine) as session:
        rows = {
            r.kind: r
            for r in session.scalars(
                select(FilingRow).where(FilingRow.subject_ref == company.credential.credential.subject_ref)
            )
        }
    assert set(rows) == {"objection", "repair"}
    for row, answer in ((rows["objection"], filed), (rows["repair"], requested)):
        filing = SubjectFiling(row.kind == "repair", row.record_id, row.filed_hash, row.credential_hash, row.nonce)
        digest = filing.digest(domain)
        assert "0x" + digest.hex() == answer["subjectEvidence"] == "0x" + row.filing_id.hex()
        assert recover_signer(digest, row.signature) == company.key.address == row.subject_key
        assert "0x" + (row.tx_hash or b"").hex() == answer["txHash"]


def test_a_subject_cannot_file_on_another_subject_s_record(served: Served) -> None:
    """Another subject's record answers as no record here, and nothing reaches the chain."""
    theirs = _anchored(served, new_uscc())
    with bind_subject(served, new_uscc()) as company:
        assert _refused(lambda: company.file_objection(theirs.record_id_hex, REASON)) == (404, "RECORD_NOT_FOUND")
        refused = _refused(lambda: company.request_repair(theirs.record_id_hex, "training", DOCUMENTS))
        assert refused == (404, "RECORD_NOT_FOUND")
    state = served.gateway.stack.ledger.state(theirs.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, False)


def test_a_replayed_signed_filing_is_refused(served: Served) -> None:
    """A signed objection (or repair request) is filed once: sending it again, or reusing its nonce, is 409."""
    subject = new_uscc()
    record = _anchored(served, subject)
    path = f"/v1/self/records/{record.record_id_hex}"
    with bind_subject(served, subject) as company:
        nonce = os.urandom(32)
        objection = company.sign_objection(record.record_id_hex, REASON, nonce=nonce)
        company.call("POST", f"{path}/objections", body=objection)
        replay = _refused(lambda: company.call("POST", f"{path}/objections", body=objection))
        assert replay == (409, "SUBJECT_FILING_REPLAYED")
        same_nonce = company.sign_repair_request(record.record_id_hex, "training", DOCUMENTS, nonce=nonce)
        assert _refused(lambda: company.call("POST", f"{path}/repairs", body=same_nonce)) == (
            409,
            "SUBJECT_FILING_REPLAYED",
        )
    assert not served.gateway.stack.ledger.state(record.leaf.record_id).repair_pending


def test_a_forged_or_altered_filing_signature_is_refused(served: Served) -> None:
    """A filing signed by another key than the credential binds, or altered after signing, is refused."""
    subject = new_uscc()
    record = _anchored(served, subject)
    path = f"/v1/self/records/{record.record_id_hex}"
    with bind_subject(served, subject) as company, bind_subject(served, subject, key=Account.create()) as forger:
        forged = forger.sign_objection(record.record_id_hex, REASON)  # another key, another credential
        altered = company.sign_objection(record.record_id_hex, REASON)
        altered["reasonHash"] = "0x" + "ef" * 32
        altered_repair = company.sign_repair_request(record.record_id_hex, "training", DOCUMENTS)
        altered_repair["evidenceKind"] = "other"
        for route, body in (("objections", forged), ("objections", altered), ("repairs", altered_repair)):
            refused = _refused(lambda: company.call("POST", f"{path}/{route}", body=body))  # noqa: B023
            assert refused == (403, "SUBJECT_FILING_SIGNATURE_INVALID")
    state = served.gateway.stack.ledger.state(record.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, False)


def test_an_auditor_checks_a_subject_s_filing_against_the_chain(served: Served) -> None:
    """GET /v1/access-log/subject-filings (AUDITOR): the kept document reproduces the chain's
    subjectEvidence and recovers the subject's key; other members are refused."""
    subject = new_uscc()
    record = _anchored(served, subject)
    with bind_subject(served, subject) as company:
        filed = company.file_objection(record.record_id_hex, REASON)
        domain = subject_domain(company.deployment())
    params = [("record", record.record_id_hex)]
    with served.client("auditor-hebei") as auditor:
        (document,) = auditor.call("GET", "/v1/access-log/subject-filings", params=params)["filings"]
    filing = SubjectFiling(
        False,
        bytes.fromhex(document["recordId"][2:]),
        bytes.fromhex(document["reasonHash"][2:]),
        bytes.fromhex(document["credential"][2:]),
        bytes.fromhex(document["nonce"][2:]),
    )
    digest = filing.digest(domain)
    (_, event) = _chain_events(served, document["txHash"])[1]
    assert event["subjectEvidence"] == digest
    assert document["subjectEvidence"] == filed["subjectEvidence"] == "0x" + digest.hex()
    assert recover_signer(digest, bytes.fromhex(document["signature"][2:])) == document["subjectKey"]
    assert document["subjectKey"] == company.key.address
    with served.client("samr-beijing") as provider:
        refused = _refused(lambda: provider.call("GET", "/v1/access-log/subject-filings", params=params))
    assert refused[0] == 403
