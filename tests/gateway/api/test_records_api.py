"""POST /v1/records over HTTP: single and bulk submission, per-record codes, idempotency."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain_client import BatchKind
from credit_client.client import GatewayClientError, subject_salt_of
from gateway.api.schemas import SubmissionResponse
from gateway.infra.request_auth import sign_request
from gateway.infra.storage import AnchorBatch, OutboxEntry, StoredRecord
from tests.support.payloads import (
    INSPECTION,
    LICENCE,
    PENALTY,
    SAMR,
    SECRET_MARK,
    TAX,
    TAX_ARREARS,
    inspection,
    penalty,
    tax_arrears,
)
from tests.support.served import Served
from tests.support.subjects import new_resident_id, new_uscc, with_wrong_check


def counts(served: Served) -> tuple[int, int]:
    """Stored records and outbox entries."""
    with Session(served.gateway.engine) as session:
        records = session.scalar(select(func.count()).select_from(StoredRecord))
        outbox = session.scalar(select(func.count()).select_from(OutboxEntry))
        return int(records or 0), int(outbox or 0)


def rejected_code(served: Served, submission: dict[str, Any], label: str = SAMR) -> str:
    """Submit one record that must be refused; its code (and nothing stored)."""
    before = counts(served)
    with served.client(label) as client, pytest.raises(GatewayClientError) as caught:
        client.submit_record(submission)
    assert counts(served) == before
    return caught.value.code


def test_a_signed_record_is_accepted_sealed_and_anchored(served: Served) -> None:
    """A valid record is accepted, stored without plaintext, and its root anchored on chain by the worker."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    served.wait_anchored(record)
    with Session(served.gateway.engine) as session:
        row = session.get_one(StoredRecord, record.leaf.record_id)
        assert SECRET_MARK.encode() not in row.ciphertext
        assert row.batch_id is not None
        root = session.get_one(AnchorBatch, row.batch_id).root
    batch = served.gateway.stack.ledger.batch(served.gateway.account.address, root)
    assert batch.kind == BatchKind.RECORDS
    assert batch.gateway == served.gateway.account.address


def test_a_resident_subject_is_accepted(served: Served) -> None:
    """A natural person identified by a GB 11643 resident id is accepted."""
    served.submit(SAMR, PENALTY, new_resident_id(), penalty(name="张某"))


