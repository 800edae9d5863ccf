"""keccak256, from the C implementation in safe-pysha3.

It is about ten times faster than eth-hash's default backend here, which matters when
hashing the leaves and nodes of a 100,000-record batch.
"""

from __future__ import annotations

from sha3 import keccak_256


def keccak(data: bytes) -> bytes:
    """keccak256 of data (Ethereum's hash, not NIST SHA3-256)."""
    digest: bytes = keccak_256(data).digest()
    return digest
