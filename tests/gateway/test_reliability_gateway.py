"""The gateway SIGKILLed during batch submission and restarted: nothing lost, nothing anchored twice.

`credit-ledger serve` runs as a real process on a Hardhat node of the test's own, with
SQLite in its data directory or a fresh PostgreSQL database. A department sends two
thousand signed records in bulks of 160 over HTTP while the worker anchors batches of
200, and the gateway is SIGKILLed four times, each time restarted with the same data
directory and options:

1. mid-bulk: the department's response never comes, so it sends the same bulk again, as
   the API documents (a record stored already is answered `duplicate`);
2. after a bulk was stored, before its response: sent again, it is answered `duplicate`;
3. with a batch SUBMITTED (its transaction hash persisted) on the automining node;
4. with a batch's transaction waiting in the node's mempool (mining paused): the
   restarted worker must wait for it, not send another.

After each restart the department has one more bulk answered before the next kill, so
the kills fall at different points of the run.

At the end every record the department ever sent is stored, readable by it over HTTP and
anchored in exactly one batch; the chain's BatchAnchored events are exactly the
database's roots, each once, each recomputed from its records' leaves; and the gateway
account sent one transaction per anchored batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from web3.types import RPCEndpoint

from chain_client import (
    BatchKind,
    Chain,
    Stack,
    access_log_tree,
    attach_stack,
    devnet_for,
    load_deployment,
    record_tree,
)
from chain_client.dev import DevChain
from credit_client.client import GatewayClient, PreparedRecord, prepare_record
from gateway.infra.settings import DEV_GATEWAY_LABEL, DEV_SUBJECT_KEY
from gateway.infra.storage import AccessLogEntry, AnchorBatch, BatchState, OutboxEntry, OutboxKind, StoredRecord
from gateway.infra.storage.leaves import batch_tree, leaf_of, leaf_of_entry
from tests.support.databases import postgres_database
from tests.support.hardhat import REPO, HardhatNode, free_port, start_node
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.hardhat

RECORDS = 2000
BULK = 160  # records per HTTP request
BATCH_SIZE = 200  # records per anchored batch
READERS = 4  # concurrent GET /v1/records/{id} at the end
KIND = {OutboxKind.RECORD: BatchKind.RECORDS, OutboxKind.ACCESS_LOG: BatchKind.ACCESS_LOG}


def poll_until(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll a condition until it holds; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class GatewayProcess:
    """`credit-ledger serve` as a child process: started, SIGKILLed and restarted with the same options."""

    def __init__(self, options: list[str], directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "credit_cli.main", "serve", *options, "--port", str(self.port)]
        self.log_path = directory / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the gateway and wait until GET /readyz answers 200."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CREDIT_LEDGER_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        poll_until(self._ready, timeout=120, what="credit-ledger serve to be ready")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"credit-ledger serve exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            return httpx.get(self.url + "/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would: no shutdown code runs."""
        assert self.process is not None
        assert self.process.poll() is None, f"the gateway died early:\n{self.log_tail()}"
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL
        self.process = None

    def terminate(self) -> int:
        """SIGTERM and wait: the exit status."""
        assert self.process is not None
        assert self.process.poll() is None, f"the gateway died early:\n{self.log_tail()}"
        os.kill(self.process.pid, signal.SIGTERM)
        status = self.process.wait(timeout=60)
        self.process = None
        return status

    def cleanup(self) -> None:
        """Kill the gateway if a failed test left it running."""
        if self.process is not None:
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@dataclass
class Department:
    """The provider's client: sends the bulks in order, each until it is answered, in a thread."""

    url: str
    provider: LocalAccount
    bulks: list[list[PreparedRecord]]
    statuses: dict[str, list[str]] = field(default_factory=dict)  # recordId -> status in each answer
    unanswered: list[tuple[int, str]] = field(default_factory=list)  # (bulk, error): no response came
    answered: int = 0  # bulks answered so far, in order: the next bulk to send
    sending: int | None = None  # the bulk on the wire now
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        return self.answered == len(self.bulks)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Send (again) from the first bulk not answered, until all are or the gateway dies."""
        self._thread = threading.Thread(target=self._run, name="department", daemon=True)
        self._thread.start()

    def join(self) -> None:
        assert self._thread is not None
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "the department's client hung"
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            with GatewayClient(self.url, self.provider, timeout=60) as client:
                while not self.done:
                    bulk = self.bulks[self.answered]
                    self.sending = self.answered
                    try:
                        answer = client.submit_records([r.submission for r in bulk])
                    except httpx.TransportError as exc:
                        self.unanswered.append((self.answered, type(exc).__name__))
                        return
                    finally:
                        self.sending = None
                    for record, result in zip(bulk, answer["results"], strict=True):
                        assert result["recordId"].lower() == record.record_id_hex, result
                        self.statuses.setdefault(record.record_id_hex, []).append(result["status"])
                    self.answered += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread by join()
            self.error = exc


def read_only(url: str) -> Engine:
    """An engine that can only read the gateway's database."""
    if url.startswith("sqlite"):
        return create_engine(url)
    return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


