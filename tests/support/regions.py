"""Beijing, Tianjin and Hebei gateways served over HTTP on one consortium chain.

Beijing deploys the demo consortium and catalog; Tianjin and Hebei attach to Beijing's
deployment record; each registers its URL on chain (2-of-3 governors). The chain is the
embedded py-evm chain, or a Hardhat node started (and stopped) for the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chain_client import Chain, Role, devnet_for
from chain_client.dev import DevChain
from gateway.infra.settings import Settings
from tests.support.hardhat import start_node
from tests.support.served import Served, serve_gateway, wait_until

WAIT_S = 60.0  # generous: three gateways, and on Hardhat a node, share a small machine


@dataclass
class Regions:
    beijing: Served
    tianjin: Served
    hebei: Served
    rpc_url: str | None  # the Hardhat node's; None on the embedded chain

    def set_url(self, label: str, url: str) -> None:
        """Register a gateway's URL on chain (2-of-3 governors) and wait until every gateway sees it."""
        stack = self.beijing.gateway.stack
        devnet = devnet_for(stack.chain.chain_id)
        account = devnet.by_label(label).account.address
        governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][:2]
        stack.consortium.govern(governors, stack.consortium.set_gateway_url_call(account, url))
        for served in (self.beijing, self.tianjin, self.hebei):
            wait_until(lambda s=served: _url_of(s, account) == url, timeout=WAIT_S, what="gateway URL on chain")  # type: ignore[misc]

    def own_chain(self) -> Chain:
        """A chain connection of a verifier's own: a new JSON-RPC connection to the node on Hardhat;
        on the embedded chain, the one in-process chain there is."""
        return DevChain.connect(self.rpc_url) if self.rpc_url else self.beijing.gateway.stack.chain


def _url_of(served: Served, account: str) -> str | None:
    member = served.gateway.view.member(account)
    return member.gateway_url if member else None


@contextmanager
def three_regions(backend: str, tmp_path_factory: pytest.TempPathFactory, **settings: Any) -> Iterator[Regions]:
    """The three gateways on `backend` ("embedded" or "hardhat"), each with `settings` besides peer reads."""
    chain: Chain | None = None
    rpc_url: str | None = None
    beijing_dir: Path = tmp_path_factory.mktemp("beijing")
    with ExitStack() as stack:
        if backend == "hardhat":
            node = start_node(tmp_path_factory.mktemp("hardhat-regions") / "node.log")
            stack.callback(node.stop)  # after the gateways: the stack unwinds in reverse
            rpc_url = node.url
        else:
            chain = DevChain.embedded()
        common: dict[str, Any] = {
            "rpc_url": rpc_url,
            "batch_interval_s": 0.1,
            "chain_poll_interval_s": 0.2,
            "peer_reads": True,
            **settings,
        }
        # Beijing deploys (a development chain, no deployment record yet); the others attach.
        beijing = stack.enter_context(serve_gateway(Settings(data_dir=beijing_dir, **common), chain=chain))
        others = {
            label: stack.enter_context(
                serve_gateway(
                    Settings(
                        data_dir=tmp_path_factory.mktemp(label),
                        deployments_dir=beijing_dir / "deployments",
                        dev_gateway_label=f"gateway-{label}",
                        **common,
                    ),
                    chain=chain,
                )
            )
            for label in ("tianjin", "hebei")
        }
        running = Regions(beijing, others["tianjin"], others["hebei"], rpc_url)
        for label, served in (("beijing", beijing), ("tianjin", running.tianjin), ("hebei", running.hebei)):
            running.set_url(f"gateway-{label}", served.url)
        yield running
