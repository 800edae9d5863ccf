"""`credit-ledger bench`: throughput, latency, gas, proof size, verification and memory.

One run measures, on the same node for each chain (the embedded py-evm chain, and a
Hardhat node when hardhat-local is installed):

- ingest: signed bulks over HTTP into a real served gateway until its worker anchored
  every record (records/s; p50/p99 seconds from accepted to anchored);
- the baseline, one `anchorBatch(leafHash, 1, RECORDS)` transaction per record, and
  the ratio of the two;
- gas per record at batch sizes 1, 100 and 10,000;
- `GET /v1/records/{id}` with its payload at 50 concurrent clients (p50/p99 ms);
- under load from wrk, against `credit-ledger serve` in processes of its own, with one
  process and with `--workers 2` (credit_bench.load): reads/s, p50 and p99 of
  `GET /v1/records/{id}` and `GET /v1/subjects/{s}/measures` at 10 and 50 connections,
  each also as a fraction of the floor measured in the same run, and the screening rate;

and, once: proof size against batch size, offline verifications per second, and the
peak resident memory of a gateway (in a process of its own) ingesting many records.
Records are prepared and signed before each timed window, in worker processes, as the
departments would. The machine is shared, so every figure comes with the load average.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import BuildError, Chain, devnet_for
from chain_client.dev import HardhatNode, HardhatUnavailableError, find_repo_root
from credit_bench.chain import BASELINE_CALL, gas_per_record, per_record_baseline
from credit_bench.ingest import run_ingest
from credit_bench.load import LoadConfig, load_run
from credit_bench.proofs import proof_growth, proof_sizes, verify_rate
from credit_bench.reads import measure_reads
from credit_bench.records import PROVIDER_LABEL, RecordSource, preparation_pool, prepare_bodies
from credit_bench.rss import measure_rss
from credit_demo.catalog import open_gateway
from gateway.infra.check_pool import CHECK_POOL
from gateway.infra.gc_tuning import tune_for_serving
from gateway.infra.service import Gateway
from gateway.infra.settings import Settings
from gateway.infra.storage import StoredRecord
from gateway.serving import serve_in_thread

Echo = Callable[[str], None]
FEW_CLIENTS = 10  # reads are also measured at this lower concurrency, for latency without queueing
PACKAGES = (
    "credit-ledger",
    "web3",
    "eth-account",
    "eth-tester",
    "py-evm",
    "coincurve",
    "safe-pysha3",
    "rfc8785",
    "jsonschema",
    "cryptography",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "httpx",
)


@dataclass(frozen=True)
class BenchConfig:
    """How much each part of the benchmark does."""

    quick: bool
    records: int = 60_000  # per chain, through the gateway
    bulk: int = 10_000  # records per POST
    connections: int = 2  # concurrent sender connections
    batch_size: int = Settings.model_fields["batch_size"].default  # the gateway's anchoring batch size
    baseline_records: int = 200
    gas_batch_sizes: tuple[int, ...] = (1, 100, 10_000)
    proof_batch_sizes: tuple[int, ...] = (1, 10, 100, 1_000, 10_000, 100_000)
    verify_bundles: int = 5_000
    read_clients: int = 50
    reads_per_client: int = 10
    few_reads_per_client: int = 20
    rss_records: int = 1_000_000
    hardhat: bool = True
    load_records: int = 2_000  # class-A records the wrk load reads (and their subjects)
    load_seconds: float = 8.0  # per wrk run
    load_workers: tuple[int, ...] = (1, 2)  # serving processes of each load run
    screenings: int = 3

    @classmethod
    def for_run(cls, *, quick: bool, hardhat: bool | None = None, **overrides: Any) -> BenchConfig:
        """The full benchmark, or a quick one that checks every part on little data."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if quick:
            small = {
                "records": 2_000,
                "bulk": 500,
                "baseline_records": 10,
                "proof_batch_sizes": (1, 10, 100, 1_000, 10_000),
                "verify_bundles": 200,
                "reads_per_client": 2,
                "rss_records": 2_000,
                "load_records": 200,
                "load_seconds": 1.0,
                "load_workers": (1,),
                "screenings": 1,
            }
            return cls(quick=True, hardhat=bool(hardhat), **{**small, **given})
        return cls(quick=False, hardhat=True if hardhat is None else hardhat, **given)


