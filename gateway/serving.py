"""Serving an opened gateway over HTTP from a background thread (the demo, the tests),
and a gateway's embedded chain over JSON-RPC (`credit-ledger serve`).

`credit-ledger serve` runs uvicorn in the main thread; the demo runs three regional
gateways in one process, so each gets uvicorn in a thread of its own on a loopback port.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from chain_client import Chain
from chain_client._hardhat_node import free_port
from chain_client._node import ChainRpc, NodeServer
from gateway.api.main import create_app
from gateway.service import Gateway

START_TIMEOUT_S = 30.0


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


@dataclass
class ChainServer:
    """An embedded chain served over JSON-RPC on 127.0.0.1 from a daemon thread."""

    server: NodeServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        """The chain's JSON-RPC URL, for --rpc."""
        return self.server.url

    def stop(self) -> None:
        """Stop answering and close the socket (idempotent)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=START_TIMEOUT_S)
        self.server.server_close()


def serve_chain_in_thread(chain: Chain, *, port: int) -> ChainServer:
    """Serve an embedded chain of this process on 127.0.0.1:port (0: a free port), the same
    chain its gateway writes to, so commands taking --rpc can read it; OSError when the port
    is taken. A development chain: loopback only, never another interface."""
    server = ChainRpc.of(chain).serve(port)
    thread = threading.Thread(target=server.serve_forever, name=f"chain-rpc-{server.server_address[1]}", daemon=True)
    thread.start()
    return ChainServer(server, thread)
