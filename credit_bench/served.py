"""A gateway under load in processes of its own: `credit-ledger serve`, and the floor beside it.

The load generator must not share the server's interpreter, so the gateway measured by
wrk is a `credit-ledger serve` child process on a loopback port (with `--workers N`, N
processes), and the floor (credit_bench.floor) another child reading the same database.
`serve --workers N` needs a JSON-RPC chain: on the embedded chain the bench starts
`credit-ledger node` for it; it runs on PostgreSQL when the local server answers, else on
SQLite. When this serve has no --workers, or refuses the combination, the run says why
(`ServeRefusedError`) and the bench reports it skipped.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from credit_cli.node import NodeProcess
from gateway.infra.request_auth import Audience
from gateway.serving import free_port

START_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0
POSTGRES_ADMIN_URL = os.environ.get("CREDIT_LEDGER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
_LEDGER = re.compile(r"ledger\s+(0x[0-9a-fA-F]{40})")


class ServeRefusedError(Exception):
    """`credit-ledger serve` cannot run this configuration here (the reason is the message)."""


@dataclass(frozen=True)
class ServedProcess:
    """A server in a child process: where it answers and which process (tree) it is."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        """The parent process's id (its workers are its descendants)."""
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and all its descendants so far (0 without /proc)."""
        return sum(_cpu_seconds(pid) for pid in (self.pid, *descendants(self.pid)))


@dataclass(frozen=True)
class ServedGateway(ServedProcess):
    """`credit-ledger serve` in a child process, and what a client needs to know of it."""

    audience: Audience
    ledger: str
    database_url: str
    workers: int


def serve_supports_workers() -> bool:
    """Whether this `credit-ledger serve` has a --workers option."""
    command = [sys.executable, "-m", "credit_cli.main", "serve", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    return "--workers" in done.stdout


@contextmanager
def served_gateway(folder: Path, *, rpc_url: str | None, workers: int = 1) -> Iterator[ServedGateway]:
    """`credit-ledger serve` on a free loopback port until the block ends (SIGTERM, then SIGKILL).

    One process: the embedded chain in it (or rpc_url), SQLite in folder. Several: a
    JSON-RPC chain (rpc_url, or a `credit-ledger node` started here) and PostgreSQL
    (a database created here and dropped after) or, without a PostgreSQL server, SQLite.
    """
    folder.mkdir(parents=True, exist_ok=True)
    node: NodeProcess | None = None
    database: str | None = None
    try:
        if workers > 1:
            if not serve_supports_workers():
                raise ServeRefusedError("this `credit-ledger serve` has no --workers option")
            if rpc_url is None:
                node = NodeProcess(folder / "node", folder / "node.log")
                rpc_url = node.start()
            database = _postgres_database()
        database_url = database or f"sqlite:///{folder / 'gateway.db'}"
        port = free_port()
        command = [sys.executable, "-m", "credit_cli.main", "serve", "--data-dir", str(folder), "--host", "127.0.0.1"]
        command += ["--port", str(port), "--database-url", database_url]
        command += ["--rpc", rpc_url] if rpc_url else ["--chain-port", "0"]
        command += ["--workers", str(workers)] if workers > 1 else []
        with _started(command, folder / "serve.log", f"http://127.0.0.1:{port}", "/readyz") as process:
            text = process.log.read_text(errors="replace")
            ledger = _LEDGER.search(text)
            if ledger is None:
                raise ServeRefusedError(f"serve did not print its ledger address: {text[-500:]}")
            with httpx.Client(base_url=process.url, timeout=30) as http:
                audience = Audience.parse(http.get("/public/v1/gateway").json()["audience"])
            yield ServedGateway(
                process.url, process.process, process.log, audience, ledger.group(1), database_url, workers
            )
    finally:
        if node is not None:
            node.stop()
        if database is not None:
            _drop_postgres_database(database)


@contextmanager
def served_floor(folder: Path, *, database_url: str, audience: Audience) -> Iterator[ServedProcess]:
    """The floor endpoint (credit_bench.floor) on a free loopback port until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "credit_bench.floor", "--database-url", database_url]
    command += ["--audience", str(audience), "--port", str(port)]
    with _started(command, folder / "floor.log", f"http://127.0.0.1:{port}", "/healthz") as process:
        yield process


@contextmanager
def _started(command: list[str], log: Path, url: str, ready_path: str) -> Iterator[ServedProcess]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=environment
        )
    try:
        _wait_ready(process, url + ready_path, log)
        yield ServedProcess(url, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeRefusedError(
                f"exited with {process.returncode}: {log.read_text(errors='replace')[-600:].strip()}"
            )
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ServeRefusedError(f"not ready after {START_TIMEOUT_S:.0f} s: {log.read_text(errors='replace')[-600:]}")


def _postgres_database() -> str | None:
    """A new empty database on the local PostgreSQL server, or None when none answers."""
    import psycopg

    name = f"credit_ledger_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')  # a name made here, not input
    except psycopg.OperationalError:
        return None
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def _drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def descendants(pid: int) -> list[int]:
    """Every process below pid (from /proc/PID/task/*/children; empty without /proc)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            pending += children
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
