#!/usr/bin/env python3
"""Benchmark: build the batch tree and every proof for N records, against the reference.

Prints the Python figures and, when hardhat-local is installed, those of npm
@openzeppelin/merkle-tree on the same leaves in the same run, with the ratio. Usage:
    python scripts/bench_tree.py [--records 100000] [--no-reference]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from chain_client import LEAF_ENCODING, RecordLeaf, catalog_id, record_tree

HARDHAT_LOCAL = Path(__file__).resolve().parents[1] / "hardhat-local"
PROVIDER = "0x917A6C517e2940FA51575f7E7BE9B3445cc69492"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--no-reference", action="store_true", help="skip the npm library")
    args = parser.parse_args()

    entry = catalog_id("BJ-XZCF-001")
    leaves = [
        RecordLeaf.create(
            catalog_id=entry,
            catalog_version=1,
            subject_tag=os.urandom(32),
            content_hash=os.urandom(32),
            provider=PROVIDER,
            issued_at=1_760_000_000 + i,
        )
        for i in range(args.records)
    ]
    start = time.perf_counter()
    tree = record_tree(leaves)  # hashes every leaf, then builds the tree
    built = time.perf_counter()
    proofs = [tree.proof(i) for i in range(len(leaves))]
    proved = time.perf_counter()
    python_s = proved - start
    print(f"records                {args.records:>12,}")
    print(f"proof depth            {max(len(p) for p in proofs):>12}")
    print(f"python leaves+tree     {built - start:>11.2f} s")
    print(f"python every proof     {proved - built:>11.2f} s")
    print(f"python total           {python_s:>11.2f} s")

    node = HARDHAT_LOCAL / "node_modules" / ".bin" / "node"
    if args.no_reference or not node.exists():
        print("reference              skipped (hardhat-local not installed)" if not node.exists() else "")
        return
    values = [["0x" + v.hex() if isinstance(v, bytes) else v for v in leaf.values()] for leaf in leaves]
    done = subprocess.run(
        [str(node), str(HARDHAT_LOCAL / "merkle-reference.cjs")],
        input=json.dumps({"bench": True, "encoding": list(LEAF_ENCODING), "values": values}),
        capture_output=True,
        text=True,
        check=True,
        cwd=HARDHAT_LOCAL,
    )
    reference = json.loads(done.stdout)
    assert reference["root"] == "0x" + tree.root.hex(), "the reference library disagrees on the root"
    reference_s = (reference["buildMs"] + reference["proofsMs"]) / 1000
    print(f"npm merkle-tree total  {reference_s:>11.2f} s   (same leaves, same root)")
    print(f"speed-up               {reference_s / python_s:>11.1f} x")


if __name__ == "__main__":
    main()
