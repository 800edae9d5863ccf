"""`credit-ledger bench --quick`: every part of the benchmark runs end to end and reports.

A smoke run on little data, not a timed test: it checks that each figure is measured
and written, never how large it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from credit_cli.bench import bench

HEADLINE_KEYS = {
    "ingest_records_per_s",
    "anchor_latency_p50_s",
    "anchor_latency_p99_s",
    "baseline",
    "baseline_records_per_s",
    "ratio",
    "gas_per_record",
    "proof_size",
    "proof_growth",
    "verify_per_s",
    "read_p50_ms",
    "read_p99_ms",
    "read_errors",
    "peak_rss_mb",
    "machine",
    "versions",
    "load_avg",
}


@pytest.mark.timeout(240)
def test_a_quick_run_measures_and_writes_every_figure(tmp_path: Path) -> None:
    """A quick run on the embedded chain writes every key, with the ratio and proof growth computed."""
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(bench, ["--quick", "--no-hardhat", "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures) >= HEADLINE_KEYS
    ingest, baseline = figures["ingest_records_per_s"]["embedded"], figures["baseline_records_per_s"]["embedded"]
    assert ingest > 0
    assert baseline > 0
    assert figures["ratio"]["embedded"] == round(ingest / baseline, 1)
    assert set(figures["gas_per_record"]["embedded"]) == {"1", "100", "10000"}
    assert list(figures["proof_size"]) == ["1", "10", "100", "1000", "10000"]
    assert isinstance(figures["proof_growth"]["bytes_per_doubling"], float)
    assert isinstance(figures["proof_growth"]["max_hashes_equal_ceil_log2_n"], bool)
    assert figures["peak_rss_mb"] > 0
    assert {"python", "platform", "cpu_count"} <= set(figures["machine"])
    assert figures["versions"]["credit-ledger"]
    assert figures["chains"]["embedded"]["chain"]["client"].startswith("py-evm")
    assert "ingest, HTTP to anchored" in result.output