def run_bench(config: BenchConfig, echo: Echo) -> dict[str, Any]:
    """Run every measurement; the JSON-ready results."""
    result: dict[str, Any] = {
        "quick": config.quick,
        "config": dataclasses.asdict(config),
        "machine": machine(),
        "versions": versions(),
        "load_avg": {"start": _load()},
    }
    chains: dict[str, dict[str, Any]] = {}
    echo("chain embedded: ingest, baseline, gas, reads")
    chains["embedded"] = chain_run(config, None, echo)
    try:
        node = _hardhat() if config.hardhat else None
    except (BuildError, HardhatUnavailableError) as exc:
        echo(f"chain hardhat: skipped ({exc})")
        result["skipped"] = {"hardhat": str(exc)}
        node = None
    if node is not None:
        try:
            echo("chain hardhat: ingest, baseline, gas, reads")
            chains["hardhat"] = chain_run(config, node.url, echo)
            result["rss"] = _rss(config, node.url, echo)  # the chain in a process of its own
        finally:
            node.stop()
            shutil.rmtree(node.log_path.parent, ignore_errors=True)
    else:
        result["rss"] = _rss(config, None, echo)
    echo("proof sizes and offline verification")
    sizes = proof_sizes(list(config.proof_batch_sizes))
    verification = verify_rate(config.verify_bundles)
    result["load_avg"]["end"] = _load()
    result["chains"] = chains
    result.update(_headline(chains, sizes, verification, result["rss"]))
    return result


def chain_run(config: BenchConfig, rpc_url: str | None, echo: Echo) -> dict[str, Any]:
    """Everything measured on one chain, with one gateway served over loopback HTTP.

    The gateway runs with its defaults but the batch size the config names (its default
    too unless changed): a full batch wakes the worker at once, and the anchoring round
    every batch_interval_s (2 s) picks up partial batches and access-log entries.
    """
    with tempfile.TemporaryDirectory(prefix="credit-ledger-bench-") as folder:
        settings = Settings.model_validate({"data_dir": folder, "rpc_url": rpc_url, "batch_size": config.batch_size})
        gateway = open_gateway(settings)
        gateway.start()
        tune_for_serving()  # this process serves the gateway, as `credit-ledger serve` would
        try:
            out = _measure(config, gateway, echo)
        finally:
            gateway.stop()
    out["load"] = _load_runs(config, rpc_url, echo)
    return out


def _load_runs(config: BenchConfig, rpc_url: str | None, echo: Echo) -> dict[str, Any]:
    """The wrk load on a served gateway, by number of serving processes (credit_bench.load)."""
    load = LoadConfig(records=config.load_records, seconds=config.load_seconds, screenings=config.screenings)
    return {str(workers): load_run(load, rpc_url, workers, echo) for workers in config.load_workers}


def _measure(config: BenchConfig, gateway: Gateway, echo: Echo) -> dict[str, Any]:
    chain = gateway.stack.chain
    provider = devnet_for(chain.chain_id).by_label(PROVIDER_LABEL).account
    source = RecordSource(chain.chain_id, gateway.stack.ledger.address, gateway.now())
    with preparation_pool() as pool:
        bodies = list(prepare_bodies(pool, source, config.records, config.bulk, ahead=1_000))
    CHECK_POOL.start()  # the gateway's check workers, started before the timed window
    out: dict[str, Any] = {"chain": chain_description(chain)}
    with serve_in_thread(gateway) as server:
        load = _load()
        ingest = run_ingest(
            gateway.engine, server.url, chain.chain_id, bodies, config.records, connections=config.connections
        )
        del bodies
        echo(f"  ingest {ingest.records:,} records: {ingest.records_per_s:,.0f}/s (load {load[0]:.1f})")
        out["ingest"] = {
            "records": ingest.records,
            "records_per_s": round(ingest.records_per_s, 1),
            "accepted_per_s": round(ingest.accepted_per_s, 1),
            "seconds": round(ingest.seconds, 2),
            "batches": ingest.batches,
            "latency_p50_s": round(_quantile(ingest.latencies, 0.50), 3),
            "latency_p99_s": round(_quantile(ingest.latencies, 0.99), 3),
            "load_avg": load,
        }
        load = _load()
        baseline = per_record_baseline(gateway.stack, gateway.account, provider.address, config.baseline_records)
        out["baseline"] = {
            "call": BASELINE_CALL,
            "records": baseline.records,
            "records_per_s": round(baseline.records_per_s, 1),
            "gas_per_record": baseline.gas_per_record,
            "load_avg": load,
        }
        echo(f"  baseline {baseline.records} transactions: {baseline.records_per_s:,.1f} records/s")
        out["gas_per_record"] = gas_per_record(
            gateway.stack, gateway.account, provider.address, list(config.gas_batch_sizes)
        )
        ids = _record_ids(gateway, 1_000)
        out["reads"] = _reads(server.url, chain.chain_id, ids, config.read_clients, config.reads_per_client)
        if config.read_clients > FEW_CLIENTS:
            out["reads_few_clients"] = _reads(server.url, chain.chain_id, ids, FEW_CLIENTS, config.few_reads_per_client)
        for reads in (out[key] for key in ("reads", "reads_few_clients") if key in out):
            echo(
                f"  reads at {reads['clients']} clients: p50 {reads['p50_ms']} ms, p99 {reads['p99_ms']} ms, "
                f"{reads['errors']} errors"
            )
    return out


