"""Peak memory of a gateway ingesting many records, measured in a process of its own.

`python -m credit_bench.rss --data-dir DIR [--rpc URL]` opens and serves one gateway
(its worker on) and prints one JSON line with its URL and ledger; it stops when its
standard input closes. The parent streams signed bulks to it, samples its resident set
(/proc/PID/status VmRSS) as the records go in, and reads its peak (VmHWM, and ru_maxrss
from wait4 once it exited), so the figure is the gateway's own, nobody else's. Figures
from /proc add up the gateway process and its check worker processes (VmHWM: the sum
of each one's peak, an upper bound); ru_maxrss is the largest single process. With
`--rpc` the chain is a node of its own; without, the embedded chain lives (and grows) in
the gateway's process and is counted too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from chain_client import devnet_for
from credit_bench.ingest import AnchorMonitor, BenchError, post_bulks
from credit_bench.records import PROVIDER_LABEL, RecordSource, preparation_pool, prepare_bodies
from credit_demo.catalog import open_gateway
from gateway.infra.storage import connect

START_TIMEOUT_S = 180.0


@dataclass
class RssResult:
    """The gateway's memory while it ingested `records` records."""

    records: int
    seconds: float
    peak_mb: float  # VmHWM just before it stopped
    maxrss_mb: float  # ru_maxrss from wait4, after it exited
    start_mb: float  # after opening, before the first record
    by_records: dict[str, float] = field(default_factory=dict)  # records accepted so far -> VmRSS MB


def measure_rss(
    records: int, *, bulk: int, rpc_url: str | None = None, connections: int = 2, timeout_s: float = 3600.0
) -> RssResult:
    """Start a gateway in a child process, ingest `records` records into it until anchored."""
    with tempfile.TemporaryDirectory(prefix="credit-ledger-bench-rss-") as folder:
        data = Path(folder)
        command = [sys.executable, "-m", "credit_bench.rss", "--data-dir", str(data)]
        if rpc_url:
            command += ["--rpc", rpc_url]
        with (
            (data / "gateway.log").open("wb") as log,
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log) as child,
        ):
            try:
                return _ingest_into(child, data, records, bulk, connections, timeout_s)
            finally:
                if child.poll() is None:
                    child.kill()


def _ingest_into(
    child: subprocess.Popen[bytes], data: Path, records: int, bulk: int, connections: int, timeout_s: float
) -> RssResult:
    assert child.stdin is not None
    assert child.stdout is not None
    ready = _ready_line(child.stdout, data)
    source = RecordSource(ready["chainId"], ready["ledger"], ready["now"])
    provider = devnet_for(source.chain_id).by_label(PROVIDER_LABEL).account
    start_mb = _status_mb(child.pid, "VmRSS")
    accepted = 0
    by_records: dict[str, float] = {}
    checkpoints = sorted({max(1, records * p // 100) for p in (10, 25, 50, 75, 100)})

    def on_accepted(_done: float, ids: list[bytes]) -> None:
        nonlocal accepted
        accepted += len(ids)
        while checkpoints and accepted >= checkpoints[0]:
            by_records[str(checkpoints.pop(0))] = _status_mb(child.pid, "VmRSS")

    engine = connect(f"sqlite:///{data / 'gateway.db'}")
    start = time.monotonic()
    try:
        with preparation_pool() as pool:
            bodies = prepare_bodies(pool, source, records, bulk)
            post_bulks(ready["url"], provider, bodies, connections=connections, on_accepted=on_accepted)
        monitor = AnchorMonitor(engine)
        deadline = time.monotonic() + timeout_s
        while monitor.anchored_records() < records:
            if time.monotonic() > deadline or child.poll() is not None:
                raise BenchError(f"the gateway anchored {monitor.anchored_records()} of {records} records")
            time.sleep(0.1)
        seconds = time.monotonic() - start
        by_records["anchored"] = _status_mb(child.pid, "VmRSS")
        peak = _status_mb(child.pid, "VmHWM")  # the kernel's high-water mark of the resident set
    finally:
        engine.dispose()
    child.stdin.close()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return RssResult(records, seconds, peak, usage.ru_maxrss / 1024, start_mb, by_records)


def _ready_line(stdout: IO[bytes], data: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = stdout.readline()
        if not line:
            break
        if line.startswith(b'{"url"'):
            ready: dict[str, Any] = json.loads(line)
            return ready
    log = (data / "gateway.log").read_text(errors="replace")[-2000:]
    raise BenchError(f"the benchmark gateway did not start: {log}")


def _status_mb(pid: int, key: str) -> float:
    """A memory figure of a process and its children (the gateway's check workers) from
    /proc/PID/status, in MB (0 where there is no /proc)."""
    total_kb = 0
    for process in (pid, *_children(pid)):
        try:
            text = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in text.splitlines() if line.startswith(key + ":")), 0)
    return round(total_kb / 1024, 1)


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        pass
    return children


def _serve(data_dir: Path, rpc_url: str | None) -> None:
    """The child: serve one gateway until standard input closes."""
    from gateway.infra.check_pool import CHECK_POOL
    from gateway.infra.gc_tuning import tune_for_serving
    from gateway.infra.settings import Settings
    from gateway.serving import serve_in_thread

    gateway = open_gateway(Settings.model_validate({"data_dir": data_dir, "rpc_url": rpc_url}))
    gateway.start()
    tune_for_serving()  # as `credit-ledger serve` does
    CHECK_POOL.start()
    try:
        with serve_in_thread(gateway) as server:
            ready = {
                "url": server.url,
                "chainId": gateway.stack.chain.chain_id,
                "ledger": gateway.stack.ledger.address,
                "now": gateway.now(),
            }
            sys.stdout.write(json.dumps(ready) + "\n")
            sys.stdout.flush()
            sys.stdin.read()
    finally:
        gateway.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve one gateway for the memory benchmark.")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rpc", default=None)
    arguments = parser.parse_args()
    _serve(arguments.data_dir, arguments.rpc)
