"""Typed wrapper over the CreditLedger contract: anchoring and the record lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from chain_client._errors import ContractRevertError
from chain_client.contracts.chain import Chain, Event, event_topics
from chain_client.contracts.instructions import Instruction, RelayedInstructions
from chain_client.spec.content import Disclosure, canonical_json, field_leaf_hash
from chain_client.spec.eip712 import (
    LedgerDomain,
    approve_repair_struct_hash,
    file_objection_struct_hash,
    record_struct_hash,
    reject_repair_struct_hash,
    request_repair_struct_hash,
    resolve_objection_struct_hash,
    revoke_struct_hash,
    sign_digest,
)
from chain_client.spec.merkle import StandardMerkleTree
from chain_client.spec.records import ZERO32, RecordLeaf

CONTRACT_NAME = "CreditLedger"
# Every event that writes a record's state names its recordId first (topic 1); a correction's
# own state is never written by resolving the objection it answers.
LIFECYCLE_EVENTS = (
    "ObjectionFiled",
    "ObjectionResolved",
    "RecordRevoked",
    "RepairRequested",
    "SubjectFiling",
    "RepairApproved",
    "RepairRejected",
)


class BatchKind(IntEnum):
    """What a batch root commits to."""

    RECORDS = 0
    ACCESS_LOG = 1


class RecordStatus(IntEnum):
    """A record's lifecycle status on chain."""

    ACTIVE = 0
    DISPUTED = 1
    CORRECTED = 2
    REVOKED = 3
    REPAIRED = 4


class ObjectionOutcome(IntEnum):
    """How a provider resolves an objection."""

    REJECTED = 0
    REVOKED = 1
    CORRECTED = 2


@dataclass(frozen=True)
class RecordProof:
    """A record leaf with the Merkle proof that it is in the batch `gateway` anchored under `root`."""

    leaf: RecordLeaf
    gateway: str
    root: bytes
    proof: tuple[bytes, ...]

    @classmethod
    def from_tree(
        cls, tree: StandardMerkleTree, leaves: Sequence[RecordLeaf], index: int, *, gateway: str
    ) -> RecordProof:
        """The proof of leaves[index] in the tree built over leaves, anchored by gateway."""
        return cls(leaf=leaves[index], gateway=gateway, root=tree.root, proof=tuple(tree.proof(index)))

    def as_abi(self) -> tuple[object, ...]:
        """The RecordProof tuple."""
        return (self.leaf.values(), self.gateway, self.root, list(self.proof))


_ZERO_ADDRESS = "0x" + "00" * 20
_EMPTY_PROOF: tuple[object, ...] = (
    (ZERO32, ZERO32, 0, ZERO32, ZERO32, _ZERO_ADDRESS, 0, ZERO32),
    _ZERO_ADDRESS,
    ZERO32,
    [],
)


@dataclass(frozen=True)
class Batch:
    """An anchored batch."""

    root: bytes
    gateway: ChecksumAddress
    kind: BatchKind
    count: int
    block_number: int
    anchored_at: int


@dataclass(frozen=True)
class RecordState:
    """A record's lifecycle state on chain."""

    status: RecordStatus
    repair_pending: bool
    superseded_by: bytes | None


