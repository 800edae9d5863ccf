"""Typed wrapper over the CommitmentRegistry contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3.types import TxReceipt

from chain_client._errors import ChainClientError
from chain_client.contracts.chain import Chain, Event, event_topics
from chain_client.contracts.instructions import Instruction, RelayedInstructions
from chain_client.spec.eip712 import (
    CommitmentDomain,
    breach_struct_hash,
    fulfil_struct_hash,
    record_commitment_struct_hash,
    withdraw_struct_hash,
)
from chain_client.spec.keccak import keccak
from chain_client.spec.records import ZERO32, RecordLeaf
from chain_client.spec.terms import CommitmentTerm

CONTRACT_NAME = "CommitmentRegistry"
# Every event that records or changes a commitment names its commitmentId first (topic 1).
COMMITMENT_EVENTS = ("CommitmentRecorded", "CommitmentFulfilled", "CommitmentBreached", "CommitmentWithdrawn")


class CommitmentKind(IntEnum):
    """告知承诺 notification-and-commitment; 容缺受理 incomplete acceptance; 自律承诺 self-discipline."""

    NOTIFICATION_COMMITMENT = 0
    INCOMPLETE_ACCEPTANCE = 1
    SELF_DISCIPLINE = 2


class CommitmentStatus(IntEnum):
    """A commitment's status; NONE means unknown."""

    NONE = 0
    PENDING = 1
    FULFILLED = 2
    BREACHED = 3
    WITHDRAWN = 4


@dataclass(frozen=True)
class CommitmentSpec:
    """What a department records."""

    subject_tag: bytes
    kind: CommitmentKind
    doc_hash: bytes
    deadline: int
    term: CommitmentTerm

    def as_abi(self) -> tuple[object, ...]:
        """The CommitmentInput tuple."""
        return (self.subject_tag, int(self.kind), self.doc_hash, self.deadline, self.term.as_abi())

    def commitment_id(self, department: ChecksumAddress) -> bytes:
        """keccak256(abi.encode(department, subjectTag, kind, docHash)), as the contract computes it."""
        return keccak(
            bytes(12)
            + bytes.fromhex(department[2:])
            + self.subject_tag
            + int(self.kind).to_bytes(32, "big")
            + self.doc_hash
        )


@dataclass(frozen=True)
class Commitment:
    """A commitment as the chain holds it."""

    commitment_id: bytes
    department: ChecksumAddress
    kind: CommitmentKind
    status: CommitmentStatus
    made_at: int
    deadline: int
    subject_tag: bytes
    doc_hash: bytes
    breach_record_id: bytes | None


