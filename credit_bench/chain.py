"""On-chain figures: the one-transaction-per-record baseline and gas per record by batch size.

The baseline is what an attestation registry does: one contract call per record. Here it
is CreditLedger's own `anchorBatch(leafHash, 1, RECORDS)` for each record, a root of a
one-leaf tree, sent from the gateway's account and waited for one at a time (on every node
here that is faster than sending many and then waiting, see TOOLCHAIN.md), on the same
node as the gateway's run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from chain_client import BatchKind, Stack, record_tree
from credit_bench.records import random_leaves

BASELINE_CALL = "anchorBatch(leafHash, 1, RECORDS) per record, sent and awaited one at a time"


@dataclass(frozen=True)
class Baseline:
    """Records per second with one transaction each, and the gas of one such transaction."""

    records_per_s: float
    records: int
    gas_per_record: int


def per_record_baseline(stack: Stack, gateway: LocalAccount, provider: str, count: int) -> Baseline:
    """Anchor `count` record leaves with one anchorBatch transaction each."""
    leaves = [leaf.leaf_hash() for leaf in random_leaves(count, provider)]
    stack.ledger.anchor_batch(gateway, os.urandom(32), 1, BatchKind.RECORDS)  # warm: nonce, first-use storage
    start = time.perf_counter()
    receipts = [stack.ledger.anchor_batch(gateway, leaf, 1, BatchKind.RECORDS) for leaf in leaves]
    seconds = time.perf_counter() - start
    return Baseline(count / seconds, count, int(receipts[-1]["gasUsed"]))


def gas_per_record(stack: Stack, gateway: LocalAccount, provider: str, batch_sizes: list[int]) -> dict[str, float]:
    """Gas of anchoring one batch of each size (a real record tree's root), per record."""
    gas: dict[str, float] = {}
    for size in batch_sizes:
        root = record_tree(random_leaves(size, provider)).root
        receipt = stack.ledger.anchor_batch(gateway, root, size, BatchKind.RECORDS)
        gas[str(size)] = round(int(receipt["gasUsed"]) / size, 2)
    return gas
