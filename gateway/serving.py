"""Serving an opened gateway over HTTP from a background thread (the demo, the tests).

`credit-ledger serve` runs uvicorn in the main thread; the demo runs three regional
gateways in one process, so each gets uvicorn in a thread of its own on a loopback port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from gateway.api.main import create_app
from gateway.infra.service import Gateway

START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ThreadedServer:
    """uvicorn serving one gateway from a daemon thread."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        """Stop accepting requests and wait for the thread (idempotent)."""
        self.server.should_exit = True
        self.thread.join(timeout=START_TIMEOUT_S)


def serve_in_thread(gateway: Gateway, *, port: int | None = None) -> AbstractContextManager[ThreadedServer]:
    """Serve a started gateway on 127.0.0.1 (a free port unless given) until the block ends."""
    return serve_app_in_thread(create_app(gateway), port=port)


@contextmanager
def serve_app_in_thread(app: ASGIApp, *, port: int | None = None) -> Iterator[ThreadedServer]:
    """Serve any ASGI application on 127.0.0.1 from a daemon thread until the block ends."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    running = ThreadedServer(server, thread, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {port}")
            time.sleep(0.05)
        yield running
    finally:
        running.stop()
