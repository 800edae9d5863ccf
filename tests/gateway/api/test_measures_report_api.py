"""Lists, joint measures and credit reports over HTTP, verified with the chain alone."""

from __future__ import annotations

import json

import pytest

from chain_client import verify_bundle
from chain_client.spec.signed_document import document_signer
from chain_client.verify.report import verify_report
from credit_client.client import GatewayClientError
from gateway.standing.report_html import extract_report
from tests.support.payloads import (
    INSPECTION,
    PENALTY,
    SAMR,
    SECRET_MARK,
    TAX,
    TAX_ARREARS,
    TAX_GRADE,
    inspection,
    penalty,
    tax_arrears,
    taxpayer_grade,
)
from tests.support.served import Served
from tests.support.subjects import new_uscc

GOVERNOR = "governor-tianjin"
AUDITOR = "auditor-hebei"
BLACK_MANDATORY = {"BL-PROCUREMENT", "BL-FISCAL-SUPPORT", "BL-KEY-SUPERVISION"}


def test_a_black_listed_subject_gets_the_black_list_measures_and_nothing_of_the_record(served: Served) -> None:
    subject = new_uscc()
    record = served.submit(SAMR, PENALTY, subject, penalty())
    served.wait_anchored(record)
    with served.client(GOVERNOR) as governor:
        document = governor.measures(subject)
    answer = document["answer"]
    assert answer["lists"] == {"red": False, "black": True}
    mandatory = {m["code"] for m in answer["measures"] if m["kind"] == "mandatory"}
    assert mandatory == BLACK_MANDATORY
    assert document_signer(answer, document["signature"]) == served.gateway.account.address
    text = json.dumps(document, ensure_ascii=False)
    assert SECRET_MARK not in text
    assert "subjectName" not in text
    assert record.record_id_hex not in text


def test_a_red_listed_subject_gets_the_red_list_measures(served: Served) -> None:
    subject = new_uscc()
    served.wait_anchored(served.submit(TAX, TAX_GRADE, subject, taxpayer_grade()))
    with served.client(SAMR) as department:
        answer = department.measures(subject)["answer"]
    assert answer["lists"] == {"red": True, "black": False}
    assert {m["code"] for m in answer["measures"]} == {
        "RL-GREEN-CHANNEL",
        "RL-FEWER-INSPECTIONS",
        "RL-PROCUREMENT-CREDIT",
    }


def test_a_subject_on_no_list_gets_no_measures(served: Served) -> None:
    with served.client(GOVERNOR) as governor:
        answer = governor.measures(new_uscc())["answer"]
    assert (answer["lists"], answer["measures"], answer["basisCount"]) == ({"red": False, "black": False}, [], 0)


def test_auditors_fetch_the_proofs_behind_an_answer(served: Served) -> None:
    subject = new_uscc()
    record = served.submit(SAMR, PENALTY, subject, penalty())
    served.wait_anchored(record)
    with served.client(AUDITOR) as auditor:
        document = auditor.measure_proofs(subject)
    (bundle,) = document["proofs"]
    assert bundle["record"]["recordId"] == record.record_id_hex
    assert "disclosure" not in bundle or bundle["disclosure"] is None
    verification = verify_bundle(bundle, served.gateway.stack.chain)
    assert verification.valid
    assert verification.current
    with served.client(GOVERNOR) as governor, pytest.raises(GatewayClientError) as refused:
        governor.measure_proofs(subject)
    assert (refused.value.status, refused.value.code) == (403, "ACCESS_ROLE_REQUIRED")


def test_a_report_shows_what_the_requester_may_see_and_verifies_on_chain(served: Served) -> None:
    """The provider sees A and C in full; a governor sees A's public fields only; B needs consent."""
    subject = new_uscc()
    a = served.submit(SAMR, PENALTY, subject, penalty())
    c = served.submit(SAMR, INSPECTION, subject, inspection())
    b = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    served.wait_anchored(a, b, c)
    with served.client(SAMR) as provider:
        own = provider.report(subject, purpose="licensing review")
    with served.client(GOVERNOR) as governor:
        public = governor.report(subject)
    by_id = {r["recordId"]: r for r in own["report"]["records"]}
    assert set(by_id) == {a.record_id_hex, c.record_id_hex}
    assert by_id[c.record_id_hex]["view"] == "full"
    assert by_id[c.record_id_hex]["fields"] == c.submission["payload"]
    (only,) = public["report"]["records"]
    assert (only["recordId"], only["view"]) == (a.record_id_hex, "public")
    assert SECRET_MARK not in json.dumps(public, ensure_ascii=False)
    assert own["report"]["lists"] == {"red": False, "black": True}
    for document in (own, public):
        verification = verify_report(document, served.gateway.stack.chain)
        assert verification.valid, verification.failures
    with served.client(AUDITOR) as auditor:  # the report's full views are registered releases
        for record in (a, c):
            (document,) = auditor.access_log(record=record.record_id_hex)["entries"]
            assert document["entry"]["requester"] == served.account(SAMR).address
            assert document["entry"]["purpose"] == "licensing review"


def test_the_html_report_embeds_the_signed_report(served: Served) -> None:
    subject = new_uscc()
    served.wait_anchored(served.submit(SAMR, PENALTY, subject, penalty()))
    with served.client(SAMR) as provider:
        page = provider.report_html(subject)
    assert "信用报告" in page
    assert "<script" in page
    document = extract_report(page)
    assert document["report"]["subject"] == subject
    assert verify_report(document, served.gateway.stack.chain).valid


def test_a_tampered_report_fails_verification(served: Served) -> None:
    subject = new_uscc()
    served.wait_anchored(served.submit(SAMR, PENALTY, subject, penalty()))
    with served.client(SAMR) as provider:
        document = provider.report(subject)
    document["report"]["records"][0]["fields"]["penalty"] = {"kind": "warning"}
    verification = verify_report(document, served.gateway.stack.chain)
    assert not verification.valid
    assert "signature" in verification.failures