def stored_records(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(StoredRecord)) or 0)


def last_batch(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.max(AnchorBatch.id))) or 0)


def submitted_after(engine: Engine, last: int, *, sent_to: Chain | None = None) -> bool:
    """Whether a batch cut after `last` is SUBMITTED (and its transaction known to `sent_to`)."""
    with Session(engine) as session:
        query = select(AnchorBatch.tx_hash).where(AnchorBatch.state == BatchState.SUBMITTED, AnchorBatch.id > last)
        hashes = session.scalars(query).all()
    return any(h is not None and (sent_to is None or sent_to.knows_transaction(h)) for h in hashes)


def unfinished_batches(engine: Engine) -> dict[int, tuple[BatchState, bytes | None]]:
    with Session(engine) as session:
        query = select(AnchorBatch.id, AnchorBatch.state, AnchorBatch.tx_hash)
        rows = session.execute(query.where(AnchorBatch.state != BatchState.ANCHORED)).all()
    return {row.id: (row.state, row.tx_hash) for row in rows}


def anchored_records(engine: Engine) -> int:
    with Session(engine) as session:
        query = (
            select(func.count())
            .select_from(StoredRecord)
            .join(AnchorBatch, StoredRecord.batch_id == AnchorBatch.id)
            .where(AnchorBatch.state == BatchState.ANCHORED)
        )
        return int(session.scalar(query) or 0)


def quiescent(engine: Engine) -> bool:
    """Nothing pending in the outbox and every batch anchored."""
    with Session(engine) as session:
        pending = session.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.batch_id.is_(None)))
        open_batches = session.scalar(
            select(func.count()).select_from(AnchorBatch).where(AnchorBatch.state != BatchState.ANCHORED)
        )
    return pending == 0 and open_batches == 0


def set_automine(chain: Chain, enabled: bool) -> None:
    """Pause or resume the Hardhat node's mining; resuming mines what waits in the mempool."""
    for method, params in [("evm_setAutomine", [enabled]), *([("evm_mine", [])] if enabled else [])]:
        response = chain.w3.provider.make_request(RPCEndpoint(method), params)
        assert "error" not in response, response


def gateway_address(chain: Chain) -> ChecksumAddress:
    return devnet_for(chain.chain_id).by_label(DEV_GATEWAY_LABEL).account.address


