"""Lists, measures and screening across Beijing, Tianjin and Hebei (京津冀联合奖惩), over HTTP.

A subject has list records in two regions; every region's gateway answers the union, names
each region and whether it answered, and carries the other regions' signed parts, which a
verifier checks on its own. A region whose server is down, slow, answering garbage or
signing a part for another gateway or question is named unavailable, and the others
still count. The peer endpoint is for PEER gateways only, answers predicates only and is
never replayed.
"""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import (
    PartExpectation,
    build_screening_document,
    check_part,
    document_signer,
    line_proof,
    part_digest,
    screening_schema_problems,
    verify_screening,
)
from credit_client.client import GatewayClient
from gateway.infra.request_auth import Audience, sign_request
from gateway.infra.storage import StoredRecord
from gateway.infra.subject_ids import parse_subject
from gateway.serving import serve_app_in_thread, serve_in_thread
from tests.support.payloads import (
    SECRET_MARK,
    TAX,
    TAX_GRADE,
    TJ_PENALTY,
    taxpayer_grade,
    tianjin_penalty,
)
from tests.support.regions import WAIT_S, Regions, three_regions
from tests.support.served import Served
from tests.support.subjects import new_uscc
from tests.support.tampering import tampering_proxy

TIANJIN_DEPARTMENT = "samr-tianjin"
HEBEI_GOVERNOR = "governor-hebei"
BEIJING_GOVERNOR = "governor-beijing"
BEIJING, TIANJIN, HEBEI = 110000, 120000, 130000
STANDINGS = "/peer/v1/standings"
PURPOSE = "tender screening"
# Long enough for a first cross-region question on a loaded CI machine (a 3 s bound failed one
# there); the slow-region test waits it out once.
PEER_TIMEOUT_S = 10.0


@pytest.fixture(scope="module", params=["embedded", pytest.param("hardhat", marks=pytest.mark.hardhat)])
def regions(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    """Three gateways asking each other for their lists, on one chain."""
    with three_regions(request.param, tmp_path_factory, peer_query_timeout_s=PEER_TIMEOUT_S) as running:
        yield running


@pytest.fixture(scope="module")
def listed_twice(regions: Regions) -> str:
    """A company on Beijing's red list (an A-grade taxpayer) and on Tianjin's black list (a penalty)."""
    subject = new_uscc()
    red = regions.beijing.submit(TAX, TAX_GRADE, subject, taxpayer_grade())
    black = regions.tianjin.submit(TIANJIN_DEPARTMENT, TJ_PENALTY, subject, tianjin_penalty())
    regions.beijing.wait_anchored(red, timeout=WAIT_S)
    regions.tianjin.wait_anchored(black, timeout=WAIT_S)
    return subject


def _statuses(regions_json: list[dict[str, Any]]) -> dict[int, str]:
    return {r["region"]: r["status"] for r in regions_json}


def test_measures_combine_every_region_and_carry_their_signed_parts(regions: Regions, listed_twice: str) -> None:
    with regions.hebei.client(HEBEI_GOVERNOR) as governor:
        document = governor.measures(listed_twice)
        local = governor.measures(listed_twice, scope="region")
    answer = document["answer"]
    assert document["format"] == "credit-ledger/measures@2"
    assert document_signer(answer, document["signature"]) == regions.hebei.gateway.account.address
    assert answer["scope"] == "consortium"
    assert answer["lists"] == {"red": True, "black": True}
    assert answer["listedBy"] == [BEIJING, TIANJIN]
    assert _statuses(answer["regions"]) == {BEIJING: "answered", TIANJIN: "answered", HEBEI: "answered"}
    codes = [m["code"] for m in answer["measures"]]
    assert len(codes) == len(set(codes))
    # Each part is a region's own signed statement, for Hebei and this question, named by its digest.
    ref = answer["subjectRef"]
    named = {r["part"]: r for r in answer["regions"] if "part" in r}
    assert len(document["parts"]) == len(named) == 2
    for part in document["parts"]:
        region = named[part_digest(part)]
        expected = PartExpectation((ref,), region["gateway"], answer["gateway"], answer["chainId"], answer["ledger"])
        assert check_part(part, expected).passed
        assert {m["code"] for e in part["part"]["listed"] for m in e["measures"]} <= set(codes)
    # This region only: Hebei holds nothing on the subject, and says so.
    assert local["answer"]["scope"] == "region"
    assert local["answer"]["lists"] == {"red": False, "black": False}
    assert [r["region"] for r in local["answer"]["regions"]] == [HEBEI]
    assert local["parts"] == []


def test_a_screening_combines_per_line_and_a_verifier_checks_the_parts(regions: Regions, listed_twice: str) -> None:
    clean = new_uscc()
    with regions.beijing.client(BEIJING_GOVERNOR) as governor:
        document = governor.screening([clean, listed_twice, "123"], PURPOSE)
        measures = governor.measures(listed_twice)["answer"]
    assert screening_schema_problems(document) == []
    header, lines = document["screening"], document["lines"]
    assert _statuses(header["regions"]) == {BEIJING: "answered", TIANJIN: "answered", HEBEI: "answered"}
    assert lines[0]["lists"] == {"red": False, "black": False}
    assert lines[1]["lists"] == measures["lists"] == {"red": True, "black": True}
    assert lines[1]["measures"] == [m["code"] for m in measures["measures"]]
    assert lines[1]["listedBy"] == [BEIJING, TIANJIN]
    assert lines[2]["code"] == "USCC_LENGTH"
    result = verify_screening(document, regions.own_chain())
    assert result.valid, result.failures
    assert result.check("parts").passed
    single = line_proof(document, 1)
    assert verify_screening(single).valid  # a line still checks on its own

    # A line that drops what Tianjin's signed part lists fails, even re-signed by Beijing.
    tampered = copy.deepcopy(document)
    tampered["lines"][1]["lists"]["black"] = False
    resigned = build_screening_document(
        {k: v for k, v in header.items() if k not in ("root", "count")},
        tampered["lines"],
        regions.beijing.gateway.account,
        document["parts"],
    )
    assert verify_screening(resigned).failures == ["parts"]
    dropped = copy.deepcopy(document)
    dropped["parts"] = dropped["parts"][:1]
    assert verify_screening(dropped).failures == ["parts"]


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray | memoryview) else str(value).lower()


