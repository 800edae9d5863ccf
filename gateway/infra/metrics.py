"""Prometheus metrics of one gateway, in a registry of its own (several gateways per process in tests).

Under `credit-ledger serve --workers N` the parent sets PROMETHEUS_MULTIPROC_DIR before the
worker processes start: prometheus_client then keeps every value in a file per process,
and `/metrics`, whichever process answers it, shows the sum over the processes (counters
and histograms summed; each gauge by its `multiprocess_mode`, over live processes).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
GROUP_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def multiprocess_mode() -> bool:
    """True in a worker of a multi-process gateway (the parent set the shared directory)."""
    return bool(os.environ.get(MULTIPROC_DIR_ENV))


class Metrics:
    """The counters, gauges and histograms `/metrics` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "credit_ledger_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "credit_ledger_http_request_seconds", "HTTP request latency by route.", ["route"], registry=self.registry
        )
        self.records = Counter(
            "credit_ledger_records", "Submitted records by outcome.", ["outcome"], registry=self.registry
        )
        self.rejections = Counter(
            "credit_ledger_record_rejections", "Rejected records by error code.", ["code"], registry=self.registry
        )
        self.releases = Counter(
            "credit_ledger_releases",
            "Records released, by class and view.",
            ["klass", "view"],
            registry=self.registry,
        )
        self.integrity_failures = Counter(
            "credit_ledger_integrity_failures",
            "Stored rows that failed their integrity check.",
            registry=self.registry,
        )
        self.anchored_batches = Counter(
            "credit_ledger_anchored_batches", "Batches anchored by this gateway's worker.", registry=self.registry
        )
        self.anchored_records = Counter(
            "credit_ledger_anchored_records", "Records anchored by this gateway's worker.", registry=self.registry
        )
        self.anchoring_failures = Counter(
            "credit_ledger_anchoring_failures",
            "Times a batch failed in a worker round (left for the next round; the round went on).",
            registry=self.registry,
        )
        self.anchoring_lag = Gauge(
            "credit_ledger_anchoring_lag_seconds",
            "Age of the oldest accepted record not yet anchored.",
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.pending_records = Gauge(
            "credit_ledger_pending_records",
            "Accepted records not yet in a batch.",
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.peer_failures = Counter(
            "credit_ledger_peer_failures",
            "Reads from another region's gateway that failed: unreachable, or an answer not matching the chain.",
            ["reason"],
            registry=self.registry,
        )
        self.chain_available = Gauge(
            "credit_ledger_chain_available",
            "1 when the chain answered the last poll (of every process).",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.anchoring_lease_held = Gauge(
            "credit_ledger_anchoring_lease_held",
            "1 when a process holds the region's anchoring lease and runs the worker (summed over processes).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.processes = Gauge(
            "credit_ledger_processes",
            "Gateway processes serving (summed over processes).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.processes.set(1)
        self.access_log_group_size = Histogram(
            "credit_ledger_access_log_group_size",
            "Access-log entries committed together in one transaction (group commit).",
            buckets=GROUP_SIZE_BUCKETS,
            registry=self.registry,
        )
        self.lookup_group_size = Histogram(
            "credit_ledger_lookup_group_size",
            "Query registrations (查询登记) committed together in one transaction (group commit).",
            buckets=GROUP_SIZE_BUCKETS,
            registry=self.registry,
        )
        self.index_follower = Gauge(
            "credit_ledger_index_follower",
            "1 when this process holds the region's index lease and follows the chain into the index.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.index_block = Gauge(
            "credit_ledger_index_block",
            "The block the chain-state index is complete to.",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.index_age = Gauge(
            "credit_ledger_index_age_seconds",
            "Seconds since the index follower's last pass, as of this process's last poll.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.calendar_next_year_missing = Gauge(
            "credit_ledger_calendar_next_year_missing",
            "1 from 1 November while next year's working calendar is not adopted on chain.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._scrape_time: list[Callable[[], None]] = []

    def track_anchoring(self, lag: Callable[[], float], pending: Callable[[], int]) -> None:
        """Compute the anchoring gauges at scrape time (set, not set_function: multi-process values live in files)."""
        self._scrape_time.append(lambda: self.anchoring_lag.set(lag()))
        self._scrape_time.append(lambda: self.pending_records.set(float(pending())))

    def track_index(self, following: bool, block: int, age_s: float) -> None:
        """The index gauges, set after each poll."""
        self.index_follower.set(int(following))
        self.index_block.set(block)
        self.index_age.set(age_s)

    def exposition(self) -> bytes:
        """The text exposition format: of every process of the gateway in multi-process mode."""
        for update in self._scrape_time:
            update()
        if not multiprocess_mode():
            return generate_latest(self.registry)
        _forget_dead_processes(Path(os.environ[MULTIPROC_DIR_ENV]))
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return generate_latest(combined)

    def close(self) -> None:
        """At the process's exit: its live gauges no longer count in multi-process mode."""
        if multiprocess_mode():
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of worker processes that died without saying so (SIGKILL, a crash):
    the processes share one machine, so a pid that no longer runs is a process gone."""
    for path in directory.glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except PermissionError:
            continue  # alive, under another user
        except ProcessLookupError:
            with contextlib.suppress(FileNotFoundError):  # another process's scrape removed them first
                multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
