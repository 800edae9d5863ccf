"""Beijing, Tianjin and Hebei gateways on one consortium chain, over HTTP.

The module runs twice: on the embedded py-evm chain, and on a Hardhat node of its own
that each gateway reaches by JSON-RPC. Beijing deploys the demo consortium, Tianjin and
Hebei attach to Beijing's deployment record, and each registers its URL on chain. A
department reads another region's record through its own gateway (a PEER request that
the holder decides and logs); a Hebei auditor verifies both regions' proof bundles and
Beijing's access-log entry of a release with a chain connection of its own.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain_client import Role, devnet_for, verify_access_log_entry, verify_bundle
from credit_client.client import GatewayClient, GatewayClientError
from gateway.infra.request_auth import sign_request
from gateway.infra.storage import RequestNonce, StoredRecord
from gateway.records.peers import HEADER_ON_BEHALF, OriginalRequest, PeerError, checked_answer
from gateway.serving import serve_app_in_thread
from tests.support.calendars import labelled_test_calendar
from tests.support.hardhat import free_port
from tests.support.payloads import (
    INSPECTION,
    SAMR,
    TAX,
    TAX_ARREARS,
    TJ_PENALTY,
    inspection,
    tax_arrears,
    tianjin_penalty,
)
from tests.support.regions import WAIT_S, Regions, three_regions
from tests.support.served import Served, wait_until
from tests.support.subject_keys import bind_subject, consent_for
from tests.support.subjects import new_uscc
from tests.support.tampering import tampering_proxy

TIANJIN_DEPARTMENT = "samr-tianjin"
AUDITOR = "auditor-hebei"


@pytest.fixture(scope="module", params=["embedded", pytest.param("hardhat", marks=pytest.mark.hardhat)])
def regions(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    """Three gateways on one chain: the embedded chain, or a Hardhat node started (and stopped) for this module."""
    with three_regions(request.param, tmp_path_factory) as running:
        yield running


def stored_count(served: Served) -> int:
    with Session(served.gateway.engine) as session:
        return int(session.scalar(select(func.count()).select_from(StoredRecord)) or 0)


def test_a_tianjin_department_reads_a_beijing_class_c_record_through_its_own_gateway(regions: Regions) -> None:
    """Beijing decides and logs the release for the Tianjin department; Tianjin checks and keeps nothing."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)
    kept_before = stored_count(regions.tianjin)
    with regions.tianjin.client(TIANJIN_DEPARTMENT) as department:
        view = department.record(record.record_id_hex, purpose="joint supervision")
    assert (view["view"], view["payload"]) == ("full", record.submission["payload"])
    assert stored_count(regions.tianjin) == kept_before
    with regions.beijing.client(AUDITOR) as auditor:
        (logged,) = auditor.access_log(record=record.record_id_hex)["entries"]
    assert logged["entry"]["requester"] == regions.tianjin.account(TIANJIN_DEPARTMENT).address
    assert logged["entry"]["purpose"] == "joint supervision"