def _reads(url: str, chain_id: int, ids: list[str], clients: int, per_client: int) -> dict[str, Any]:
    load = _load()
    reads = measure_reads(url, chain_id, ids, clients=clients, per_client=per_client)
    return {
        "clients": reads.clients,
        "requests": len(reads.latencies),
        "requests_per_s": round(reads.requests_per_s, 1),
        "p50_ms": round(_quantile(reads.latencies, 0.50) * 1000, 2),
        "p99_ms": round(_quantile(reads.latencies, 0.99) * 1000, 2),
        "errors": reads.errors,
        "error_sample": reads.error_sample,
        "load_avg": load,
    }


def _rss(config: BenchConfig, rpc_url: str | None, echo: Echo) -> dict[str, Any]:
    where = "hardhat" if rpc_url else "embedded"
    echo(f"memory: a gateway process ingesting {config.rss_records:,} records ({where} chain)")
    load = _load()
    rss = measure_rss(config.rss_records, bulk=config.bulk, rpc_url=rpc_url, connections=config.connections)
    echo(f"  peak RSS {rss.peak_mb:,.0f} MB")
    return {
        "records": rss.records,
        "chain": where,
        "peak_rss_mb": rss.peak_mb,
        "maxrss_mb": round(rss.maxrss_mb, 1),
        "start_rss_mb": rss.start_mb,
        "rss_mb_by_records": rss.by_records,
        "records_per_s": round(rss.records / rss.seconds, 1),
        "load_avg": load,
    }


def _headline(
    chains: dict[str, dict[str, Any]], sizes: dict[str, Any], verification: dict[str, Any], rss: dict[str, Any]
) -> dict[str, Any]:
    """The figures the issue asks for, each by chain where it depends on the chain."""

    def by_chain(get: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        return {name: get(run) for name, run in chains.items()}

    return {
        "ingest_records_per_s": by_chain(lambda r: r["ingest"]["records_per_s"]),
        "anchor_latency_p50_s": by_chain(lambda r: r["ingest"]["latency_p50_s"]),
        "anchor_latency_p99_s": by_chain(lambda r: r["ingest"]["latency_p99_s"]),
        "baseline": BASELINE_CALL,
        "baseline_records_per_s": by_chain(lambda r: r["baseline"]["records_per_s"]),
        "ratio": by_chain(lambda r: round(r["ingest"]["records_per_s"] / r["baseline"]["records_per_s"], 1)),
        "gas_per_record": by_chain(lambda r: r["gas_per_record"]),
        "proof_size": sizes,
        "proof_growth": proof_growth(sizes),
        "verify_per_s": verification["verify_per_s"],
        "verification": verification,
        "read_p50_ms": by_chain(lambda r: r["reads"]["p50_ms"]),
        "read_p99_ms": by_chain(lambda r: r["reads"]["p99_ms"]),
        "read_errors": by_chain(lambda r: r["reads"]["errors"]),
        "peak_rss_mb": rss["peak_rss_mb"],
        "load_reads": by_chain(lambda r: {w: _load_headline(run) for w, run in r["load"].items()}),
        "screening_subjects_per_s": by_chain(
            lambda r: {w: run["screening"]["subjects_per_s"] for w, run in r["load"].items() if "screening" in run}
        ),
    }


def _load_headline(run: dict[str, Any]) -> dict[str, Any]:
    """Reads/s, p50, p99, errors and share of the floor of one load run, by endpoint and connections."""
    if "floor" not in run:
        return {"skipped": run.get("skipped")}
    keep = ("requests_per_s", "p50_ms", "p99_ms", "errors", "of_floor", "client_cpu_share")
    return {
        endpoint: {c: {k: figures.get(k) for k in keep if k in figures} for c, figures in run[endpoint].items()}
        for endpoint in ("floor", "record_reads", "measures")
    }


def machine() -> dict[str, Any]:
    """The machine the figures come from."""
    memory = next((line.split()[1] for line in _proc("meminfo") if line.startswith("MemTotal:")), None)
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_mb": round(int(memory) / 1024) if memory else None,
    }


def versions() -> dict[str, str | None]:
    """Installed versions of the packages the figures depend on."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def chain_description(chain: Chain) -> dict[str, Any]:
    """Which node: its client and chain id."""
    if chain.is_embedded:
        return {"client": f"py-evm {versions()['py-evm']} (eth-tester, in process)", "chain_id": chain.chain_id}
    return {"client": chain.w3.client_version, "chain_id": chain.chain_id}


def _record_ids(gateway: Gateway, limit: int) -> list[str]:
    with Session(gateway.engine) as session:
        ids = session.scalars(select(StoredRecord.record_id).limit(limit)).all()
    return ["0x" + record_id.hex() for record_id in ids]


def _hardhat() -> HardhatNode:
    root = find_repo_root(Path(__file__).resolve().parent)
    return HardhatNode(root, Path(tempfile.mkdtemp(prefix="credit-ledger-bench-hardhat-")) / "hardhat.log")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _proc(name: str) -> list[str]:
    try:
        return Path(f"/proc/{name}").read_text().splitlines()
    except OSError:
        return []
