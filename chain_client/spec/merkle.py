"""OpenZeppelin's StandardMerkleTree, byte for byte, fast enough for 100,000 records.

Same algorithm as npm `@openzeppelin/merkle-tree` 1.x: leaves are double-hashed ABI
encodings, sorted by hash; the tree is a complete binary tree in an array with the
leaves at the end in reverse order; a node is keccak256 of its two children sorted.
So `MerkleProof.sol` and the npm library verify our proofs and multiproofs unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import encode

from chain_client.spec.keccak import keccak


def standard_leaf_hash(types: Sequence[str], values: Sequence[object]) -> bytes:
    """keccak256(keccak256(abi.encode(values))): the OpenZeppelin standard leaf."""
    return keccak(keccak(encode(list(types), list(values))))


def node_hash(a: bytes, b: bytes) -> bytes:
    """Hash of two sibling nodes, in sorted order (MerkleProof.sol's commutative hash)."""
    return keccak(a + b if a < b else b + a)


@dataclass(frozen=True)
class MultiProof:
    """A proof for several leaves at once, in the order MerkleProof.multiProofVerify wants.

    `leaves` are leaf hashes and `value_indices` the indices of the values they belong
    to, both ordered as the proof consumes them (descending tree position).
    """

    leaves: tuple[bytes, ...]
    value_indices: tuple[int, ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]


class StandardMerkleTree:
    """A Merkle tree over leaf hashes given in value order (index i = the i-th value)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        count = len(leaf_hashes)
        if count == 0:
            raise ValueError("a Merkle tree needs at least one leaf")
        size = 2 * count - 1
        order = sorted(range(count), key=leaf_hashes.__getitem__)
        tree: list[bytes] = [b""] * size
        positions = [0] * count
        for leaf_index, value_index in enumerate(order):
            position = size - 1 - leaf_index
            tree[position] = leaf_hashes[value_index]
            positions[value_index] = position
        for i in range(size - 1 - count, -1, -1):
            left, right = tree[2 * i + 1], tree[2 * i + 2]
            tree[i] = keccak(left + right if left < right else right + left)
        self._tree = tree
        self._positions = positions

    @property
    def root(self) -> bytes:
        """The root, as anchored on chain."""
        return self._tree[0]

    def __len__(self) -> int:
        return len(self._positions)

    def leaf(self, value_index: int) -> bytes:
        """The leaf hash of a value."""
        return self._tree[self._positions[value_index]]

    def proof(self, value_index: int) -> list[bytes]:
        """Sibling hashes from the value's leaf up to (not including) the root."""
        tree = self._tree
        index = self._positions[value_index]
        proof: list[bytes] = []
        while index > 0:
            proof.append(tree[index + 1] if index % 2 else tree[index - 1])
            index = (index - 1) // 2
        return proof

    def multiproof(self, value_indices: Sequence[int]) -> MultiProof:
        """One proof for several values (OpenZeppelin's getMultiProof)."""
        if len(set(value_indices)) != len(value_indices):
            raise ValueError("cannot prove a duplicated index")
        by_position = {self._positions[v]: v for v in value_indices}
        indices = sorted(by_position, reverse=True)
        stack = list(indices)
        proof: list[bytes] = []
        flags: list[bool] = []
        head = 0
        while head < len(stack) and stack[head] > 0:
            j = stack[head]
            head += 1
            sibling = j + 1 if j % 2 else j - 1
            if head < len(stack) and stack[head] == sibling:
                flags.append(True)
                head += 1
            else:
                flags.append(False)
                proof.append(self._tree[sibling])
            stack.append((j - 1) // 2)
        if not indices:
            proof.append(self._tree[0])
        return MultiProof(
            leaves=tuple(self._tree[i] for i in indices),
            value_indices=tuple(by_position[i] for i in indices),
            proof=tuple(proof),
            proof_flags=tuple(flags),
        )


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that a leaf and its proof lead to."""
    computed = leaf
    for sibling in proof:
        computed = keccak(computed + sibling if computed < sibling else sibling + computed)
    return computed


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Whether proof shows leaf under root (as MerkleProof.verify)."""
    return process_proof(leaf, proof) == root


def process_multiproof(leaves: Sequence[bytes], proof: Sequence[bytes], proof_flags: Sequence[bool]) -> bytes:
    """The root a multiproof leads to; ValueError when its shape is inconsistent."""
    if len(leaves) + len(proof) != len(proof_flags) + 1 or len(proof) < proof_flags.count(False):
        raise ValueError("multiproof shape does not match its leaves")
    stack = list(leaves)
    proof_items = list(proof)
    stack_head = proof_head = 0
    for flag in proof_flags:
        a = stack[stack_head]
        stack_head += 1
        if flag:
            b = stack[stack_head]
            stack_head += 1
        else:
            b = proof_items[proof_head]
            proof_head += 1
        stack.append(node_hash(a, b))
    if (len(stack) - stack_head) + (len(proof_items) - proof_head) != 1:
        raise ValueError("multiproof does not reduce to one root")
    if stack_head < len(stack):
        return stack[-1]
    return proof_items[proof_head]


def verify_multiproof(
    root: bytes, leaves: Sequence[bytes], proof: Sequence[bytes], proof_flags: Sequence[bool]
) -> bool:
    """Whether a multiproof shows all leaves under root (as MerkleProof.multiProofVerify)."""
    try:
        return process_multiproof(leaves, proof, proof_flags) == root
    except (ValueError, IndexError):
        return False
