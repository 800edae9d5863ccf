"""Fixtures for the contract tests: members by role, a catalog entry, an anchored batch."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from chain_client import (
    CatalogEntrySpec,
    Consortium,
    DisclosureClass,
    ListKind,
    RecordLeaf,
    RecordProof,
    Stack,
    StandardMerkleTree,
    record_tree,
)

MIN_DAYS_BEFORE_REPAIR = 90
PENALTY_CODE = "BJ-XZCF-001"


def govern(consortium: Consortium, governors: list[LocalAccount], call: object) -> None:
    """Propose, approve and execute with just enough governors."""
    consortium.govern(governors[: consortium.threshold()], call)  # type: ignore[arg-type]


def penalty_spec(source: str, **changes: object) -> CatalogEntrySpec:
    fields: dict[str, object] = {
        "code": PENALTY_CODE,
        "source": source,
        "disclosure_class": DisclosureClass.A,
        "list_kind": ListKind.BLACK,
        "publicity_days": 365 * 3,
        "min_days_before_repair": MIN_DAYS_BEFORE_REPAIR,
        "schema_hash": b"\x11" * 32,
    }
    fields.update(changes)
    return CatalogEntrySpec(**fields)  # type: ignore[arg-type]


@dataclass
class AnchoredBatch:
    """Records anchored in one batch, with their tree."""

    leaves: list[RecordLeaf]
    tree: StandardMerkleTree
    gateway: str

    def proof(self, index: int) -> RecordProof:
        return RecordProof.from_tree(self.tree, self.leaves, index, gateway=self.gateway)


def make_leaf(
    entry: bytes,
    provider: str,
    *,
    subject_tag: bytes | None = None,
    supersedes: bytes = bytes(32),
    issued_at: int = 1_760_000_000,
) -> RecordLeaf:
    return RecordLeaf.create(
        catalog_id=entry,
        catalog_version=1,
        subject_tag=subject_tag or os.urandom(32),
        content_hash=os.urandom(32),
        provider=provider,
        issued_at=issued_at,
        supersedes=supersedes,
    )


def anchor(stack: Stack, gateway: LocalAccount, leaves: list[RecordLeaf]) -> AnchoredBatch:
    tree = record_tree(leaves)
    stack.ledger.anchor_batch(gateway, tree.root, len(leaves))
    return AnchoredBatch(leaves, tree, gateway.address)


@pytest.fixture
def batch(stack: Stack, gateway: LocalAccount, provider: LocalAccount, penalty_entry: bytes) -> AnchoredBatch:
    """Five penalty records of the provider, anchored by the Beijing gateway."""
    return anchor(stack, gateway, [make_leaf(penalty_entry, provider.address) for _ in range(5)])
