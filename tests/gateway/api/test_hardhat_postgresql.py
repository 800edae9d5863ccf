"""The main flows on a real Hardhat node and the real PostgreSQL service, over HTTP.

A gateway started with `rpc_url` and `database_url` as in production: records submitted
in bulk, anchored by the worker, read by class, proved and verified by a separate
connection to the node, access-log entries anchored and verified from the chain alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from chain_client import Chain, verify_access_log_entry, verify_bundle
from chain_client.dev import DevChain
from credit_client.client import GatewayClientError
from gateway.infra.settings import Settings
from gateway.infra.storage import AnchorBatch, BatchState, StoredRecord
from tests.support.databases import postgres_database
from tests.support.hardhat import HardhatNode, start_node
from tests.support.payloads import PENALTY, SAMR, SECRET_MARK, TAX, TAX_ARREARS, penalty, tax_arrears
from tests.support.served import Served, serve_gateway, wait_until
from tests.support.subject_keys import bind_subject, consent_for
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.hardhat
MAX_AGE_S = 2.0  # how long answers are served from the index and role cache once the node is down


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HardhatNode]:
    """A Hardhat node of this module's own (other tests revert snapshots on the shared one)."""
    started = start_node(tmp_path_factory.mktemp("hardhat-gateway") / "node.log")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def served(node: HardhatNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway on the Hardhat node and a fresh PostgreSQL database."""
    data_dir: Path = tmp_path_factory.mktemp("gateway-pg")
    with postgres_database() as url:
        settings = Settings(
            rpc_url=node.url,
            database_url=url,
            data_dir=data_dir,
            batch_interval_s=0.2,
            chain_poll_interval_s=0.2,
            roles_max_age_s=MAX_AGE_S,
        )
        with serve_gateway(settings) as running:
            yield running


@pytest.fixture(scope="module")
def verifier_chain(node: HardhatNode) -> Chain:
    """A connection of the verifier's own: it trusts the node, not the gateway."""
    return DevChain.connect(node.url)


def test_a_bulk_is_anchored_on_hardhat_and_its_proofs_verify(served: Served, verifier_chain: Chain) -> None:
    """200 records in one bulk are stored in PostgreSQL, anchored on Hardhat, and each proof verifies online."""
    assert served.gateway.engine.dialect.name == "postgresql"
    records = [served.prepare(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(200)]
    with served.client(SAMR) as client:
        result = client.submit_records([r.submission for r in records])
    assert result["accepted"] == 200
    served.wait_anchored(*records, timeout=60)
    with served.client(SAMR) as client:
        for record in records[::50]:
            bundle = client.proof(record.record_id_hex, disclose=["violation"])
            report = verify_bundle(bundle, verifier_chain)
            assert report.valid, report.failed


def test_reads_by_class_and_consent_on_hardhat(served: Served) -> None:
    """Class A is public fields for a governor; class B needs consent, then releases in full."""
    subject = new_uscc()
    public = served.submit(SAMR, PENALTY, subject, penalty())
    private = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    served.wait_anchored(public, private, timeout=60)
    with served.client("governor-beijing") as governor:
        view = governor.record(public.record_id_hex)
        assert view["view"] == "public"
        assert SECRET_MARK not in str(view)
    with served.client("samr-tianjin") as reader:
        with pytest.raises(GatewayClientError) as caught:
            reader.record(private.record_id_hex, purpose="loan-review")
        assert caught.value.code == "ACCESS_CONSENT_REQUIRED"
        with bind_subject(served, subject) as company:
            reader.create_consent(consent_for(served, company, "samr-tianjin", "loan-review"))
        assert reader.record(private.record_id_hex, purpose="loan-review")["payload"] == private.submission["payload"]
    with served.client() as anonymous:
        (disclosure,) = anonymous.disclosures(subject)["disclosures"]
    assert verify_bundle(disclosure["bundle"], served.gateway.stack.chain).valid


def test_access_log_entries_anchor_on_hardhat_and_verify_from_the_chain(served: Served, verifier_chain: Chain) -> None:
    """Releases are logged, anchored as ACCESS_LOG on Hardhat, and verify with only the chain."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    with served.client("auditor-hebei") as auditor:
        auditor.record(record.record_id_hex, purpose="audit")

        def anchored_entries() -> list[dict[str, object]]:
            entries: list[dict[str, object]] = auditor.access_log(record=record.record_id_hex)["entries"]
            return entries

        wait_until(lambda: all(e["batch"] for e in anchored_entries()), timeout=60, what="access log anchored")
        (document,) = anchored_entries()
    check = verify_access_log_entry(document, verifier_chain)  # type: ignore[arg-type]
    assert check.valid, check.problems


def test_with_the_node_down_records_are_accepted_and_kept_pending(served: Served, node: HardhatNode) -> None:
    """The node stopped: /readyz is 503, records are still accepted (catalog cached) and stay pending,
    reads that need the chain answer 503 CHAIN_UNAVAILABLE once the index is older than its bound.
    Runs last: it stops this module's node."""
    subject = new_uscc()
    warm = served.submit(SAMR, PENALTY, subject, penalty())  # the catalog entry is now cached
    served.wait_anchored(warm, timeout=60)
    node.stop()
    ready = httpx.get(served.url + "/readyz", timeout=30)
    assert (ready.status_code, ready.json()["chain"]) == (503, False)
    record = served.submit(SAMR, PENALTY, subject, penalty(violation="停机期间受理"))

    def public_read() -> tuple[int, str]:
        try:
            with served.client() as anonymous:
                anonymous.disclosures(subject)
        except GatewayClientError as exc:
            return exc.status, exc.code
        return 200, "ok"

    # Served from the chain-state index until its last pass is roles_max_age_s old, then fail closed.
    wait_until(lambda: public_read() == (503, "CHAIN_UNAVAILABLE"), timeout=MAX_AGE_S + 30, what="503")
    with Session(served.gateway.engine) as session:
        row = session.get_one(StoredRecord, record.leaf.record_id)
        batch = session.get(AnchorBatch, row.batch_id) if row.batch_id is not None else None
        assert batch is None or batch.state == BatchState.BUILDING  # cut into a batch, not sent
