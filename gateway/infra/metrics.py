"""Prometheus metrics of one gateway, in a registry of its own (several gateways per process in tests)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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
        )
        self.pending_records = Gauge(
            "credit_ledger_pending_records", "Accepted records not yet in a batch.", registry=self.registry
        )
        self.peer_failures = Counter(
            "credit_ledger_peer_failures",
            "Reads from another region's gateway that failed: unreachable, or an answer not matching the chain.",
            ["reason"],
            registry=self.registry,
        )
        self.chain_available = Gauge(
            "credit_ledger_chain_available", "1 when the chain answered the last poll.", registry=self.registry
        )
        self.anchoring_lease_held = Gauge(
            "credit_ledger_anchoring_lease_held",
            "1 when this process holds the region's anchoring lease and runs the worker.",
            registry=self.registry,
        )
        self.index_follower = Gauge(
            "credit_ledger_index_follower",
            "1 when this process holds the region's index lease and follows the chain into the index.",
            registry=self.registry,
        )
        self.index_block = Gauge(
            "credit_ledger_index_block", "The block the chain-state index is complete to.", registry=self.registry
        )
        self.index_age = Gauge(
            "credit_ledger_index_age_seconds",
            "Seconds since the index follower's last pass, as of this process's last poll.",
            registry=self.registry,
        )
        self.calendar_next_year_missing = Gauge(
            "credit_ledger_calendar_next_year_missing",
            "1 from 1 November while next year's working calendar is not adopted on chain.",
            registry=self.registry,
        )

    def track_anchoring(self, lag: Callable[[], float], pending: Callable[[], int]) -> None:
        """Compute the anchoring gauges at scrape time."""
        self.anchoring_lag.set_function(lag)
        self.pending_records.set_function(lambda: float(pending()))

    def track_index(self, following: bool, block: int, age_s: float) -> None:
        """The index gauges, set after each poll."""
        self.index_follower.set(int(following))
        self.index_block.set(block)
        self.index_age.set(age_s)

    def exposition(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
