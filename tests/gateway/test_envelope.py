"""Envelope encryption of payloads: AES-256-GCM, data key per record, KEK rotation."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.infra.envelope import (
    Keyring,
    KeyringError,
    PayloadIntegrityError,
    UnknownKeyError,
    open_sealed,
    rewrap,
    seal,
)

PLAINTEXT = '{"subjectName":"北京某某科技有限公司","decision":{"fine":50000}}'.encode()


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def test_seal_and_open_round_trip() -> None:
    """A sealed payload opens to its plaintext, and the stored form does not contain it."""
    keyring = Keyring.generate()
    record_id = os.urandom(32)
    sealed = seal(keyring, record_id, PLAINTEXT)
    assert PLAINTEXT not in sealed.ciphertext
    assert sealed.kek_id == "kek-1"
    assert open_sealed(keyring, record_id, sealed) == PLAINTEXT


def test_each_record_gets_its_own_data_key_and_nonce() -> None:
    """Sealing the same payload twice gives unrelated ciphertexts and wrapped keys."""
    keyring = Keyring.generate()
    record_id = os.urandom(32)
    first, second = seal(keyring, record_id, PLAINTEXT), seal(keyring, record_id, PLAINTEXT)
    assert first.ciphertext != second.ciphertext
    assert first.wrapped_key != second.wrapped_key


@pytest.mark.parametrize("part", ["ciphertext", "nonce", "wrapped_key", "key_nonce"])
def test_tampering_is_detected(part: str) -> None:
    """Altering any stored part fails with PAYLOAD_TAMPERED, never returns other plaintext."""
    keyring = Keyring.generate()
    record_id = os.urandom(32)
    sealed = seal(keyring, record_id, PLAINTEXT)
    tampered = replace(sealed, **{part: _flip(getattr(sealed, part))})
    with pytest.raises(PayloadIntegrityError) as caught:
        open_sealed(keyring, record_id, tampered)
    assert caught.value.code == "PAYLOAD_TAMPERED"


def test_a_row_swapped_to_another_record_is_detected() -> None:
    """A ciphertext and key moved to another record id do not open there."""
    keyring = Keyring.generate()
    sealed = seal(keyring, os.urandom(32), PLAINTEXT)
    with pytest.raises(PayloadIntegrityError):
        open_sealed(keyring, os.urandom(32), sealed)


def test_rotation_rewraps_data_keys_only() -> None:
    """After rotation rows are re-wrapped with the new KEK, ciphertexts unchanged, the old KEK no longer needed."""
    old = Keyring.generate("kek-2026-01")
    record_id = os.urandom(32)
    sealed = seal(old, record_id, PLAINTEXT)
    rotated = old.with_new_active("kek-2026-07")
    rewrapped = rewrap(rotated, record_id, sealed)
    assert (rewrapped.kek_id, rewrapped.ciphertext, rewrapped.nonce) == ("kek-2026-07", sealed.ciphertext, sealed.nonce)
    only_new = Keyring("kek-2026-07", {"kek-2026-07": rotated.keys["kek-2026-07"]})
    assert open_sealed(only_new, record_id, rewrapped) == PLAINTEXT
    with pytest.raises(UnknownKeyError) as caught:
        open_sealed(only_new, record_id, sealed)
    assert caught.value.code == "KEK_UNKNOWN"


def test_keyring_file_round_trip_and_refusals(tmp_path: Path) -> None:
    """A keyring saves and loads; malformed files and short keys are refused without echoing keys."""
    keyring = Keyring.generate().with_new_active("kek-2")
    path = tmp_path / "keyring.json"
    path.write_text(keyring.to_json())
    assert Keyring.from_file(path) == keyring
    secret = keyring.keys["kek-2"]
    assert secret.hex() not in repr(keyring)
    for text in ["not json", '{"active": "a", "keys": {"a": "c2hvcnQ="}}', '{"active": "b", "keys": {}}']:
        with pytest.raises(KeyringError) as caught:
            Keyring.from_json(text)
        assert caught.value.code == "KEYRING_INVALID"
    with pytest.raises(KeyringError, match="cannot read"):
        Keyring.from_file(tmp_path / "missing.json")
