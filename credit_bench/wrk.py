"""Reads driven by `wrk` (Debian package) replaying pre-signed requests, one nonce each.

A Python client at 50 connections caps near 300 requests/s on two cores by itself and
steals the server's CPU; wrk is C. Every request carries a `credit-ledger-request@2`
signature with a nonce of its own, so the requests are signed before the timed window
and written one a line to a file the Lua script below loads and sends once each. A run
that sends more requests than were signed would replay nonces: the script counts the
requests it could not send fresh (`exhausted`) and the caller signs more and runs again,
so only fresh requests are counted. Anything but a 200 is an error and is reported.

The generator's own CPU time (user + system, from wait4 on wrk) over the wall time of the
run is reported as a share of the machine, so one can see what the client took from the
server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from gateway.infra.request_auth import SIGNATURE_HEADERS, Audience, sign_request

WRK_THREADS = 1  # one thread keeps up with the floor and leaves the other core to the server
RESULT_PREFIX = "CL_BENCH_RESULT "
TIMEOUT_S = 10  # wrk's per-request timeout: a slow answer is a latency, not an error
RETRIES = 2  # runs again with twice the requests when the signed ones ran out

# One request a line: the path with its query, then the six X-CL-* header values, tab-separated.
LUA_SCRIPT = r"""
-- credit-ledger bench: replay pre-signed GET requests, each exactly once (one nonce each).
local names = {"X-CL-Address", "X-CL-Audience", "X-CL-Content-SHA256", "X-CL-Timestamp", "X-CL-Nonce",
               "X-CL-Signature"}
local threads = {}
local count = 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local file, shares = args[1], tonumber(args[2])
  requests, sent, ok, bad, exhausted, sample = {}, 0, 0, 0, 0, ""
  local n = 0
  for line in io.lines(file) do
    if n % shares == index then
      local fields = {}
      for field in line:gmatch("[^\t]+") do table.insert(fields, field) end
      local headers = {}
      for i, name in ipairs(names) do headers[name] = fields[i + 1] end
      table.insert(requests, wrk.format("GET", fields[1], headers))
    end
    n = n + 1
  end
  signed = #requests
end

function request()
  sent = sent + 1
  if sent > #requests then
    exhausted = exhausted + 1
    return requests[#requests]
  end
  return requests[sent]
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
    if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

local function quote(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, _)
  local ok_all, bad_all, exhausted_all, signed, sample_all = 0, 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    ok_all = ok_all + thread:get("ok")
    bad_all = bad_all + thread:get("bad")
    exhausted_all = exhausted_all + thread:get("exhausted")
    signed = signed + thread:get("signed")
    if sample_all == "" then sample_all = thread:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    'CL_BENCH_RESULT {"duration_us":%d,"requests":%d,"ok":%d,"bad":%d,"exhausted":%d,"signed":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"sample":%s}\n',
    summary.duration, summary.requests, ok_all, bad_all, exhausted_all, signed,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, quote(sample_all)))
end
"""


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: answers, their latency, errors, and what the generator itself cost."""

    connections: int
    seconds: float
    ok: int  # 200 answers to fresh requests
    errors: int  # non-200 answers and socket errors (connect, read, write, timeout)
    error_sample: str | None
    p50_ms: float
    p99_ms: float
    max_ms: float
    signed: int  # requests signed for the run
    exhausted: int  # requests the run wanted beyond the signed ones (replays; 0 in a valid run)
    client_cpu_s: float  # wrk's user + system time
    wall_s: float  # wrk's whole life, loading the requests included
    server_cpu_s: float | None = None  # the server's processes' CPU time over the same wall time

    @property
    def requests_per_s(self) -> float:
        """Fresh requests answered 200 per second of the timed window."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def client_cpu_share(self) -> float:
        """The generator's CPU time over its wall time, as a fraction of the whole machine."""
        return self._share(self.client_cpu_s)

    def figures(self) -> dict[str, Any]:
        """The JSON figures of the run."""
        return {
            "connections": self.connections,
            "requests_per_s": round(self.requests_per_s, 1),
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "requests": self.ok + self.errors,
            "errors": self.errors,
            "error_sample": self.error_sample,
            "seconds": round(self.seconds, 2),
            "signed": self.signed,
            "client_cpu_share": round(self.client_cpu_share, 3),
            "server_cpu_share": None if self.server_cpu_s is None else round(self._share(self.server_cpu_s), 3),
        }

    def _share(self, cpu_s: float) -> float:
        return cpu_s / self.wall_s / (os.cpu_count() or 1) if self.wall_s else 0.0


