"""Beijing, Tianjin and Hebei gateways on one chain: cross-region reads through PEER requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain_client import Chain, Role, devnet_for
from gateway.client import GatewayClient, GatewayClientError
from gateway.peers import HEADER_ON_BEHALF, OriginalRequest, PeerError, checked_answer
from gateway.request_auth import sign_request
from gateway.settings import Settings
from gateway.storage import StoredRecord
from tests.support.hardhat import free_port
from tests.support.payloads import INSPECTION, SAMR, TAX, TAX_ARREARS, inspection, tax_arrears
from tests.support.served import Served, serve_gateway, wait_until
from tests.support.subjects import new_uscc

TIANJIN_DEPARTMENT = "samr-tianjin"
AUDITOR = "auditor-hebei"


@dataclass
class Regions:
    beijing: Served
    tianjin: Served
    hebei: Served

    def set_url(self, label: str, url: str) -> None:
        """Register a gateway's URL on chain (2-of-3 governors) and wait until every gateway sees it."""
        stack = self.beijing.gateway.stack
        devnet = devnet_for(stack.chain.chain_id)
        account = devnet.by_label(label).account.address
        governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][:2]
        stack.consortium.govern(governors, stack.consortium.set_gateway_url_call(account, url))
        for served in (self.beijing, self.tianjin, self.hebei):
            wait_until(lambda s=served: _url_of(s, account) == url, what="gateway URL on chain")  # type: ignore[misc]


def _url_of(served: Served, account: str) -> str | None:
    member = served.gateway.view.member(account)
    return member.gateway_url if member else None


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    chain = Chain.embedded()
    beijing_dir = tmp_path_factory.mktemp("beijing")
    common: dict[str, Any] = {"batch_interval_s": 0.1, "chain_poll_interval_s": 0.2, "peer_reads": True}
    with ExitStack() as stack:
        beijing = stack.enter_context(serve_gateway(Settings(data_dir=beijing_dir, **common), chain=chain))
        others = {
            label: stack.enter_context(
                serve_gateway(
                    Settings(
                        data_dir=tmp_path_factory.mktemp(label),
                        deployments_dir=beijing_dir / "deployments",
                        dev_gateway_label=f"gateway-{label}",
                        **common,
                    ),
                    chain=chain,
                )
            )
            for label in ("tianjin", "hebei")
        }
        running = Regions(beijing, others["tianjin"], others["hebei"])
        for label, served in (("beijing", beijing), ("tianjin", running.tianjin), ("hebei", running.hebei)):
            running.set_url(f"gateway-{label}", served.url)
        yield running


def stored_count(served: Served) -> int:
    with Session(served.gateway.engine) as session:
        return int(session.scalar(select(func.count()).select_from(StoredRecord)) or 0)


def test_a_tianjin_department_reads_a_beijing_class_c_record_through_its_own_gateway(regions: Regions) -> None:
    """Beijing decides and logs the release for the Tianjin department; Tianjin checks and keeps nothing."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record)
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
    regions.beijing.wait_anchored(record)
    with regions.tianjin.client("governor-tianjin") as governor, pytest.raises(GatewayClientError) as refused:
        governor.record(record.record_id_hex)
    assert (refused.value.status, refused.value.code) == (403, "ACCESS_ROLE_REQUIRED")


def test_class_b_needs_the_subject_s_consent_for_that_department(regions: Regions) -> None:
    subject = new_uscc()
    record = regions.beijing.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    regions.beijing.wait_anchored(record)
    reader = regions.tianjin.account(TIANJIN_DEPARTMENT)
    with regions.tianjin.client(TIANJIN_DEPARTMENT) as department:
        with pytest.raises(GatewayClientError) as refused:
            department.record(record.record_id_hex, purpose="credit-review")
        assert refused.value.code == "ACCESS_CONSENT_REQUIRED"
        with regions.beijing.client(TIANJIN_DEPARTMENT) as at_beijing:
            at_beijing.create_consent(
                subject=subject,
                requester=reader.address,
                purpose="credit-review",
                expires_at=regions.beijing.gateway.now() + 3600,
                document_hash=b"\x11" * 32,
            )
        view = department.record(record.record_id_hex, purpose="credit-review")
    assert view["payload"] == record.submission["payload"]


def test_a_record_no_region_holds_is_not_found(regions: Regions) -> None:
    with regions.tianjin.client(TIANJIN_DEPARTMENT) as department, pytest.raises(GatewayClientError) as refused:
        department.record("0x" + "77" * 32)
    assert (refused.value.status, refused.value.code) == (404, "RECORD_NOT_FOUND")


def test_a_tampered_answer_is_detected_refused_and_counted(regions: Regions) -> None:
    """Tianjin checks a holder's answer against the chain: a changed payload never passes."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record)
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


def test_beijing_down_means_503_never_stale_data(regions: Regions) -> None:
    """Runs last: Beijing's registered URL answers nothing."""
    record = regions.beijing.submit(SAMR, INSPECTION, new_uscc(), inspection())
    regions.beijing.wait_anchored(record)
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
    original = OriginalRequest.of(
        "GET", path, [], sign_request(department, "GET", path, [], b"", timestamp=int(time.time()))
    )
    gateway_account = regions.tianjin.gateway.account
    peer_path = f"/peer/v1/records/{record_id}"
    with GatewayClient(regions.beijing.url, gateway_account) as peer:
        response = peer.request("GET", peer_path, headers={HEADER_ON_BEHALF: original.encode()})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
