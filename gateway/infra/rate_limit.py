"""Per-client token buckets for public lookups by subject id.

The public disclosure lookup answers anyone; without a limit it is a guessing oracle for
the space of resident ids (a birth date and a region leave a few thousand candidates).
Each client (by its address as the HTTP server sees it) gets a bucket of `per_minute`
tokens that refills continuously; a lookup takes one. Buckets live in the process: with
several worker processes each holds its own, so the limit is per process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.infra.errors import GatewayError

_MAX_CLIENTS = 100_000  # buckets kept; the idlest are dropped first (a full bucket is no state)


class RateLimitedError(GatewayError):
    """A client asked faster than its limit (429 RATE_LIMITED); `retry_after_s` says when to ask again."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "RATE_LIMITED",
            f"too many public lookups from this client; try again in {retry_after_s} s",
            detail={"retryAfter": retry_after_s},
        )
        self.retry_after_s = retry_after_s


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """At most `per_minute` takes per client per minute, with bursts of up to `per_minute`."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Use one token of this client's bucket; RateLimitedError when it is empty."""
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(client, None) or _Bucket(float(self.per_minute), now)
            bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            self._buckets[client] = bucket  # re-inserted: the dict keeps the most recent last
            if len(self._buckets) > _MAX_CLIENTS:
                del self._buckets[next(iter(self._buckets))]
            if bucket.tokens < 1.0:
                raise RateLimitedError(max(1, math.ceil((1.0 - bucket.tokens) / rate)))
            bucket.tokens -= 1.0