class WrkError(Exception):
    """wrk did not run, or printed no result."""


def wrk_path() -> str | None:
    """The wrk executable, or None when it is not installed."""
    return shutil.which("wrk")


def presign(
    account: LocalAccount, audience: Audience, paths: Sequence[str], count: int, query: Iterable[tuple[str, str]]
) -> list[str]:
    """`count` GET requests cycling over `paths`, each signed now with a nonce of its own, as script lines."""
    pairs = list(query)
    suffix = "?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else ""
    now = int(time.time())
    lines = []
    for index in range(count):
        path = paths[index % len(paths)]
        headers = sign_request(account, "GET", path, pairs, b"", audience=audience, timestamp=now)
        lines.append("\t".join([path + suffix, *(headers[name] for name in SIGNATURE_HEADERS)]))
    return lines


def write_script(folder: Path) -> Path:
    """The Lua script, written into folder."""
    script = folder / "replay.lua"
    script.write_text(LUA_SCRIPT, encoding="utf-8")
    return script


def run_wrk(
    url: str,
    folder: Path,
    lines: list[str],
    *,
    connections: int,
    seconds: float,
    server_cpu: Callable[[], float] | None = None,
) -> WrkRun:
    """Replay the signed requests against url for `seconds` from `connections` connections;
    server_cpu, if given, reads the server's CPU seconds so far (before and after the run)."""
    executable = wrk_path()
    if executable is None:
        raise WrkError("wrk is not installed")
    requests = folder / "requests.tsv"
    requests.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [
        executable,
        f"--threads={WRK_THREADS}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_S}s",
        f"--script={write_script(folder)}",
        url,
        "--",
        str(requests),
        str(WRK_THREADS),
    ]
    server_before = server_cpu() if server_cpu else 0.0
    start = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as child:
        assert child.stdout is not None
        output = child.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    server_s = server_cpu() - server_before if server_cpu else None
    result = next((line[len(RESULT_PREFIX) :] for line in output.splitlines() if line.startswith(RESULT_PREFIX)), None)
    if child.returncode != 0 or result is None:
        raise WrkError(f"wrk exited with {child.returncode}: {output[-1000:]}")
    return _parsed(json.loads(result), connections, usage.ru_utime + usage.ru_stime, wall, server_s)


def _parsed(raw: dict[str, Any], connections: int, cpu_s: float, wall_s: float, server_s: float | None) -> WrkRun:
    socket_errors = sum(int(raw[key]) for key in ("connect", "read", "write", "timeout"))
    sample = raw["sample"] or (f"socket errors: {socket_errors}" if socket_errors else None)
    return WrkRun(
        connections=connections,
        seconds=raw["duration_us"] / 1e6,
        ok=int(raw["ok"]),
        errors=int(raw["bad"]) + socket_errors,
        error_sample=sample,
        p50_ms=round(raw["p50_us"] / 1000, 2),
        p99_ms=round(raw["p99_us"] / 1000, 2),
        max_ms=round(raw["max_us"] / 1000, 2),
        signed=int(raw["signed"]),
        exhausted=int(raw["exhausted"]),
        client_cpu_s=cpu_s,
        wall_s=wall_s,
        server_cpu_s=server_s,
    )


def replay(
    url: str,
    folder: Path,
    sign: Callable[[int], list[str]],
    *,
    connections: int,
    seconds: float,
    expected_per_s: float,
    server_cpu: Callable[[], float] | None = None,
) -> WrkRun:
    """Run wrk with enough fresh requests: `sign(count)` gives the lines; when a run wanted
    more than were signed, twice as many are signed and it runs again."""
    count = max(500, int(expected_per_s * seconds * 2))
    for _ in range(RETRIES + 1):
        lines = sign(count)
        run = run_wrk(url, folder, lines, connections=connections, seconds=seconds, server_cpu=server_cpu)
        if run.exhausted == 0:
            return run
        count = max(count * 2, int((run.ok + run.errors) * 1.5))
    raise WrkError(f"wrk wanted more than the {count // 2:,} signed requests {RETRIES + 1} times")
