#!/usr/bin/env node
// The reference StandardMerkleTree (npm @openzeppelin/merkle-tree), for tests that check
// credit-ledger's Python tree byte for byte. Reads JSON on stdin:
//   {"encoding": ["bytes32", ...], "values": [[...], ...], "multi": [valueIndex, ...],
//    "verify": [{"root": "0x..", "values": [...], "proof": ["0x.."]}]}
// and prints {"root", "leaves", "proofs", "multiproof": {leaves, proof, proofFlags}, "verified"}.
// With "bench": true it times building the tree and every proof instead.
"use strict";
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const out = {};
  if (input.bench) {
    // Time the library itself: building the tree and every proof.
    const start = performance.now();
    const tree = StandardMerkleTree.of(input.values, input.encoding);
    const built = performance.now();
    for (let i = 0; i < input.values.length; i++) tree.getProof(i);
    const proved = performance.now();
    process.stdout.write(JSON.stringify({ root: tree.root, buildMs: built - start, proofsMs: proved - built }));
    return;
  }
  if (input.values && input.values.length > 0) {
    const tree = StandardMerkleTree.of(input.values, input.encoding);
    out.root = tree.root;
    out.leaves = input.values.map((v) => tree.leafHash(v));
    out.proofs = input.values.map((_, i) => tree.getProof(i));
    if (input.multi) out.multiproof = tree.getMultiProof(input.multi);
  }
  out.verified = (input.verify || []).map((c) => StandardMerkleTree.verify(c.root, input.encoding, c.values, c.proof));
  process.stdout.write(JSON.stringify(out));
});