@dataclass
class Crashes:
    """The gateway killed at chosen moments and restarted, and what each kill left in its database."""

    gateway: GatewayProcess
    department: Department
    observer: Engine
    chain: Chain
    left: list[dict[int, tuple[BatchState, bytes | None]]] = field(default_factory=list)  # unfinished, per kill
    sent: set[tuple[int, bytes]] = field(default_factory=set)  # (batch, tx hash) the node had at a kill
    stored_unanswered: set[int] = field(default_factory=set)  # bulks stored whose response never came

    def restart(self) -> None:
        """Start the gateway with the same options and wait until the department had one more bulk answered."""
        before = self.department.answered
        self.gateway.start()
        self.department.start()
        poll_until(
            lambda: self.department.answered > before or not self.department.running,
            timeout=60,
            what="a bulk answered after the restart",
            interval=0.002,
        )

    def kill(self) -> dict[int, tuple[BatchState, bytes | None]]:
        """SIGKILL the gateway; the batches it left unfinished."""
        self.gateway.kill()
        self.department.join()
        unfinished = unfinished_batches(self.observer)
        for batch_id, (_, tx_hash) in unfinished.items():
            if tx_hash is not None and self.chain.knows_transaction(tx_hash):
                self.sent.add((batch_id, tx_hash))
        self.left.append(unfinished)
        return unfinished

    def while_a_bulk_is_stored(self) -> None:
        """Killed while the third bulk is on the wire: its response never comes."""
        self.department.start()
        poll_until(
            lambda: self.department.answered >= 2 and self.department.sending == self.department.answered,
            timeout=60,
            what="the third bulk to be sent",
            interval=0.002,
        )
        self.kill()
        assert [bulk for bulk, _ in self.department.unanswered] == [2], self.department.unanswered

    def after_a_bulk_is_stored(self, attempts: int = 5) -> None:
        """Killed once a bulk is stored, before its response came (again if the response came first)."""
        for _ in range(attempts):
            self.restart()
            poll_until(self._in_flight_and_stored, timeout=60, what="a bulk stored, not answered", interval=0.002)
            self.kill()
            bulk, _ = self.department.unanswered[-1]
            if stored_records(self.observer) >= (bulk + 1) * BULK:
                self.stored_unanswered.add(bulk)
                return
        pytest.fail(f"no kill landed between a bulk's commit and its response in {attempts} attempts")

    def _in_flight_and_stored(self) -> bool:
        sending = self.department.sending
        return sending is not None and stored_records(self.observer) >= (sending + 1) * BULK

    def with_a_batch_submitted(self, attempts: int = 5) -> None:
        """Killed when a batch is SUBMITTED on the automining node (again if the kill came too late)."""
        for _ in range(attempts):
            last = last_batch(self.observer)
            self.restart()
            poll_until(
                partial(submitted_after, self.observer, last), timeout=60, what="a SUBMITTED batch", interval=0.002
            )
            if any(state == BatchState.SUBMITTED for state, _ in self.kill().values()):
                return
        pytest.fail(f"no kill landed while a batch was SUBMITTED in {attempts} attempts")

    def with_a_transaction_in_the_mempool(self) -> None:
        """Killed, mining paused, when a batch's transaction waits in the node's mempool."""
        last = last_batch(self.observer)
        set_automine(self.chain, False)
        self.restart()
        # A logged read: an access-log batch to send even when the department has sent every
        # bulk already (then no record batch is left to cut, and none would reach the mempool).
        first = self.department.bulks[0][0]
        with GatewayClient(self.gateway.url, self.department.provider) as client:
            client.record(first.record_id_hex)
        poll_until(
            partial(submitted_after, self.observer, last, sent_to=self.chain),
            timeout=60,
            what="a batch transaction in the mempool",
        )
        waiting = [
            batch_id
            for batch_id, (state, tx_hash) in self.kill().items()
            if state == BatchState.SUBMITTED
            and tx_hash is not None
            and self.chain.knows_transaction(tx_hash)
            and self.chain.receipt(tx_hash) is None
        ]
        assert waiting, "no batch transaction waited in the mempool at the kill"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[HardhatNode]:
    """A Hardhat node of this test's own."""
    started = start_node(tmp_path / "hardhat.log")
    yield started
    started.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    """The serve options naming the gateway's database, and a URL to read it by."""
    if request.param == "sqlite":
        yield [], f"sqlite:///file:{tmp_path / 'data' / 'gateway.db'}?mode=ro&uri=true"
        return
    with postgres_database() as url:
        yield ["--database-url", url], url


def prepare_records(url: str, chain: Chain) -> tuple[LocalAccount, dict[str, PreparedRecord]]:
    """The market regulator and its penalty records, signed for the gateway's deployment, by recordId."""
    with GatewayClient(url) as public:
        deployment = public.deployment()
        version = next(e["version"] for e in public.catalog()["entries"] if e["code"] == PENALTY)
    assert deployment.chain_id == chain.chain_id
    provider = devnet_for(deployment.chain_id).by_label(SAMR).account
    records = [
        prepare_record(
            provider,
            deployment.domain,
            catalog_code=PENALTY,
            catalog_version=version,
            subject=new_uscc(),
            payload=penalty(f"北京示例{i}科技有限公司", decisionNumber=f"京市监罚〔2026〕{i}号"),
            subject_key=DEV_SUBJECT_KEY,
        )
        for i in range(RECORDS)
    ]
    return provider, {r.record_id_hex: r for r in records}


