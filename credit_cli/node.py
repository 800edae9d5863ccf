"""`credit-ledger node`: a development JSON-RPC node that keeps its chain in a data directory.

The embedded py-evm chain (chain id 131277322940537, the demo consortium funded) served
on 127.0.0.1, every request that changes the chain journaled and fsync'ed before it is
answered (chain_client/dev/node.py), so a node killed and started again on the same
directory serves the same chain. For reliability tests and development only: Hardhat 3
forgets its chain when it stops. `NodeProcess` runs the command as a child process.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, NoReturn

import click

EXIT_ERROR = 2
READY_TIMEOUT_S = 60.0
_READY_PREFIX = "credit-ledger node on "


@click.command("node")
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the node keeps its journal; an existing journal is replayed.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8545, show_default=True, help="0 picks a free port.")
def node(data_dir: Path, port: int) -> None:
    """Run a development JSON-RPC node on 127.0.0.1 that survives being killed.

    It serves the embedded py-evm chain with the demo consortium's accounts funded, and
    journals every request that changes the chain before answering it; started again
    on the same data directory it replays the journal and serves the same chain.
    evm_snapshot and evm_revert are refused. Runs until SIGTERM or Ctrl-C.
    """
    from chain_client.dev import DevNode, NodeJournalError  # eth-tester and py-evm: only for this command

    try:
        dev = DevNode.open(data_dir)
    except NodeJournalError as exc:
        _fail(f"refusing to start: {exc}")
    try:
        server = dev.serve(port)
    except OSError as exc:
        dev.close()
        _fail(f"cannot listen on 127.0.0.1:{port}: {exc}")
    click.echo(f"{_READY_PREFIX}{server.url}")
    torn = f"; a torn last line of {dev.torn_bytes} bytes was cut off" if dev.torn_bytes else ""
    click.echo(
        f"  chain {dev.chain_id} at block {dev.block_number}; journal {dev.journal_path}, "
        f"{dev.replayed} requests replayed{torn}"
    )
    # SIGTERM ends serve_forever as Ctrl-C does; `close` waits for the request in progress.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        dev.close()


class NodeStartError(Exception):
    """`credit-ledger node` exited or did not print its URL in time."""


class NodeProcess:
    """`credit-ledger node` as a child process on 127.0.0.1, to kill and start again on its data directory."""

    def __init__(self, data_dir: Path, log_path: Path, *, port: int = 0) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port
        self.url = ""
        self.process: subprocess.Popen[str] | None = None

    def start(self, *, timeout: float = READY_TIMEOUT_S) -> str:
        """Start the node (on the port it had before, once it had one); its URL when it listens."""
        with self.log_path.open("a", encoding="utf-8") as log:
            command = [sys.executable, "-m", "credit_cli.node", "--data-dir", str(self.data_dir)]
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
        assert self.process.stdout is not None
        line = _read_line(self.process.stdout, timeout)
        if not line.startswith(_READY_PREFIX):
            self.kill()
            raise NodeStartError(f"node did not start: {line!r}; log: {self.log_path.read_text()[-2000:]}")
        self.url = line.removeprefix(_READY_PREFIX).strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        return self.url

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the node, as a crash would, and reap it (idempotent)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        self._reap()

    def stop(self) -> None:
        """SIGTERM the node and wait for it to exit (idempotent)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap()

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()


def _read_line(stream: IO[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([stream], [], [], remaining)
        if ready:
            return stream.readline()
    return ""


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    node()
