"""The chain-state index (issue 17, point 1) equals the contracts' state read by eth_call.

Every lifecycle path is driven on the chain itself, on the embedded py-evm chain and on a
real Hardhat node (the `stack` fixture's two backends): objections filed, rejected,
revoked and corrected, a subject's own objection, revocation, repair requested, approved
and rejected, filings accumulated, and commitments recorded, fulfilled, breached and
withdrawn. After each step the gateway polls, and every record and commitment the test
touched is compared with the contract's view at the index's block. Then: the rebuild, the
confirmations (a step not yet confirmed is not followed, a relayed one shows at once), the
election of one follower among gateways sharing a database, and the index as derived data
(a tampered row or cursor, repaired by a rebuild or by the follower).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from click.testing import CliRunner
from eth_account.signers.local import LocalAccount
from sqlalchemy import select, update

from chain_client import (
    CalendarRef,
    CommitmentKind,
    CommitmentSpec,
    CommitmentStatus,
    CommitmentTerm,
    ObjectionOutcome,
    RecordLeaf,
    RecordStatus,
    Stack,
    Term,
    TermUnit,
    keccak,
    save_deployment,
)
from chain_client.dev import DevChain
from credit_cli.chain_server import serve_chain_in_thread
from credit_cli.main import main
from credit_demo.catalog import open_gateway
from gateway.infra.service import Gateway
from gateway.infra.settings import Settings
from gateway.infra.storage import INDEX_CURSOR, INDEX_RECORDS
from gateway.infra.worker_lease import LEASES
from gateway.lifecycle.relaying import relay
from gateway.serving import serve_in_thread
from tests.chain_client.conftest import MIN_DAYS_BEFORE_REPAIR, AnchoredBatch, anchor, make_leaf
from tests.support.databases import postgres_database

DAY = 24 * 3600
REASON = b"\x05" * 32
EVIDENCE = b"\x5e" * 32
TERM_2026 = CommitmentTerm(dt.date(2026, 3, 2), Term(TermUnit.WORKING_DAYS, 7), (CalendarRef(2026, 1),))


@contextmanager
def gateway_on(stack: Stack, data_dir: Path, **settings: object) -> Iterator[Gateway]:
    """A gateway (no background loops) on the test's chain and deployment, its database in data_dir."""
    save_deployment(stack.record, data_dir / "deployments")
    gateway = open_gateway(Settings(data_dir=data_dir, start_worker=False, **settings), chain=stack.chain)  # type: ignore[arg-type]
    try:
        yield gateway
    finally:
        gateway.stop()


@dataclass
class Touched:
    """The ids a test changed on chain, and the ones it left alone."""

    records: list[bytes] = field(default_factory=list)
    commitments: list[bytes] = field(default_factory=list)


def assert_index_is_the_chain(gateway: Gateway, touched: Touched) -> None:
    """Each touched id's indexed state is the contract's at the index's block (and at the head)."""
    block = gateway.index.position.block
    assert block == gateway.stack.chain.block_number() - gateway.settings.confirmations + 1
    with gateway.engine.connect() as connection:
        states = gateway.index.record_states(connection, touched.records)
        for record_id in touched.records:
            assert states[record_id] == gateway.stack.ledger.state(record_id, block=block), record_id.hex()
        for commitment_id in touched.commitments:
            indexed = gateway.index.commitment(connection, commitment_id)
            assert indexed == gateway.stack.commitments.commitment(commitment_id, block=block), commitment_id.hex()


def indexed_rows(gateway: Gateway) -> list[tuple[object, ...]]:
    """The indexed record states, without the block each was read at (a rebuild reads at other blocks)."""
    table = INDEX_RECORDS
    query = select(table.c.record_id, table.c.status, table.c.repair_pending, table.c.superseded_by)
    with gateway.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(table.c.record_id))]


def spec(stack: Stack, days: int = 7) -> CommitmentSpec:
    return CommitmentSpec(
        subject_tag=os.urandom(32),
        kind=CommitmentKind.INCOMPLETE_ACCEPTANCE,
        doc_hash=os.urandom(32),
        deadline=stack.chain.latest_timestamp() + days * DAY,
        term=TERM_2026,
    )


