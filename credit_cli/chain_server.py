"""A gateway's embedded chain served over JSON-RPC on 127.0.0.1 (`credit-ledger serve`), so that
every command taking --rpc can read the chain the walkthrough's gateway writes to.

A development chain only: the embedded py-evm chain of this process, loopback only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from chain_client import Chain
from chain_client.dev import ChainRpc, NodeServer

START_TIMEOUT_S = 30.0


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
