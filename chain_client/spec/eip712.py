"""EIP-712 digests and signatures of the credit-ledger contracts (docs/formats.md, normative).

Two domains, each {name, version: "1", chainId, verifyingContract}: "CreditLedger" for
records and the record lifecycle (`LedgerDomain`), "CreditCommitments" for relayed
commitment instructions (`CommitmentDomain`). Struct hashes are computed directly from the
32-byte words (RecordCommitment's one array, its calendars, as the hash of its members'
struct hashes), which is fast enough to sign and check records in bulk; the tests check
them against eth-account's generic encoder and the contracts' own digests.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

from coincurve import PrivateKey, PublicKey
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_canonical_address, to_checksum_address

from chain_client.spec.keccak import keccak
from chain_client.spec.records import RecordLeaf
from chain_client.spec.terms import CALENDAR_REF_TYPE, CommitmentTerm

DOMAIN_NAME = "CreditLedger"
COMMITMENT_DOMAIN_NAME = "CreditCommitments"
DOMAIN_VERSION = "1"

CREDIT_RECORD_TYPE = (
    "CreditRecord(bytes32 recordId,bytes32 catalogId,uint16 catalogVersion,bytes32 subjectTag,"
    "bytes32 contentHash,address provider,uint64 issuedAt,bytes32 supersedes)"
)
FILE_OBJECTION_TYPE = "FileObjection(bytes32 recordId,bytes32 reasonHash,uint256 nonce,uint64 deadline)"
RESOLVE_OBJECTION_TYPE = (
    "ResolveObjection(bytes32 recordId,uint8 outcome,bytes32 correctionId,uint256 nonce,uint64 deadline)"
)
REVOKE_TYPE = "Revoke(bytes32 recordId,bytes32 reasonHash,uint256 nonce,uint64 deadline)"
REQUEST_REPAIR_TYPE = "RequestRepair(bytes32 recordId,bytes32 evidenceHash,uint256 nonce,uint64 deadline)"
APPROVE_REPAIR_TYPE = "ApproveRepair(bytes32 recordId,uint256 nonce,uint64 deadline)"
REJECT_REPAIR_TYPE = "RejectRepair(bytes32 recordId,bytes32 reasonHash,uint256 nonce,uint64 deadline)"
RECORD_COMMITMENT_TYPE = (
    "RecordCommitment(bytes32 subjectTag,uint8 kind,bytes32 docHash,uint32 acceptedOn,uint8 termUnit,"
    "uint16 termLength,CalendarRef[] calendars,uint64 dueBy,uint256 nonce,uint64 deadline)" + CALENDAR_REF_TYPE
)
FULFIL_TYPE = "Fulfil(bytes32 commitmentId,uint256 nonce,uint64 deadline)"
BREACH_TYPE = "Breach(bytes32 commitmentId,bytes32 breachRecordId,bool violation,uint256 nonce,uint64 deadline)"
WITHDRAW_TYPE = "Withdraw(bytes32 commitmentId,uint256 nonce,uint64 deadline)"
_CREDIT_RECORD_TYPEHASH = keccak(CREDIT_RECORD_TYPE.encode())
_HALF_CURVE_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@dataclass(frozen=True)
class Eip712Domain:
    """An EIP-712 domain of one contract deployment; subclasses name the contract's domain."""

    name: ClassVar[str]
    version: ClassVar[str] = DOMAIN_VERSION

    chain_id: int
    verifying_contract: ChecksumAddress

    @cached_property
    def separator(self) -> bytes:
        """The domain separator, as the contract's _domainSeparatorV4()."""
        return keccak(
            keccak(_DOMAIN_TYPE.encode())
            + keccak(self.name.encode())
            + keccak(self.version.encode())
            + _word(self.chain_id)
            + bytes(12)
            + to_canonical_address(self.verifying_contract)
        )

    def as_dict(self) -> dict[str, object]:
        """The domain in eth-account's / JSON form."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }

    def digest(self, struct_hash: bytes) -> bytes:
        """keccak256("\\x19\\x01" || separator || structHash)."""
        return keccak(b"\x19\x01" + self.separator + struct_hash)


@dataclass(frozen=True)
class LedgerDomain(Eip712Domain):
    """The EIP-712 domain of one CreditLedger deployment ("CreditLedger", version "1")."""

    name: ClassVar[str] = DOMAIN_NAME


@dataclass(frozen=True)
class CommitmentDomain(Eip712Domain):
    """The EIP-712 domain of one CommitmentRegistry deployment ("CreditCommitments", version "1")."""

    name: ClassVar[str] = COMMITMENT_DOMAIN_NAME


def record_struct_hash(leaf: RecordLeaf) -> bytes:
    """hashStruct of a CreditRecord."""
    return keccak(_CREDIT_RECORD_TYPEHASH + leaf.encoded())


def file_objection_struct_hash(record_id: bytes, reason_hash: bytes, nonce: int, deadline: int) -> bytes:
    """hashStruct of a member's FileObjection instruction."""
    return keccak(keccak(FILE_OBJECTION_TYPE.encode()) + record_id + reason_hash + _word(nonce) + _word(deadline))