def breach_leaf(stack: Stack, commitment_id: bytes, department: str) -> RecordLeaf:
    return RecordLeaf.create(
        catalog_id=keccak(b"BJ-WNSX-001"),
        catalog_version=1,
        subject_tag=stack.commitments.commitment(commitment_id).subject_tag,
        content_hash=os.urandom(32),
        provider=department,
        issued_at=1_760_000_000,
        supersedes=bytes(32),
    )


def correction_of(stack: Stack, gateway: LocalAccount, batch: AnchoredBatch, index: int) -> AnchoredBatch:
    original = batch.leaves[index]
    leaf = make_leaf(
        original.catalog_id,
        original.provider,
        subject_tag=original.subject_tag,
        supersedes=original.record_id,
        issued_at=1_760_086_400,
    )
    return anchor(stack, gateway, [leaf])


# ------------------------------------------------------------------- THE test


def test_the_index_equals_the_contract_on_every_lifecycle_path(
    stack: Stack,
    tmp_path: Path,
    gateway: LocalAccount,
    provider: LocalAccount,
    other_provider: LocalAccount,
    penalty_entry: bytes,
) -> None:
    """After each step of every lifecycle path, the follower's index equals eth_call at its block."""
    chain = stack.chain
    assert isinstance(chain, DevChain)
    ledger, registry = stack.ledger, stack.commitments
    department = other_provider  # a PROVIDER member filing on a subject's behalf
    batch = anchor(stack, gateway, [make_leaf(penalty_entry, provider.address) for _ in range(9)])
    touched = Touched(records=[leaf.record_id for leaf in batch.leaves])
    with gateway_on(stack, tmp_path) as gw:

        def step(action: Callable[[], object]) -> None:
            action()
            gw.poll_chain()
            assert_index_is_the_chain(gw, touched)

        step(lambda: None)  # the first pass, from the deployment's block
        assert indexed_rows(gw) == []  # nothing acted on: every record Active, no row
        p = batch.proof
        # Objection filed, then rejected: Disputed, then Active again.
        step(lambda: ledger.file_objection(department, p(0), REASON))
        step(lambda: ledger.resolve_objection(provider, p(0), ObjectionOutcome.REJECTED))
        # Objection upheld by revocation.
        step(lambda: ledger.file_objection(department, p(1), REASON))
        step(lambda: ledger.resolve_objection(provider, p(1), ObjectionOutcome.REVOKED))
        # Objection upheld by a correction: Corrected, supersededBy the correcting record.
        correction = correction_of(stack, gateway, batch, 2)
        touched.records.append(correction.leaves[0].record_id)
        step(lambda: ledger.file_objection(department, p(2), REASON))
        step(lambda: ledger.resolve_objection(provider, p(2), ObjectionOutcome.CORRECTED, correction.proof(0)))
        # The subject's own objection through its gateway, then accumulated filings on the same record.
        step(lambda: ledger.file_subject_objection(gateway, p(3), REASON, EVIDENCE))
        step(lambda: ledger.file_objection(department, p(3), REASON))
        step(lambda: ledger.file_subject_objection(gateway, p(3), REASON, EVIDENCE))
        # Revocation by the provider.
        step(lambda: ledger.revoke(provider, p(4), REASON))
        # Repair: requested (twice, accumulating) and approved after the minimum days; requested and rejected;
        # the subject's own repair request.
        step(lambda: ledger.request_repair(department, p(5), EVIDENCE))
        step(lambda: ledger.request_repair(department, p(5), EVIDENCE))
        step(lambda: ledger.request_repair(department, p(6), EVIDENCE))
        step(lambda: ledger.reject_repair(provider, p(6), REASON))
        step(lambda: ledger.request_subject_repair(gateway, p(7), REASON, EVIDENCE))
        step(lambda: chain.increase_time(MIN_DAYS_BEFORE_REPAIR * DAY))
        step(lambda: ledger.approve_repair(provider, p(5)))
        # Commitments: recorded, then fulfilled, withdrawn, breached (a violation before the deadline) or left.
        ids = [registry.record(provider, spec(stack))[0] for _ in range(4)]
        touched.commitments.extend(ids)
        step(lambda: None)
        fulfilled, withdrawn, breached, _pending = ids
        step(lambda: registry.fulfil(provider, fulfilled))
        step(lambda: registry.withdraw(provider, withdrawn))
        step(
            lambda: registry.breach(provider, breached, breach_leaf(stack, breached, provider.address), violation=True)
        )
        with gw.engine.connect() as connection:
            states = gw.index.record_states(connection, touched.records)
            statuses = [states[leaf.record_id].status for leaf in batch.leaves]
            assert statuses == [
                RecordStatus.ACTIVE,
                RecordStatus.REVOKED,
                RecordStatus.CORRECTED,
                RecordStatus.DISPUTED,
                RecordStatus.REVOKED,
                RecordStatus.REPAIRED,
                RecordStatus.ACTIVE,
                RecordStatus.ACTIVE,
                RecordStatus.ACTIVE,  # never acted on
            ]
            assert states[batch.leaves[2].record_id].superseded_by == correction.leaves[0].record_id
            assert states[batch.leaves[7].record_id].repair_pending
            found = [gw.index.commitment(connection, c) for c in ids]
            assert [c.status for c in found if c is not None] == [
                CommitmentStatus.FULFILLED,
                CommitmentStatus.WITHDRAWN,
                CommitmentStatus.BREACHED,
                CommitmentStatus.PENDING,
            ]
            assert gw.index.pending_due_before(connection, chain.latest_timestamp() + 30 * DAY, None) == [found[3]]
        assert not any(row[0] == batch.leaves[8].record_id for row in indexed_rows(gw))
        # The rebuild derives the same index from the chain alone.
        followed = indexed_rows(gw)
        gw.index.rebuild()
        assert indexed_rows(gw) == followed
        assert_index_is_the_chain(gw, touched)


