"""One bad row does not hide a subject: a record failing its integrity check is marked in the
subject's listings, with metadata only, and the subject's other records are still served;
a single read of it still answers 500, and a report that would include it is refused."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from credit_client.client import GatewayClientError
from gateway.infra.storage import StoredRecord
from tests.support.payloads import INSPECTION, PENALTY, SAMR, inspection, penalty
from tests.support.served import Served
from tests.support.subject_keys import bind_subject
from tests.support.subjects import new_uscc

GOVERNOR = "governor-tianjin"  # a public view of class A, nothing of class C
AUDITOR = "auditor-hebei"
MARKER_KEYS = {"recordId", "catalogCode", "integrity"}


def integrity_failures(served: Served) -> float:
    """The integrity failures counted so far, from /metrics."""
    text = httpx.get(served.url + "/metrics").text
    match = re.search(r"^credit_ledger_integrity_failures_total (\S+)$", text, re.M)
    assert match is not None
    return float(match.group(1))


def flip_ciphertext(served: Served, record_id: bytes) -> None:
    """Alter one byte of a stored row's ciphertext, as a database intruder might."""
    with Session(served.gateway.engine) as session, session.begin():
        row = session.get_one(StoredRecord, record_id)
        value = bytearray(row.ciphertext)
        value[0] ^= 0x01
        row.ciphertext = bytes(value)


def secret_payload() -> tuple[dict[str, Any], list[str]]:
    """A penalty whose strings appear nowhere else: a test finds them if the bad row's plaintext leaks."""
    tag = uuid.uuid4().hex[:10]
    strings = [f"篡改记录公司-{tag}", f"京市监罚〔2026〕{tag}号", f"承办人-{tag}"]
    return penalty(name=strings[0], decisionNumber=strings[1], caseOfficer=strings[2]), strings


def assert_marked_only(
    text: str, failures: list[dict[str, Any]], record_id: str, code: str, secrets: list[str]
) -> None:
    """The failing record is listed with its id and catalog code only, nothing of its content anywhere."""
    assert failures == [{"recordId": record_id, "catalogCode": code, "integrity": "failed"}]
    assert set(failures[0]) == MARKER_KEYS
    for secret in secrets:
        assert secret not in text


def test_a_tampered_record_is_marked_and_the_subject_s_others_are_served(served: Served) -> None:
    """Member listing, public disclosures and 自查 answer 200: the good record in full, the bad one marked."""
    subject = new_uscc()
    good = served.submit(SAMR, PENALTY, subject, penalty())
    bad_payload, secrets = secret_payload()
    bad = served.submit(SAMR, PENALTY, subject, bad_payload)
    served.wait_anchored(good, bad)
    flip_ciphertext(served, bad.leaf.record_id)
    before = integrity_failures(served)

    with served.client(SAMR) as provider, served.client() as anonymous, bind_subject(served, subject) as company:
        listing = provider.subject_records(subject, purpose="licensing review")
        public = anonymous.disclosures(subject)
        own = company.records()
        with pytest.raises(GatewayClientError) as caught:
            provider.record(bad.record_id_hex)
    assert (caught.value.status, caught.value.code) == (500, "RECORD_INTEGRITY_FAILED")

    for answer in (listing, own):
        (view,) = answer["records"]
        assert (view["recordId"], view["view"], view["payload"]) == (
            good.record_id_hex,
            "full",
            good.submission["payload"],
        )
        text = json.dumps(answer, ensure_ascii=False)
        assert_marked_only(text, answer["integrityFailures"], bad.record_id_hex, PENALTY, secrets)
    (disclosure,) = public["disclosures"]
    assert disclosure["recordId"] == good.record_id_hex
    assert disclosure["fields"]["subjectName"] == good.submission["payload"]["subjectName"]
    assert public["subjectRef"] is not None
    text = json.dumps(public, ensure_ascii=False)
    assert_marked_only(text, public["integrityFailures"], bad.record_id_hex, PENALTY, secrets)
    # Three listings marked it and the single read refused it: each counted once.
    assert integrity_failures(served) == before + 4


def test_a_failing_record_the_member_may_not_see_stays_left_out(served: Served) -> None:
    """No oracle: a governor, who sees nothing of class C, learns nothing of a failing class-C record."""
    subject = new_uscc()
    public_record = served.submit(SAMR, PENALTY, subject, penalty())
    hidden = served.submit(SAMR, INSPECTION, subject, inspection())
    served.wait_anchored(public_record, hidden)
    flip_ciphertext(served, hidden.leaf.record_id)
    with served.client(GOVERNOR) as governor, served.client() as anonymous:
        listing = governor.subject_records(subject)
        public = anonymous.disclosures(subject)
        report = governor.report(subject)
    assert [(v["recordId"], v["view"]) for v in listing["records"]] == [(public_record.record_id_hex, "public")]
    assert listing["integrityFailures"] == []
    assert [d["recordId"] for d in public["disclosures"]] == [public_record.record_id_hex]
    assert public["integrityFailures"] == []
    assert [r["recordId"] for r in report["report"]["records"]] == [public_record.record_id_hex]
    for answer in (listing, public, report):
        assert hidden.record_id_hex not in json.dumps(answer)


def test_a_report_that_would_include_a_failing_record_is_refused_before_any_release(served: Served) -> None:
    """A signed report is never incomplete: 500 REPORT_RECORD_INTEGRITY_FAILED naming the record, nothing logged."""
    subject = new_uscc()
    good = served.submit(SAMR, INSPECTION, subject, inspection())
    bad_payload, secrets = secret_payload()
    bad = served.submit(SAMR, PENALTY, subject, bad_payload)
    served.wait_anchored(good, bad)
    flip_ciphertext(served, bad.leaf.record_id)
    before = integrity_failures(served)
    with served.client(SAMR) as provider, pytest.raises(GatewayClientError) as caught:
        provider.report(subject, purpose="integrity review")
    assert (caught.value.status, caught.value.code) == (500, "REPORT_RECORD_INTEGRITY_FAILED")
    detail = caught.value.detail
    assert_marked_only(
        json.dumps(detail, ensure_ascii=False), detail["integrityFailures"], bad.record_id_hex, PENALTY, secrets
    )
    assert integrity_failures(served) == before + 1
    with served.client(AUDITOR) as auditor:  # the good record's full view was not released
        entries = auditor.access_log(record=good.record_id_hex)["entries"]
    assert [e for e in entries if e["entry"]["purpose"] == "integrity review"] == []
