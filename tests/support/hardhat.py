"""Start and stop a real Hardhat 3 node from hardhat-local for the tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HARDHAT_LOCAL = REPO / "hardhat-local"
BIN = HARDHAT_LOCAL / "node_modules" / ".bin"
READY_TIMEOUT_S = 60.0


class HardhatUnavailableError(Exception):
    """The node could not be started here."""


def in_ci() -> bool:
    """True under CI=true, where nothing that should run may be skipped."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HardhatNode:
    """A `hardhat node` process on 127.0.0.1 with the demo consortium's dev accounts."""

    def __init__(self, log_path: Path) -> None:
        if not (BIN / "hardhat").exists() or not (BIN / "node").exists():
            raise HardhatUnavailableError("hardhat-local is not installed: run scripts/install-hardhat-local")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "hardhat"), "node", "--hostname", "127.0.0.1", "--port", str(self.port)],
            cwd=HARDHAT_LOCAL,
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
        """Stop the node and wait for it to exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def start_node(log_path: Path) -> HardhatNode:
    """A started node; under CI a failure to start fails the test, elsewhere it skips."""
    import pytest

    try:
        return HardhatNode(log_path)
    except HardhatUnavailableError as exc:
        if in_ci():
            pytest.fail(f"Hardhat node could not start under CI: {exc}")
        pytest.skip(f"Hardhat node unavailable: {exc}")
