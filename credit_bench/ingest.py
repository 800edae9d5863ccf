"""Ingest through a served gateway: signed bulks over HTTP until its worker anchored them all.

A few sender threads in a client process, one connection each, post ready bodies of
`{"records": [...]}` (prepared beforehand, see `bench_records`) and note when each bulk
was accepted; a monitor notes when each batch first shows as anchored in the gateway's
database. The
rate is records over the time from the first request to the last record anchored.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import httpx
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from chain_client import devnet_for
from credit_bench.records import PROVIDER_LABEL
from credit_client import GatewayClient
from gateway.infra.request_auth import sign_request
from gateway.infra.storage import AnchorBatch, BatchState, OutboxKind, StoredRecord

POLL_S = 0.02
HTTP_TIMEOUT_S = 600.0


class BenchError(Exception):
    """The benchmark could not measure: a request failed or records were not anchored in time."""


@dataclass
class IngestResult:
    """What one ingest run measured."""

    records: int
    seconds: float  # first request sent -> last record anchored
    accept_seconds: float  # first request sent -> last bulk accepted
    latencies: list[float] = field(repr=False)  # per record: accepted -> anchored
    batches: int

    @property
    def records_per_s(self) -> float:
        """Records anchored per second, end to end."""
        return self.records / self.seconds

    @property
    def accepted_per_s(self) -> float:
        """Records accepted per second (the HTTP side alone)."""
        return self.records / self.accept_seconds


def post_bulks(
    url: str,
    provider: LocalAccount,
    bodies: Iterator[bytes],
    *,
    connections: int,
    on_accepted: Callable[[float, list[bytes]], None],
) -> None:
    """Send every body from `connections` threads; on_accepted(time, recordIds) per bulk."""
    lock = threading.Lock()
    failures: list[str] = []
    with GatewayClient(url) as public:
        audience = public.audience

    def next_body() -> bytes | None:
        with lock:
            return None if failures else next(bodies, None)

    def sender() -> None:
        with httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S) as http:
            while (body := next_body()) is not None:
                headers = sign_request(
                    provider, "POST", "/v1/records", [], body, audience=audience, timestamp=int(time.time())
                )
                headers["content-type"] = "application/json"
                try:
                    response = http.post("/v1/records", content=body, headers=headers)
                except httpx.HTTPError as exc:
                    failures.append(f"POST /v1/records failed: {exc!r}")
                    return
                done = time.monotonic()
                answer = response.json() if response.status_code == 200 else None
                if answer is None or answer["rejected"] or answer["duplicates"]:
                    failures.append(f"POST /v1/records answered {response.status_code}: {response.text[:300]}")
                    return
                ids = [bytes.fromhex(r["recordId"][2:]) for r in answer["results"]]
                with lock:
                    on_accepted(done, ids)

    threads = [threading.Thread(target=sender, name=f"bench-sender-{i}") for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise BenchError(failures[0])


class AnchorMonitor:
    """Notes when each record batch is first seen anchored in the gateway's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-anchor-monitor", daemon=True)

    def __enter__(self) -> AnchorMonitor:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self.poll()

    def poll(self) -> None:
        """Look once for newly anchored batches."""
        query = select(AnchorBatch.id).where(
            AnchorBatch.kind == OutboxKind.RECORD, AnchorBatch.state == BatchState.ANCHORED
        )
        with Session(self.engine) as session:
            ids = session.scalars(query.where(AnchorBatch.id.not_in(self.seen)) if self.seen else query).all()
        now = time.monotonic()
        for batch_id in ids:
            self.seen.setdefault(batch_id, now)

    def anchored_records(self) -> int:
        """Records in batches anchored so far."""
        with Session(self.engine) as session:
            total = session.scalar(
                select(func.sum(AnchorBatch.count)).where(
                    AnchorBatch.kind == OutboxKind.RECORD, AnchorBatch.state == BatchState.ANCHORED
                )
            )
        return int(total or 0)


def run_ingest(
    engine: Engine,
    url: str,
    chain_id: int,
    bodies: list[bytes],
    total: int,
    *,
    connections: int = 3,
    timeout_s: float = 900.0,
) -> IngestResult:
    """Post the bodies (`total` records in all) from a client process and wait until every
    record is anchored.

    The senders run in a process of their own, as the departments' clients would, so they
    do not share the gateway's interpreter; the bodies reach that process before the timed
    window opens. The gateway's database must hold no other records: the monitor counts
    all of them.
    """
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(_ready).result()  # the client process is up before the timed window
        with AnchorMonitor(engine) as monitor:
            start, accepted = pool.submit(_send_all, url, chain_id, bodies, connections).result()
            accept_seconds = max(done for done, _ in accepted) - start
            deadline = time.monotonic() + timeout_s
            while monitor.anchored_records() < total:
                if time.monotonic() > deadline:
                    raise BenchError(f"only {monitor.anchored_records()} of {total} records anchored in {timeout_s} s")
                time.sleep(POLL_S)
    monitor.poll()  # the monitor thread has stopped: one last look, from here
    with Session(engine) as session:
        batch_of = {row[0]: row[1] for row in session.execute(select(StoredRecord.record_id, StoredRecord.batch_id))}
    latencies = [
        monitor.seen[batch] - done
        for done, ids in accepted
        for batch in (batch_of[i] for i in ids)
        if batch is not None
    ]
    if len(latencies) != total:
        raise BenchError(f"{total} records sent, {len(latencies)} found anchored")
    end = max(monitor.seen.values())
    return IngestResult(total, end - start, accept_seconds, latencies, len(monitor.seen))


def _ready() -> bool:
    return True


Accepted = list[tuple[float, list[bytes]]]  # per bulk: when it was accepted, its recordIds


def _send_all(url: str, chain_id: int, bodies: list[bytes], connections: int) -> tuple[float, Accepted]:
    """In the client process: post every body; when sending began and each bulk's acceptance.

    Times are time.monotonic(), one clock for every process of the machine.
    """
    provider = devnet_for(chain_id).by_label(PROVIDER_LABEL).account
    accepted: Accepted = []
    start = time.monotonic()
    post_bulks(url, provider, iter(bodies), connections=connections, on_accepted=lambda *a: accepted.append(a))
    return start, accepted
