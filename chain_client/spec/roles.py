"""The consortium's roles, as in contracts/libraries/Roles.sol."""

from __future__ import annotations

from enum import Enum

from eth_utils.crypto import keccak


class Role(Enum):
    """A member role; `.id` is its bytes32 identifier on chain."""

    GOVERNOR = "GOVERNOR"
    PROVIDER = "PROVIDER"
    AUDITOR = "AUDITOR"
    GATEWAY = "GATEWAY"
    PEER = "PEER"
    REGISTRAR = "REGISTRAR"

    @property
    def id(self) -> bytes:
        """keccak256("<NAME>_ROLE"), the constant the contracts use."""
        return keccak(text=f"{self.value}_ROLE")

    @classmethod
    def from_id(cls, role_id: bytes) -> Role:
        """The role with this on-chain identifier."""
        for role in cls:
            if role.id == role_id:
                return role
        raise ValueError(f"unknown role id 0x{role_id.hex()}")
