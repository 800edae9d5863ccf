"""Salted per-field commitments to a payload (docs/formats.md, "Content commitments", normative).

For each top-level field `name`, salt = HMAC-SHA256(recordSeed, name) and the leaf is
the OpenZeppelin standard leaf of (string name, bytes32 salt, bytes jcs(value)), JCS
being RFC 8785 canonical JSON. contentHash is the StandardMerkleTree root of those
leaves. Revealing a field takes its value, its salt and a multiproof; nothing about
the other fields leaks, because each is hidden behind its own salt.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from chain_client.spec.keccak import keccak
from chain_client.spec.merkle import StandardMerkleTree, verify_multiproof

FIELD_ENCODING = ("string", "bytes32", "bytes")


_INT_MAX = 2**53 - 1  # JCS: integers beyond IEEE 754's exact range are refused (rfc8785 raises)
_plain_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON of value.

    Values made only of dicts with string keys, lists, strings, safe integers, booleans
    and null are written by the standard library's C encoder, whose output is JCS for
    them: keys sorted by code point (the same order as JCS's UTF-16 order while no key
    holds a character beyond U+FFFF), no spaces, UTF-8 kept, the same escapes. Anything
    else (floats, astral keys, tuples, subclasses, lone surrogates, huge integers) goes
    to rfc8785, which also raises for what JCS cannot represent. Equal to rfc8785 by test.
    """
    if _plain(value):
        try:
            return _plain_dumps(value).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 raises its CanonicalizationError
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_INT_MAX <= value <= _INT_MAX)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (not key.isascii() and _astral(key)) or not _plain(item):
                return False
        return True
    if kind is list:
        return all(_plain(item) for item in value)
    return False


def _astral(text: str) -> bool:
    return any(ord(c) > 0xFFFF for c in text)


def field_salt(record_seed: bytes, name: str) -> bytes:
    """The salt of one field: HMAC-SHA256(recordSeed, name)."""
    return hmac.digest(record_seed, name.encode(), "sha256")


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
        self._salts: dict[str, bytes] = {}
        leaves = []
        for name in self.names:  # field_salt and field_leaf_hash, inlined: every record's fields pass here
            raw_name = name.encode()
            salt = self._salts[name] = hmac.digest(record_seed, raw_name, "sha256")
            leaves.append(keccak(keccak(encode_field(raw_name, salt, canonical_json(payload[name])))))
        self._tree = StandardMerkleTree(leaves)

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
