"""Reads under load, driven by wrk, against a gateway served in processes of its own.

For one chain and one number of serving processes: `credit-ledger serve` in a child
process (credit_bench.served), filled over HTTP with class-A records anchored before the
timed windows; then, with the same generator (credit_bench.wrk) at each connection count:

- the floor: the same signed `GET /v1/records/{id}` answered by credit_bench.floor, which
  only checks the signature and reads the row by primary key from the same database;
- `GET /v1/records/{id}` as the records' provider: full view, each read a logged release;
- `GET /v1/subjects/{s}/measures` as a governor, over the records' subjects;

each read figure also as a fraction of the floor's rate at the same connections; and the
screening rate: `POST /v1/screenings` of 10,000 subject ids (the records' subjects and
clean ones), one after another from a Python client, in subjects/s. Without wrk the read
figures are skipped, said so, and the screening still measured.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from chain_client import devnet_for
from credit_bench.ingest import AnchorMonitor, BenchError, post_bulks
from credit_bench.records import PROVIDER_LABEL, RecordSource, preparation_pool, prepare_bodies, subject_code
from credit_bench.served import ServedGateway, ServedProcess, ServeRefusedError, served_floor, served_gateway
from credit_bench.wrk import WrkError, presign, replay, wrk_path
from credit_client import GatewayClient
from gateway.infra.storage import StoredRecord, connect

Echo = Callable[[str], None]
READER_LABEL = "governor-tianjin"  # asks for measures and screenings, as an approval desk would
RECORD_QUERY = (("purpose", "benchmark"),)
SCREENING_PURPOSE = "benchmark screening"
ANCHOR_TIMEOUT_S = 600.0
FLOOR_GUESS_PER_S = 3_000.0  # sizes the first batch of signed requests; more are signed when it runs out


@dataclass(frozen=True)
class LoadConfig:
    """How much the load part does for one chain and one number of processes."""

    records: int = 2_000  # class-A records read, and their subjects
    seconds: float = 8.0  # per wrk run
    connections: tuple[int, ...] = (10, 50)
    screening_subjects: int = 10_000
    screenings: int = 3  # timed, after one warm-up


def load_run(config: LoadConfig, rpc_url: str | None, workers: int, echo: Echo) -> dict[str, Any]:
    """The load figures of one configuration, or {"skipped": why} when serve cannot run it."""
    with tempfile.TemporaryDirectory(prefix="credit-ledger-bench-load-") as name:
        folder = Path(name)
        try:
            with served_gateway(folder / "gateway", rpc_url=rpc_url, workers=workers) as gateway:
                return _measure(config, gateway, folder, echo)
        except ServeRefusedError as exc:
            echo(f"  {workers} processes: skipped ({exc})")
            return {"workers": workers, "skipped": str(exc)}


def _measure(config: LoadConfig, gateway: ServedGateway, folder: Path, echo: Echo) -> dict[str, Any]:
    database = gateway.database_url.split(":", 1)[0].split("+", 1)[0]
    out: dict[str, Any] = {"workers": gateway.workers, "database": database, "load_avg": _load()}
    ids, subjects = _fill(gateway, config.records)
    out["records"] = len(ids)
    out["screening"] = _screening(gateway, subjects, config)
    echo(f"  {gateway.workers} process(es), {database}: screening {out['screening']['subjects_per_s']:,.0f} subjects/s")
    if wrk_path() is None:
        out["skipped"] = "wrk is not installed (Debian: apt-get install wrk): no read figures"
        echo(f"  reads: skipped ({out['skipped']})")
        return out
    chain_id = gateway.audience.chain_id
    provider = devnet_for(chain_id).by_label(PROVIDER_LABEL).account
    reader = devnet_for(chain_id).by_label(READER_LABEL).account
    record_paths = [f"/v1/records/{i}" for i in ids]
    measure_paths = [f"/v1/subjects/{s}/measures" for s in subjects]

    def records(count: int) -> list[str]:
        return presign(provider, gateway.audience, record_paths, count, RECORD_QUERY)

    def measures(count: int) -> list[str]:
        return presign(reader, gateway.audience, measure_paths, count, ())

    runs = folder / "wrk"
    runs.mkdir()
    floor: dict[str, Any] = {}
    with served_floor(folder, database_url=gateway.database_url, audience=gateway.audience) as floor_server:
        for connections in config.connections:
            floor[str(connections)] = _drive(floor_server, runs, records, connections, config, FLOOR_GUESS_PER_S)
            echo(_line("floor", floor[str(connections)]))
    out["floor"] = floor
    for key, sign in (("record_reads", records), ("measures", measures)):
        out[key] = {}
        for connections in config.connections:
            base = floor[str(connections)]["requests_per_s"]
            figures = _drive(gateway, runs, sign, connections, config, base)
            figures["of_floor"] = round(figures["requests_per_s"] / base, 3) if base else None
            out[key][str(connections)] = figures
            echo(_line(key, figures))
    return out


def _drive(
    server: ServedProcess,
    folder: Path,
    sign: Callable[[int], list[str]],
    connections: int,
    config: LoadConfig,
    expected_per_s: float,
) -> dict[str, Any]:
    load = _load()
    try:
        run = replay(
            server.url,
            folder,
            sign,
            connections=connections,
            seconds=config.seconds,
            expected_per_s=max(expected_per_s, 100.0),
            server_cpu=server.cpu_seconds,
        )
    except WrkError as exc:
        return {"connections": connections, "requests_per_s": 0.0, "errors": None, "failed": str(exc)}
    return {**run.figures(), "load_avg": load}


def _fill(gateway: ServedGateway, count: int) -> tuple[list[str], list[str]]:
    """Ingest `count` class-A records over HTTP and wait until they are anchored: their ids and subjects."""
    source = RecordSource(gateway.audience.chain_id, gateway.ledger, int(time.time()) - 60)
    provider = devnet_for(source.chain_id).by_label(PROVIDER_LABEL).account
    with preparation_pool() as pool:
        bodies = prepare_bodies(pool, source, count, min(count, 1_000))
        post_bulks(gateway.url, provider, bodies, connections=2, on_accepted=lambda _t, _ids: None)
    engine = connect(gateway.database_url)
    try:
        monitor = AnchorMonitor(engine)
        deadline = time.monotonic() + ANCHOR_TIMEOUT_S
        while (anchored := monitor.anchored_records()) < count:
            if time.monotonic() > deadline or gateway.process.poll() is not None:
                raise BenchError(f"the served gateway anchored {anchored} of {count} records")
            time.sleep(0.2)
        with engine.connect() as connection:
            ids = ["0x" + i.hex() for i in connection.scalars(select(StoredRecord.record_id)).all()]
    finally:
        engine.dispose()
    return ids, [subject_code(source.run, index) for index in range(count)]


def _screening(gateway: ServedGateway, subjects: list[str], config: LoadConfig) -> dict[str, Any]:
    """Screenings of `screening_subjects` ids, one after another: subjects per second."""
    clean = config.screening_subjects - min(len(subjects), config.screening_subjects)
    ids = subjects[: config.screening_subjects] + [subject_code(1, index) for index in range(clean)]
    reader = devnet_for(gateway.audience.chain_id).by_label(READER_LABEL).account
    load = _load()
    with GatewayClient(gateway.url, reader, audience=gateway.audience, timeout=300) as client:
        client.screening(ids, SCREENING_PURPOSE)  # warm-up
        seconds = []
        for _ in range(config.screenings):
            start = time.perf_counter()
            answer = client.screening(ids, SCREENING_PURPOSE)
            seconds.append(time.perf_counter() - start)
    if len(answer["lines"]) != len(ids):
        raise BenchError(f"a screening of {len(ids)} ids answered {len(answer['lines'])} lines")
    return {
        "subjects": len(ids),
        "listed": sum(1 for line in answer["lines"] if line.get("lists", {}).get("black")),
        "screenings": len(seconds),
        "seconds_each": [round(s, 3) for s in seconds],
        "subjects_per_s": round(len(ids) * len(seconds) / sum(seconds), 1),
        "load_avg": load,
    }


def _line(what: str, figures: dict[str, Any]) -> str:
    if "failed" in figures:
        return f"    {what} at {figures['connections']} connections: failed ({figures['failed']})"
    share = f", {figures['of_floor']:.0%} of the floor" if figures.get("of_floor") is not None else ""
    return (
        f"    {what} at {figures['connections']} connections: {figures['requests_per_s']:,.0f}/s, "
        f"p50 {figures['p50_ms']:,} ms, p99 {figures['p99_ms']:,} ms, {figures['errors']} errors{share}; "
        f"wrk took {figures['client_cpu_share']:.0%} of the machine"
    )


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
