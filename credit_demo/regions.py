"""Three regional gateways (Beijing, Tianjin, Hebei) on one chain, in one process.

Used by `credit-ledger demo`. Each region's gateway has its own data directory, its own
database and key-encryption key, and its own GATEWAY/PEER account from the demo
consortium; Beijing deploys the contracts (or attaches to its record), the others attach
to Beijing's deployment record. Each gateway's URL is registered on chain by a 2-of-3
vote of the regions' governors, which is how the gateways find each other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from chain_client import Chain, Role, devnet_for
from credit_demo.catalog import open_gateway
from gateway.infra.service import Gateway
from gateway.infra.settings import Settings
from gateway.serving import ThreadedServer, serve_in_thread

REGIONS = ("beijing", "tianjin", "hebei")
NAMES = {"beijing": "Beijing 北京", "tianjin": "Tianjin 天津", "hebei": "Hebei 河北"}
SEE_URL_TIMEOUT_S = 60.0


@dataclass
class Region:
    """One region's running gateway."""

    key: str
    gateway: Gateway
    server: ThreadedServer

    @property
    def name(self) -> str:
        """The region's display name."""
        return NAMES[self.key]

    @property
    def url(self) -> str:
        """The gateway's base URL."""
        return self.server.url


@dataclass
class Regions:
    """The three regions, the chain they share and the governors who run the consortium."""

    beijing: Region
    tianjin: Region
    hebei: Region
    chain: Chain

    def __iter__(self) -> Iterator[Region]:
        return iter((self.beijing, self.tianjin, self.hebei))

    def account(self, label: str) -> LocalAccount:
        """A development account of the demo consortium."""
        return devnet_for(self.chain.chain_id).by_label(label).account

    def register_url(self, region: Region, url: str) -> None:
        """Set a gateway's URL on chain (2 of the 3 governors) and wait until every gateway sees it."""
        governors = [d.account for d in devnet_for(self.chain.chain_id).with_role(Role.GOVERNOR)][:2]
        consortium = self.beijing.gateway.stack.consortium
        consortium.govern(governors, consortium.set_gateway_url_call(region.gateway.account.address, url))
        deadline = time.monotonic() + SEE_URL_TIMEOUT_S
        for other in self:
            while (member := other.gateway.view.member(region.gateway.account.address)) is None or (
                member.gateway_url != url
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{other.name} did not see {region.name}'s URL within {SEE_URL_TIMEOUT_S} s")
                time.sleep(0.05)


@contextmanager
def run_regions(base_dir: Path, *, rpc_url: str | None = None, chain: Chain | None = None) -> Iterator[Regions]:
    """Open, start and serve the three gateways; register their URLs; stop them all after.

    On a JSON-RPC node (rpc_url) each gateway has its own connection, as in production;
    on the embedded chain (chain) they share the one in-process chain.
    """
    common = {"batch_interval_s": 0.2, "chain_poll_interval_s": 0.2, "peer_reads": True, "rpc_url": rpc_url}
    beijing_dir = base_dir / "beijing"
    with ExitStack() as stack:
        running: dict[str, Region] = {}
        for key in REGIONS:
            settings = Settings(
                data_dir=base_dir / key,
                deployments_dir=None if key == "beijing" else beijing_dir / "deployments",
                dev_gateway_label=f"gateway-{key}",
                **common,  # type: ignore[arg-type]
            )
            gateway = open_gateway(settings, chain=chain)
            stack.callback(gateway.stop)
            gateway.start()
            running[key] = Region(key, gateway, stack.enter_context(serve_in_thread(gateway)))
        shared = chain or running["beijing"].gateway.stack.chain
        regions = Regions(running["beijing"], running["tianjin"], running["hebei"], shared)
        for region in regions:
            regions.register_url(region, region.url)
        yield regions
