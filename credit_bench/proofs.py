"""Proof size against batch size, and offline proof verifications per second.

Proof sizes come from the batch tree itself (`record_tree`'s StandardMerkleTree) and from
a whole `credit-ledger/proof@2` bundle of a signed record in a batch of that size.
Verification reuses `scripts/bench_verify.py` (its bundles and `verify_bundles`), so both
benchmarks measure the same thing.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from eth_account import Account

from chain_client import (
    BatchRef,
    BuildError,
    ChainRef,
    LedgerDomain,
    ProofBundle,
    StandardMerkleTree,
    record_struct_hash,
    sign_digest,
    verify_bundles,
)
from chain_client.dev import find_repo_root
from credit_bench.records import random_leaves

_CONTRACT = "0x22ee72F6722869a84B53FbD970FDD56E29623D83"
_PROOF_SAMPLE = 2_000  # leaves whose proofs are measured in a large tree (all of them in a small one)


def proof_sizes(batch_sizes: list[int]) -> dict[str, dict[str, int]]:
    """Per batch size: the longest and shortest proof (hashes, bytes) and a bundle's JSON bytes."""
    provider = Account.create()
    (leaf,) = random_leaves(1, provider.address)
    domain = LedgerDomain(31337, _CONTRACT)  # type: ignore[arg-type]
    signature = sign_digest(provider, domain.digest(record_struct_hash(leaf)))
    chain = ChainRef(31337, _CONTRACT, _CONTRACT, _CONTRACT)  # type: ignore[arg-type]
    sizes: dict[str, dict[str, int]] = {}
    for count in batch_sizes:
        hashes = [leaf.leaf_hash(), *(os.urandom(32) for _ in range(count - 1))]
        tree = StandardMerkleTree(hashes)
        step = max(1, count // _PROOF_SAMPLE)
        deepest = hashes.index(min(hashes))  # the smallest leaf sits last in the tree's array, deepest
        lengths = [len(tree.proof(i)) for i in (*range(0, count, step), deepest)]
        batch = BatchRef(tree.root, tuple(tree.proof(0)), os.urandom(32), 1, 1_790_000_000)
        bundle = ProofBundle(chain=chain, leaf=leaf, signature=signature, batch=batch)
        sizes[str(count)] = {
            "proof_hashes_max": max(lengths),
            "proof_hashes_min": min(lengths),
            "proof_bytes_max": 32 * max(lengths),
            "bundle_bytes": len(json.dumps(bundle.to_json(), separators=(",", ":"))),
        }
    return sizes


def proof_growth(sizes: dict[str, dict[str, int]]) -> dict[str, Any]:
    """How proofs grow: bytes per doubling of the batch (least squares over log2 n), and
    whether the longest proof is exactly ceil(log2 n) hashes at every size."""
    points = [(math.log2(int(n)), s["proof_bytes_max"]) for n, s in sizes.items()]
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    logarithmic = all(s["proof_hashes_max"] == math.ceil(math.log2(int(n))) for n, s in sizes.items())
    return {"bytes_per_doubling": round(slope, 2), "max_hashes_equal_ceil_log2_n": logarithmic}


def verify_rate(bundle_count: int) -> dict[str, Any]:
    """Offline verifications per second with verify_bundles, parsed and as JSON documents."""
    script = _bench_verify_script()
    if script is None:
        return {"verify_per_s": None, "note": "scripts/bench_verify.py not found: run from a checkout"}
    bundles = script.make_bundles(bundle_count)
    documents = [bundle.to_json() for bundle in bundles]
    start = time.perf_counter()
    valid = all(report.valid for report in verify_bundles(bundles))
    parsed = bundle_count / (time.perf_counter() - start)
    start = time.perf_counter()
    valid &= all(report.valid for report in verify_bundles(documents))
    as_json = bundle_count / (time.perf_counter() - start)
    if not valid:
        raise RuntimeError("a benchmark proof bundle did not verify")
    return {
        "verify_per_s": round(parsed),
        "verify_json_per_s": round(as_json),
        "bundles": bundle_count,
        "proof_depth": len(bundles[0].batch.proof),
    }


def _bench_verify_script() -> ModuleType | None:
    for start in (Path(__file__).resolve().parent, Path.cwd()):
        try:
            path = find_repo_root(start) / "scripts" / "bench_verify.py"
        except BuildError:
            continue
        spec = importlib.util.spec_from_file_location("credit_ledger_bench_verify", path)
        if path.is_file() and spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None