def resolve_objection_struct_hash(
    record_id: bytes, outcome: int, correction_id: bytes, nonce: int, deadline: int
) -> bytes:
    """hashStruct of a ResolveObjection instruction."""
    return keccak(
        keccak(RESOLVE_OBJECTION_TYPE.encode())
        + record_id
        + _word(outcome)
        + correction_id
        + _word(nonce)
        + _word(deadline)
    )


def revoke_struct_hash(record_id: bytes, reason_hash: bytes, nonce: int, deadline: int) -> bytes:
    """hashStruct of a Revoke instruction."""
    return keccak(keccak(REVOKE_TYPE.encode()) + record_id + reason_hash + _word(nonce) + _word(deadline))


def request_repair_struct_hash(record_id: bytes, evidence_hash: bytes, nonce: int, deadline: int) -> bytes:
    """hashStruct of a member's RequestRepair instruction."""
    return keccak(keccak(REQUEST_REPAIR_TYPE.encode()) + record_id + evidence_hash + _word(nonce) + _word(deadline))


def approve_repair_struct_hash(record_id: bytes, nonce: int, deadline: int) -> bytes:
    """hashStruct of an ApproveRepair instruction."""
    return keccak(keccak(APPROVE_REPAIR_TYPE.encode()) + record_id + _word(nonce) + _word(deadline))


def reject_repair_struct_hash(record_id: bytes, reason_hash: bytes, nonce: int, deadline: int) -> bytes:
    """hashStruct of a RejectRepair instruction."""
    return keccak(keccak(REJECT_REPAIR_TYPE.encode()) + record_id + reason_hash + _word(nonce) + _word(deadline))


def record_commitment_struct_hash(
    subject_tag: bytes, kind: int, doc_hash: bytes, term: CommitmentTerm, due_by: int, nonce: int, deadline: int
) -> bytes:
    """hashStruct of a department's RecordCommitment instruction.

    due_by is the commitment's own deadline (CommitmentInput.deadline), counted as `term`
    says; deadline is the instruction's.
    """
    return keccak(
        keccak(RECORD_COMMITMENT_TYPE.encode())
        + subject_tag
        + _word(kind)
        + doc_hash
        + _word(term.accepted_on_number)
        + _word(int(term.term.unit))
        + _word(term.term.length)
        + term.calendars_hash()
        + _word(due_by)
        + _word(nonce)
        + _word(deadline)
    )


def fulfil_struct_hash(commitment_id: bytes, nonce: int, deadline: int) -> bytes:
    """hashStruct of a department's Fulfil instruction."""
    return keccak(keccak(FULFIL_TYPE.encode()) + commitment_id + _word(nonce) + _word(deadline))


def breach_struct_hash(
    commitment_id: bytes, breach_record_id: bytes, violation: bool, nonce: int, deadline: int
) -> bytes:
    """hashStruct of a department's Breach instruction."""
    return keccak(
        keccak(BREACH_TYPE.encode())
        + commitment_id
        + breach_record_id
        + _word(int(violation))
        + _word(nonce)
        + _word(deadline)
    )


def withdraw_struct_hash(commitment_id: bytes, nonce: int, deadline: int) -> bytes:
    """hashStruct of a department's Withdraw instruction."""
    return keccak(keccak(WITHDRAW_TYPE.encode()) + commitment_id + _word(nonce) + _word(deadline))


def sign_digest(account: LocalAccount, digest: bytes) -> bytes:
    """A 65-byte (r, s, v) signature of an EIP-712 digest, v 27 or 28.

    Signed with libsecp256k1 through coincurve: RFC 6979 nonces and low s, so byte for
    byte what eth-account's `unsafe_sign_hash` gives (by test), at a tenth of the cost,
    which matters to a department signing records in bulk.
    """
    if len(digest) != 32:
        raise ValueError("an EIP-712 digest is 32 bytes")
    signature = _signing_key(account).sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes([signature[64] + 27])


# The libsecp256k1 key of each account that signed, for as long as the account lives.
_SIGNING_KEYS: weakref.WeakKeyDictionary[LocalAccount, PrivateKey] = weakref.WeakKeyDictionary()


def _signing_key(account: LocalAccount) -> PrivateKey:
    key = _SIGNING_KEYS.get(account)
    if key is None:
        key = _SIGNING_KEYS[account] = PrivateKey(bytes(account.key))
    return key


def recover_address(digest: bytes, signature: bytes) -> bytes | None:
    """The 20-byte address that signed digest, or None for a malformed or high-s signature."""
    if len(signature) != 65:
        return None
    v = signature[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1) or int.from_bytes(signature[32:64], "big") > _HALF_CURVE_ORDER:
        return None  # as OpenZeppelin's ECDSA: no malleable high-s signatures
    try:
        public_key = PublicKey.from_signature_and_message(signature[:64] + bytes([v]), digest, hasher=None)
    except ValueError:
        return None
    return keccak(public_key.format(compressed=False)[1:])[12:]


def recover_signer(digest: bytes, signature: bytes) -> ChecksumAddress | None:
    """The checksummed address that signed digest, or None when the signature is malformed."""
    address = recover_address(digest, signature)
    return to_checksum_address(address) if address is not None else None
