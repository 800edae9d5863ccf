"""Salted per-field commitments to a payload (DESIGN.md section 3, normative).

For each top-level field `name`, salt = HMAC-SHA256(recordSeed, name) and the leaf is
the OpenZeppelin standard leaf of (string name, bytes32 salt, bytes jcs(value)), JCS
being RFC 8785 canonical JSON. contentHash is the StandardMerkleTree root of those
leaves. Revealing a field takes its value, its salt and a multiproof; nothing about
the other fields leaks, because each is hidden behind its own salt.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from chain_client._keccak import keccak
from chain_client._merkle import StandardMerkleTree, verify_multiproof

FIELD_ENCODING = ("string", "bytes32", "bytes")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON of value."""
    return rfc8785.dumps(value)


def field_salt(record_seed: bytes, name: str) -> bytes:
    """The salt of one field: HMAC-SHA256(recordSeed, name)."""
    return hmac.new(record_seed, name.encode(), hashlib.sha256).digest()


def field_leaf_hash(name: str, salt: bytes, value: Any) -> bytes:
    """The leaf of one field: standard leaf of (name, salt, jcs(value))."""
    return keccak(keccak(encode_field(name.encode(), salt, canonical_json(value))))


def encode_field(name: bytes, salt: bytes, value: bytes) -> bytes:
    """abi.encode(string name, bytes32 salt, bytes value), written out: eth-abi's generic
    encoder costs ten times more, and every payload field of every record goes through here
    (equal to eth-abi's output by test)."""
    name_tail = _dynamic(name)
    return _WORD_3 + salt + (96 + len(name_tail)).to_bytes(32, "big") + name_tail + _dynamic(value)


_WORD_3 = (96).to_bytes(32, "big")  # the head is three words: offset, salt, offset


def _dynamic(data: bytes) -> bytes:
    return len(data).to_bytes(32, "big") + data + bytes(-len(data) % 32)


@dataclass(frozen=True)
class DisclosedField:
    """A revealed field: its value and the salt that opens its commitment."""

    value: Any
    salt: bytes


@dataclass(frozen=True)
class Disclosure:
    """Some fields of a payload with the multiproof tying them to its contentHash."""

    fields: dict[str, DisclosedField]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]


class ContentCommitment:
    """The per-field commitment tree of one payload."""

    def __init__(self, payload: Mapping[str, Any], record_seed: bytes) -> None:
        if not payload:
            raise ValueError("a payload needs at least one field")
        if len(record_seed) != 32:
            raise ValueError("recordSeed must be 32 bytes")
        self.names = tuple(sorted(payload))
        self._payload = dict(payload)
        self._salts = {name: field_salt(record_seed, name) for name in self.names}
        self._tree = StandardMerkleTree(
            [field_leaf_hash(name, self._salts[name], payload[name]) for name in self.names]
        )

    @property
    def content_hash(self) -> bytes:
        """The root that the record leaf carries as contentHash."""
        return self._tree.root

    def disclose(self, names: Iterable[str]) -> Disclosure:
        """Reveal these fields with a multiproof; KeyError for a field not in the payload."""
        wanted = sorted(set(names))
        indices = [self.names.index(name) if name in self._payload else _missing(name) for name in wanted]
        multiproof = self._tree.multiproof(indices)
        fields = {
            self.names[i]: DisclosedField(self._payload[self.names[i]], self._salts[self.names[i]])
            for i in multiproof.value_indices
        }
        return Disclosure(fields=fields, proof=multiproof.proof, proof_flags=multiproof.proof_flags)


def verify_disclosure(content_hash: bytes, disclosure: Disclosure) -> bool:
    """Whether the disclosed fields, with their salts, are committed in content_hash.

    The order of the fields does not matter: in a sorted-leaf tree a multiproof consumes
    its leaves in ascending hash order, so the verifier sorts them (JSON objects carry
    no order a verifier could rely on).
    """
    leaves = sorted(field_leaf_hash(name, f.salt, f.value) for name, f in disclosure.fields.items())
    return verify_multiproof(content_hash, leaves, disclosure.proof, disclosure.proof_flags)


def _missing(name: str) -> int:
    raise KeyError(f"the payload has no field {name!r}")