def _peer_post(served: Served, asker: Any, refs: list[str]) -> httpx.Response:
    with GatewayClient(served.url, asker) as client:
        return client.request("POST", STANDINGS, body={"subjectRefs": refs})


def _ref(served: Served, subject: str) -> str:
    return "0x" + served.gateway.subject_ref(parse_subject(subject)).hex()


def test_the_peer_endpoint_answers_predicates_only_for_peers_once(regions: Regions, listed_twice: str) -> None:
    ref = _ref(regions.tianjin, listed_twice)
    beijing = regions.beijing.gateway.account
    response = _peer_post(regions.tianjin, beijing, [ref, _ref(regions.tianjin, new_uscc())])
    assert response.status_code == 200, response.text
    part = response.json()
    assert part["part"]["audience"] == beijing.address
    assert [e["subjectRef"] for e in part["part"]["listed"]] == [ref]
    assert part["part"]["listed"][0]["lists"] == {"red": False, "black": True}
    text = response.text
    assert listed_twice not in text
    assert SECRET_MARK not in text
    with Session(regions.tianjin.gateway.engine) as session:
        record_ids = [_hex(r) for r in session.scalars(select(StoredRecord.record_id))]
    assert record_ids
    assert not any(r[2:] in text for r in record_ids)
    assert set(part["part"]) == {
        "chainId", "ledger", "gateway", "region", "audience", "queryHash", "requestNonce", "generatedAt",
        "asOfBlock", "count", "listed",
    }  # fmt: skip

    # A department is no PEER gateway.
    department = regions.tianjin.account(TIANJIN_DEPARTMENT)
    refused = _peer_post(regions.tianjin, department, [ref])
    assert (refused.status_code, refused.json()["code"]) == (403, "ACCESS_ROLE_REQUIRED")

    # The same signed request twice: the nonce is used once.
    body = json.dumps({"subjectRefs": [ref]}).encode()
    audience = Audience(regions.tianjin.gateway.stack.chain.chain_id, regions.tianjin.gateway.account.address)
    headers = sign_request(beijing, "POST", STANDINGS, [], body, audience=audience, timestamp=int(time.time()))
    headers["content-type"] = "application/json"
    first = httpx.post(regions.tianjin.url + STANDINGS, content=body, headers=headers)
    again = httpx.post(regions.tianjin.url + STANDINGS, content=body, headers=headers)
    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (401, "AUTH_REPLAYED")

    # Not a subjectRef: refused before anything is read.
    malformed = _peer_post(regions.tianjin, beijing, [listed_twice])
    assert (malformed.status_code, malformed.json()["code"]) == (422, "REQUEST_INVALID")