# ------------------------------------------------------------------ rebuild


def test_rebuild_is_idempotent_and_repairs_a_tampered_row(
    stack: Stack, tmp_path: Path, gateway: LocalAccount, provider: LocalAccount, penalty_entry: bytes
) -> None:
    """The index is derived data: a row edited in the database is served until a rebuild recomputes it."""
    batch = anchor(stack, gateway, [make_leaf(penalty_entry, provider.address) for _ in range(2)])
    stack.ledger.revoke(provider, batch.proof(0), REASON)
    revoked = batch.leaves[0].record_id
    with gateway_on(stack, tmp_path) as gw:
        gw.poll_chain()
        followed = indexed_rows(gw)
        with gw.engine.begin() as connection:
            connection.execute(
                update(INDEX_RECORDS)
                .where(INDEX_RECORDS.c.record_id == revoked)
                .values(status=int(RecordStatus.ACTIVE))
            )
        with gw.engine.connect() as connection:
            assert gw.index.record_state(connection, revoked).status == RecordStatus.ACTIVE  # what the row says
        gw.index.rebuild()
        assert indexed_rows(gw) == followed
        gw.index.rebuild()
        assert indexed_rows(gw) == followed
        assert_index_is_the_chain(gw, Touched(records=[leaf.record_id for leaf in batch.leaves]))


def test_a_cursor_off_the_chain_is_followed_again_from_the_deployment(
    stack: Stack, tmp_path: Path, gateway: LocalAccount, provider: LocalAccount, penalty_entry: bytes
) -> None:
    """A cursor whose block hash the chain does not have (a reorganisation, a reverted development
    chain, or a tampered row) makes the follower clear the index and follow from the deployment."""
    batch = anchor(stack, gateway, [make_leaf(penalty_entry, provider.address)])
    stack.ledger.revoke(provider, batch.proof(0), REASON)
    with gateway_on(stack, tmp_path) as gw:
        gw.poll_chain()
        followed = indexed_rows(gw)
        with gw.engine.begin() as connection:
            connection.execute(update(INDEX_CURSOR).values(block_hash=b"\x13" * 32))
            connection.execute(update(INDEX_RECORDS).values(status=int(RecordStatus.ACTIVE)))
        gw.poll_chain()
        assert indexed_rows(gw) == followed
        assert_index_is_the_chain(gw, Touched(records=[batch.leaves[0].record_id]))