class CommitmentRegistry(RelayedInstructions[CommitmentDomain]):
    """Commitment letters: record, fulfil, breach, withdraw, directly or relayed by a gateway."""

    def __init__(self, chain: Chain, address: ChecksumAddress) -> None:
        domain = CommitmentDomain(chain_id=chain.chain_id, verifying_contract=address)
        super().__init__(chain, address, CONTRACT_NAME, domain)

    def record(self, department: LocalAccount, spec: CommitmentSpec) -> tuple[bytes, TxReceipt]:
        """Record a commitment; returns its id and the receipt."""
        receipt = self.chain.transact(department, self._contract.functions.record(spec.as_abi()))
        return spec.commitment_id(department.address), receipt

    def record_batch(self, department: LocalAccount, specs: Sequence[CommitmentSpec]) -> tuple[list[bytes], TxReceipt]:
        """Record several commitments in one transaction."""
        receipt = self.chain.transact(department, self._contract.functions.recordBatch([s.as_abi() for s in specs]))
        return [s.commitment_id(department.address) for s in specs], receipt

    def fulfil(self, department: LocalAccount, commitment_id: bytes) -> TxReceipt:
        """Mark a commitment fulfilled."""
        return self.chain.transact(department, self._contract.functions.fulfil(commitment_id))

    def breach(
        self, department: LocalAccount, commitment_id: bytes, record: RecordLeaf, *, violation: bool = False
    ) -> TxReceipt:
        """Mark a commitment breached, naming the dishonesty record it produced.

        The chain takes the record's catalogId, contentHash and issuedAt and computes its
        recordId with the department and the commitment's subjectTag: a breach can only name
        a record of the same department about the same subject.
        """
        function = self._contract.functions.breach(commitment_id, breach_record_abi(record), violation)
        return self.chain.transact(department, function)

    def withdraw(self, department: LocalAccount, commitment_id: bytes) -> TxReceipt:
        """Withdraw a commitment."""
        return self.chain.transact(department, self._contract.functions.withdraw(commitment_id))

    # --------------------------------------------------- instructions, relayed
    # As CreditLedger's: a sign_* method signs with the department's next nonce on chain
    # (or `nonce`) and a deadline an hour ahead of the chain (or `deadline`); the matching
    # relay_* method sends it as a gateway, and the events name the department.

    def sign_record(
        self,
        department: LocalAccount,
        spec: CommitmentSpec,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Instruction:
        """The department's signed RecordCommitment instruction (spec.deadline is signed as dueBy)."""
        return self._sign(
            department,
            lambda n, until: record_commitment_struct_hash(
                spec.subject_tag, int(spec.kind), spec.doc_hash, spec.term, spec.deadline, n, until
            ),
            nonce,
            deadline,
        )

    def sign_fulfil(
        self, department: LocalAccount, commitment_id: bytes, *, nonce: int | None = None, deadline: int | None = None
    ) -> Instruction:
        """The department's signed Fulfil instruction."""
        return self._sign(department, lambda n, until: fulfil_struct_hash(commitment_id, n, until), nonce, deadline)

    def sign_breach(
        self,
        department: LocalAccount,
        commitment_id: bytes,
        record: RecordLeaf,
        violation: bool,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Instruction:
        """The department's signed Breach instruction over the record's recordId; violation is signed too."""
        return self._sign(
            department,
            lambda n, until: breach_struct_hash(commitment_id, record.record_id, violation, n, until),
            nonce,
            deadline,
        )

    def sign_withdraw(
        self, department: LocalAccount, commitment_id: bytes, *, nonce: int | None = None, deadline: int | None = None
    ) -> Instruction:
        """The department's signed Withdraw instruction."""
        return self._sign(department, lambda n, until: withdraw_struct_hash(commitment_id, n, until), nonce, deadline)

    def relay_record(
        self, gateway: LocalAccount, spec: CommitmentSpec, instruction: Instruction
    ) -> tuple[bytes, TxReceipt]:
        """Relay a department's RecordCommitment instruction; returns the commitment id (the signer's) and receipt."""
        receipt = self._relay(gateway, "recordBySig", spec.as_abi(), instruction=instruction)
        return spec.commitment_id(instruction.signer), receipt

    def relay_fulfil(self, gateway: LocalAccount, commitment_id: bytes, instruction: Instruction) -> TxReceipt:
        """Relay a department's Fulfil instruction as a gateway."""
        return self._relay(gateway, "fulfilBySig", commitment_id, instruction=instruction)

    def relay_breach(
        self,
        gateway: LocalAccount,
        commitment_id: bytes,
        record: RecordLeaf,
        violation: bool,
        instruction: Instruction,
    ) -> TxReceipt:
        """Relay a department's Breach instruction as a gateway."""
        return self._relay(
            gateway, "breachBySig", commitment_id, breach_record_abi(record), violation, instruction=instruction
        )

    def preflight_breach(
        self,
        gateway: ChecksumAddress,
        commitment_id: bytes,
        record: RecordLeaf,
        violation: bool,
        instruction: Instruction,
    ) -> None:
        """Run relay_breach as the gateway without sending it: ContractRevertError when refused now."""
        self._preflight_relay(
            gateway, "breachBySig", commitment_id, breach_record_abi(record), violation, instruction=instruction
        )

    def relay_withdraw(self, gateway: LocalAccount, commitment_id: bytes, instruction: Instruction) -> TxReceipt:
        """Relay a department's Withdraw instruction as a gateway."""
        return self._relay(gateway, "withdrawBySig", commitment_id, instruction=instruction)

    # --------------------------------------------------------------------- views

    def commitment(self, commitment_id: bytes, *, block: int | None = None) -> Commitment:
        """A commitment, now or at a block; ContractRevertError CommitmentUnknown otherwise."""
        department, kind, status, made_at, deadline, subject_tag, doc_hash, breach_id = self.chain.call(
            self._contract.functions.commitment(commitment_id), block=block
        )
        breach = bytes(breach_id)
        return Commitment(
            commitment_id=commitment_id,
            department=department,
            kind=CommitmentKind(kind),
            status=CommitmentStatus(status),
            made_at=int(made_at),
            deadline=int(deadline),
            subject_tag=bytes(subject_tag),
            doc_hash=bytes(doc_hash),
            breach_record_id=breach if breach != ZERO32 else None,
        )

    def recorded_term(self, commitment_id: bytes) -> tuple[CommitmentTerm, int, int]:
        """How a commitment's deadline was counted, from its CommitmentRecorded event: the term,
        the deadline the event states and the event's block; ChainClientError when there is none."""
        created = self._contract.events.CommitmentRecorded()
        logs = created.get_logs(argument_filters={"commitmentId": commitment_id}, from_block=0)
        if not logs:
            raise ChainClientError(f"no CommitmentRecorded event for 0x{commitment_id.hex()}")
        args = logs[0]["args"]
        return CommitmentTerm.from_abi(args["term"]), int(args["deadline"]), int(logs[0]["blockNumber"])

    def touched_commitments(self, from_block: int, to_block: int) -> list[bytes]:
        """The commitmentIds recorded or changed in these blocks (every event names it first)."""
        return self.chain.first_arguments(self.address, self._topics(), from_block, to_block)

    def touched_in(self, receipt: TxReceipt) -> list[bytes]:
        """The commitmentIds one transaction recorded or changed."""
        return self.chain.receipt_first_arguments(receipt, self.address, self._topics())

    def _topics(self) -> list[bytes]:
        return list(event_topics(self._contract, COMMITMENT_EVENTS))

    def events(self, receipt: TxReceipt) -> list[Event]:
        """The registry's events in a receipt."""
        return self.chain.decode_events(self._contract, receipt)


def breach_record_abi(record: RecordLeaf) -> tuple[bytes, bytes, int]:
    """The BreachRecord tuple: the leaf fields the registry hashes into the recordId besides
    the department and the subjectTag, which it takes from the commitment."""
    return (record.catalog_id, record.content_hash, record.issued_at)
