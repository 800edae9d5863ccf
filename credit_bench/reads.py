"""Reads: `GET /v1/records/{id}` with its payload, from 50 concurrent clients.

The clients run in a process of their own (asyncio, one connection each), so that they do
not share the gateway's interpreter; every request is signed before the timed window,
as the record's provider, who is entitled to the full payload (each read is a logged
release, as in production).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import httpx

from chain_client import devnet_for
from credit_bench.records import PROVIDER_LABEL
from credit_client import GatewayClient
from gateway.infra.request_auth import sign_request

PURPOSE = (("purpose", "benchmark"),)
WARM_UP = 5  # reads one at a time before the timed ones


@dataclass(frozen=True)
class ReadResult:
    """Latencies of the timed reads (failed ones too), how long they took, what failed."""

    latencies: list[float]
    seconds: float
    clients: int
    errors: int
    error_sample: str | None

    @property
    def requests_per_s(self) -> float:
        """Reads answered per second."""
        return len(self.latencies) / self.seconds


def measure_reads(url: str, chain_id: int, record_ids: list[str], *, clients: int, per_client: int) -> ReadResult:
    """Run the read load from a child process; a read that is not a 200 with the full view counts as an error."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        timed, seconds = pool.submit(_load, url, chain_id, record_ids, clients, per_client).result()
    errors = [problem for _, problem in timed if problem is not None]
    return ReadResult([t for t, _ in timed], seconds, clients, len(errors), errors[0] if errors else None)


Timed = list[tuple[float, str | None]]  # latency, and what went wrong (None for a good read)


def _load(url: str, chain_id: int, record_ids: list[str], clients: int, per_client: int) -> tuple[Timed, float]:
    provider = devnet_for(chain_id).by_label(PROVIDER_LABEL).account
    now = int(time.time())
    with GatewayClient(url) as public:
        audience = public.audience
    signed = []
    for index in range(WARM_UP + clients * per_client):
        path = f"/v1/records/{record_ids[index % len(record_ids)]}"
        signed.append((path, sign_request(provider, "GET", path, PURPOSE, b"", audience=audience, timestamp=now)))
    return asyncio.run(_drive(url, signed, clients))


async def _drive(url: str, signed: list[tuple[str, dict[str, str]]], clients: int) -> tuple[Timed, float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120.0) as http:

        async def read(path: str, headers: dict[str, str]) -> tuple[float, str | None]:
            start = time.perf_counter()
            try:
                response = await http.get(path, params=PURPOSE, headers=headers)
            except httpx.HTTPError as exc:
                return time.perf_counter() - start, f"GET {path} failed: {exc!r}"
            latency = time.perf_counter() - start
            if response.status_code != 200 or response.json().get("view") != "full":
                return latency, f"GET {path} answered {response.status_code}: {response.text[:200]}"
            return latency, None

        for path, headers in signed[:WARM_UP]:
            await read(path, headers)
        timed = signed[WARM_UP:]
        queue = iter(timed)
        results: Timed = []

        async def client() -> None:
            for path, headers in queue:
                results.append(await read(path, headers))

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return results, time.perf_counter() - start
