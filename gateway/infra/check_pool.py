"""The worker processes that check large record bulks: one per core, started on first use.

Spawned, not forked: the gateway runs threads, and children must not inherit their
locks. A pool whose worker died (killed, out of memory) is discarded; the next bulk
starts a fresh one, and the caller checks in-process meanwhile.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

from gateway.infra.gc_tuning import tune_for_serving


def pool_size() -> int:
    """Worker processes for checks: one per core, none on a single core."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


class CheckPool:
    """The worker processes, started on first use and shared by the gateways of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor | None:
        """The pool, started now if needed; None on a single core."""
        if pool_size() == 0:
            return None
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    pool_size(), mp_context=multiprocessing.get_context("spawn"), initializer=tune_for_serving
                )
            return self._pool

    def discard(self, pool: ProcessPoolExecutor) -> None:
        """Drop a broken pool; the next get() starts another."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Start the workers now rather than with the first large bulk (a no-op on one core)."""
        pool = self.get()
        if pool is not None:
            list(pool.map(_ready, range(pool_size())))


def _ready(_: int) -> bool:
    return True


CHECK_POOL = CheckPool()