def test_the_rebuild_command(
    stack: Stack, tmp_path: Path, gateway: LocalAccount, provider: LocalAccount, penalty_entry: bytes
) -> None:
    """`credit-ledger index rebuild` recomputes a gateway database's index from the chain at --rpc;
    it refuses while a gateway follows that database."""
    batch = anchor(stack, gateway, [make_leaf(penalty_entry, provider.address)])
    stack.ledger.revoke(provider, batch.proof(0), REASON)
    server = serve_chain_in_thread(stack.chain, port=0) if stack.chain.url is None else None
    url = server.url if server is not None else stack.chain.url
    assert url is not None
    try:
        with gateway_on(stack, tmp_path) as gw:
            gw.poll_chain()
            followed = indexed_rows(gw)
            args = ["index", "rebuild", "--data-dir", str(tmp_path), "--rpc", url]
            refused = CliRunner().invoke(main, args)
            assert refused.exit_code == 2, refused.output
            assert "follows this database's index" in refused.output
            gw.index.stop()  # the follower lets go (a gateway stopped)
            with gw.engine.begin() as connection:
                connection.execute(update(INDEX_RECORDS).values(status=int(RecordStatus.ACTIVE)))
            done = CliRunner().invoke(main, args)
            assert done.exit_code == 0, done.output
            assert f"index rebuilt to block {stack.chain.block_number()}" in done.output
            assert indexed_rows(gw) == followed
    finally:
        if server is not None:
            server.stop()


# ------------------------------------------------------------- confirmations


def test_an_unconfirmed_step_waits_for_its_confirmations_but_a_relayed_one_shows_at_once(
    stack: Stack,
    tmp_path: Path,
    gateway: LocalAccount,
    provider: LocalAccount,
    other_provider: LocalAccount,
    penalty_entry: bytes,
) -> None:
    """With confirmations 3 the follower stays two blocks behind the head; a step this gateway relays
    is in its index from the receipt, and a lagging pass does not undo it."""
    chain = stack.chain
    assert isinstance(chain, DevChain)
    batch = anchor(stack, gateway, [make_leaf(penalty_entry, provider.address) for _ in range(2)])
    relayed, direct = batch.leaves[0].record_id, batch.leaves[1].record_id
    with gateway_on(stack, tmp_path, confirmations=3) as gw:
        gw.poll_chain()
        instruction = stack.ledger.sign_revoke(provider, batch.proof(0), REASON)
        tx = relay(gw, lambda: gw.stack.ledger.relay_revoke(gw.account, batch.proof(0), REASON, instruction))
        receipt_block = int(tx["blockNumber"])
        gw.poll_chain()
        assert gw.index.position.block < receipt_block  # not confirmed yet
        with gw.engine.connect() as connection:
            assert gw.index.record_state(connection, relayed).status == RecordStatus.REVOKED  # read your writes
        filed = stack.ledger.file_objection(other_provider, batch.proof(1), REASON)
        gw.poll_chain()
        assert gw.index.position.block < int(filed["blockNumber"])
        with gw.engine.connect() as connection:
            assert gw.index.record_state(connection, direct).status == RecordStatus.ACTIVE  # not followed yet
        chain.mine()
        chain.mine()
        gw.poll_chain()
        assert gw.index.position.block == int(filed["blockNumber"])
        assert_index_is_the_chain(gw, Touched(records=[relayed, direct]))
        with gw.engine.connect() as connection:
            assert gw.index.record_state(connection, direct).status == RecordStatus.DISPUTED


# ------------------------------------------------------------------ election


def _follower_gauges(gateways: list[Gateway]) -> list[float]:
    return [g.metrics.index_follower._value.get() for g in gateways]  # the gauge's value


def test_one_of_two_gateways_on_one_sqlite_database_follows(
    stack: Stack, tmp_path: Path, gateway: LocalAccount, provider: LocalAccount, penalty_entry: bytes
) -> None:
    """Two gateways on one database: one follows and writes the index, the other reads it; when the
    follower stops, the other takes over at its next poll."""
    with gateway_on(stack, tmp_path) as first, gateway_on(stack, tmp_path) as second:
        first.poll_chain()
        second.poll_chain()
        assert (first.index.following, second.index.following) == (True, False)
        assert _follower_gauges([first, second]) == [1, 0]
        batch = anchor(stack, gateway, [make_leaf(penalty_entry, provider.address)])
        stack.ledger.revoke(provider, batch.proof(0), REASON)
        second.poll_chain()  # reads the cursor: nothing new until the follower passes
        assert second.index.position.block < stack.chain.block_number()
        first.poll_chain()
        second.poll_chain()
        assert second.index.position.block == stack.chain.block_number()
        with second.engine.connect() as connection:
            assert second.index.record_state(connection, batch.leaves[0].record_id).status == RecordStatus.REVOKED
        first.index.stop()
        second.poll_chain()
        assert second.index.following
        assert "credit_ledger_index_follower 1.0" in second.metrics.exposition().decode()


