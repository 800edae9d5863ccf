"""Relaying members' signed EIP-712 instructions to the contracts.

A member signs what it does on chain (file an objection, resolve it, record a commitment
...) and the gateway's GATEWAY account sends it, so the chain names the member, not the
gateway. Before sending, the gateway checks offline what it can: the signer is the
member who made the HTTP request, the deadline is ahead, the nonce is the member's next
one on chain. A bad request thus costs no gas and gets a clear code; the contract checks
everything again. A revert is mapped to a stable code; an unreachable chain is 503 and
changes nothing, so the member retries with the same signed instruction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, cast

from eth_typing import ChecksumAddress
from pydantic import BaseModel, Field, field_validator
from web3.types import TxReceipt

from chain_client import (
    ChainClientError,
    ChainUnavailableError,
    ContractRevertError,
    Eip712Domain,
    Instruction,
    recover_signer,
)
from gateway.infra.errors import AuthError, ConflictError, GatewayError, InputError, UnavailableError
from gateway.infra.logs import get_logger
from gateway.infra.service import Gateway
from gateway.records.entitlement import Requester

log = get_logger("relaying")


class SignedInstruction(BaseModel):
    """A member's EIP-712 instruction: its next nonce on the contract, a deadline and the signature."""

    nonce: int = Field(ge=0, lt=2**256, description="The signer's next nonce on the contract (GET /v1/instructions).")
    deadline: int = Field(ge=0, lt=2**64, description="Unix time after which the chain refuses the instruction.")
    signature: str = Field(description="65-byte EIP-712 signature, 0x hex.")

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str) -> str:
        if not value.startswith("0x") or len(value) != 132:
            raise ValueError("must be 0x and 65 bytes of hex")
        bytes.fromhex(value[2:])
        return value

    def signed_by(self, signer: ChecksumAddress) -> Instruction:
        """The chain_client instruction, attributed to signer."""
        return Instruction(signer, self.nonce, self.deadline, bytes.fromhex(self.signature[2:]))


class RelayTarget(Protocol):
    """A contract that takes relayed instructions: chain_client's CreditLedger or CommitmentRegistry."""

    @property
    def domain(self) -> Eip712Domain:
        """The contract's EIP-712 domain."""
        ...

    def nonce(self, signer: ChecksumAddress) -> int:
        """The signer's next nonce on the contract."""
        ...


def check_instruction(
    gw: Gateway,
    member: Requester,
    signed: SignedInstruction,
    contract: RelayTarget,
    struct_hash: Callable[[int, int], bytes],
) -> Instruction:
    """The member's instruction to `contract` once its deadline, signer and nonce are right; GatewayError otherwise.

    struct_hash gives the instruction's hashStruct from its nonce and deadline (the
    chain_client hashing rule with the instruction's other fields bound).
    """
    now = gw.now()
    if signed.deadline <= now:
        raise InputError("INSTRUCTION_EXPIRED", "the instruction's deadline has passed", detail={"now": now})
    requester = cast(ChecksumAddress, member.address)
    signature = bytes.fromhex(signed.signature[2:])
    digest = contract.domain.digest(struct_hash(signed.nonce, signed.deadline))
    if recover_signer(digest, signature) != requester:
        raise AuthError(
            "INSTRUCTION_BAD_SIGNATURE",
            "the instruction is not signed by the requesting member over these fields",
        )
    # Live, not the role cache: the chain refuses a suspended signer's instruction when it
    # executes, and the gateway answers the same before spending gas on it.
    if not any(gw.stack.consortium.has_role(role, requester) for role in member.roles):
        raise AuthError("AUTH_NOT_MEMBER", "the signer is not an active member of the consortium now")
    next_nonce = contract.nonce(requester)
    if signed.nonce != next_nonce:
        raise ConflictError(
            "INSTRUCTION_BAD_NONCE", "the instruction must carry the signer's next nonce", detail={"next": next_nonce}
        )
    return signed.signed_by(requester)


