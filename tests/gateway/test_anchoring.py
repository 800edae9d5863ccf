"""The anchoring worker on real databases and real chains: batches, crashes, outages, confirmations."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.types import RPCEndpoint

from chain_client import (
    BatchKind,
    Chain,
    ContentCommitment,
    Devnet,
    ProofBundle,
    RecordLeaf,
    SignedRecord,
    Stack,
    SubjectOpening,
    verify_bundle,
)
from gateway.infra.anchoring import ANCHOR_BATCH_GAS, AnchoringConfig, AnchoringWorker
from gateway.infra.envelope import Keyring
from gateway.infra.storage import AnchorBatch, BatchState, OutboxKind, StoredRecord
from gateway.records.intake import store_record
from gateway.records.reads import proof_bundle
from tests.support.hardhat import free_port


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate()


def accept(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, entry: bytes, count: int
) -> list[bytes]:
    """Store `count` signed penalty records as the gateway accepts them; their record ids."""
    ids = []
    with Session(engine) as session, session.begin():
        for i in range(count):
            payload = {"decision": {"fine": 1000 + i}, "subjectName": f"企业{i}"}
            commitment = ContentCommitment(payload, os.urandom(32))
            subject = SubjectOpening(os.urandom(32), os.urandom(32))
            leaf = RecordLeaf.create(
                catalog_id=entry,
                catalog_version=1,
                subject_tag=subject.tag(),
                content_hash=commitment.content_hash,
                provider=provider.address,
                issued_at=1_760_000_000 + i,
            )
            signed = SignedRecord(leaf, stack.ledger.sign_record(provider, leaf))
            assert store_record(session, keyring, signed, subject, json.dumps(payload).encode())
            ids.append(leaf.record_id)
    return ids


def bundle_of(stack: Stack, engine: Engine, record_id: bytes) -> ProofBundle:
    """The proof bundle of a stored, anchored record, rebuilt from the database."""
    with Session(engine) as session:
        return proof_bundle(session, stack, session.get_one(StoredRecord, record_id))


def anchor_events(stack: Stack, root: bytes) -> int:
    logs = stack.ledger._contract.events.BatchAnchored().get_logs(argument_filters={"root": root}, from_block=0)
    return len(logs)


def test_pending_records_are_anchored_in_batches_and_verify(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """Seven records with batches of three make three anchored batches; every record's bundle verifies on chain."""
    ids = accept(stack, engine, keyring, provider, penalty_entry, 7)
    worker = AnchoringWorker(engine, stack, gateway, AnchoringConfig(batch_size=3, confirmations=1))
    assert worker.pending_count() == 7
    report = worker.run_once()
    assert (report.anchored_batches, report.anchored_records, report.pending_records) == (3, 7, 0)
    assert worker.lag_seconds() == 0.0
    with Session(engine) as session:
        batches = session.scalars(select(AnchorBatch).order_by(AnchorBatch.id)).all()
        assert [(b.state, b.count) for b in batches] == [(BatchState.ANCHORED, 3)] * 2 + [(BatchState.ANCHORED, 1)]
        roots = [b.root for b in batches]
    assert [anchor_events(stack, root) for root in roots] == [1, 1, 1]
    for record_id in ids:
        report = verify_bundle(bundle_of(stack, engine, record_id), stack.chain)
        assert report.valid, report.failed