def test_a_gateway_killed_during_batch_submission_loses_nothing_and_anchors_nothing_twice(
    node: HardhatNode, database: tuple[list[str], str], tmp_path: Path
) -> None:
    """Killed mid-bulk, after a bulk was stored, with a batch SUBMITTED and with its transaction in the mempool,
    and restarted each time, the gateway stores and anchors every record the department sent exactly once."""
    database_options, database_url = database
    data_dir = tmp_path / "data"
    options = ["--rpc", node.url, "--data-dir", str(data_dir), *database_options]
    gateway = GatewayProcess([*options, "--batch-size", str(BATCH_SIZE), "--batch-interval", "0.2"], tmp_path)
    observer = read_only(database_url)
    try:
        gateway.start()  # the first start deploys the demo consortium and catalog, recorded in data_dir
        chain = DevChain.connect(node.url)
        stack = attach_stack(chain, load_deployment(data_dir / "deployments", chain.chain_id))
        transactions_before = chain.w3.eth.get_transaction_count(gateway_address(chain))
        provider, records = prepare_records(gateway.url, chain)
        ordered = list(records.values())
        department = Department(gateway.url, provider, [ordered[i : i + BULK] for i in range(0, RECORDS, BULK)])
        crashes = Crashes(gateway, department, observer, chain)

        crashes.while_a_bulk_is_stored()
        crashes.after_a_bulk_is_stored()
        crashes.with_a_batch_submitted()
        crashes.with_a_transaction_in_the_mempool()

        # Restarted for good: the department sends what is still unanswered, then mining resumes.
        crashes.restart()
        department.join()
        assert department.done, department.unanswered
        set_automine(chain, True)
        poll_until(lambda: anchored_records(observer) >= RECORDS, timeout=120, what="every record anchored")

        check_answers(department, crashes.stored_unanswered, records)
        served_roots = read_every_record(gateway.url, provider, ordered)
        # Each read was a logged release: wait for the access log to be anchored too, then stop cleanly.
        poll_until(lambda: quiescent(observer), timeout=120, what="the access log anchored")
        assert gateway.terminate() == 0, gateway.log_tail()

        check_ledger(observer, stack, records, served_roots)
        with Session(observer) as session:
            for batch_id, tx_hash in crashes.sent:  # each confirmed by the transaction sent before the kill
                assert session.get_one(AnchorBatch, batch_id).tx_hash == tx_hash, (batch_id, tx_hash.hex())
        sent = chain.w3.eth.get_transaction_count(gateway_address(chain)) - transactions_before
        anchored = len(ledger_events(stack))
        assert sent == anchored, f"the gateway sent {sent} transactions for {anchored} anchored batches"
        print(summary(department, crashes))
    finally:
        gateway.cleanup()
        observer.dispose()


def check_answers(department: Department, stored_unanswered: set[int], records: dict[str, PreparedRecord]) -> None:
    """Every record sent was answered once: `duplicate` when sent again after it was stored unanswered,
    `accepted` or `duplicate` when sent again after a response that never came, else `accepted`."""
    assert set(department.statuses) == set(records)
    assert all(len(statuses) == 1 for statuses in department.statuses.values())  # an answered bulk is not resent
    unanswered = {bulk for bulk, _ in department.unanswered}
    for index, bulk in enumerate(department.bulks):
        answers = {department.statuses[r.record_id_hex][0] for r in bulk}
        if index in stored_unanswered:
            assert answers == {"duplicate"}, (index, answers)
        elif index in unanswered:
            assert answers <= {"accepted", "duplicate"}, (index, answers)
        else:
            assert answers == {"accepted"}, (index, answers)


def read_every_record(url: str, provider: LocalAccount, records: list[PreparedRecord]) -> dict[str, str]:
    """GET /v1/records/{id} of each record as its provider: anchored, with its payload; the root of each."""

    def read(record: PreparedRecord) -> str:
        view = client.record(record.record_id_hex)
        assert (view["recordId"].lower(), view["view"]) == (record.record_id_hex, "full"), view
        assert view["anchoring"]["state"] == "anchored", view
        assert view["payload"] == record.submission["payload"]
        return str(view["anchoring"]["root"]).lower()

    with GatewayClient(url, provider) as client, ThreadPoolExecutor(READERS) as pool:
        return {r.record_id_hex: root for r, root in zip(records, pool.map(read, records), strict=True)}


