"""What a member needs to sign an instruction: the EIP-712 domains and its next nonces."""

from __future__ import annotations

from typing import Any, cast

from eth_typing import ChecksumAddress
from fastapi import APIRouter

from gateway.api.deps import CurrentMember, GatewayDep
from gateway.api.signed import SignedRoute

router = APIRouter(prefix="/v1/instructions", tags=["lifecycle"], route_class=SignedRoute)


@router.get("", response_model=dict[str, Any])
def read_instruction_context(gateway: GatewayDep, member: CurrentMember) -> Any:
    """The ledger's and the commitment registry's EIP-712 domains and the requester's next nonces."""
    address = cast(ChecksumAddress, member.address)
    ledger, registry = gateway.stack.ledger, gateway.stack.commitments
    return {
        "ledger": {"domain": ledger.domain.as_dict(), "nonce": ledger.nonce(address)},
        "commitments": {"domain": registry.domain.as_dict(), "nonce": registry.nonce(address)},
        "now": gateway.now(),
    }