# Contract errors and what the API answers for them: (error class, code, message).
_REVERTS: dict[str, tuple[type[GatewayError], str, str]] = {
    "LedgerInvalidStatus": (ConflictError, "RECORD_STATUS_CONFLICT", "the record's status does not allow this"),
    "LedgerRecordSuperseded": (ConflictError, "RECORD_SUPERSEDED", "the record was corrected; act on its successor"),
    "LedgerNoObjection": (ConflictError, "OBJECTION_NOT_OPEN", "the record has no open objection"),
    "LedgerCorrectionMismatch": (
        InputError,
        "CORRECTION_MISMATCH",
        "a correction is a record of the same subject, entry and provider that supersedes this one",
    ),
    "LedgerUnexpectedCorrection": (InputError, "CORRECTION_UNEXPECTED", "only a correction outcome names one"),
    "LedgerNoRepairRequest": (ConflictError, "REPAIR_NOT_REQUESTED", "no repair request is pending"),
    "LedgerRepairTooEarly": (
        ConflictError,
        "REPAIR_TOO_EARLY",
        "the catalog's minimum days before repair have not passed",
    ),
    "LedgerNotProvider": (AuthError, "LIFECYCLE_NOT_PROVIDER", "only the record's provider may do this"),
    "LedgerNotProviderMember": (
        AuthError,
        "LIFECYCLE_PROVIDER_REQUIRED",
        "objections and repair requests are filed by PROVIDER members",
    ),
    "LedgerInstructionExpired": (InputError, "INSTRUCTION_EXPIRED", "the instruction's deadline has passed"),
    "CommitmentInstructionExpired": (InputError, "INSTRUCTION_EXPIRED", "the instruction's deadline has passed"),
    "InvalidAccountNonce": (ConflictError, "INSTRUCTION_BAD_NONCE", "the instruction's nonce was used or skipped"),
    "ECDSAInvalidSignature": (AuthError, "INSTRUCTION_BAD_SIGNATURE", "the instruction's signature is invalid"),
    "ECDSAInvalidSignatureS": (AuthError, "INSTRUCTION_BAD_SIGNATURE", "the instruction's signature is invalid"),
    "ECDSAInvalidSignatureLength": (AuthError, "INSTRUCTION_BAD_SIGNATURE", "the instruction's signature is invalid"),
    "CommitmentNotProvider": (AuthError, "ACCESS_ROLE_REQUIRED", "commitments are recorded by PROVIDER members"),
    "CommitmentExists": (ConflictError, "COMMITMENT_EXISTS", "this commitment is recorded already"),
    "CommitmentUnknown": (GatewayError, "COMMITMENT_NOT_FOUND", "no commitment has this id"),
    "CommitmentNotDepartment": (AuthError, "COMMITMENT_NOT_DEPARTMENT", "only the recording department may do this"),
    "CommitmentNotPending": (ConflictError, "COMMITMENT_NOT_PENDING", "the commitment is no longer pending"),
    "CommitmentInvalidDeadline": (InputError, "COMMITMENT_ALREADY_DUE", "the commitment's deadline has passed"),
    "CommitmentNotDue": (ConflictError, "COMMITMENT_NOT_DUE", "the deadline has not passed: mark it a violation"),
    "CommitmentMissingBreachRecord": (InputError, "BREACH_RECORD_MISSING", "a breach names its dishonesty record"),
}


def relay(gw: Gateway, send: Callable[[], TxReceipt]) -> dict[str, Any]:
    """Send a relayed transaction; its hash and block, or the mapped GatewayError.

    The receipt is applied to the chain-state index at once (read your writes): this
    gateway's answers show the step before the follower reaches its block."""
    with _chain_answers():
        receipt = send()
    try:
        gw.index.absorb(receipt)
    except ChainClientError as exc:  # sent and mined: the follower applies it at its next pass
        log.warning("relayed step not applied to the index", extra={"fields": {"error": type(exc).__name__}})
    return {"txHash": "0x" + bytes(receipt["transactionHash"]).hex(), "blockNumber": int(receipt["blockNumber"])}


def preflight(check: Callable[[], None]) -> None:
    """Run a relayed call without sending it (chain_client's preflight_*): the mapped GatewayError if refused."""
    with _chain_answers():
        check()


@contextmanager
def _chain_answers() -> Iterator[None]:
    try:
        yield
    except ContractRevertError as exc:
        kind, code, message = _REVERTS.get(exc.name, (ConflictError, "CHAIN_REFUSED", "the contract refused it"))
        raise kind(code, message, detail=_safe_args(exc)) from None
    except ChainUnavailableError:
        raise UnavailableError("CHAIN_UNAVAILABLE", "the chain cannot be reached; nothing changed, retry") from None


def _safe_args(exc: ContractRevertError) -> dict[str, Any]:
    detail: dict[str, Any] = {"error": exc.name}
    for name, value in exc.arguments.items():
        detail[name] = "0x" + value.hex() if isinstance(value, bytes) else value
    return detail
