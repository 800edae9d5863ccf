"""List screening over HTTP: many subjects in one signed answer, one line checked on its own."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from chain_client import (
    SCREENING_FORMAT,
    SCREENING_LINE_FORMAT,
    document_signer,
    line_proof,
    screening_schema_problems,
    verify_screening,
)
from credit_cli.main import main
from credit_client.client import GatewayClientError
from gateway.infra.request_auth import sign_request
from gateway.infra.subject_ids import parse_subject
from tests.support.payloads import PENALTY, SAMR, SECRET_MARK, penalty
from tests.support.served import Served
from tests.support.subjects import new_resident_id, new_uscc, with_wrong_check

GOVERNOR = "governor-tianjin"
AUDITOR = "auditor-hebei"
BLACK_MANDATORY = {"BL-PROCUREMENT", "BL-FISCAL-SUPPORT", "BL-KEY-SUPERVISION"}
PURPOSE = "procurement screening"
PATH = "/v1/screenings"


def test_a_screening_answers_each_line_as_the_measures_would_and_signs_the_root(served: Served) -> None:
    black, clean, person = new_uscc(), new_uscc(), new_resident_id()
    record = served.submit(SAMR, PENALTY, black, penalty())
    served.wait_anchored(record)
    bad = with_wrong_check(new_uscc())
    with served.client(GOVERNOR) as governor:
        document = governor.screening([black, clean, bad, person.lower(), "123"], PURPOSE)
        measures = governor.measures(black)["answer"]
    assert document["format"] == SCREENING_FORMAT
    assert screening_schema_problems(document) == []
    header, lines = document["screening"], document["lines"]
    assert header["count"] == 5
    assert header["purpose"] == PURPOSE
    assert header["gateway"] == served.gateway.account.address
    assert header["requester"] == served.account(GOVERNOR).address
    assert lines[0]["lists"] == measures["lists"] == {"red": False, "black": True}
    assert set(lines[0]["measures"]) == {m["code"] for m in measures["measures"]}
    assert set(lines[0]["measures"]) >= BLACK_MANDATORY
    assert lines[0]["listedBy"] == [header["regions"][0]["region"]]
    clean_ref = "0x" + served.gateway.subject_ref(parse_subject(clean)).hex()
    assert lines[1] == {
        "index": 1,
        "subject": clean,
        "subjectRef": clean_ref,
        "lists": {"red": False, "black": False},
        "measures": [],
        "listedBy": [],
    }
    # A lone gateway (peer queries off) names the other regions, unasked, never leaves them out.
    assert header["scope"] == "consortium"
    assert (header["regions"][0]["gateway"], header["regions"][0]["status"]) == (
        served.gateway.account.address,
        "answered",
    )
    assert [r["status"] for r in header["regions"][1:]] == ["unavailable", "unavailable"]
    assert document["parts"] == []
    assert lines[2] == {"index": 2, "subject": bad, "code": "USCC_CHECK"}
    assert lines[3]["subject"] == person.upper()
    assert lines[4] == {"index": 4, "subject": "123", "code": "USCC_LENGTH"}
    text = json.dumps(document, ensure_ascii=False)
    assert SECRET_MARK not in text
    assert record.record_id_hex not in text
    assert document_signer(header, document["signature"]) == served.gateway.account.address

    offline = verify_screening(document)
    assert offline.valid, offline.failures
    assert offline.check("root").passed
    online = verify_screening(document, served.gateway.stack.chain)
    assert online.valid, online.failures
    assert online.check("gateway").passed

    # Each valid subject's query is registered, under the screening's purpose.
    with served.client(AUDITOR) as auditor:
        entries = auditor.call("GET", "/v1/access-log/lookups", params=[("subject", black)])["lookups"]
    assert [(e["kind"], e["purpose"]) for e in entries] == [("screening", PURPOSE), ("measures", "joint measures")]


def test_one_line_is_checked_on_its_own_and_a_tampered_line_fails(served: Served) -> None:
    black = new_uscc()
    served.wait_anchored(served.submit(SAMR, PENALTY, black, penalty()))
    with served.client(GOVERNOR) as governor:
        document = governor.screening([new_uscc(), black, new_uscc()], PURPOSE)
    single = line_proof(document, 1)
    assert single["format"] == SCREENING_LINE_FORMAT
    assert single["line"]["subject"] == black
    assert "lines" not in single
    assert verify_screening(single).valid
    assert verify_screening(single, served.gateway.stack.chain).valid

    cleared = copy.deepcopy(single)
    cleared["line"]["lists"]["black"] = False
    result = verify_screening(cleared)
    assert result.failures == ["line"]

    tampered = copy.deepcopy(document)
    tampered["lines"][1]["measures"] = []
    assert verify_screening(tampered).failures == ["root"]
    resigned = copy.deepcopy(document)
    resigned["screening"]["purpose"] = "another purpose"
    assert verify_screening(resigned).failures == ["signature"]


def test_a_screening_of_this_region_only_names_this_region_only(served: Served) -> None:
    black = new_uscc()
    served.wait_anchored(served.submit(SAMR, PENALTY, black, penalty()))
    with served.client(GOVERNOR) as governor:
        document = governor.screening([black, "123"], PURPOSE, scope="region")
        malformed_only = governor.screening(["123"], PURPOSE)
    header = document["screening"]
    assert header["scope"] == "region"
    assert [(r["gateway"], r["status"]) for r in header["regions"]] == [(served.gateway.account.address, "answered")]
    assert document["lines"][0]["lists"] == {"red": False, "black": True}
    assert verify_screening(document).valid
    assert {r.get("reason") for r in malformed_only["screening"]["regions"][1:]} == {
        "not asked: this gateway does not query other regions"
    }
    with served.client(GOVERNOR) as governor, pytest.raises(GatewayClientError) as refused:
        governor.screening([black], PURPOSE, scope="everywhere")
    assert (refused.value.status, refused.value.code) == (422, "REQUEST_INVALID")


def test_more_than_ten_thousand_subjects_are_refused(served: Served) -> None:
    with served.client(GOVERNOR) as governor, pytest.raises(GatewayClientError) as refused:
        governor.screening(["123"] * 10_001, PURPOSE)
    assert (refused.value.status, refused.value.code) == (413, "SCREENING_TOO_LARGE")


def test_an_id_that_is_not_text_is_refused_not_repeated(served: Served) -> None:
    body = b'{"subjects": ["\\ud800"], "purpose": "p"}'  # valid JSON, a lone surrogate once parsed: pydantic refuses it
    account = served.account(GOVERNOR)
    headers = sign_request(
        account, "POST", PATH, (), body, audience=served.gateway.audience, timestamp=int(time.time())
    )
    headers["content-type"] = "application/json"
    response = httpx.post(served.url + PATH, content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "REQUEST_INVALID")


def test_verify_screening_on_a_saved_file(served: Served, tmp_path: Path) -> None:
    black = new_uscc()
    served.wait_anchored(served.submit(SAMR, PENALTY, black, penalty()))
    with served.client(GOVERNOR) as governor:
        document = governor.screening([black, new_uscc()], PURPOSE)
    saved = tmp_path / "screening.json"
    saved.write_text(json.dumps(document), encoding="utf-8")

    whole = CliRunner().invoke(main, ["verify-screening", str(saved)])
    assert whole.exit_code == 0, whole.output
    assert "PASS root" in whole.output
    assert "VALID offline" in whole.output

    one = CliRunner().invoke(main, ["verify-screening", str(saved), "--line", "0", "--json"])
    assert one.exit_code == 0, one.output
    result = json.loads(one.output)
    assert result["valid"]
    assert result["line"] == 0
    assert result["document"]["line"]["lists"]["black"] is True

    missing = CliRunner().invoke(main, ["verify-screening", str(saved), "--line", "2"])
    assert missing.exit_code == 2

    document["lines"][0]["lists"]["black"] = False
    saved.write_text(json.dumps(document), encoding="utf-8")
    broken = CliRunner().invoke(main, ["verify-screening", str(saved)])
    assert broken.exit_code == 1
    assert "FAIL root" in broken.output
