"""Envelope encryption of payloads: AES-256-GCM, a fresh data key per record.

Each payload is encrypted with its own 256-bit data key; the data key is encrypted
("wrapped") with a key-encryption key (KEK) named by a key id. Both encryptions bind
the record id as associated data, so a ciphertext or a wrapped key moved to another
row fails to open instead of decrypting to the wrong record. Rotating the KEK re-wraps
data keys only; payload ciphertexts never change.

Keys never appear in reprs, logs or error messages.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.infra.errors import FixedCodeError

KEY_BYTES = 32
NONCE_BYTES = 12
_PAYLOAD_AAD = b"credit-ledger/payload@1|"
_DATA_KEY_AAD = b"credit-ledger/data-key@1|"


class EnvelopeError(FixedCodeError):
    """Root of the envelope errors; `code` is stable for API responses."""

    code = "ENVELOPE_ERROR"


class UnknownKeyError(EnvelopeError):
    """The key-encryption key named by a row is not in the keyring."""

    code = "KEK_UNKNOWN"


class PayloadIntegrityError(EnvelopeError):
    """A stored payload or its wrapped key was altered, or belongs to another record."""

    code = "PAYLOAD_TAMPERED"


class KeyringError(EnvelopeError):
    """The keyring could not be loaded (missing, malformed or wrong-sized keys)."""

    code = "KEYRING_INVALID"


class ActiveKeyError(EnvelopeError):
    """The active key-encryption key cannot be retired: new payloads are wrapped with it."""

    code = "KEK_ACTIVE"


class KeyInUseError(EnvelopeError):
    """A key-encryption key still wraps the data keys of some rows, so it cannot be retired."""

    code = "KEK_IN_USE"


@dataclass(frozen=True)
class SealedPayload:
    """What is stored for a payload: ciphertext and the wrapped data key, never plaintext."""

    ciphertext: bytes
    nonce: bytes
    wrapped_key: bytes
    key_nonce: bytes
    kek_id: str


@dataclass(frozen=True)
class Keyring:
    """Key-encryption keys by id, and the id new payloads are wrapped with."""

    active_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise KeyringError(f"the active key id {self.active_id!r} is not in the keyring")
        for kek_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {kek_id!r} is {len(key)} bytes, not {KEY_BYTES}")

    @classmethod
    def generate(cls, kek_id: str = "kek-1") -> Keyring:
        """A keyring with one fresh random key."""
        return cls(kek_id, {kek_id: AESGCM.generate_key(bit_length=256)})

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        """Parse `{"active": id, "keys": {id: base64}}`."""
        try:
            data = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(str(data["active"]), keys)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyringError(f"malformed keyring: {type(exc).__name__}") from None

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        """Read a keyring file (keep it readable by the gateway's user only)."""
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise KeyringError(f"cannot read keyring {path}: {exc.strerror}") from None

    def to_json(self) -> str:
        """The keyring file's text (contains the keys: write it with care)."""
        keys = {k: base64.b64encode(v).decode() for k, v in self.keys.items()}
        return json.dumps({"active": self.active_id, "keys": keys}, indent=2) + "\n"

    def with_new_active(self, kek_id: str) -> Keyring:
        """This keyring plus a fresh key that becomes active (old keys stay to open old rows)."""
        if kek_id in self.keys:
            raise KeyringError(f"key id {kek_id!r} exists already")
        return Keyring(kek_id, {**self.keys, kek_id: AESGCM.generate_key(bit_length=256)})

    def without(self, kek_id: str) -> Keyring:
        """This keyring less a retired key (UnknownKeyError if absent, ActiveKeyError if active)."""
        if kek_id not in self.keys:
            raise UnknownKeyError(f"key-encryption key {kek_id!r} is not in the keyring")
        if kek_id == self.active_id:
            raise ActiveKeyError(f"key-encryption key {kek_id!r} is the active one: rotate to a new key first")
        return Keyring(self.active_id, {k: v for k, v in self.keys.items() if k != kek_id})

    def _key(self, kek_id: str) -> bytes:
        try:
            return self.keys[kek_id]
        except KeyError:
            raise UnknownKeyError(f"key-encryption key {kek_id!r} is not in the keyring") from None

    @cached_property
    def _active_cipher(self) -> AESGCM:
        # Made once: every record's data key is wrapped with it.
        return AESGCM(self._key(self.active_id))


def seal(keyring: Keyring, record_id: bytes, plaintext: bytes) -> SealedPayload:
    """Encrypt a payload under a fresh data key wrapped by the active KEK."""
    fresh = os.urandom(KEY_BYTES + 2 * NONCE_BYTES)  # data key and both nonces, from the OS CSPRNG
    data_key, nonce, key_nonce = fresh[:KEY_BYTES], fresh[KEY_BYTES:-NONCE_BYTES], fresh[-NONCE_BYTES:]
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _PAYLOAD_AAD + record_id)
    kek_id = keyring.active_id
    wrapped = keyring._active_cipher.encrypt(key_nonce, data_key, _data_key_aad(kek_id, record_id))
    return SealedPayload(ciphertext, nonce, wrapped, key_nonce, kek_id)


def open_sealed(keyring: Keyring, record_id: bytes, sealed: SealedPayload) -> bytes:
    """Decrypt a payload; PayloadIntegrityError if anything was altered or moved."""
    data_key = _unwrap(keyring, record_id, sealed)
    try:
        return AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, _PAYLOAD_AAD + record_id)
    except (InvalidTag, ValueError):
        raise PayloadIntegrityError("the payload ciphertext does not authenticate for this record") from None


def rewrap(keyring: Keyring, record_id: bytes, sealed: SealedPayload) -> SealedPayload:
    """The same payload with its data key wrapped by the keyring's active KEK."""
    if sealed.kek_id == keyring.active_id:
        return sealed
    data_key = _unwrap(keyring, record_id, sealed)
    key_nonce = os.urandom(NONCE_BYTES)
    kek_id = keyring.active_id
    wrapped = AESGCM(keyring._key(kek_id)).encrypt(key_nonce, data_key, _data_key_aad(kek_id, record_id))
    return SealedPayload(sealed.ciphertext, sealed.nonce, wrapped, key_nonce, kek_id)


def _unwrap(keyring: Keyring, record_id: bytes, sealed: SealedPayload) -> bytes:
    kek = keyring._key(sealed.kek_id)
    try:
        return AESGCM(kek).decrypt(sealed.key_nonce, sealed.wrapped_key, _data_key_aad(sealed.kek_id, record_id))
    except (InvalidTag, ValueError):
        raise PayloadIntegrityError("the wrapped data key does not authenticate for this record") from None


def _data_key_aad(kek_id: str, record_id: bytes) -> bytes:
    return _DATA_KEY_AAD + kek_id.encode() + b"|" + record_id
