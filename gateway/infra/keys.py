"""Key-encryption key rotation and retirement.

Rotation: a new KEK becomes active and every data key is re-wrapped. The new keyring is
written (atomically, readable by its owner only) before any row changes, so no data key
is ever wrapped by a KEK that is not on disk. Rows are re-wrapped in batches, each
committed on its own: an interrupted rotation is finished by running it again. Payload
ciphertexts never change; a row whose wrapped key fails to open is reported and left alone.

Retirement: an old KEK is removed from the keyring file once no row is wrapped under it
(KeyInUseError, KEK_IN_USE, while some are: finish the rotation first); the active KEK is
never retired (ActiveKeyError, KEK_ACTIVE). Only the active KEK wraps new rows, so once
every gateway process runs on the rotated keyring no row can come to need the retired one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gateway.infra.envelope import EnvelopeError, KeyInUseError, Keyring, SealedPayload, rewrap
from gateway.infra.storage import StoredRecord

BATCH = 500


@dataclass(frozen=True)
class RotationReport:
    """What a rotation did."""

    active_id: str
    rewrapped: int
    failed: tuple[str, ...]


def write_keyring(path: Path, keyring: Keyring) -> None:
    """Replace a keyring file atomically, mode 0600."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(keyring.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def rotate(engine: Engine, keyring_path: Path, new_id: str | None = None) -> RotationReport:
    """Add a fresh active KEK to the keyring file (unless new_id is active already) and re-wrap."""
    keyring = Keyring.from_file(keyring_path)
    if new_id is None or new_id != keyring.active_id:
        keyring = keyring.with_new_active(new_id or _next_id(keyring))
        write_keyring(keyring_path, keyring)
    return rewrap_all(engine, keyring)


def rewrap_all(engine: Engine, keyring: Keyring) -> RotationReport:
    """Re-wrap every data key not yet under the active KEK."""
    rewrapped = 0
    failed: list[str] = []
    skip: set[bytes] = set()
    while True:
        with Session(engine) as session, session.begin():
            query = select(StoredRecord).where(StoredRecord.kek_id != keyring.active_id)
            if skip:
                query = query.where(StoredRecord.record_id.not_in(skip))
            rows = list(session.scalars(query.limit(BATCH)))
            if not rows:
                break
            for row in rows:
                sealed = SealedPayload(row.ciphertext, row.nonce, row.wrapped_key, row.key_nonce, row.kek_id)
                try:
                    fresh = rewrap(keyring, row.record_id, sealed)
                except EnvelopeError:
                    failed.append("0x" + row.record_id.hex())
                    skip.add(row.record_id)
                    continue
                row.wrapped_key, row.key_nonce, row.kek_id = fresh.wrapped_key, fresh.key_nonce, fresh.kek_id
                rewrapped += 1
    return RotationReport(keyring.active_id, rewrapped, tuple(failed))


@dataclass(frozen=True)
class RetirementReport:
    """What a retirement did: the key removed and the keys left."""

    retired: str
    active_id: str
    remaining: tuple[str, ...]


def rows_wrapped_by(engine: Engine, kek_id: str) -> int:
    """How many stored records have their data key wrapped under kek_id."""
    with Session(engine) as session:
        return int(
            session.scalar(select(func.count()).select_from(StoredRecord).where(StoredRecord.kek_id == kek_id)) or 0
        )


def retire(engine: Engine, keyring_path: Path, kek_id: str) -> RetirementReport:
    """Remove a KEK no row uses from the keyring file (UnknownKeyError, ActiveKeyError, KeyInUseError)."""
    keyring = Keyring.from_file(keyring_path)
    smaller = keyring.without(kek_id)
    in_use = rows_wrapped_by(engine, kek_id)
    if in_use:
        raise KeyInUseError(
            f"{in_use} rows are still wrapped under {kek_id!r}: run `credit-ledger keys rotate` to re-wrap them first"
        )
    write_keyring(keyring_path, smaller)
    return RetirementReport(kek_id, smaller.active_id, tuple(sorted(smaller.keys)))


def _next_id(keyring: Keyring) -> str:
    number = len(keyring.keys) + 1
    while f"kek-{number}" in keyring.keys:
        number += 1
    return f"kek-{number}"