@contextmanager
def _tianjin_through(regions: Regions, alter: Any) -> Iterator[None]:
    """Tianjin's registered URL pointing at a proxy that alters its parts, restored after."""
    proxy = tampering_proxy(regions.tianjin.url, alter, altered=STANDINGS)
    with serve_app_in_thread(proxy) as server:
        regions.set_url("gateway-tianjin", server.url)
        try:
            yield
        finally:
            regions.set_url("gateway-tianjin", regions.tianjin.url)


def _beijing_measures(regions: Regions, subject: str) -> dict[str, Any]:
    with regions.beijing.client(BEIJING_GOVERNOR) as governor:
        answer: dict[str, Any] = governor.measures(subject)
    return answer


@pytest.mark.parametrize("forgery", ["another gateway", "another query", "garbage"])
def test_a_part_that_does_not_check_out_names_its_region_unavailable(
    regions: Regions, listed_twice: str, forgery: str
) -> None:
    ref = _ref(regions.tianjin, listed_twice)
    if forgery == "another gateway":  # Tianjin's genuine part, signed for Hebei
        substitute = _peer_post(regions.tianjin, regions.hebei.gateway.account, [ref]).json()
    elif forgery == "another query":  # Tianjin's genuine part for Beijing, about another subject
        substitute = _peer_post(
            regions.tianjin, regions.beijing.gateway.account, [_ref(regions.tianjin, new_uscc())]
        ).json()
    else:
        substitute = {"lists": {"red": False, "black": False}}

    def swap(document: dict[str, Any]) -> None:
        document.clear()
        document.update(substitute)

    with _tianjin_through(regions, swap):
        document = _beijing_measures(regions, listed_twice)
    answer = document["answer"]
    tianjin = next(r for r in answer["regions"] if r["region"] == TIANJIN)
    assert tianjin["status"] == "unavailable"
    assert tianjin["reason"].startswith("part refused")
    assert "part" not in tianjin
    assert answer["lists"] == {"red": True, "black": False}  # Beijing's own red list still counts
    assert answer["listedBy"] == [BEIJING]
    assert _statuses(answer["regions"])[HEBEI] == "answered"
    assert document["parts"]
    assert all(p["part"]["gateway"] != regions.tianjin.gateway.account.address for p in document["parts"])


def test_a_slow_region_is_named_unavailable_within_the_bound(regions: Regions, listed_twice: str) -> None:
    """Tianjin's URL points at a socket that accepts and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        regions.set_url("gateway-tianjin", f"http://127.0.0.1:{silent.getsockname()[1]}")
        try:
            answer = _beijing_measures(regions, listed_twice)["answer"]
        finally:
            regions.set_url("gateway-tianjin", regions.tianjin.url)
    tianjin = next(r for r in answer["regions"] if r["region"] == TIANJIN)
    assert (tianjin["status"], tianjin["reason"]) == ("unavailable", "timed out")
    assert answer["lists"] == {"red": True, "black": False}


def test_a_region_whose_server_stopped_is_named_and_the_others_still_count(regions: Regions, listed_twice: str) -> None:
    """Tianjin served by a server of its own, then that server stopped: lists, measures and screening name it."""
    with serve_in_thread(regions.tianjin.gateway) as server:
        regions.set_url("gateway-tianjin", server.url)
        try:
            assert _beijing_measures(regions, listed_twice)["answer"]["lists"] == {"red": True, "black": True}
            server.stop()
            with regions.hebei.client(HEBEI_GOVERNOR) as governor:
                measures = governor.measures(listed_twice)
                screening = governor.screening([listed_twice], PURPOSE)
        finally:
            regions.set_url("gateway-tianjin", regions.tianjin.url)
    for regions_json in (measures["answer"]["regions"], screening["screening"]["regions"]):
        assert _statuses(regions_json) == {BEIJING: "answered", TIANJIN: "unavailable", HEBEI: "answered"}
        assert next(r for r in regions_json if r["region"] == TIANJIN)["reason"].startswith("unreachable")
    assert measures["answer"]["lists"] == {"red": True, "black": False}
    assert measures["answer"]["listedBy"] == [BEIJING]
    assert screening["lines"][0]["lists"] == {"red": True, "black": False}
    assert [p["part"]["region"] for p in screening["parts"]] == [BEIJING]
    assert verify_screening(screening).valid