def test_the_holder_applies_the_department_s_rights(regions: Regions) -> None:
    """A Tianjin governor (no PROVIDER or AUDITOR role) is refused by Beijing, with Beijing's code."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)
    with regions.tianjin.client("governor-tianjin") as governor, pytest.raises(GatewayClientError) as refused:
        governor.record(record.record_id_hex)
    assert (refused.value.status, refused.value.code) == (403, "ACCESS_ROLE_REQUIRED")


def test_class_b_needs_the_subject_s_consent_for_that_department(regions: Regions) -> None:
    subject = new_uscc()
    record = regions.beijing.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)
    reader = regions.tianjin.account(TIANJIN_DEPARTMENT)
    with regions.tianjin.client(TIANJIN_DEPARTMENT) as department:
        with pytest.raises(GatewayClientError) as refused:
            department.record(record.record_id_hex, purpose="credit-review")
        assert refused.value.code == "ACCESS_CONSENT_REQUIRED"
        with regions.beijing.client(TIANJIN_DEPARTMENT) as at_beijing:
            with bind_subject(regions.beijing, subject) as company:
                consent = at_beijing.create_consent(
                    consent_for(regions.beijing, company, TIANJIN_DEPARTMENT, "credit-review")
                )
            assert consent["requester"] == reader.address
        view = department.record(record.record_id_hex, purpose="credit-review")
    assert view["payload"] == record.submission["payload"]


def test_a_record_no_region_holds_is_not_found(regions: Regions) -> None:
    with regions.tianjin.client(TIANJIN_DEPARTMENT) as department, pytest.raises(GatewayClientError) as refused:
        department.record("0x" + "77" * 32)
    assert (refused.value.status, refused.value.code) == (404, "RECORD_NOT_FOUND")


def test_a_tampered_answer_is_detected_refused_and_counted(regions: Regions) -> None:
    """Tianjin checks a holder's answer against the chain: a changed payload never passes."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)
    answer = _peer_answer(regions, record.record_id_hex)
    assert checked_answer(regions.tianjin.gateway, record.record_id_hex, answer, holder="beijing")["payload"]
    answer["view"]["payload"]["result"] = "passed"
    failures = regions.tianjin.gateway.metrics.peer_failures.labels("invalid")
    before = failures._value.get()
    with pytest.raises(PeerError) as refused:
        checked_answer(regions.tianjin.gateway, record.record_id_hex, answer, holder="beijing")
    assert refused.value.code == "PEER_RESPONSE_INVALID"
    assert "contentHash" in refused.value.detail["failed"]
    assert failures._value.get() == before + 1


def test_a_hebei_auditor_verifies_both_regions_and_the_release_from_the_chain_alone(regions: Regions) -> None:
    """A Hebei auditor verifies Beijing and Tianjin proof bundles and the Beijing access-log entry for that release,
    using only the chain."""
    beijing_record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    tianjin_record = regions.tianjin.submit(TIANJIN_DEPARTMENT, TJ_PENALTY, new_uscc(), tianjin_penalty())
    regions.beijing.wait_anchored(beijing_record, timeout=WAIT_S)
    regions.tianjin.wait_anchored(tianjin_record, timeout=WAIT_S)
    with regions.tianjin.client(TIANJIN_DEPARTMENT) as department:
        department.record(beijing_record.record_id_hex, purpose="joint supervision")
        tianjin_bundle = department.proof(tianjin_record.record_id_hex, disclose=["violation", "decidedOn"])
    with regions.beijing.client(SAMR) as provider:
        beijing_bundle = provider.proof(beijing_record.record_id_hex)  # discloses nothing: class C stays private
    with regions.beijing.client(AUDITOR) as auditor:

        def logged() -> list[dict[str, Any]]:
            entries: list[dict[str, Any]] = auditor.access_log(record=beijing_record.record_id_hex)["entries"]
            return entries

        wait_until(lambda: bool(logged()) and all(e["batch"] for e in logged()), timeout=WAIT_S, what="entry anchored")
        (document,) = logged()

    chain = regions.own_chain()
    for bundle in (beijing_bundle, tianjin_bundle):
        report = verify_bundle(bundle, chain)
        assert report.valid, [(c.name, c.detail) for c in report.failed]
    assert beijing_bundle["chain"] == tianjin_bundle["chain"]  # one consortium, one ledger
    assert tianjin_bundle["record"]["provider"] == regions.tianjin.account(TIANJIN_DEPARTMENT).address
    check = verify_access_log_entry(document, chain)
    assert check.valid, check.problems
    assert document["entry"]["requester"] == regions.tianjin.account(TIANJIN_DEPARTMENT).address
    assert document["entry"]["recordId"] == beijing_record.record_id_hex

    forged_entry = copy.deepcopy(document)
    forged_entry["entry"]["requester"] = regions.hebei.account(AUDITOR).address
    forged_check = verify_access_log_entry(forged_entry, chain)
    assert not forged_check.valid
    assert any("entryHash" in p for p in forged_check.problems), forged_check.problems
    forged_bundle = copy.deepcopy(tianjin_bundle)
    forged_bundle["disclosure"]["fields"]["violation"]["value"] = "无违法行为"
    forged_report = verify_bundle(forged_bundle, chain)
    assert not forged_report.valid
    assert [c.name for c in forged_report.failed] == ["disclosure"]