def test_one_of_two_gateways_on_one_postgresql_database_follows(stack: Stack, tmp_path: Path) -> None:
    """The same election on PostgreSQL, by a session advisory lock of its own (not the anchoring worker's)."""
    with (
        postgres_database() as url,
        gateway_on(stack, tmp_path / "a", database_url=url) as first,
        gateway_on(stack, tmp_path / "b", database_url=url) as second,
    ):
        first.poll_chain()
        second.poll_chain()
        assert sorted([first.index.following, second.index.following]) == [False, True]
        follower, reader = (first, second) if first.index.following else (second, first)
        assert reader.index.position == follower.index.position
        follower.index.stop()
        reader.poll_chain()
        assert reader.index.following


def test_lease_keys_are_distinct() -> None:
    """The index follower's lease never blocks the anchoring worker's, nor the reverse."""
    keys = [key for key, _ in LEASES.values()]
    files = [suffix for _, suffix in LEASES.values()]
    assert len(set(keys)) == len(keys)
    assert len(set(files)) == len(files)


def test_a_reader_whose_pool_is_taken_still_catches_up_with_the_follower(stack: Stack, tmp_path: Path) -> None:
    """Request threads hold the gateway's pooled connections while they wait for the index to be
    fresh; the pass that freshens it (the lease check included) draws on the index's own pool, so
    a full gateway pool never leaves it waiting (it did: 30 s pool timeouts under 40 concurrent
    reads on a `serve --workers 2` process that did not follow)."""
    with (
        postgres_database() as url,
        gateway_on(stack, tmp_path / "a", database_url=url, roles_max_age_s=60) as first,
        gateway_on(stack, tmp_path / "b", database_url=url, roles_max_age_s=60) as second,
    ):
        first.poll_chain()
        second.poll_chain()
        follower, reader = (first, second) if first.index.following else (second, first)
        record_id = keccak(b"untouched record")
        with follower.engine.begin() as connection:  # the follower's last pass, long ago
            connection.execute(update(INDEX_CURSOR).values(advanced_at=INDEX_CURSOR.c.advanced_at - 3600))
        reader.poll_chain()  # the reader now holds that stale position
        held = []
        try:
            while reader.engine.pool.checkedout() < reader.engine.pool.size() + reader.engine.pool._max_overflow:  # type: ignore[attr-defined]
                held.append(reader.engine.connect())  # every connection of the pool, as busy request threads
            follower.poll_chain()
            state = reader.index.record_state(held[0], record_id)  # a request: freshen first, then read
        finally:
            for connection in held:
                connection.close()
        assert state.status == RecordStatus.ACTIVE
        assert reader.index.position == follower.index.position


def test_a_process_that_does_not_follow_starts_only_once_the_follower_has_passed(stack: Stack, tmp_path: Path) -> None:
    """`serve --workers`: a process starting beside the elected follower, before that follower's
    first pass, does not finish starting (uvicorn lets it accept nothing) until the index has a
    position; it used to start at once and refuse every chain-dependent read with 503."""
    with (
        postgres_database() as url,
        gateway_on(stack, tmp_path / "a", database_url=url) as follower,
        gateway_on(stack, tmp_path / "b", database_url=url) as starting,
        serve_in_thread(starting) as served,
    ):
        assert follower.index.lease.held()  # elected, its first pass not made yet
        started = threading.Thread(target=starting.start, daemon=True)
        started.start()
        started.join(timeout=1.0)
        assert started.is_alive(), "the process started before the index had a position"
        assert starting.index.position.block < 0
        not_ready = httpx.get(served.url + "/readyz", timeout=10)
        assert (not_ready.status_code, not_ready.json()["status"]) == (503, "not-ready")
        follower.poll_chain()  # the follower's first pass
        started.join(timeout=10.0)
        assert not started.is_alive()
        assert starting.index.position == follower.index.position
        assert not starting.index.following
        assert starting.index.as_of_block() == stack.chain.block_number()  # answers, no 503
        ready = httpx.get(served.url + "/readyz", timeout=10)
        assert (ready.status_code, ready.json()["index"]["block"]) == (200, follower.index.position.block)
