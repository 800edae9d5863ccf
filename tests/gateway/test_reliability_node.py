"""Issue 8: the chain node killed during anchoring and restarted; every accepted record anchored exactly once.

A real gateway (FastAPI over HTTP, its anchoring worker, SQLite or PostgreSQL) on a
`credit-ledger node` process. Records come in bulks over HTTP while the node is killed
with SIGKILL three times, each time at a different moment of the worker's work:

1. right after the worker persisted a batch as SUBMITTED, before its transaction reached the node;
2. right after the node answered the anchoring transaction, before the worker confirmed it;
3. whenever the worker is in the middle of anchoring a backlog (a batch BUILDING or SUBMITTED).

While the node is down the gateway keeps accepting records. The node is started again
on the same data directory and port; then every accepted record must be in exactly one
anchored batch, and the chain's BatchAnchored events must be exactly the database's
anchored roots, each once, their counts adding up to the records accepted.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.middleware.base import Web3Middleware
from web3.types import MakeRequestFn, RPCEndpoint, RPCResponse

from chain_client import BatchKind, attach_stack
from chain_client.dev import DevChain
from chain_client.dev.node import JOURNAL_FILE
from credit_cli.node import NodeProcess
from gateway.infra.settings import Settings
from gateway.infra.storage import AnchorBatch, BatchState, OutboxEntry, OutboxKind, StoredRecord
from gateway.infra.storage.leaves import batch_tree
from tests.support.databases import postgres_database
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import Served, serve_gateway, wait_until
from tests.support.subjects import new_uscc

BULK = 375  # records per HTTP request: eight bulks, 3,000 records
BATCH = 100  # records per anchored batch at most
pytestmark = pytest.mark.timeout(170)


class KillSwitch:
    """SIGKILLs the node at the gateway's next anchoring transaction: before the node has it, or after it answered."""

    def __init__(self, node: NodeProcess) -> None:
        self.node = node
        self.moment: str | None = None
        self.raw = b""
        self.delivered = False
        self.fired = threading.Event()

    def arm(self, moment: str) -> None:
        """Kill the node at `moment` ("before" or "after") of the next eth_sendRawTransaction."""
        self.fired.clear()
        self.moment = moment

    @property
    def tx_hash(self) -> bytes:
        """Hash of the transaction the kill came with."""
        return keccak(self.raw)

    def around(self, method: RPCEndpoint, params: Any, make_request: MakeRequestFn) -> RPCResponse:
        moment = self.moment if method == "eth_sendRawTransaction" else None
        if moment is None:
            return make_request(method, params)
        self.moment, self.raw, self.delivered = None, bytes(HexBytes(params[0])), False
        try:
            if moment == "before":
                self.node.kill()
            response = make_request(method, params)  # "before": refused, nothing listens any more
            self.delivered = True
            if moment == "after":
                self.node.kill()
            return response
        finally:
            self.fired.set()  # after web3's retries of the send gave up, for "before"

    def middleware(self) -> Callable[[Web3], Web3Middleware]:
        """The web3 middleware that puts this switch on the gateway's connection to the node."""
        switch = self

        class KillSwitchMiddleware(Web3Middleware):
            def wrap_make_request(self, make_request: MakeRequestFn) -> MakeRequestFn:
                return lambda method, params: switch.around(method, params, make_request)

        return KillSwitchMiddleware


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The gateway's database: SQLite in its data directory, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    """A `credit-ledger node` process on a new data directory."""
    process = NodeProcess(tmp_path / "chain", tmp_path / "node.log")
    process.start()
    yield process
    process.stop()


class Intake:
    """Records submitted over HTTP in bulks, each accepted, remembered by record id."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.accepted: set[bytes] = set()

    def submit(self, count: int = BULK) -> None:
        records = [self.served.prepare(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(count)]
        with self.served.client(SAMR) as client:
            result = client.submit_records([r.submission for r in records])
        assert result["accepted"] == count, result
        self.accepted.update(r.leaf.record_id for r in records)


def journaled_transactions(node: NodeProcess) -> set[bytes]:
    """Hashes of the raw transactions in the node's journal."""
    entries = [json.loads(line) for line in (node.data_dir / JOURNAL_FILE).read_text().splitlines()[1:]]
    return {keccak(HexBytes(e["params"][0])) for e in entries if e["method"] == "eth_sendRawTransaction"}


def batch_of(served: Served, tx_hash: bytes) -> AnchorBatch:
    with Session(served.gateway.engine) as session:
        return session.scalars(select(AnchorBatch).where(AnchorBatch.tx_hash == tx_hash)).one()


def unfinished_batches(served: Served) -> int:
    with Session(served.gateway.engine) as session:
        query = select(func.count()).select_from(AnchorBatch).where(AnchorBatch.state != BatchState.ANCHORED)
        return int(session.scalar(query) or 0)