def test_a_holder_answering_a_tampered_payload_over_http_is_refused_and_reported(regions: Regions) -> None:
    """Beijing's registered URL leads through a proxy that changes payloads: Tianjin answers 502 with a code."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)

    def passed_inspection(answer: dict[str, Any]) -> None:
        answer["view"]["payload"]["result"] = "passed"

    failures = regions.tianjin.gateway.metrics.peer_failures.labels("invalid")
    before = failures._value.get()
    with serve_app_in_thread(tampering_proxy(regions.beijing.url, passed_inspection)) as proxy:
        regions.set_url("gateway-beijing", proxy.url)
        try:
            with regions.tianjin.client(TIANJIN_DEPARTMENT) as department, pytest.raises(GatewayClientError) as refused:
                department.record(record.record_id_hex)
        finally:
            regions.set_url("gateway-beijing", regions.beijing.url)
    assert (refused.value.status, refused.value.code) == (502, "PEER_RESPONSE_INVALID")
    assert refused.value.detail["failed"] == ["contentHash"]
    assert failures._value.get() == before + 1


def test_beijing_down_means_503_never_stale_data(regions: Regions) -> None:
    """Runs last: Beijing's registered URL answers nothing."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)
    regions.set_url("gateway-beijing", f"http://127.0.0.1:{free_port()}")
    try:
        with regions.tianjin.client(TIANJIN_DEPARTMENT) as department, pytest.raises(GatewayClientError) as refused:
            department.record(record.record_id_hex)
        assert (refused.value.status, refused.value.code) == (503, "PEER_UNAVAILABLE")
    finally:
        regions.set_url("gateway-beijing", regions.beijing.url)


def _peer_answer(regions: Regions, record_id: str) -> dict[str, Any]:
    """Beijing's answer to Tianjin's PEER request for a Tianjin department, fetched as Tianjin would."""
    department = regions.tianjin.account(TIANJIN_DEPARTMENT)
    path = f"/v1/records/{record_id}"
    query = [("holder", regions.beijing.gateway.account.address)]
    audience = regions.tianjin.gateway.audience
    original = OriginalRequest.of(
        "GET",
        path,
        query,
        sign_request(department, "GET", path, query, b"", audience=audience, timestamp=int(time.time())),
    )
    gateway_account = regions.tianjin.gateway.account
    peer_path = f"/peer/v1/records/{record_id}"
    with GatewayClient(regions.beijing.url, gateway_account) as peer:
        response = peer.request("GET", peer_path, headers={HEADER_ON_BEHALF: original.encode()})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_three_regions_count_the_same_deadline(regions: Regions) -> None:
    """Beijing, Tianjin and Hebei previews give one deadline and one set of calendars for the same commitment,
    before and after the consortium adopts a (test-only) year."""
    gateways = (regions.beijing, regions.tianjin, regions.hebei)

    def previews(accepted_on: str) -> list[Any]:
        answers = []
        for served in gateways:
            with served.client() as public:
                answers.append(public.deadline_preview(accepted_on=accepted_on, working_days=7))
        return answers

    national_day = previews("2026-09-30")
    assert [p["dueOn"] for p in national_day] == ["2026-10-15"] * 3
    assert national_day[0] == national_day[1] == national_day[2]

    stack = regions.beijing.gateway.stack
    devnet = devnet_for(stack.chain.chain_id)
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][:2]
    stack.consortium.govern(governors, stack.calendars.adopt_call(labelled_test_calendar(2031)))
    for served in gateways:
        wait_until(
            lambda s=served: s.gateway.view.calendars.latest_version(2031) == 1,  # type: ignore[misc]
            timeout=WAIT_S,
            what="2031 adopted, seen",
        )
    new_year = previews("2030-12-31")
    assert new_year[0] == new_year[1] == new_year[2]
    assert (new_year[0]["dueOn"], new_year[0]["calendars"][0]["year"]) == ("2031-01-10", 2031)