class CreditLedger(RelayedInstructions[LedgerDomain]):
    """Batch anchoring and the record lifecycle."""

    def __init__(self, chain: Chain, address: ChecksumAddress) -> None:
        super().__init__(
            chain, address, CONTRACT_NAME, LedgerDomain(chain_id=chain.chain_id, verifying_contract=address)
        )

    # ---------------------------------------------------------------- anchoring

    def anchor_batch(
        self, gateway: LocalAccount, root: bytes, count: int, kind: BatchKind = BatchKind.RECORDS
    ) -> TxReceipt:
        """Anchor one batch root."""
        return self.chain.transact(gateway, self._contract.functions.anchorBatch(root, count, int(kind)))

    def anchor_batch_function(self, root: bytes, count: int, kind: BatchKind = BatchKind.RECORDS) -> ContractFunction:
        """The anchorBatch call, for callers that sign and send in separate steps."""
        return self._contract.functions.anchorBatch(root, count, int(kind))

    def anchoring_transaction(self, gateway: str, root: bytes, block_number: int) -> bytes | None:
        """Hash of the transaction by which gateway anchored root in that block (from its event)."""
        logs = self._contract.events.BatchAnchored().get_logs(
            argument_filters={"root": root, "gateway": gateway}, from_block=block_number, to_block=block_number
        )
        return bytes(logs[0]["transactionHash"]) if logs else None

    def anchor_batches(
        self, gateway: LocalAccount, roots: Sequence[bytes], counts: Sequence[int], kinds: Sequence[BatchKind]
    ) -> TxReceipt:
        """Anchor several batch roots in one transaction."""
        function = self._contract.functions.anchorBatches(list(roots), list(counts), [int(k) for k in kinds])
        return self.chain.transact(gateway, function)

    # ---------------------------------------------------------------- lifecycle

    def file_objection(self, member: LocalAccount, record: RecordProof, reason_hash: bytes) -> TxReceipt:
        """File an objection on the subject's behalf, as a PROVIDER member (LedgerNotProviderMember otherwise)."""
        return self.chain.transact(member, self._contract.functions.fileObjection(record.as_abi(), reason_hash))

    def file_subject_objection(
        self, gateway: LocalAccount, record: RecordProof, reason_hash: bytes, subject_evidence: bytes
    ) -> TxReceipt:
        """File a subject's own signed objection as the gateway that anchored the record's batch."""
        function = self._contract.functions.fileSubjectObjection(record.as_abi(), reason_hash, subject_evidence)
        return self.chain.transact(gateway, function)

    def request_subject_repair(
        self, gateway: LocalAccount, record: RecordProof, evidence_hash: bytes, subject_evidence: bytes
    ) -> TxReceipt:
        """Request repair on a subject's own signed request as the gateway that anchored the record's batch."""
        function = self._contract.functions.requestSubjectRepair(record.as_abi(), evidence_hash, subject_evidence)
        return self.chain.transact(gateway, function)

    def resolve_objection(
        self,
        provider: LocalAccount,
        record: RecordProof,
        outcome: ObjectionOutcome,
        correction: RecordProof | None = None,
    ) -> TxReceipt:
        """Resolve an objection as the record's provider."""
        function = self._contract.functions.resolveObjection(record.as_abi(), int(outcome), _proof_abi(correction))
        return self.chain.transact(provider, function)

    def revoke(self, provider: LocalAccount, record: RecordProof, reason_hash: bytes) -> TxReceipt:
        """Revoke a record as its provider."""
        return self.chain.transact(provider, self._contract.functions.revoke(record.as_abi(), reason_hash))

    def request_repair(self, member: LocalAccount, record: RecordProof, evidence_hash: bytes) -> TxReceipt:
        """Request credit repair on the subject's behalf, as a PROVIDER member (LedgerNotProviderMember otherwise)."""
        return self.chain.transact(member, self._contract.functions.requestRepair(record.as_abi(), evidence_hash))

    def approve_repair(self, provider: LocalAccount, record: RecordProof) -> TxReceipt:
        """Approve the pending repair requests as the record's provider."""
        return self.chain.transact(provider, self._contract.functions.approveRepair(record.as_abi()))

    def reject_repair(self, provider: LocalAccount, record: RecordProof, reason_hash: bytes) -> TxReceipt:
        """Reject every pending repair request as the record's provider."""
        return self.chain.transact(provider, self._contract.functions.rejectRepair(record.as_abi(), reason_hash))

    # --------------------------------------------------- instructions, relayed
    # A sign_* method signs with the signer's next nonce on chain (or `nonce`, to sign
    # several before any is relayed) and a deadline an hour ahead of the chain (or
    # `deadline`); the matching relay_* method sends it as a gateway (RelayedInstructions).

    def sign_file_objection(
        self,
        member: LocalAccount,
        record: RecordProof,
        reason_hash: bytes,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Instruction:
        """A PROVIDER member's signed FileObjection instruction, filed on the subject's behalf."""
        return self._sign(
            member,
            lambda n, until: file_objection_struct_hash(record.leaf.record_id, reason_hash, n, until),
            nonce,
            deadline,
        )

    def sign_request_repair(
        self,
        member: LocalAccount,
        record: RecordProof,
        evidence_hash: bytes,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Instruction:
        """A PROVIDER member's signed RequestRepair instruction, made on the subject's behalf."""
        return self._sign(
            member,
            lambda n, until: request_repair_struct_hash(record.leaf.record_id, evidence_hash, n, until),
            nonce,
            deadline,
        )

    def sign_resolve_objection(
        self,
        provider: LocalAccount,
        record: RecordProof,
        outcome: ObjectionOutcome,
        correction: RecordProof | None = None,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Instruction:
        """The provider's signed ResolveObjection instruction."""
        correction_id = correction.leaf.record_id if correction else ZERO32
        return self._sign(
            provider,
            lambda n, until: resolve_objection_struct_hash(
                record.leaf.record_id, int(outcome), correction_id, n, until
            ),
            nonce,
            deadline,
        )

    def sign_revoke(
        self,
        provider: LocalAccount,
        record: RecordProof,
        reason_hash: bytes,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Instruction:
        """The provider's signed Revoke instruction."""
        return self._sign(
            provider,
            lambda n, until: revoke_struct_hash(record.leaf.record_id, reason_hash, n, until),
            nonce,
            deadline,
        )

    def sign_approve_repair(
        self, provider: LocalAccount, record: RecordProof, *, nonce: int | None = None, deadline: int | None = None
    ) -> Instruction:
        """The provider's signed ApproveRepair instruction."""
        return self._sign(
            provider,
            lambda n, until: approve_repair_struct_hash(record.leaf.record_id, n, until),
            nonce,
            deadline,
        )

    def sign_reject_repair(
        self,
        provider: LocalAccount,
        record: RecordProof,
        reason_hash: bytes,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Instruction:
        """The provider's signed RejectRepair instruction."""
        return self._sign(
            provider,
            lambda n, until: reject_repair_struct_hash(record.leaf.record_id, reason_hash, n, until),
            nonce,
            deadline,
        )

    def relay_file_objection(
        self, gateway: LocalAccount, record: RecordProof, reason_hash: bytes, instruction: Instruction
    ) -> TxReceipt:
        """Relay a member's FileObjection instruction as a gateway; the event names the member."""
        return self._relay(gateway, "fileObjectionBySig", record.as_abi(), reason_hash, instruction=instruction)

    def relay_request_repair(
        self, gateway: LocalAccount, record: RecordProof, evidence_hash: bytes, instruction: Instruction
    ) -> TxReceipt:
        """Relay a member's RequestRepair instruction as a gateway; the event names the member."""
        return self._relay(gateway, "requestRepairBySig", record.as_abi(), evidence_hash, instruction=instruction)

    def relay_resolve_objection(
        self,
        gateway: LocalAccount,
        record: RecordProof,
        outcome: ObjectionOutcome,
        instruction: Instruction,
        correction: RecordProof | None = None,
    ) -> TxReceipt:
        """Relay a provider's ResolveObjection instruction as a gateway."""
        return self._relay(
            gateway,
            "resolveObjectionBySig",
            record.as_abi(),
            int(outcome),
            _proof_abi(correction),
            instruction=instruction,
        )

    def relay_revoke(
        self, gateway: LocalAccount, record: RecordProof, reason_hash: bytes, instruction: Instruction
    ) -> TxReceipt:
        """Relay a provider's Revoke instruction as a gateway."""
        return self._relay(gateway, "revokeBySig", record.as_abi(), reason_hash, instruction=instruction)

    def relay_approve_repair(self, gateway: LocalAccount, record: RecordProof, instruction: Instruction) -> TxReceipt:
        """Relay a provider's ApproveRepair instruction as a gateway."""
        return self._relay(gateway, "approveRepairBySig", record.as_abi(), instruction=instruction)

    def relay_reject_repair(
        self, gateway: LocalAccount, record: RecordProof, reason_hash: bytes, instruction: Instruction
    ) -> TxReceipt:
        """Relay a provider's RejectRepair instruction as a gateway."""
        return self._relay(gateway, "rejectRepairBySig", record.as_abi(), reason_hash, instruction=instruction)

    # --------------------------------------------------------------------- views

    def state(self, record_id: bytes, *, block: int | None = None) -> RecordState:
        """A record's lifecycle state (Active for any record never acted on), now or at a block."""
        status, pending, superseded_by = self.chain.call(self._contract.functions.recordState(record_id), block=block)
        superseded = bytes(superseded_by)
        return RecordState(RecordStatus(status), bool(pending), superseded if superseded != ZERO32 else None)

    def batch(self, gateway: str, root: bytes) -> Batch:
        """The batch gateway anchored under root; ContractRevertError LedgerUnknownBatch otherwise."""
        function = self._contract.functions.batch(gateway, root)
        anchored_by, kind, count, block_number, anchored_at = self.chain.call(function)
        return Batch(root, anchored_by, BatchKind(kind), int(count), int(block_number), int(anchored_at))

    def anchored_by_transaction(self, tx_hash: bytes, root: bytes) -> Batch | None:
        """The batch that transaction tx_hash anchored under root; None when it anchored no such root.

        Batches are keyed by (gateway, root). A proof bundle or an access-log document names
        its anchoring transaction, whose BatchAnchored event names the gateway, and so the
        one batch the document speaks of: another gateway's anchoring of the same root is
        another batch.
        """
        receipt = self.chain.receipt(tx_hash)
        if receipt is None or receipt["status"] != 1:
            return None
        for event in self.events(receipt):
            if event.name == "BatchAnchored" and bytes(event.args["root"]) == root:
                try:
                    return self.batch(event.args["gateway"], root)
                except ContractRevertError:
                    return None
        return None

    def verify_fields_on_chain(self, content_hash: bytes, disclosure: Disclosure) -> bool:
        """Ask the contract whether disclosed fields are committed in content_hash."""
        # The multiproof consumes leaves in ascending hash order (see verify_disclosure).
        fields = sorted(
            ((name, f.salt, canonical_json(f.value)) for name, f in disclosure.fields.items()),
            key=lambda field: field_leaf_hash(field[0], field[1], disclosure.fields[field[0]].value),
        )
        function = self._contract.functions.verifyFields(
            content_hash, fields, list(disclosure.proof), list(disclosure.proof_flags)
        )
        return bool(self.chain.call(function))

    def record_digest_on_chain(self, leaf: RecordLeaf) -> bytes:
        """The contract's EIP-712 digest of a record (for checking off-chain digests)."""
        return bytes(self.chain.call(self._contract.functions.recordDigest(leaf.values())))

    def record_digest(self, leaf: RecordLeaf) -> bytes:
        """The EIP-712 digest a provider signs for a record, computed locally."""
        return self.domain.digest(record_struct_hash(leaf))

    def sign_record(self, provider: LocalAccount, leaf: RecordLeaf) -> bytes:
        """The provider's EIP-712 CreditRecord signature."""
        return sign_digest(provider, self.record_digest(leaf))

    def bound_contracts(self) -> tuple[ChecksumAddress, ChecksumAddress]:
        """The consortium and catalog this ledger was deployed against."""
        functions = self._contract.functions
        return self.chain.call(functions.consortium()), self.chain.call(functions.catalog())

    def touched_records(self, from_block: int, to_block: int) -> list[bytes]:
        """The recordIds whose state the lifecycle events of these blocks may have changed."""
        return self.chain.first_arguments(self.address, self._lifecycle_topics(), from_block, to_block)

    def touched_in(self, receipt: TxReceipt) -> list[bytes]:
        """The recordIds whose state one transaction's lifecycle events may have changed."""
        return self.chain.receipt_first_arguments(receipt, self.address, self._lifecycle_topics())

    def _lifecycle_topics(self) -> list[bytes]:
        return list(event_topics(self._contract, LIFECYCLE_EVENTS))

    def events(self, receipt: TxReceipt) -> list[Event]:
        """The ledger's events in a receipt."""
        return self.chain.decode_events(self._contract, receipt)


def _proof_abi(proof: RecordProof | None) -> tuple[object, ...]:
    return proof.as_abi() if proof is not None else _EMPTY_PROOF