def anchored_records(served: Served) -> int:
    with Session(served.gateway.engine) as session:
        query = (
            select(func.count())
            .select_from(StoredRecord)
            .join(AnchorBatch, StoredRecord.batch_id == AnchorBatch.id)
            .where(AnchorBatch.state == BatchState.ANCHORED)
        )
        return int(session.scalar(query) or 0)


def test_node_killed_three_times_during_anchoring_every_record_is_anchored_once(
    tmp_path: Path, node: NodeProcess, database_url: str | None
) -> None:
    """The node killed before a batch transaction reaches it, after it answered one, mid-backlog: none lost or twice."""
    switch = KillSwitch(node)
    chain = DevChain.connect(node.url)
    chain.w3.middleware_onion.add(switch.middleware(), "kill-switch")
    settings = Settings(
        rpc_url=node.url,
        data_dir=tmp_path / "gateway",
        database_url=database_url,
        batch_size=BATCH,
        batch_interval_s=0.1,
        chain_poll_interval_s=0.5,
    )
    with serve_gateway(settings, chain=chain) as served:
        intake = Intake(served)

        # 1. Right after a batch went SUBMITTED: its hash is persisted, the node never gets it.
        switch.arm("before")
        intake.submit()
        assert switch.fired.wait(60), "the worker sent no anchoring transaction"
        assert not switch.delivered
        assert switch.tx_hash not in journaled_transactions(node)
        unsent = batch_of(served, switch.tx_hash)
        assert unsent.state == BatchState.SUBMITTED
        intake.submit()  # the node is down: records are still accepted
        node.start()

        # 2. Right after the node answered the anchoring transaction, before the worker confirmed it.
        switch.arm("after")
        intake.submit()
        assert switch.fired.wait(60), "the worker sent no anchoring transaction"
        assert switch.delivered
        answered = switch.tx_hash
        assert answered in journaled_transactions(node)  # on disk before the node answered
        intake.submit()
        node.start()

        # 3. Wherever the worker is while it anchors a backlog.
        intake.submit()
        intake.submit()
        wait_until(lambda: unfinished_batches(served) > 0, timeout=30, what="a batch being anchored")
        node.kill()
        intake.submit()
        node.start()

        intake.submit()
        wait_until(lambda: anchored_records(served) == len(intake.accepted), timeout=90, what="every record anchored")

        verifier = attach_stack(DevChain.connect(node.url), served.gateway.stack.record)
        events = verifier.ledger._contract.events.BatchAnchored().get_logs(from_block=0)
        with Session(served.gateway.engine) as session:
            rows = {r: b for r, b in session.execute(select(StoredRecord.record_id, StoredRecord.batch_id))}
            outbox = session.execute(
                select(OutboxEntry.ref, OutboxEntry.batch_id).where(OutboxEntry.kind == OutboxKind.RECORD)
            ).all()
            batches = {b.id: b for b in session.scalars(select(AnchorBatch))}
            rebuilt = {batch_id: batch_tree(session, batch_id)[0].root for batch_id in batches}

    # Nothing accepted was lost, each record is in one anchored batch, each batch is exactly its records.
    assert set(rows) == intake.accepted
    assert len(intake.accepted) == 8 * BULK
    assert Counter(ref for ref, _ in outbox) == Counter(intake.accepted)
    assert dict(outbox) == rows
    assert all(b.kind == OutboxKind.RECORD and b.state == BatchState.ANCHORED for b in batches.values())
    assert Counter(rows.values()) == {batch_id: b.count for batch_id, b in batches.items()}
    assert rebuilt == {batch_id: b.root for batch_id, b in batches.items()}

    # The chain anchored exactly the database's roots, each once, by the transactions the database names.
    roots = [bytes(e["args"]["root"]) for e in events]
    assert len(roots) == len(set(roots))
    assert set(roots) == {b.root for b in batches.values()}
    assert {bytes(e["args"]["root"]): bytes(e["transactionHash"]) for e in events} == {
        b.root: b.tx_hash for b in batches.values()
    }
    assert {bytes(e["args"]["root"]): e["args"]["count"] for e in events} == {b.root: b.count for b in batches.values()}
    assert sum(e["args"]["count"] for e in events) == len(intake.accepted)
    assert {BatchKind(e["args"]["kind"]) for e in events} == {BatchKind.RECORDS}
    assert {e["args"]["gateway"] for e in events} == {served.gateway.account.address}

    # The batch whose transaction the dead node never got was sent again and anchored once; the
    # transaction the node answered before dying is the one that anchored its batch.
    assert roots.count(unsent.root) == 1
    assert batches[unsent.id].state == BatchState.ANCHORED
    assert answered in {b.tx_hash for b in batches.values()}
