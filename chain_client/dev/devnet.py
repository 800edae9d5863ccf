"""The demo consortium's development-only accounts (chain_client/devnet.json).

These keys are public. They are handed out only for development chains: the embedded
py-evm chain and a Hardhat node (chain id 31337). Anything else gets DevKeyRefusedError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain_client._errors import DevKeyRefusedError
from chain_client.contracts.chain import DEVELOPMENT_CHAIN_IDS
from chain_client.spec.roles import Role


@dataclass(frozen=True)
class DevAccount:
    """One member of the demo consortium, with its development-only key."""

    label: str
    name: str
    region: int
    roles: tuple[Role, ...]
    gateway_url: str
    account: LocalAccount


@dataclass(frozen=True)
class Devnet:
    """The demo consortium: its members and its governor threshold."""

    threshold: int
    accounts: tuple[DevAccount, ...]

    def by_label(self, label: str) -> DevAccount:
        """The member with this label (for example "governor-beijing")."""
        for entry in self.accounts:
            if entry.label == label:
                return entry
        raise KeyError(label)

    def with_role(self, role: Role) -> tuple[DevAccount, ...]:
        """Members holding a role, in file order."""
        return tuple(entry for entry in self.accounts if role in entry.roles)


def devnet_for(chain_id: int, *, allow_any_chain: bool = False) -> Devnet:
    """The demo consortium, refused on chains that are not for development."""
    if chain_id not in DEVELOPMENT_CHAIN_IDS and not allow_any_chain:
        raise DevKeyRefusedError(
            f"chain {chain_id} is not a development chain; the demo consortium's keys are public "
            f"and are only used on {sorted(DEVELOPMENT_CHAIN_IDS)}"
        )
    return _load()


@cache
def _load() -> Devnet:
    data = json.loads(resources.files("chain_client").joinpath("devnet.json").read_text(encoding="utf-8"))
    accounts = tuple(
        DevAccount(
            label=entry["label"],
            name=entry["name"],
            region=entry["region"],
            roles=tuple(Role[r] for r in entry["roles"]),
            gateway_url=entry["gatewayUrl"],
            account=Account.from_key(entry["privateKey"]),
        )
        for entry in data["accounts"]
    )
    return Devnet(threshold=data["threshold"], accounts=accounts)
