#!/usr/bin/env python3
"""Benchmark: offline proof-bundle verification per second, on one core.

Measures, in one run on the same bundles:
- verify_bundles on parsed bundles (the batch form),
- verify_bundles on JSON documents (JSON Schema validation included),
- a baseline that does the same checks with the generic tools (eth-abi encoding,
  eth-account's EIP-712 encoder and recovery), to show what the specialised path buys.
Usage: python scripts/bench_verify.py [--bundles 5000]
"""

from __future__ import annotations

import argparse
import os
import time

from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from chain_client import LEAF_ENCODING, ProofBundle, RecordLeaf, catalog_id, record_tree, verify_bundles
from chain_client.spec.eip712 import LedgerDomain, record_struct_hash, sign_digest
from chain_client.spec.merkle import verify_proof
from chain_client.spec.records import LEAF_FIELDS
from chain_client.verify.bundle import BatchRef, ChainRef

LEDGER = "0x22ee72F6722869a84B53FbD970FDD56E29623D83"
TYPES = {"CreditRecord": [{"name": n, "type": t} for n, t in zip(LEAF_FIELDS, LEAF_ENCODING, strict=True)]}


def make_bundles(count: int) -> list[ProofBundle]:
    provider = Account.create()
    domain = LedgerDomain(31337, LEDGER)  # type: ignore[arg-type]
    entry = catalog_id("BJ-XZCF-001")
    leaves = [
        RecordLeaf.create(
            catalog_id=entry,
            catalog_version=1,
            subject_tag=os.urandom(32),
            content_hash=os.urandom(32),
            provider=provider.address,
            issued_at=1_760_000_000 + i,
        )
        for i in range(count)
    ]
    tree = record_tree(leaves)
    chain = ChainRef(31337, LEDGER, LEDGER, LEDGER)  # type: ignore[arg-type]
    return [
        ProofBundle(
            chain=chain,
            leaf=leaf,
            signature=sign_digest(provider, domain.digest(record_struct_hash(leaf))),
            batch=BatchRef(tree.root, tuple(tree.proof(i)), os.urandom(32), 1, 1_760_000_000),
        )
        for i, leaf in enumerate(leaves)
    ]


def baseline(bundles: list[ProofBundle]) -> bool:
    """The same offline checks written with the generic libraries."""
    ok = True
    for bundle in bundles:
        leaf = bundle.leaf
        values = list(leaf.values())
        record_id = keccak(
            encode(
                ["address", "bytes32", "bytes32", "bytes32", "uint64"],
                [leaf.provider, leaf.catalog_id, leaf.subject_tag, leaf.content_hash, leaf.issued_at],
            )
        )
        leaf_hash = keccak(keccak(encode(list(LEAF_ENCODING), values)))
        message = dict(zip([f["name"] for f in TYPES["CreditRecord"]], values, strict=True))
        signable = encode_typed_data(LedgerDomain(31337, LEDGER).as_dict(), TYPES, message)  # type: ignore[arg-type]
        signer = Account.recover_message(signable, signature=bundle.signature)
        ok &= record_id == leaf.record_id and verify_proof(bundle.batch.root, leaf_hash, bundle.batch.proof)
        ok &= signer == leaf.provider
    return ok


def rate(label: str, count: int, seconds: float) -> float:
    per_second = count / seconds
    print(f"{label:<34} {per_second:>10,.0f} bundles/s")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=5000)
    args = parser.parse_args()
    bundles = make_bundles(args.bundles)
    documents = [b.to_json() for b in bundles]
    print(f"bundles {args.bundles:,}, proof depth {len(bundles[0].batch.proof)}")

    start = time.perf_counter()
    assert all(r.valid for r in verify_bundles(bundles))
    fast = rate("verify_bundles (parsed bundles)", len(bundles), time.perf_counter() - start)
    start = time.perf_counter()
    assert all(r.valid for r in verify_bundles(documents))
    rate("verify_bundles (JSON documents)", len(bundles), time.perf_counter() - start)
    sample = bundles[: max(1, len(bundles) // 5)]
    start = time.perf_counter()
    assert baseline(sample)
    slow = rate("baseline: generic eth-abi/eth-account", len(sample), time.perf_counter() - start)
    print(f"{'ratio parsed / baseline':<34} {fast / slow:>10.1f} x")


if __name__ == "__main__":
    main()
