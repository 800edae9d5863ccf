"""Start and stop a Hardhat 3 node from a checkout's hardhat-local (development only).

The node's accounts are the demo consortium's development keys (hardhat.config.js reads
chain_client/devnet.json). `credit-ledger demo --hardhat` and the tests use it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from chain_client._errors import ChainClientError

READY_TIMEOUT_S = 60.0


class HardhatUnavailableError(ChainClientError):
    """The node could not be started here (hardhat-local not installed, or it exited)."""


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HardhatNode:
    """A `hardhat node` process on 127.0.0.1, started from `root/hardhat-local`."""

    def __init__(self, root: Path, log_path: Path, *, start_time: int | None = None) -> None:
        """Start the node; start_time (unix seconds) starts its clock there instead of now."""
        self.hardhat_local = root / "hardhat-local"
        bin_dir = self.hardhat_local / "node_modules" / ".bin"
        if not (bin_dir / "hardhat").exists() or not (bin_dir / "node").exists():
            raise HardhatUnavailableError("hardhat-local is not installed: run scripts/install-hardhat-local")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("CREDIT_LEDGER_HARDHAT_START", None)
        if start_time is not None:
            env["CREDIT_LEDGER_HARDHAT_START"] = dt.datetime.fromtimestamp(start_time, dt.UTC).isoformat()
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(bin_dir / "hardhat"), "node", "--hostname", "127.0.0.1", "--port", str(self.port)],
            cwd=self.hardhat_local,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HardhatUnavailableError(f"hardhat node exited ({self.process.returncode}): {self._tail()}")
            if self._answers():
                return
            time.sleep(0.1)
        raise HardhatUnavailableError(f"hardhat node not ready within {READY_TIMEOUT_S} s: {self._tail()}")

    def _answers(self) -> bool:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return "result" in json.loads(response.read())
        except OSError:
            return False

    def _tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Stop the node and wait for it to exit (idempotent)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
