"""`credit-ledger bench --quick`: every part of the benchmark runs end to end and reports.

A smoke run on little data, not a timed test: it checks that each figure is measured
and written, never how large it is.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from sqlalchemy.orm import Session

from chain_client import devnet_for
from credit_bench.floor import FloorApp
from credit_bench.records import PROVIDER_LABEL
from credit_bench.wrk import presign, run_wrk, write_script, wrk_path
from credit_cli.bench import bench
from gateway.infra.request_auth import SIGNATURE_HEADERS, Audience, RequestAuthError, verify_signed_headers
from gateway.infra.storage import StoredRecord, connect, migrate
from gateway.serving import serve_app_in_thread

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
    "load_reads",
    "screening_subjects_per_s",
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
    # The served gateway's load: screening always; the reads with wrk, else said skipped.
    load = figures["chains"]["embedded"]["load"]["1"]
    assert load["screening"]["subjects"] == 10_000
    assert figures["screening_subjects_per_s"]["embedded"]["1"] > 0
    reads = figures["load_reads"]["embedded"]["1"]
    if wrk_path() is None:
        assert "wrk is not installed" in load["skipped"]
        assert "wrk is not installed" in result.output
    else:
        for endpoint in ("floor", "record_reads", "measures"):
            assert set(reads[endpoint]) == {"10", "50"}
            assert all(run["errors"] == 0 for run in reads[endpoint].values()), reads
        assert reads["record_reads"]["50"]["of_floor"] > 0
        assert "GET /v1/records/{id}" in result.output


# The read load (credit_bench.wrk, credit_bench.floor): cheap checks of the instrument itself.

AUDIENCE = Audience(31337, to_checksum_address("0x" + "5b" * 20))
WRK_OPTIONAL = (
    "needs wrk (Debian package; .ci/run installs it, and under CI=true this test fails without it); "
    "the bench reports its read load as skipped without it"
)


def _member() -> LocalAccount:
    return devnet_for(31337).by_label(PROVIDER_LABEL).account


def test_presigned_requests_verify_once_each_and_the_script_reads_them(tmp_path: Path) -> None:
    """Each line is a GET with its own nonce that the gateway's own verification accepts; the
    script parses that layout and counts fresh answers apart from replays."""
    paths = ["/v1/records/0x" + "11" * 32, "/v1/records/0x" + "22" * 32]
    lines = presign(_member(), AUDIENCE, paths, 5, (("purpose", "benchmark"),))
    assert len(lines) == 5
    nonces = set()
    for index, line in enumerate(lines):
        fields = line.split("\t")
        assert len(fields) == 1 + len(SIGNATURE_HEADERS)
        path, query = fields[0].split("?")
        assert path == paths[index % 2]
        assert query == "purpose=benchmark"
        headers = dict(zip(SIGNATURE_HEADERS, fields[1:], strict=True))
        signed = verify_signed_headers(
            headers, "GET", path, [("purpose", "benchmark")], audience=AUDIENCE, now=int(time.time())
        )
        assert signed.address == _member().address
        nonces.add(signed.nonce)
    assert len(nonces) == 5
    # The same line for another path or query does not verify: the path and query are signed.
    headers = dict(zip(SIGNATURE_HEADERS, lines[0].split("\t")[1:], strict=True))
    with pytest.raises(RequestAuthError):
        verify_signed_headers(
            headers, "GET", paths[1], [("purpose", "benchmark")], audience=AUDIENCE, now=int(time.time())
        )
    script = write_script(tmp_path).read_text(encoding="utf-8")
    for name in SIGNATURE_HEADERS:
        assert f'"{name}"' in script
    for function in ("function setup(", "function init(", "function request(", "function response(", "function done("):
        assert function in script


@pytest.mark.skipif(wrk_path() is None and os.environ.get("CI") != "true", reason=WRK_OPTIONAL)
def test_wrk_replays_signed_requests_against_the_floor_and_counts_refusals(tmp_path: Path) -> None:
    """A short wrk run against the floor app: fresh signed reads answer 200 with no errors; requests
    signed for another gateway are all counted as errors; too few signed requests are reported."""
    engine = connect(f"sqlite:///{tmp_path / 'floor.db'}")
    migrate(engine)
    record_id = os.urandom(32)
    with Session(engine) as session:
        session.add(_stored(record_id))
        session.commit()
    paths = [f"/v1/records/0x{record_id.hex()}"]
    query = (("purpose", "benchmark"),)
    with serve_app_in_thread(FloorApp(engine, AUDIENCE)) as server:
        good = run_wrk(
            server.url, tmp_path, presign(_member(), AUDIENCE, paths, 20_000, query), connections=2, seconds=1
        )
        assert good.ok > 0
        assert good.errors == 0
        assert good.exhausted == 0
        assert good.p50_ms <= good.p99_ms
        assert good.client_cpu_s >= 0
        elsewhere = Audience(31337, to_checksum_address("0x" + "77" * 20))
        refused = run_wrk(
            server.url, tmp_path, presign(_member(), elsewhere, paths, 20_000, query), connections=2, seconds=1
        )
        assert refused.ok == 0
        assert refused.errors > 0
        assert str(refused.error_sample).startswith("401")
        few = run_wrk(server.url, tmp_path, presign(_member(), AUDIENCE, paths, 3, query), connections=1, seconds=1)
        assert few.signed == 3
        assert few.exhausted > 0
    engine.dispose()


def _stored(record_id: bytes) -> StoredRecord:
    return StoredRecord(
        record_id=record_id,
        catalog_id=os.urandom(32),
        catalog_version=1,
        subject_ref=os.urandom(32),
        subject_tag=os.urandom(32),
        subject_salt=os.urandom(32),
        content_hash=os.urandom(32),
        provider=_member().address,
        issued_at=1_760_000_000,
        supersedes=bytes(32),
        signature=os.urandom(65),
        ciphertext=os.urandom(100),
        nonce=os.urandom(12),
        wrapped_key=os.urandom(48),
        key_nonce=os.urandom(12),
        kek_id="kek-1",
    )
