"""Access-log entries: every release of plaintext, hash-chained and anchored in batches.

An entry is the abi.encode of the seven fields in ACCESS_LOG_ENCODING; its hash is
keccak256 of that encoding, and the next entry carries it as prevHash, so the log is a
chain that cannot be cut or reordered without breaking every later hash. Batches of
entries are anchored with kind ACCESS_LOG; the leaf of an entry is the OpenZeppelin
standard leaf of the same fields, keccak256(entryHash), so `MerkleProof.sol` and the
npm merkle-tree verify entry proofs unchanged.

Format of an entry with its proof, `credit-ledger/access-log@1` (as the gateway's
`GET /v1/access-log` returns it):

    {"format", "chain": {chainId, ledger}, "entry": {sequence, prevHash, requester,
     recordId, purpose, purposeHash, consentId, releasedAt, entryHash},
     "batch": {root, proof, txHash, blockNumber, anchoredAt} | null}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress

from chain_client.contracts.chain import Chain
from chain_client.contracts.ledger import BatchKind, CreditLedger
from chain_client.spec.keccak import keccak
from chain_client.spec.merkle import StandardMerkleTree, process_proof
from chain_client.spec.records import _address_word, checksummed

ACCESS_LOG_FORMAT = "credit-ledger/access-log@1"
ACCESS_LOG_ENCODING = ("uint64", "bytes32", "address", "bytes32", "bytes32", "bytes32", "uint64")
ACCESS_LOG_FIELDS = ("sequence", "prevHash", "requester", "recordId", "purposeHash", "consentId", "releasedAt")
NO_CONSENT = bytes(32)


def purpose_hash(purpose: str) -> bytes:
    """keccak256 of the purpose text, as an entry carries it."""
    return keccak(purpose.encode())


@dataclass(frozen=True)
class AccessLogLeaf:
    """The seven fields of one access-log entry, in ACCESS_LOG_ENCODING order."""

    sequence: int
    prev_hash: bytes
    requester: ChecksumAddress
    record_id: bytes
    purpose_hash: bytes
    consent_id: bytes
    released_at: int

    def encoded(self) -> bytes:
        """abi.encode of the seven fields (all static)."""
        return (
            self.sequence.to_bytes(32, "big")
            + self.prev_hash
            + _address_word(self.requester)
            + self.record_id
            + self.purpose_hash
            + self.consent_id
            + self.released_at.to_bytes(32, "big")
        )

    def entry_hash(self) -> bytes:
        """keccak256(abi.encode(fields)): what the next entry carries as prevHash."""
        return keccak(self.encoded())

    def leaf_hash(self) -> bytes:
        """The OpenZeppelin standard leaf, keccak256(entryHash)."""
        return keccak(self.entry_hash())


def access_log_tree(leaves: Sequence[AccessLogLeaf]) -> StandardMerkleTree:
    """The batch tree over access-log entries, in the given order."""
    return StandardMerkleTree([leaf.leaf_hash() for leaf in leaves])


@dataclass(frozen=True)
class AccessLogCheck:
    """The result of verifying one access-log entry document."""

    valid: bool
    problems: tuple[str, ...]
    leaf: AccessLogLeaf | None


def verify_access_log_entry(document: dict[str, Any], chain: Chain | None = None) -> AccessLogCheck:
    """Check an entry document: its hashes, its batch proof and, given a chain, the anchoring.

    Online, the batch's transaction must have anchored the root on the named ledger, and
    that gateway's batch must be of kind ACCESS_LOG, in the block and at the time the
    document states. A document without a batch (not yet
    anchored) is reported as a problem: it cannot be checked against the chain yet.
    """
    problems: list[str] = []
    try:
        if document.get("format") != ACCESS_LOG_FORMAT:
            raise ValueError(f"format is not {ACCESS_LOG_FORMAT}")
        entry = document["entry"]
        leaf = AccessLogLeaf(
            sequence=int(entry["sequence"]),
            prev_hash=_bytes32(entry["prevHash"]),
            requester=checksummed(entry["requester"]),
            record_id=_bytes32(entry["recordId"]),
            purpose_hash=_bytes32(entry["purposeHash"]),
            consent_id=_bytes32(entry["consentId"]),
            released_at=int(entry["releasedAt"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        return AccessLogCheck(False, (f"malformed entry: {exc}",), None)
    if purpose_hash(str(entry.get("purpose", ""))) != leaf.purpose_hash:
        problems.append("purposeHash is not keccak256 of purpose")
    if _bytes32(entry.get("entryHash", "0x" + "00" * 32)) != leaf.entry_hash():
        problems.append("entryHash does not match the entry's fields")
    batch = document.get("batch")
    if batch is None:
        problems.append("the entry is not anchored yet")
        return AccessLogCheck(False, tuple(problems), leaf)
    root = _bytes32(batch["root"])
    if process_proof(leaf.leaf_hash(), [_bytes32(p) for p in batch["proof"]]) != root:
        problems.append("the batch proof does not lead to the root")
    if chain is not None:
        problems.extend(_online_problems(document, root, chain))
    return AccessLogCheck(not problems, tuple(problems), leaf)


def _online_problems(document: dict[str, Any], root: bytes, chain: Chain) -> list[str]:
    info = document.get("chain", {})
    if int(info.get("chainId", -1)) != chain.chain_id:
        return [f"the document names chain {info.get('chainId')}, the node is chain {chain.chain_id}"]
    ledger = CreditLedger(chain, checksummed(info["ledger"]))
    batch = document["batch"]
    # Batches are keyed by (gateway, root): the anchoring transaction names the gateway.
    anchored = ledger.anchored_by_transaction(_bytes32(batch["txHash"]), root) if batch.get("txHash") else None
    if anchored is None:
        return ["the batch root is not anchored on this ledger by the batch's transaction"]
    problems = []
    if anchored.kind != BatchKind.ACCESS_LOG:
        problems.append(f"the root is anchored as {anchored.kind.name}, not ACCESS_LOG")
    if (anchored.block_number, anchored.anchored_at) != (int(batch["blockNumber"]), int(batch["anchoredAt"])):
        problems.append("the anchoring block or time differ from the chain")
    return problems


def _bytes32(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x") or len(text) != 66:
        raise ValueError(f"not a 0x-prefixed bytes32: {text!r}")
    return bytes.fromhex(text[2:])