def summary(department: Department, crashes: Crashes) -> str:
    """What the kills hit, for the record of a run (pytest -s)."""
    answers = Counter(s for statuses in department.statuses.values() for s in statuses)
    left = [
        sorted((batch_id, state.value) for batch_id, (state, _) in unfinished.items()) for unfinished in crashes.left
    ]
    return f"unanswered bulks {department.unanswered}; answers {dict(answers)}; unfinished batches per kill {left}"


def ledger_events(stack: Stack) -> list[Any]:
    """Every BatchAnchored event of the ledger, from the genesis block."""
    ledger = stack.chain.contract("CreditLedger", stack.ledger.address)
    return list(ledger.events.BatchAnchored().get_logs(from_block=0))


def check_ledger(
    engine: Engine, stack: Stack, records: dict[str, PreparedRecord], served_roots: dict[str, str]
) -> None:
    """Each record in exactly one anchored batch; the chain's roots are the database's, each once and recomputed."""
    events = ledger_events(stack)
    roots = Counter(bytes(e["args"]["root"]) for e in events)
    assert [root.hex() for root, n in roots.items() if n > 1] == [], "roots anchored twice"
    assert {e["args"]["gateway"] for e in events} == {gateway_address(stack.chain)}
    on_chain = {
        bytes(e["args"]["root"]): (BatchKind(e["args"]["kind"]), int(e["args"]["count"]), int(e["blockNumber"]))
        for e in events
    }
    with Session(engine) as session:
        batches = session.scalars(select(AnchorBatch).order_by(AnchorBatch.id)).all()
        assert [b.id for b in batches if b.state != BatchState.ANCHORED] == []
        assert {b.root: (KIND[b.kind], b.count, b.block_number) for b in batches} == on_chain
        counts = Counter[BatchKind]()
        for kind, count, _ in on_chain.values():
            counts[kind] += count

        # Records: exactly those sent, each once in the outbox, each in one anchored batch at one leaf.
        rows = session.scalars(select(StoredRecord)).all()
        assert {"0x" + r.record_id.hex() for r in rows} == set(records)
        assert counts[BatchKind.RECORDS] == len(records)
        outbox = session.scalars(select(OutboxEntry).where(OutboxEntry.kind == OutboxKind.RECORD)).all()
        assert [ref.hex() for ref, n in Counter(e.ref for e in outbox).items() if n > 1] == []
        batch_of: dict[bytes, int | None] = {r.record_id: r.batch_id for r in rows}
        assert None not in batch_of.values()
        assert {e.ref: e.batch_id for e in outbox} == batch_of
        root_of = {b.id: b.root for b in batches}
        assert served_roots == {"0x" + rid.hex(): "0x" + root_of[bid or 0].hex() for rid, bid in batch_of.items()}
        for batch in (b for b in batches if b.kind == OutboxKind.RECORD):
            tree, members = batch_tree(session, batch.id)
            assert [m.leaf_index for m in members] == list(range(batch.count))
            assert tree.root == batch.root
            sent = [records["0x" + m.record_id.hex()].leaf for m in members]
            assert [leaf_of(m).leaf_hash() for m in members] == [leaf.leaf_hash() for leaf in sent]
            assert record_tree(sent).root == batch.root

        # Access-log entries (the final reads): each in one anchored batch, roots recomputed too.
        entries = session.scalars(select(AccessLogEntry)).all()
        assert counts[BatchKind.ACCESS_LOG] == len(entries) >= len(records)
        for batch in (b for b in batches if b.kind == OutboxKind.ACCESS_LOG):
            logged = session.scalars(
                select(AccessLogEntry).where(AccessLogEntry.batch_id == batch.id).order_by(AccessLogEntry.leaf_index)
            ).all()
            assert [e.leaf_index for e in logged] == list(range(batch.count))
            assert access_log_tree([leaf_of_entry(e) for e in logged]).root == batch.root