def test_submitting_the_same_record_again_changes_nothing(served: Served) -> None:
    """Idempotent on recordId: a second submission is reported as duplicate and stores nothing."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    before = counts(served)
    with served.client(SAMR) as client:
        result = client.submit_record(record.submission)
    assert result["duplicates"] == 1
    assert result["results"][0] == {
        "index": 0,
        "status": "duplicate",
        "recordId": record.record_id_hex,
        "code": None,
        "message": None,
        "detail": None,
    }
    assert counts(served) == before


def test_a_bulk_stores_the_good_records_and_reports_each_bad_one(served: Served) -> None:
    """A mixed bulk: good records accepted, bad ones rejected with their codes, duplicates reported."""
    good = [served.prepare(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(3)]
    bad_subject = served.prepare(SAMR, PENALTY, new_uscc(), penalty())
    bad_subject.submission["subject"] = with_wrong_check(bad_subject.submission["subject"])
    bad_schema = served.prepare(SAMR, PENALTY, new_uscc(), penalty(penalty={"kind": "flogging"}))
    items = [good[0].submission, bad_subject.submission, good[1].submission, bad_schema.submission]
    items += [good[2].submission, good[0].submission]
    before = counts(served)
    with served.client(SAMR) as client:
        result = client.submit_records(items)
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (3, 1, 2)
    assert SubmissionResponse.model_validate(result).model_dump() == result  # the documented shape, nothing more
    statuses = [(r["index"], r["status"], r["code"]) for r in result["results"]]
    assert statuses == [
        (0, "accepted", None),
        (1, "rejected", "USCC_CHECK"),
        (2, "accepted", None),
        (3, "rejected", "PAYLOAD_SCHEMA_VIOLATION"),
        (4, "accepted", None),
        (5, "duplicate", None),
    ]
    assert result["results"][3]["detail"] == [{"path": "/penalty/kind", "rule": "enum"}]
    assert counts(served) == (before[0] + 3, before[1] + 3)


def test_an_atomic_bulk_with_one_bad_record_stores_nothing(served: Served) -> None:
    """With atomic=true, one bad record rejects the whole bulk and nothing is stored."""
    good = served.prepare(SAMR, PENALTY, new_uscc(), penalty())
    bad = served.prepare(SAMR, PENALTY, new_uscc(), penalty())
    bad.submission["signature"] = good.submission["signature"]
    before = counts(served)
    with served.client(SAMR) as client:
        result = client.submit_records([good.submission, bad.submission], atomic=True)
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("rejected", "BULK_REJECTED"),
        ("rejected", "RECORD_BAD_SIGNATURE"),
    ]
    assert counts(served) == before


def test_a_bulk_of_more_than_ten_thousand_is_refused(served: Served) -> None:
    """Bulks are limited to 10,000 records: 413 BULK_TOO_LARGE before anything is checked."""
    with served.client(SAMR) as client, pytest.raises(GatewayClientError) as caught:
        client.submit_records([{}] * 10_001)
    assert (caught.value.status, caught.value.code) == (413, "BULK_TOO_LARGE")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda s: s.update(subject="91110108MA01C5XL6"), "USCC_LENGTH"),
        (lambda s: s.pop("signature"), "RECORD_MALFORMED"),
        (lambda s: s.update(recordSeed="0x1234"), "RECORD_MALFORMED"),
        (lambda s: s.update(subject=with_wrong_check(s["subject"])), "USCC_CHECK"),
        (lambda s: s.update(subject="9111010IMA01C5XL6R"), "USCC_CHARSET"),
        (lambda s: s.update(subject=with_wrong_check(new_resident_id())), "RID_CHECK"),
        (lambda s: s.update(catalogCode="BJ-NOPE-404"), "CATALOG_UNKNOWN_ENTRY"),
        (lambda s: s.update(catalogVersion=2), "CATALOG_VERSION_NOT_LATEST"),
        (lambda s: s["payload"].pop("decisionNumber"), "PAYLOAD_SCHEMA_VIOLATION"),
        (lambda s: s["payload"].update(extra="x"), "PAYLOAD_SCHEMA_VIOLATION"),
        (lambda s: s["payload"].update(caseOfficer="x" * 70_000), "RECORD_PAYLOAD_TOO_LARGE"),
        (lambda s: s.update(contentHash="0x" + "11" * 32), "RECORD_CONTENT_HASH_MISMATCH"),
        (lambda s: s.update(recordId="0x" + "22" * 32), "RECORD_ID_MISMATCH"),
        (lambda s: s.update(supersedes="0x" + "33" * 32), "RECORD_SUPERSEDES_UNKNOWN"),
        (lambda s: s.update(signature="0x" + "44" * 65), "RECORD_BAD_SIGNATURE"),
    ],
)
def test_each_bad_record_gets_its_code_and_changes_nothing(served: Served, change: Any, code: str) -> None:
    """Every check refuses a bad record with its stable code; nothing is stored."""
    record = served.prepare(SAMR, PENALTY, new_uscc(), penalty())
    change(record.submission)
    assert rejected_code(served, record.submission) == code


def test_a_record_signed_after_the_fact_is_checked_against_its_fields(served: Served) -> None:
    """A payload changed after signing no longer matches the signed contentHash."""
    record = served.prepare(SAMR, PENALTY, new_uscc(), penalty())
    record.submission["payload"]["violation"] = "无"
    assert rejected_code(served, record.submission) == "RECORD_CONTENT_HASH_MISMATCH"


def test_a_record_issued_in_the_future_is_refused(served: Served) -> None:
    """issuedAt more than five minutes ahead is refused."""
    record = served.prepare(SAMR, PENALTY, new_uscc(), penalty(), issued_at=int(time.time()) + 3600)
    assert rejected_code(served, record.submission) == "RECORD_ISSUED_AT_INVALID"


def test_a_correction_must_supersede_a_record_held_here(served: Served) -> None:
    """supersedes names a stored record of the same provider and subject, under the original's subjectTag
    (its subjectSalt, from the submission or the full view), or is refused."""
    subject = new_uscc()
    original = served.submit(SAMR, PENALTY, subject, penalty())
    with served.client(SAMR) as provider:
        salt = subject_salt_of(provider.record(original.record_id_hex, purpose="correction"))
    assert salt == subject_salt_of(original.submission)
    served.submit(
        SAMR, PENALTY, subject, penalty(violation="更正"), supersedes=original.leaf.record_id, subject_salt=salt
    )
    stranger = served.prepare(SAMR, PENALTY, new_uscc(), penalty(), supersedes=original.leaf.record_id)
    assert rejected_code(served, stranger.submission) == "RECORD_SUPERSEDES_UNKNOWN"
    # The same subject under a fresh salt would be a tag the ledger refuses when the objection is resolved.
    fresh = served.prepare(SAMR, PENALTY, subject, penalty(violation="更正"), supersedes=original.leaf.record_id)
    assert rejected_code(served, fresh.submission) == "RECORD_SUBJECT_TAG_MISMATCH"


def test_a_department_submits_only_its_own_records_for_entries_it_sources(served: Served) -> None:
    """Another department's record, or an entry it does not source, is refused."""
    theirs = served.prepare(TAX, TAX_ARREARS, new_uscc(), tax_arrears())
    assert rejected_code(served, theirs.submission, label=SAMR) == "RECORD_PROVIDER_MISMATCH"
    not_source = served.prepare(TAX, PENALTY, new_uscc(), penalty())
    assert rejected_code(served, not_source.submission, label=TAX) == "CATALOG_NOT_SOURCE"


def test_records_of_every_class_are_accepted(served: Served) -> None:
    """Class A, B and C entries each take their own schema's payloads."""
    served.submit(SAMR, INSPECTION, new_uscc(), inspection())
    served.submit(TAX, TAX_ARREARS, new_uscc(), tax_arrears())
    payload = {
        "subjectName": "北京示例科技有限公司",
        "licenceNumber": "京食许〔2026〕8号",
        "licenceKind": "食品经营许可",
        "grantedOn": "2026-01-05",
        "authority": "北京市市场监督管理局",
    }
    served.submit(SAMR, LICENCE, new_uscc(), payload)


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"content-type": "text/plain"}, b"{}", 415, "CONTENT_TYPE_UNSUPPORTED"),
        ({"content-type": "application/json"}, b"{not json", 400, "BODY_NOT_JSON"),
        ({"content-type": "application/json"}, b"[1, 2]", 422, "REQUEST_INVALID"),
        ({"content-type": "application/json"}, b'{"records": []}', 422, "REQUEST_INVALID"),
    ],
)
def test_bodies_that_are_not_records_are_refused(
    served: Served, headers: dict[str, str], body: bytes, status: int, code: str
) -> None:
    """Wrong content types and bodies that are not records get their codes."""
    signed = sign_request(
        served.account(SAMR),
        "POST",
        "/v1/records",
        [],
        body,
        audience=served.gateway.audience,
        timestamp=int(time.time()),
    )
    response = httpx.post(served.url + "/v1/records", content=body, headers={**headers, **signed})
    assert response.status_code == status
    assert response.json()["code"] == code
