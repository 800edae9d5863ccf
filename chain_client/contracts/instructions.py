"""Relayed EIP-712 instructions, one mechanism for every contract that takes them.

A member signs an instruction (the typed data of what it does, its next nonce on the
contract and a deadline) and a GATEWAY relays it to the contract's `xBySig` function, so
the events name the signer (contracts/RelayedInstructions.sol). `RelayedInstructions` is
the wrappers' side of it: the signer's nonce, signing with the next nonce and a default
deadline, and relaying. `CreditLedger` and `CommitmentRegistry` derive from it; their
`sign_*` and `relay_*` methods, one pair per instruction, say only what differs: the
struct hash and the relayed function with its arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from chain_client.contracts.chain import Chain
from chain_client.spec.eip712 import Eip712Domain, sign_digest

INSTRUCTION_LIFETIME = 3600  # seconds a relayed instruction stays valid by default

StructHash = Callable[[int, int], bytes]
"""An instruction's hashStruct from its nonce and deadline (its other fields bound)."""

DomainT = TypeVar("DomainT", bound=Eip712Domain)


@dataclass(frozen=True)
class Instruction:
    """A member's signed EIP-712 instruction for a gateway to relay; the signer acts."""

    signer: ChecksumAddress
    nonce: int
    deadline: int
    signature: bytes

    def as_abi(self) -> tuple[object, ...]:
        """The IRelayedInstructions.Instruction tuple."""
        return (self.nonce, self.deadline, self.signature)


def sign_instruction(
    signer: LocalAccount, domain: Eip712Domain, struct_hash: StructHash, nonce: int, deadline: int
) -> Instruction:
    """The signer's Instruction: its signature of struct_hash(nonce, deadline) in domain."""
    digest = domain.digest(struct_hash(nonce, deadline))
    return Instruction(signer.address, nonce, deadline, sign_digest(signer, digest))


class RelayedInstructions(Generic[DomainT]):
    """A contract wrapper's relayed instructions: nonces, signing and relaying under its domain."""

    def __init__(self, chain: Chain, address: ChecksumAddress, contract_name: str, domain: DomainT) -> None:
        self.chain = chain
        self.address = address
        self._contract = chain.contract(contract_name, address)
        self.domain = domain

    def nonce(self, signer: ChecksumAddress) -> int:
        """The nonce the signer's next relayed instruction must carry (the contract's nonces(signer))."""
        return int(self.chain.call(self._contract.functions.nonces(signer)))

    def _sign(
        self, signer: LocalAccount, struct_hash: StructHash, nonce: int | None, deadline: int | None
    ) -> Instruction:
        """The signer's instruction, with its next nonce on chain (or `nonce`, to sign several
        before any is relayed) and a deadline INSTRUCTION_LIFETIME ahead of the chain (or `deadline`)."""
        n = nonce if nonce is not None else self.nonce(signer.address)
        until = deadline if deadline is not None else self.chain.latest_timestamp() + INSTRUCTION_LIFETIME
        return sign_instruction(signer, self.domain, struct_hash, n, until)

    def _relay(self, gateway: LocalAccount, function: str, *args: object, instruction: Instruction) -> TxReceipt:
        """Send `function`(*args, instruction), a relayed `...BySig` function, as a gateway."""
        return self.chain.transact(gateway, self._relayed(function, *args, instruction=instruction))

    def _preflight_relay(
        self, gateway: ChecksumAddress, function: str, *args: object, instruction: Instruction
    ) -> None:
        """Run `function`(*args, instruction) as the gateway without sending it: ContractRevertError
        when the contract would refuse it now."""
        self.chain.preflight(gateway, self._relayed(function, *args, instruction=instruction))

    def _relayed(self, function: str, *args: object, instruction: Instruction) -> ContractFunction:
        if not function.endswith("BySig"):
            raise ValueError(f"{function} is not a relayed function (...BySig)")
        return self._contract.functions[function](*args, instruction.as_abi())
