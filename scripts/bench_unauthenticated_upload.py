#!/usr/bin/env python3
"""Benchmark: what strangers' large uploads cost a gateway (issue 16, finding 9).

Starts `credit-ledger serve` (embedded chain, SQLite) on a free loopback port, then sends
N POSTs of SIZE MiB each to /v1/records, streamed, with a well-formed but garbage
signature claiming a member's address. Prints, for each upload, the status and code
and how many bytes had been sent when the answer came, and the gateway's resident
memory (VmRSS, and VmHWM, the peak) before and after. The floor is the gateway's own
memory at rest, measured in the same run.

Usage: python scripts/bench_unauthenticated_upload.py [--uploads 3] [--mib 100]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from eth_account import Account

from chain_client import devnet_for
from chain_client.dev import EMBEDDED_CHAIN_ID, free_port
from credit_client import GatewayClient
from gateway.infra.request_auth import sign_request

CHUNK = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=3)
    parser.add_argument("--mib", type=int, default=100)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        command = ["credit-ledger", "serve", "--port", str(port), "--chain-port", "0", "--data-dir", data]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_ready(url, server)
            with GatewayClient(url) as public:
                audience = public.audience
            before = _memory(server.pid)
            print(f"gateway at rest: VmRSS {before['VmRSS']:.0f} MiB, VmHWM {before['VmHWM']:.0f} MiB")
            member = devnet_for(EMBEDDED_CHAIN_ID).by_label("samr-beijing").account.address
            for index in range(args.uploads):
                headers = sign_request(
                    Account.create(), "POST", "/v1/records", [], b"{}", audience=audience, timestamp=int(time.time())
                )
                headers.update({"X-CL-Address": member, "content-type": "application/json"})
                sent = [0]
                started = time.perf_counter()
                try:
                    response = httpx.post(
                        url + "/v1/records",
                        content=_body(args.mib * CHUNK, sent),
                        headers={**headers, "content-length": str(args.mib * CHUNK)},
                        timeout=120,
                    )
                    outcome = f"{response.status_code} {response.json()['code']}"
                except httpx.HTTPError as exc:
                    outcome = f"connection closed by the gateway ({type(exc).__name__})"
                elapsed = time.perf_counter() - started
                print(
                    f"upload {index + 1}: {outcome}; {sent[0] / CHUNK:.0f} of {args.mib} MiB sent "
                    f"when it ended, {elapsed:.2f} s"
                )
            after = _memory(server.pid)
            print(f"gateway after:   VmRSS {after['VmRSS']:.0f} MiB, VmHWM {after['VmHWM']:.0f} MiB")
            print(f"peak over rest:  {after['VmHWM'] - before['VmRSS']:.0f} MiB for {args.uploads} x {args.mib} MiB")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _body(size: int, sent: list[int]) -> Iterator[bytes]:
    chunk = b"x" * CHUNK
    while sent[0] < size:
        sent[0] += len(chunk)
        yield chunk


def _memory(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"credit-ledger serve exited with {server.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit("credit-ledger serve did not become ready in 120 s")


if __name__ == "__main__":
    main()