# ------------------------------------------------------------------ issue 16: audience-bound requests, peer reads


def _department_read(regions: Regions, record_id: str, *, holder: str, purpose: str | None = None) -> OriginalRequest:
    """The Tianjin department's read of a record, signed for Tianjin, naming the holder."""
    path = f"/v1/records/{record_id}"
    query = [("holder", holder), *([("purpose", purpose)] if purpose else [])]
    headers = sign_request(
        regions.tianjin.account(TIANJIN_DEPARTMENT),
        "GET",
        path,
        query,
        b"",
        audience=regions.tianjin.gateway.audience,
        timestamp=int(time.time()),
    )
    return OriginalRequest.of("GET", path, query, headers)


def _carry(regions: Regions, carrier: Served, to: Served, record_id: str, original: OriginalRequest) -> Any:
    """A PEER request of `carrier`'s gateway account to `to`, carrying a department's request."""
    with GatewayClient(to.url, carrier.gateway.account) as peer:
        return peer.request("GET", f"/peer/v1/records/{record_id}", headers={HEADER_ON_BEHALF: original.encode()})


def _nonces_of(served: Served, address: str) -> int:
    with Session(served.gateway.engine) as session:
        query = select(func.count()).select_from(RequestNonce).where(RequestNonce.address == address)
        return int(session.scalar(query) or 0)


def test_a_peer_read_goes_to_the_holder_alone_and_cannot_be_hijacked(regions: Regions) -> None:
    """Finding 2. Tianjin finds the holder (Hebei) with a PEER question of its own, and only then the department's
    request, signed for Tianjin and naming Hebei, goes to Hebei alone. Beijing never sees it; a front at Beijing
    that got it anyway could not replay it at Hebei (another audience), nor could Hebei's answer go to anyone else."""
    record = regions.hebei.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.hebei.wait_anchored(record, timeout=WAIT_S)
    department = regions.tianjin.account(TIANJIN_DEPARTMENT).address
    at_beijing = _nonces_of(regions.beijing, department)  # left by earlier reads of Beijing's records
    with regions.tianjin.client(TIANJIN_DEPARTMENT) as client:
        with pytest.raises(GatewayClientError) as named:
            client.call("GET", f"/v1/records/{record.record_id_hex}")
        assert (named.value.status, named.value.code) == (409, "RECORD_HELD_BY_PEER")
        assert named.value.detail == {"holder": regions.hebei.gateway.account.address}
        view = client.record(record.record_id_hex, purpose="joint supervision")  # signs again, naming Hebei
    assert (view["view"], view["heldBy"]) == ("full", regions.hebei.gateway.account.address)
    assert _nonces_of(regions.beijing, department) == at_beijing  # its signed requests never reached Beijing

    # What a front at Beijing would do with a department's request it got: replay it at Hebei as Beijing's PEER.
    hebei = regions.hebei.gateway.account.address
    stolen = _department_read(regions, record.record_id_hex, holder=hebei)
    replayed = _carry(regions, regions.beijing, regions.hebei, record.record_id_hex, stolen)
    assert (replayed.status_code, replayed.json()["code"]) == (401, "AUTH_WRONG_AUDIENCE")
    # ... and the department's own read still works: its nonce was not used up by the refused replay.
    served = _carry(regions, regions.tianjin, regions.hebei, record.record_id_hex, stolen)
    assert served.status_code == 200, served.text
    # A request naming another holder is refused by the one it reaches.
    elsewhere = _department_read(regions, record.record_id_hex, holder=regions.beijing.gateway.account.address)
    refused = _carry(regions, regions.tianjin, regions.hebei, record.record_id_hex, elsewhere)
    assert (refused.status_code, refused.json()["code"]) == (403, "PEER_ON_BEHALF_MISMATCH")