def test_records_wait_while_the_chain_is_down(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """With the node unreachable nothing is anchored and nothing is lost; when it answers again all is anchored."""
    accept(stack, engine, keyring, provider, penalty_entry, 4)
    dead_url = f"http://127.0.0.1:{free_port()}"
    down = Chain(Web3(Web3.HTTPProvider(dead_url, request_kwargs={"timeout": 2})), url=dead_url)
    down._chain_id = stack.chain.chain_id  # what a gateway knew before the outage
    outage = AnchoringWorker(engine, Stack(down, *_contracts_on(down, stack)), gateway)
    report = outage.run_once()
    assert (report.chain_available, report.anchored_records, report.pending_records) == (False, 0, 0)
    assert outage.lag_seconds() > 0
    with Session(engine) as session:
        assert [b.state for b in session.scalars(select(AnchorBatch))] == [BatchState.BUILDING]
    report = AnchoringWorker(engine, stack, gateway).run_once()
    assert (report.chain_available, report.anchored_records) == (True, 4)


def test_a_crash_before_sending_resends_once(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """A batch persisted as SUBMITTED whose transaction never left is sent again on restart, and anchored once."""
    accept(stack, engine, keyring, provider, penalty_entry, 3)
    worker = AnchoringWorker(engine, stack, gateway)
    batch_id = worker._cut_batch(OutboxKind.RECORD)
    assert batch_id is not None
    with Session(engine) as session, session.begin():
        batch = session.get_one(AnchorBatch, batch_id)
        batch.state, batch.tx_hash = BatchState.SUBMITTED, os.urandom(32)  # the process died before send_raw
        root = batch.root
    report = AnchoringWorker(engine, stack, gateway).run_once()
    assert report.anchored_records == 3
    assert anchor_events(stack, root) == 1


def test_a_crash_after_sending_confirms_without_resending(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """A batch sent but not yet confirmed when the process died is confirmed on restart, not anchored twice."""
    accept(stack, engine, keyring, provider, penalty_entry, 3)
    worker = AnchoringWorker(engine, stack, gateway)
    batch_id = worker._cut_batch(OutboxKind.RECORD)
    assert batch_id is not None
    with Session(engine) as session:
        batch = session.get_one(AnchorBatch, batch_id)
        worker._submit(session, batch)  # signed, persisted, sent; the process dies before confirming
        root, tx_hash = batch.root, batch.tx_hash
    report = AnchoringWorker(engine, stack, gateway).run_once()
    assert report.anchored_records == 3
    assert anchor_events(stack, root) == 1
    with Session(engine) as session:
        assert session.get_one(AnchorBatch, batch_id).tx_hash == tx_hash


def test_a_root_anchored_by_a_lost_transaction_is_adopted(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """If the root is on chain under a transaction the database does not know, the worker adopts it."""
    accept(stack, engine, keyring, provider, penalty_entry, 2)
    worker = AnchoringWorker(engine, stack, gateway)
    batch_id = worker._cut_batch(OutboxKind.RECORD)
    with Session(engine) as session:
        batch = session.get_one(AnchorBatch, batch_id)
        receipt = stack.ledger.anchor_batch(gateway, batch.root, batch.count)  # anchored, then the crash
        root = batch.root
    report = worker.run_once()
    assert report.anchored_records == 2
    assert anchor_events(stack, root) == 1
    with Session(engine) as session:
        assert session.get_one(AnchorBatch, batch_id).tx_hash == bytes(receipt["transactionHash"])


@pytest.mark.parametrize("kind", [BatchKind.RECORDS, BatchKind.ACCESS_LOG], ids=["same-kind", "other-kind"])
def test_another_gateway_anchoring_our_pending_root_is_not_adopted(
    stack: Stack,
    engine: Engine,
    keyring: Keyring,
    devnet: Devnet,
    provider: LocalAccount,
    gateway: LocalAccount,
    penalty_entry: bytes,
    kind: BatchKind,
) -> None:
    """A root another gateway anchored first (front-run from the mempool) is anchored again by our worker, as ours,
    and its bundles verify."""
    foreign = devnet.by_label("gateway-tianjin").account
    ids = accept(stack, engine, keyring, provider, penalty_entry, 2)
    worker = AnchoringWorker(engine, stack, gateway)
    batch_id = worker._cut_batch(OutboxKind.RECORD)
    with Session(engine) as session:
        root = session.get_one(AnchorBatch, batch_id).root
    stack.ledger.anchor_batch(foreign, root, 2, kind)
    report = worker.run_once()
    assert (report.anchored_records, report.failed_batches) == (2, 0)
    assert anchor_events(stack, root) == 2
    with Session(engine) as session:
        tx_hash = session.get_one(AnchorBatch, batch_id).tx_hash
    assert tx_hash is not None
    assert stack.chain.w3.eth.get_transaction(tx_hash)["from"] == gateway.address
    assert stack.ledger.batch(gateway.address, root).kind == BatchKind.RECORDS
    for record_id in ids:
        report_ = verify_bundle(bundle_of(stack, engine, record_id).to_json(), stack.chain)
        assert report_.valid, report_.checks


def test_a_failing_batch_does_not_stop_the_round(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """A batch whose anchoring reverts is logged and left for later; the round anchors the other batches."""
    with Session(engine) as session, session.begin():
        # A batch the contract refuses (more leaves than a batch may hold), first in the round.
        session.add(AnchorBatch(kind=OutboxKind.RECORD, state=BatchState.BUILDING, root=os.urandom(32), count=2**24))
    ids = accept(stack, engine, keyring, provider, penalty_entry, 3)
    report = AnchoringWorker(engine, stack, gateway).run_once()
    assert (report.anchored_records, report.failed_batches, report.chain_available) == (3, 1, True)
    assert verify_bundle(bundle_of(stack, engine, ids[0]).to_json(), stack.chain).valid


def test_confirmations_are_awaited(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """With three confirmations a batch stays SUBMITTED until two more blocks are mined."""
    accept(stack, engine, keyring, provider, penalty_entry, 2)
    worker = AnchoringWorker(engine, stack, gateway, AnchoringConfig(confirmations=3))
    assert worker.run_once().anchored_records == 0
    stack.chain.mine()
    assert worker.run_once().anchored_records == 0
    stack.chain.mine()
    assert worker.run_once().anchored_records == 2


def _contracts_on(chain: Chain, stack: Stack) -> tuple[object, ...]:
    from chain_client import CalendarRegistry, CommitmentRegistry, Consortium, CreditCatalog, CreditLedger
    from chain_client.contracts.subject_keys import SubjectKeys

    return (
        Consortium(chain, stack.consortium.address),
        CreditCatalog(chain, stack.catalog.address),
        CreditLedger(chain, stack.ledger.address),
        CalendarRegistry(chain, stack.calendars.address),
        CommitmentRegistry(chain, stack.commitments.address),
        SubjectKeys(chain, stack.subject_keys.address),
        stack.record,
    )


@pytest.mark.parametrize("kind", [BatchKind.RECORDS, BatchKind.ACCESS_LOG])
def test_the_fixed_anchoring_gas_limit_covers_an_anchoring_with_room_to_spare(
    stack: Stack, gateway: LocalAccount, kind: BatchKind
) -> None:
    """The worker sends anchorBatch with ANCHOR_BATCH_GAS instead of an estimate: at least twice what one uses."""
    first = stack.ledger.anchor_batch(gateway, os.urandom(32), 100_000, kind)
    later = stack.ledger.anchor_batch(gateway, os.urandom(32), 1, kind)
    assert max(int(first["gasUsed"]), int(later["gasUsed"])) * 2 <= ANCHOR_BATCH_GAS


@contextlib.contextmanager
def mining_paused(chain: Chain) -> Iterator[None]:
    """Transactions wait in the node's pool until the block exits, as they do on a chain with block times."""
    if chain.is_embedded:
        tester = chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        tester.disable_auto_mine_transactions()
        try:
            yield
        finally:
            tester.enable_auto_mine_transactions()  # mines what waits
        return
    chain.w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
    try:
        yield
    finally:
        chain.w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])
        chain.mine()


def test_a_backlog_is_sent_without_waiting_for_each_batch_to_be_mined(
    stack: Stack, engine: Engine, keyring: Keyring, provider: LocalAccount, gateway: LocalAccount, penalty_entry: bytes
) -> None:
    """Up to max_in_flight batches go out in one round while none is mined yet; each is anchored once."""
    accept(stack, engine, keyring, provider, penalty_entry, 12)
    worker = AnchoringWorker(engine, stack, gateway, AnchoringConfig(batch_size=3, max_in_flight=3))
    with mining_paused(stack.chain):
        report = worker.run_once()
        assert (report.anchored_records, report.pending_records) == (0, 3)
        with Session(engine) as session:
            states = [b.state for b in session.scalars(select(AnchorBatch).order_by(AnchorBatch.id))]
        assert states == [BatchState.SUBMITTED] * 3
    assert worker.run_once().anchored_records == 12  # three mined in the meantime, the fourth sent now
    with Session(engine) as session:
        batches = list(session.scalars(select(AnchorBatch)))
    assert [b.state for b in batches] == [BatchState.ANCHORED] * 4
    assert len({b.tx_hash for b in batches}) == 4
    assert all(anchor_events(stack, b.root) == 1 for b in batches)
