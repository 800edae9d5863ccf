"""The hashing rules of docs/formats.md (normative): ids, record leaves, batches.

- subjectRef = HMAC-SHA256(subjectKey, "USCC:" + code | "RID:" + idNumber)
- subjectTag = keccak256(abi.encode(subjectRef, subjectSalt)), the subject blinded per record
- catalogId  = keccak256(utf8(code))
- recordId   = keccak256(abi.encode(provider, catalogId, subjectTag, contentHash, issuedAt))
- record leaf = OpenZeppelin standard leaf of the eight fields in LEAF_ENCODING
- batch root = StandardMerkleTree root over record leaves
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from eth_typing import ChecksumAddress
from eth_utils.address import to_canonical_address, to_checksum_address

from chain_client.spec.keccak import keccak
from chain_client.spec.merkle import StandardMerkleTree

LEAF_ENCODING = (
    "bytes32",  # recordId
    "bytes32",  # catalogId
    "uint16",  # catalogVersion
    "bytes32",  # subjectTag
    "bytes32",  # contentHash
    "address",  # provider
    "uint64",  # issuedAt
    "bytes32",  # supersedes
)
LEAF_FIELDS = (
    "recordId",
    "catalogId",
    "catalogVersion",
    "subjectTag",
    "contentHash",
    "provider",
    "issuedAt",
    "supersedes",
)
ZERO32 = bytes(32)


def subject_ref_uscc(subject_key: bytes, code: str) -> bytes:
    """subjectRef of an organisation by its 18-character unified social credit code."""
    return hmac.digest(subject_key, ("USCC:" + code).encode(), "sha256")


def subject_ref_resident(subject_key: bytes, id_number: str) -> bytes:
    """subjectRef of a natural person by resident identity number."""
    return hmac.digest(subject_key, ("RID:" + id_number).encode(), "sha256")


def subject_tag(subject_ref: bytes, subject_salt: bytes) -> bytes:
    """keccak256(abi.encode(subjectRef, subjectSalt)): the subject as one record's leaf names it.

    The salt is secret and drawn per record (a correction and a breach record reuse the
    salt of what they follow), so the chain never shows two unrelated records, or their
    lifecycle events, naming the same value for one subject.
    """
    if len(subject_ref) != 32 or len(subject_salt) != 32:
        raise ValueError("subjectRef and subjectSalt are 32 bytes each")
    return keccak(subject_ref + subject_salt)


def catalog_id(code: str) -> bytes:
    """catalogId of a catalog code such as "BJ-XZCF-001"."""
    return keccak(code.encode())


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@cache
def _address_word(address: str) -> bytes:
    # Cached: a batch has few providers, and eth-utils' address parsing is slow.
    return bytes(12) + to_canonical_address(address)


def address_bytes(address: str) -> bytes:
    """The 20 bytes of an address (cached)."""
    return _address_word(address)[12:]


@cache
def checksummed(address: str) -> ChecksumAddress:
    """The EIP-55 form of an address (cached: eth-utils' is slow)."""
    return to_checksum_address(address)


def record_id(provider: str, catalog: bytes, subject_tag: bytes, content_hash: bytes, issued_at: int) -> bytes:
    """keccak256(abi.encode(provider, catalogId, subjectTag, contentHash, issuedAt))."""
    return keccak(_address_word(provider) + catalog + subject_tag + content_hash + _word(issued_at))


@dataclass(frozen=True)
class RecordLeaf:
    """The eight fields of a record leaf, in LEAF_ENCODING order."""

    record_id: bytes
    catalog_id: bytes
    catalog_version: int
    subject_tag: bytes
    content_hash: bytes
    provider: ChecksumAddress
    issued_at: int
    supersedes: bytes = ZERO32

    @classmethod
    def create(
        cls,
        *,
        catalog_id: bytes,
        catalog_version: int,
        subject_tag: bytes,
        content_hash: bytes,
        provider: str,
        issued_at: int,
        supersedes: bytes = ZERO32,
    ) -> RecordLeaf:
        """A leaf whose recordId is computed from its fields."""
        return cls(
            record_id=record_id(provider, catalog_id, subject_tag, content_hash, issued_at),
            catalog_id=catalog_id,
            catalog_version=catalog_version,
            subject_tag=subject_tag,
            content_hash=content_hash,
            provider=checksummed(provider),
            issued_at=issued_at,
            supersedes=supersedes,
        )

    def values(self) -> tuple[bytes, bytes, int, bytes, bytes, ChecksumAddress, int, bytes]:
        """The fields in LEAF_ENCODING order."""
        return (
            self.record_id,
            self.catalog_id,
            self.catalog_version,
            self.subject_tag,
            self.content_hash,
            self.provider,
            self.issued_at,
            self.supersedes,
        )

    def encoded(self) -> bytes:
        """abi.encode of the eight fields (all static: eight 32-byte words)."""
        return (
            self.record_id
            + self.catalog_id
            + _word(self.catalog_version)
            + self.subject_tag
            + self.content_hash
            + _address_word(self.provider)
            + _word(self.issued_at)
            + self.supersedes
        )

    def leaf_hash(self) -> bytes:
        """The OpenZeppelin standard leaf: keccak256(keccak256(abi.encode(fields)))."""
        return keccak(keccak(self.encoded()))

    def computed_record_id(self) -> bytes:
        """The recordId these fields imply (equal to record_id for an honest leaf)."""
        return record_id(self.provider, self.catalog_id, self.subject_tag, self.content_hash, self.issued_at)


def record_tree(leaves: Sequence[RecordLeaf]) -> StandardMerkleTree:
    """The batch tree over record leaves, in the given order."""
    return StandardMerkleTree([leaf.leaf_hash() for leaf in leaves])
