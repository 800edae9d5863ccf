"""The StandardMerkleTree: properties, and agreement with OpenZeppelin's npm library."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain_client import LEAF_ENCODING, RecordLeaf, StandardMerkleTree, record_tree, verify_multiproof, verify_proof
from chain_client.spec.merkle import process_multiproof, standard_leaf_hash
from tests.support.reference import openzeppelin_merkle

leaf_sets = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _leaves(count: int) -> list[RecordLeaf]:
    return [
        RecordLeaf.create(
            catalog_id=os.urandom(32),
            catalog_version=1 + i % 3,
            subject_tag=os.urandom(32),
            content_hash=os.urandom(32),
            provider="0x917A6C517e2940FA51575f7E7BE9B3445cc69492",
            issued_at=1_760_000_000 + i,
            supersedes=os.urandom(32) if i % 4 == 0 else bytes(32),
        )
        for i in range(count)
    ]


def _json_values(leaf: RecordLeaf) -> list[object]:
    return [_hex(v) if isinstance(v, bytes) else v for v in leaf.values()]


@settings(max_examples=60, deadline=None)
@given(leaf_sets)
def test_every_proof_verifies(hashes: list[bytes]) -> None:
    """For any set of leaves, every leaf's proof leads to the root."""
    tree = StandardMerkleTree(hashes)
    for i, leaf in enumerate(hashes):
        assert tree.leaf(i) == leaf
        assert verify_proof(tree.root, leaf, tree.proof(i))


@settings(max_examples=60, deadline=None)
@given(leaf_sets, st.data())
def test_altered_leaf_sibling_or_root_fails(hashes: list[bytes], data: st.DataObject) -> None:
    """Changing the leaf, any proof element or the root makes verification fail."""
    tree = StandardMerkleTree(hashes)
    i = data.draw(st.integers(0, len(hashes) - 1))
    proof = tree.proof(i)
    flip = bytes([1]) + bytes(31)
    altered_leaf = bytes(a ^ b for a, b in zip(hashes[i], flip, strict=True))
    assert not verify_proof(tree.root, altered_leaf, proof)
    assert not verify_proof(bytes(a ^ b for a, b in zip(tree.root, flip, strict=True)), hashes[i], proof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[j] = bytes(a ^ b for a, b in zip(bad[j], flip, strict=True))
        assert not verify_proof(tree.root, hashes[i], bad)


@settings(max_examples=60, deadline=None)
@given(leaf_sets, st.data())
def test_multiproofs_verify_and_detect_changes(hashes: list[bytes], data: st.DataObject) -> None:
    """Any subset's multiproof verifies; altering one of its leaves does not."""
    tree = StandardMerkleTree(hashes)
    subset = data.draw(st.lists(st.integers(0, len(hashes) - 1), unique=True, max_size=len(hashes)))
    multi = tree.multiproof(subset)
    assert sorted(multi.value_indices) == sorted(subset)
    assert list(multi.leaves) == [hashes[v] for v in multi.value_indices]
    assert verify_multiproof(tree.root, multi.leaves, multi.proof, multi.proof_flags)
    if multi.leaves:
        changed = [b"\x00" * 32, *multi.leaves[1:]]
        assert not verify_multiproof(tree.root, changed, multi.proof, multi.proof_flags)


def test_empty_tree_and_duplicate_indices_are_refused() -> None:
    """A tree needs a leaf; a multiproof cannot prove the same index twice."""
    with pytest.raises(ValueError, match="at least one leaf"):
        StandardMerkleTree([])
    with pytest.raises(ValueError, match="duplicated"):
        StandardMerkleTree([os.urandom(32), os.urandom(32)]).multiproof([1, 1])


def test_malformed_multiproof_is_rejected() -> None:
    """A multiproof whose shape does not fit its leaves is an error, and does not verify."""
    with pytest.raises(ValueError, match="shape"):
        process_multiproof([os.urandom(32)], [], [True, True])
    assert not verify_multiproof(os.urandom(32), [os.urandom(32)], [], [True, True])


def test_record_leaf_hash_is_the_standard_leaf() -> None:
    """The hand-packed record leaf equals the generic ABI-encoded standard leaf."""
    for leaf in _leaves(5):
        assert leaf.leaf_hash() == standard_leaf_hash(LEAF_ENCODING, leaf.values())


@pytest.mark.parametrize("count", [1, 2, 3, 7, 64, 257])
def test_trees_agree_with_openzeppelin_npm(count: int) -> None:
    """Leaves, root, every proof and a multiproof equal those of npm @openzeppelin/merkle-tree."""
    leaves = _leaves(count)
    tree = record_tree(leaves)
    multi_indices = sorted({0, count // 2, count - 1})
    reference = openzeppelin_merkle(
        {"encoding": list(LEAF_ENCODING), "values": [_json_values(leaf) for leaf in leaves], "multi": multi_indices}
    )
    assert reference["root"] == _hex(tree.root)
    assert reference["leaves"] == [_hex(tree.leaf(i)) for i in range(count)]
    assert reference["proofs"] == [[_hex(p) for p in tree.proof(i)] for i in range(count)]
    multi = tree.multiproof(multi_indices)
    assert reference["multiproof"]["proof"] == [_hex(p) for p in multi.proof]
    assert reference["multiproof"]["proofFlags"] == list(multi.proof_flags)
    assert reference["multiproof"]["leaves"] == [_json_values(leaves[v]) for v in multi.value_indices]


def test_openzeppelin_npm_verifies_our_proofs() -> None:
    """StandardMerkleTree.verify from npm accepts our proof and refuses a tampered one."""
    leaves = _leaves(33)
    tree = record_tree(leaves)
    good = {"root": _hex(tree.root), "values": _json_values(leaves[5]), "proof": [_hex(p) for p in tree.proof(5)]}
    bad = {**good, "values": _json_values(leaves[6])}
    reference = openzeppelin_merkle({"encoding": list(LEAF_ENCODING), "values": [], "verify": [good, bad]})
    assert reference["verified"] == [True, False]
