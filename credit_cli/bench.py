"""`credit-ledger bench [--quick] [--json FILE]`: the benchmark's command and its table."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from credit_bench.bench import BenchConfig, run_bench


@click.command()
@click.option("--quick", is_flag=True, help="Every part on little data, embedded chain only (a smoke run).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the results here.")
@click.option("--hardhat/--no-hardhat", default=None, help="Also run on a Hardhat node (default: yes, not --quick).")
@click.option("--records", type=click.IntRange(min=1), help="Records ingested per chain (default 60,000).")
@click.option("--rss-records", type=click.IntRange(min=1), help="Records for the memory run (default 1,000,000).")
@click.option("--connections", type=click.IntRange(min=1), help="Concurrent connections posting bulks (default 2).")
@click.option(
    "--load-seconds", type=click.FloatRange(min=1), help="Seconds of each wrk run of the read load (default 8)."
)
def bench(
    quick: bool,
    json_file: Path | None,
    hardhat: bool | None,
    records: int | None,
    rss_records: int | None,
    connections: int | None,
    load_seconds: float | None,
) -> None:
    """Measure ingest to anchored, the per-record baseline, gas, proofs, verification, reads and memory.

    Reads under load are driven by wrk (Debian package `wrk`) replaying pre-signed
    requests against `credit-ledger serve` in processes of its own, beside the floor
    endpoint; without wrk that part says so and is skipped.

    A benchmark, not a test: the figures depend on the machine and on what else runs on
    it, so each comes with the load average seen when it was measured.
    """
    config = BenchConfig.for_run(
        quick=quick,
        hardhat=hardhat,
        records=records,
        rss_records=rss_records,
        connections=connections,
        load_seconds=load_seconds,
    )
    start = time.perf_counter()
    result = run_bench(config, click.echo)
    result["seconds"] = round(time.perf_counter() - start, 1)
    click.echo("")
    click.echo(table(result))
    if json_file is not None:
        json_file.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_file}")


def table(result: dict[str, Any]) -> str:
    """The headline figures, one row each, one column per chain."""
    chains = list(result["chains"])
    rows: list[tuple[str, list[str]]] = [
        ("ingest, HTTP to anchored (records/s)", [_num(result["ingest_records_per_s"][c]) for c in chains]),
        ("  accepted -> anchored p50 / p99 (s)", [_pair(result, "anchor_latency", c, "_s") for c in chains]),
        ("baseline, 1 tx per record (records/s)", [_num(result["baseline_records_per_s"][c], 1) for c in chains]),
        ("ratio", [f"{result['ratio'][c]:,.1f}x" for c in chains]),
    ]
    for size in result["config"]["gas_batch_sizes"]:
        rows.append(
            (f"gas per record, batch of {size:,}", [_num(result["gas_per_record"][c][str(size)], 1) for c in chains])
        )
    for key in ("reads", "reads_few_clients"):
        runs = [result["chains"][c][key] for c in chains if key in result["chains"][c]]
        if len(runs) != len(chains):
            continue
        label = f"GET /v1/records/{{id}}, {runs[0]['clients']} clients p50 / p99 (ms)"
        rows.append((label, [f"{r['p50_ms']:,} / {r['p99_ms']:,}" for r in runs]))
        rows.append(("  errors / requests", [f"{r['errors']} / {r['requests']}" for r in runs]))
    lines = [f"{'':<48}" + "".join(f"{c:>22}" for c in chains)]
    lines += [f"{label:<48}" + "".join(f"{v:>22}" for v in values) for label, values in rows]
    lines += load_table(result)
    sizes = result["proof_size"]
    growth = result["proof_growth"]
    lines.append("")
    lines.append(
        "proof bytes by batch size: " + ", ".join(f"{int(n):,}: {s['proof_bytes_max']}" for n, s in sizes.items())
    )
    lines.append(
        f"  {growth['bytes_per_doubling']} bytes per doubling; longest proof = ceil(log2 n) hashes: "
        f"{growth['max_hashes_equal_ceil_log2_n']}"
    )
    verification = result["verification"]
    if result["verify_per_s"] is not None:
        lines.append(
            f"offline verifications/s: {verification['verify_per_s']:,} parsed, "
            f"{verification['verify_json_per_s']:,} as JSON documents"
        )
    rss = result["rss"]
    lines.append(
        f"peak RSS ingesting {rss['records']:,} records ({rss['chain']} chain): {rss['peak_rss_mb']:,.0f} MB "
        f"(start {rss['start_rss_mb']:,.0f} MB; by records "
        + ", ".join(f"{k}: {v:,.0f}" for k, v in rss["rss_mb_by_records"].items())
        + ")"
    )
    machine = result["machine"]
    lines.append(
        f"machine: {machine['cpu_count']} CPUs, Python {machine['python']}, {machine['platform']}; "
        f"load average {result['load_avg']['start'][0]} at start, {result['load_avg']['end'][0]} at end"
    )
    return "\n".join(lines)


LOAD_ENDPOINTS = (
    ("floor", "floor: signature + one row by key"),
    ("record_reads", "GET /v1/records/{id}"),
    ("measures", "GET /v1/subjects/{s}/measures"),
)


def load_table(result: dict[str, Any]) -> list[str]:
    """The reads driven by wrk against a served gateway: one block per chain and number of processes."""
    lines = ["", "reads under wrk load (served in processes of their own; each request signed once):"]
    lines.append(
        f"  {'':<36}{'conns':>6}{'reads/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'of floor':>10}{'wrk CPU':>9}"
    )
    for chain, run in result["chains"].items():
        for workers, load in run.get("load", {}).items():
            where = f"{chain}, {workers} process{'es' if workers != '1' else ''}"
            if "database" in load:
                where += f", {load['database']}"
            lines.append(f"  {where}")
            if "screening" in load:
                screening = load["screening"]
                lines.append(
                    f"    POST /v1/screenings ({screening['subjects']:,} ids): "
                    f"{screening['subjects_per_s']:,.0f} subjects/s"
                )
            if "floor" not in load:
                lines.append(f"    skipped: {load.get('skipped')}")
                continue
            for key, label in LOAD_ENDPOINTS:
                for connections, figures in load[key].items():
                    lines.append(f"    {label:<34}" + _load_row(connections, figures))
    return lines


def _load_row(connections: str, figures: dict[str, Any]) -> str:
    if "failed" in figures:
        return f"{connections:>6}  failed: {figures['failed']}"
    share = figures.get("of_floor")
    return (
        f"{connections:>6}{figures['requests_per_s']:>10,.0f}{figures['p50_ms']:>10,.1f}{figures['p99_ms']:>10,.1f}"
        f"{figures['errors']:>8}{'' if share is None else f'{share:.0%}':>10}{figures['client_cpu_share']:>9.1%}"
    )


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _pair(result: dict[str, Any], prefix: str, chain: str, unit: str) -> str:
    return f"{result[f'{prefix}_p50{unit}'][chain]:,} / {result[f'{prefix}_p99{unit}'][chain]:,}"