def test_the_holder_decides_with_the_purpose_the_department_signed(regions: Regions) -> None:
    """Finding 3. A PEER adding ?purpose= of its own changes nothing: the holder decides and logs with the
    department's signed purpose, so a consent for another purpose does not open class B."""
    subject = new_uscc()
    record = regions.beijing.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)
    with regions.beijing.client(TIANJIN_DEPARTMENT) as at_beijing, bind_subject(regions.beijing, subject) as company:
        at_beijing.create_consent(consent_for(regions.beijing, company, TIANJIN_DEPARTMENT, "credit-review"))
    original = _department_read(
        regions, record.record_id_hex, holder=regions.beijing.gateway.account.address, purpose="marketing"
    )
    with GatewayClient(regions.beijing.url, regions.tianjin.gateway.account) as peer:
        response = peer.request(
            "GET",
            f"/peer/v1/records/{record.record_id_hex}",
            params=[("purpose", "credit-review")],
            headers={HEADER_ON_BEHALF: original.encode()},
        )
    assert (response.status_code, response.json()["code"]) == (403, "ACCESS_CONSENT_REQUIRED")


def test_the_asking_gateway_takes_status_list_and_publicity_from_the_chain(regions: Regions) -> None:
    """Finding 5. A holder's answer edited to ACTIVE, RED, a later publicUntil and no supersession is served with
    what the chain and the verified bundle say: the edits never reach the department."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record, timeout=WAIT_S)
    with regions.beijing.client(SAMR) as provider:
        provider.revoke(record.record_id_hex, b"\x22" * 32)

    def flattering(answer: dict[str, Any]) -> None:
        view = answer["view"]
        view["status"] = {"status": "ACTIVE", "repairPending": False, "supersededBy": None}
        view["catalog"]["list"] = "RED"
        view["publicUntil"] = 4_102_444_800
        view["anchoring"] = {"state": "anchored", "root": "0x" + "00" * 32}

    with serve_app_in_thread(tampering_proxy(regions.beijing.url, flattering)) as proxy:
        regions.set_url("gateway-beijing", proxy.url)
        try:
            with regions.tianjin.client(TIANJIN_DEPARTMENT) as department:
                view = department.record(record.record_id_hex)
        finally:
            regions.set_url("gateway-beijing", regions.beijing.url)
    assert view["status"]["status"] == "REVOKED"
    assert (
        view["catalog"]["list"]
        == regions.beijing.gateway.view.entry_at(
            bytes.fromhex(view["catalog"]["catalogId"][2:]), view["catalog"]["version"]
        ).list_kind.name
    )
    assert view["publicUntil"] is None  # class C has no publicity
    assert view["anchoring"]["root"] != "0x" + "00" * 32
    assert view["payload"] == record.submission["payload"]


@pytest.mark.parametrize("target", ["tianjin", "hebei"])
def test_a_request_signed_for_beijing_is_refused_at_the_other_regions(regions: Regions, target: str) -> None:
    """Finding 4. A Beijing department's signed POST /v1/records and GET /v1/subjects/{s}/records, replayed at
    Tianjin or Hebei, are refused (AUTH_WRONG_AUDIENCE): nothing is stored, nothing is answered."""
    other: Served = getattr(regions, target)
    record = regions.beijing.prepare(SAMR, INSPECTION, new_uscc(), inspection())
    with regions.beijing.client(SAMR) as beijing:
        body = beijing._http.build_request("POST", "/v1/records", json=record.submission).content
        headers = sign_request(
            beijing.account,  # type: ignore[arg-type]
            "POST",
            "/v1/records",
            [],
            body,
            audience=regions.beijing.gateway.audience,
            timestamp=int(time.time()),
        )
    kept_before = stored_count(other)
    response = httpx.post(
        other.url + "/v1/records", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_WRONG_AUDIENCE")
    assert stored_count(other) == kept_before
    path = f"/v1/subjects/{new_uscc()}/records"
    read = sign_request(
        regions.beijing.account(SAMR),
        "GET",
        path,
        [],
        b"",
        audience=regions.beijing.gateway.audience,
        timestamp=int(time.time()),
    )
    response = httpx.get(other.url + path, headers=read)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_WRONG_AUDIENCE")
    assert httpx.get(regions.beijing.url + path, headers=read).status_code == 200  # where it was meant to go
