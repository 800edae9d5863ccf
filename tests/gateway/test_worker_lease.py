"""One anchoring worker per region: processes sharing a database take turns through a lease."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain_client.dev import DevChain
from credit_demo.catalog import open_gateway
from gateway.infra.settings import Settings
from gateway.infra.storage import connect
from gateway.infra.worker_lease import WorkerLease
from tests.support.databases import postgres_database
from tests.support.served import wait_until

HOLD = """
import sys, time
from chain_client import Chain
from gateway.infra.service import Gateway
from gateway.infra.settings import Settings
from gateway.infra.storage import connect
from gateway.infra.worker_lease import WorkerLease
lease = WorkerLease(connect(sys.argv[1]))
print("held" if lease.held() else "not held", flush=True)
time.sleep(600)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One database that two gateway processes of a region share."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
    else:
        with postgres_database() as url:
            yield url


def test_one_holder_at_a_time_and_the_next_takes_over(database_url: str) -> None:
    engines = connect(database_url), connect(database_url)
    first, second = WorkerLease(engines[0]), WorkerLease(engines[1])
    try:
        assert first.held()
        assert first.held()  # kept, not taken twice
        assert not second.held()
        first.release()
        assert second.held()
        assert not first.held()
        second.release()
    finally:
        for engine in engines:
            engine.dispose()


def test_a_holder_killed_by_sigkill_frees_the_lease(database_url: str) -> None:
    """The holder's session (or file descriptor) ends with its process; nobody has to clean up."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, database_url], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    engine = connect(database_url)
    lease = WorkerLease(engine)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert not lease.held()
        holder.kill()
        holder.wait(timeout=10)
        deadline = time.monotonic() + 15
        while not lease.held():
            assert time.monotonic() < deadline, "the lease was not freed by the holder's death"
            time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
        lease.release()
        engine.dispose()


def test_of_two_gateways_on_one_database_one_runs_the_worker_until_it_stops(tmp_path: Path) -> None:
    """A region's second process serves requests; it takes over anchoring when the first stops."""
    with postgres_database() as url:
        chain = DevChain.embedded()
        common = {"database_url": url, "batch_interval_s": 0.1, "chain_poll_interval_s": 0.2}
        first = open_gateway(Settings(data_dir=tmp_path / "first", **common), chain=chain)
        second = open_gateway(
            Settings(data_dir=tmp_path / "second", deployments_dir=tmp_path / "first" / "deployments", **common),
            chain=chain,
        )
        gauges = [g.metrics.anchoring_lease_held for g in (first, second)]
        try:
            first.start()
            wait_until(lambda: gauges[0]._value.get() == 1, what="the first gateway to take the lease")
            second.start()
            time.sleep(0.5)  # a few of its rounds
            assert gauges[1]._value.get() == 0
            first.stop()
            wait_until(lambda: gauges[1]._value.get() == 1, what="the second gateway to take over")
        finally:
            first.stop()
            second.stop()
