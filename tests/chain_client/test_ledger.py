"""CreditLedger: batch anchoring and the record lifecycle, on every backend."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from chain_client import (
    BatchKind,
    Chain,
    ContentCommitment,
    CreditLedger,
    Devnet,
    DisclosedField,
    Disclosure,
    Instruction,
    ObjectionOutcome,
    RecordProof,
    RecordStatus,
    Role,
    SignedRecord,
    Stack,
    anchor_records,
    catalog_id,
    keccak,
    record_tree,
    recover_signer,
    verify_bundle,
)
from chain_client.spec.eip712 import (
    FILE_OBJECTION_TYPE,
    REQUEST_REPAIR_TYPE,
    file_objection_struct_hash,
    request_repair_struct_hash,
    revoke_struct_hash,
)
from tests.chain_client.conftest import (
    MIN_DAYS_BEFORE_REPAIR,
    AnchoredBatch,
    anchor,
    govern,
    make_leaf,
    penalty_spec,
)
from tests.support.reverts import expect_revert

REASON = b"\x0e" * 32
DAY = 24 * 3600


@pytest.fixture
def ledger(stack: Stack) -> CreditLedger:
    return stack.ledger


@pytest.fixture
def department(other_provider: LocalAccount) -> LocalAccount:
    """Beijing tax bureau: a PROVIDER, not the record's, filing on a subject's paper application."""
    return other_provider


def _correction_of(
    stack: Stack, gateway: LocalAccount, batch: AnchoredBatch, index: int, **changes: object
) -> RecordProof:
    """A correcting record of batch.leaves[index], anchored in a batch of its own."""
    original = batch.leaves[index]
    fields: dict[str, object] = {"subject_tag": original.subject_tag, "supersedes": original.record_id}
    entry = changes.pop("entry", original.catalog_id)
    provider = changes.pop("provider", original.provider)
    fields.update(changes)
    leaf = make_leaf(entry, provider, issued_at=1_760_086_400, **fields)  # type: ignore[arg-type]
    return anchor(stack, gateway, [leaf, make_leaf(entry, provider)]).proof(0)


# ------------------------------------------------------------------ anchoring


def test_anchor_batch_records_gateway_count_block_and_time(
    chain: Chain, ledger: CreditLedger, gateway: LocalAccount
) -> None:
    """A gateway anchors a root once; the batch keeps gateway, kind, count, block and time."""
    root = os.urandom(32)
    receipt = ledger.anchor_batch(gateway, root, 100_000)
    block = chain.w3.eth.get_block(receipt["blockNumber"])
    batch = ledger.batch(gateway.address, root)
    assert (batch.gateway, batch.kind, batch.count) == (gateway.address, BatchKind.RECORDS, 100_000)
    assert (batch.block_number, batch.anchored_at) == (receipt["blockNumber"], block["timestamp"])
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [
        ("BatchAnchored", {"root": root, "gateway": gateway.address, "kind": 0, "count": 100_000})
    ]


def test_anchor_batches_anchors_each_root(ledger: CreditLedger, gateway: LocalAccount) -> None:
    """The batch form anchors records and access-log roots in one transaction."""
    roots = [os.urandom(32) for _ in range(3)]
    kinds = [BatchKind.RECORDS, BatchKind.ACCESS_LOG, BatchKind.RECORDS]
    receipt = ledger.anchor_batches(gateway, roots, [10, 20, 30], kinds)
    assert [e.args["root"] for e in ledger.events(receipt)] == roots
    batches = [ledger.batch(gateway.address, r) for r in roots]
    assert [(b.kind, b.count) for b in batches] == list(zip(kinds, [10, 20, 30], strict=True))


def test_anchoring_is_for_active_gateways_only(
    stack: Stack, ledger: CreditLedger, governors: list[LocalAccount], gateway: LocalAccount, provider: LocalAccount
) -> None:
    """A provider cannot anchor, nor can a suspended gateway."""
    expect_revert(
        lambda: ledger.anchor_batch(provider, os.urandom(32), 1), "LedgerNotGateway", account=provider.address
    )
    govern(stack.consortium, governors, stack.consortium.suspend_call(gateway.address))
    expect_revert(lambda: ledger.anchor_batch(gateway, os.urandom(32), 1), "LedgerNotGateway", account=gateway.address)
    expect_revert(
        lambda: ledger.anchor_batches(gateway, [os.urandom(32)], [1], [BatchKind.RECORDS]),
        "LedgerNotGateway",
        account=gateway.address,
    )


def test_a_root_is_anchored_once_by_a_gateway(ledger: CreditLedger, gateway: LocalAccount) -> None:
    """A gateway anchoring a root again, or twice within one batch call, is refused."""
    root = os.urandom(32)
    ledger.anchor_batch(gateway, root, 5)
    expect_revert(
        lambda: ledger.anchor_batch(gateway, root, 5), "LedgerRootAlreadyAnchored", gateway=gateway.address, root=root
    )
    other = os.urandom(32)
    expect_revert(
        lambda: ledger.anchor_batches(gateway, [other, other], [1, 1], [BatchKind.RECORDS] * 2),
        "LedgerRootAlreadyAnchored",
        gateway=gateway.address,
        root=other,
    )


@pytest.mark.parametrize(
    ("root", "count", "error", "args"),
    [
        (bytes(32), 1, "LedgerZeroRoot", {}),
        (b"\x01" * 32, 0, "LedgerInvalidCount", {"count": 0}),
        (b"\x01" * 32, 2**24, "LedgerInvalidCount", {"count": 2**24}),
    ],
)
def test_bad_batches_are_refused(
    ledger: CreditLedger, gateway: LocalAccount, root: bytes, count: int, error: str, args: dict[str, object]
) -> None:
    """A zero root, an empty batch and a batch over 2^24 - 1 leaves are refused."""
    expect_revert(lambda: ledger.anchor_batch(gateway, root, count), error, **args)


def test_batch_arrays_must_match(ledger: CreditLedger, gateway: LocalAccount) -> None:
    """anchorBatches with arrays of different lengths names the lengths."""
    expect_revert(
        lambda: ledger.anchor_batches(gateway, [os.urandom(32)] * 2, [1], [BatchKind.RECORDS] * 2),
        "LedgerLengthMismatch",
        roots=2,
        counts=1,
        kinds=2,
    )


def test_unknown_batch_is_refused(ledger: CreditLedger, gateway: LocalAccount) -> None:
    """Reading a root the gateway never anchored names both."""
    root = os.urandom(32)
    expect_revert(lambda: ledger.batch(gateway.address, root), "LedgerUnknownBatch", gateway=gateway.address, root=root)


# ----------------------------------------------------------------- proving


def test_an_honest_record_is_active_without_any_storage(ledger: CreditLedger, batch: AnchoredBatch) -> None:
    """Anchoring writes nothing per record: every record starts Active."""
    state = ledger.state(batch.leaves[0].record_id)
    assert (state.status, state.repair_pending, state.superseded_by) == (RecordStatus.ACTIVE, False, None)


def test_a_leaf_whose_record_id_is_not_its_hash_is_refused(
    ledger: CreditLedger, department: LocalAccount, batch: AnchoredBatch
) -> None:
    """A recordId that is not keccak256 of the leaf's fields is refused with both values."""
    proof = batch.proof(0)
    forged = replace(proof, leaf=replace(proof.leaf, record_id=os.urandom(32)))
    expect_revert(
        lambda: ledger.file_objection(department, forged, REASON),
        "LedgerRecordIdMismatch",
        recordId=forged.leaf.record_id,
        computed=proof.leaf.record_id,
    )


@pytest.mark.parametrize("tamper", ["sibling", "leaf_field", "other_root"])
def test_a_wrong_proof_is_refused(
    stack: Stack,
    ledger: CreditLedger,
    department: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
    tamper: str,
) -> None:
    """An altered sibling, leaf field or another anchored root fails the Merkle check."""
    proof = batch.proof(1)
    if tamper == "sibling":
        bad = replace(proof, proof=(os.urandom(32), *proof.proof[1:]))
    elif tamper == "leaf_field":
        bad = replace(proof, leaf=replace(proof.leaf, catalog_version=2))
    else:
        other = anchor(stack, gateway, [make_leaf(proof.leaf.catalog_id, proof.leaf.provider) for _ in range(2)])
        bad = replace(proof, root=other.tree.root)
    expect_revert(
        lambda: ledger.file_objection(department, bad, REASON),
        "LedgerInvalidProof",
        recordId=proof.leaf.record_id,
        root=bad.root,
    )


def test_unknown_and_access_log_roots_are_refused(
    ledger: CreditLedger, department: LocalAccount, gateway: LocalAccount, batch: AnchoredBatch
) -> None:
    """A record proved against a root never anchored, or against an access-log batch, is refused."""
    proof = batch.proof(0)
    unknown = os.urandom(32)
    expect_revert(
        lambda: ledger.file_objection(department, replace(proof, root=unknown), REASON),
        "LedgerUnknownBatch",
        gateway=gateway.address,
        root=unknown,
    )
    access_log = os.urandom(32)
    ledger.anchor_batch(gateway, access_log, 1, BatchKind.ACCESS_LOG)
    expect_revert(
        lambda: ledger.file_objection(department, replace(proof, root=access_log), REASON),
        "LedgerNotRecordBatch",
        gateway=gateway.address,
        root=access_log,
    )


# --------------------------------------------------------------- objections


def test_a_department_files_an_objection(ledger: CreditLedger, department: LocalAccount, batch: AnchoredBatch) -> None:
    """An objection makes the record Disputed and names the department and reason."""
    proof = batch.proof(2)
    receipt = ledger.file_objection(department, proof, REASON)
    assert ledger.events(receipt)[0].args == {
        "recordId": proof.leaf.record_id,
        "subjectTag": proof.leaf.subject_tag,
        "member": department.address,
        "reasonHash": REASON,
    }
    assert ledger.state(proof.leaf.record_id).status == RecordStatus.DISPUTED


def test_objections_need_an_active_provider_and_a_live_record(
    stack: Stack,
    ledger: CreditLedger,
    governors: list[LocalAccount],
    department: LocalAccount,
    provider: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """An objection on a revoked record is refused, and so is one from a suspended department."""
    revoked = batch.proof(0)
    ledger.revoke(provider, revoked, REASON)
    expect_revert(
        lambda: ledger.file_objection(department, revoked, REASON),
        "LedgerInvalidStatus",
        recordId=revoked.leaf.record_id,
        status=RecordStatus.REVOKED,
    )
    govern(stack.consortium, governors, stack.consortium.suspend_call(department.address))
    expect_revert(
        lambda: ledger.file_objection(department, batch.proof(1), REASON),
        "LedgerNotProviderMember",
        account=department.address,
    )


_NON_PROVIDERS = ("auditor-hebei", "governor-tianjin", "gateway-beijing", "psb-beijing")


@pytest.mark.parametrize("label", _NON_PROVIDERS)
def test_only_providers_file_objections_and_repair_requests(
    ledger: CreditLedger, devnet: Devnet, gateway: LocalAccount, batch: AnchoredBatch, label: str
) -> None:
    """An auditor, a governor, a gateway service account (GATEWAY and PEER) or a registrar files
    neither an objection nor a repair request, directly or relayed (issue 16, finding 11)."""
    member = devnet.by_label(label).account
    proof = batch.proof(0)
    nonce = ledger.nonce(member.address)
    objection = ledger.sign_file_objection(member, proof, REASON, nonce=nonce)
    repair = ledger.sign_request_repair(member, proof, REASON, nonce=nonce)
    for step in (
        lambda: ledger.file_objection(member, proof, REASON),
        lambda: ledger.request_repair(member, proof, REASON),
        lambda: ledger.relay_file_objection(gateway, proof, REASON, objection),
        lambda: ledger.relay_request_repair(gateway, proof, REASON, repair),
    ):
        expect_revert(step, "LedgerNotProviderMember", account=member.address)
    state = ledger.state(proof.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, False)


def test_a_bogus_objection_does_not_stop_a_genuine_one(
    ledger: CreditLedger,
    devnet: Devnet,
    gateway: LocalAccount,
    department: LocalAccount,
    provider: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """Another department's objection leaves a Disputed record open to the next, directly or relayed;
    each is an event, and the provider's resolution answers them all."""
    proof = batch.proof(0)
    ledger.file_objection(department, proof, b"\x01" * 32)  # bogus: no application behind it
    genuine = ledger.file_objection(provider, proof, REASON)
    court = devnet.by_label("court-hebei").account
    relayed = ledger.relay_file_objection(gateway, proof, REASON, ledger.sign_file_objection(court, proof, REASON))
    assert [(e.name, e.args["member"]) for r in (genuine, relayed) for e in ledger.events(r)] == [
        ("ObjectionFiled", provider.address),
        ("ObjectionFiled", court.address),
    ]
    assert ledger.state(proof.leaf.record_id).status == RecordStatus.DISPUTED
    ledger.resolve_objection(provider, proof, ObjectionOutcome.REJECTED)
    assert ledger.state(proof.leaf.record_id).status == RecordStatus.ACTIVE
    expect_revert(
        lambda: ledger.resolve_objection(provider, proof, ObjectionOutcome.REJECTED),
        "LedgerNoObjection",
        recordId=proof.leaf.record_id,
    )


def test_the_record_s_gateway_files_a_subject_s_own_objection_and_repair_request(
    ledger: CreditLedger, gateway: LocalAccount, department: LocalAccount, provider: LocalAccount, batch: AnchoredBatch
) -> None:
    """The gateway that anchored the batch files for a subject signed in there: ObjectionFiled or
    RepairRequested names the gateway, and SubjectFiling carries the subject's signed digest (issue 16)."""
    objected, repaired = batch.proof(0), batch.proof(1)
    evidence = b"\x5e" * 32
    receipt = ledger.file_subject_objection(gateway, objected, REASON, evidence)
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [
        (
            "ObjectionFiled",
            {
                "recordId": objected.leaf.record_id,
                "subjectTag": objected.leaf.subject_tag,
                "member": gateway.address,
                "reasonHash": REASON,
            },
        ),
        (
            "SubjectFiling",
            {"recordId": objected.leaf.record_id, "gateway": gateway.address, "subjectEvidence": evidence},
        ),
    ]
    assert ledger.state(objected.leaf.record_id).status == RecordStatus.DISPUTED
    # Filings accumulate: a department's objection after the subject's, and the subject's again.
    ledger.file_objection(department, objected, REASON)
    ledger.file_subject_objection(gateway, objected, REASON, evidence)
    receipt = ledger.request_subject_repair(gateway, repaired, REASON, evidence)
    assert [e.name for e in ledger.events(receipt)] == ["RepairRequested", "SubjectFiling"]
    assert ledger.events(receipt)[0].args["member"] == gateway.address
    assert ledger.events(receipt)[1].args["subjectEvidence"] == evidence
    assert ledger.state(repaired.leaf.record_id).repair_pending
    # Same status rules as a department's filing: a revoked record takes neither.
    revoked = batch.proof(2)
    ledger.revoke(provider, revoked, REASON)
    for step in (
        lambda: ledger.file_subject_objection(gateway, revoked, REASON, evidence),
        lambda: ledger.request_subject_repair(gateway, revoked, REASON, evidence),
    ):
        expect_revert(step, "LedgerInvalidStatus", recordId=revoked.leaf.record_id, status=RecordStatus.REVOKED)


@pytest.mark.parametrize("label", ["gateway-tianjin", "tax-beijing", "auditor-hebei"])
def test_only_the_record_s_own_gateway_files_for_a_subject(
    stack: Stack, ledger: CreditLedger, devnet: Devnet, batch: AnchoredBatch, label: str
) -> None:
    """Another gateway, a department or an auditor cannot use the subject path: only the GATEWAY
    member that anchored the record's batch may, and it holds the subject's signed document."""
    caller = devnet.by_label(label).account
    proof = batch.proof(0)
    is_gateway = stack.consortium.has_role(Role.GATEWAY, caller.address)
    for step in (
        lambda: ledger.file_subject_objection(caller, proof, REASON, REASON),
        lambda: ledger.request_subject_repair(caller, proof, REASON, REASON),
    ):
        if is_gateway:
            expect_revert(step, "LedgerNotRecordGateway", recordId=proof.leaf.record_id, account=caller.address)
        else:
            expect_revert(step, "LedgerNotGateway", account=caller.address)
    state = ledger.state(proof.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, False)


def test_a_suspended_gateway_files_for_no_subject(
    stack: Stack, ledger: CreditLedger, governors: list[LocalAccount], gateway: LocalAccount, batch: AnchoredBatch
) -> None:
    """The record's gateway, once suspended, can no longer file on a subject's behalf."""
    govern(stack.consortium, governors, stack.consortium.suspend_call(gateway.address))
    expect_revert(
        lambda: ledger.file_subject_objection(gateway, batch.proof(0), REASON, REASON),
        "LedgerNotGateway",
        account=gateway.address,
    )


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (ObjectionOutcome.REJECTED, RecordStatus.ACTIVE),
        (ObjectionOutcome.REVOKED, RecordStatus.REVOKED),
    ],
)
def test_provider_rejects_or_revokes_on_objection(
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    batch: AnchoredBatch,
    outcome: ObjectionOutcome,
    status: RecordStatus,
) -> None:
    """Rejected puts the record back to Active; upheld-revoked makes it Revoked."""
    proof = batch.proof(0)
    ledger.file_objection(department, proof, REASON)
    receipt = ledger.resolve_objection(provider, proof, outcome)
    assert ledger.events(receipt)[0].args == {
        "recordId": proof.leaf.record_id,
        "provider": provider.address,
        "outcome": int(outcome),
        "correctionId": bytes(32),
    }
    assert ledger.state(proof.leaf.record_id).status == status


def test_provider_upholds_with_a_correction(
    stack: Stack,
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """A correction supersedes the record: the old one is Corrected and links forward."""
    proof = batch.proof(0)
    correction = _correction_of(stack, gateway, batch, 0)
    ledger.file_objection(department, proof, REASON)
    receipt = ledger.resolve_objection(provider, proof, ObjectionOutcome.CORRECTED, correction)
    assert ledger.events(receipt)[0].args["correctionId"] == correction.leaf.record_id
    old = ledger.state(proof.leaf.record_id)
    assert (old.status, old.superseded_by) == (RecordStatus.CORRECTED, correction.leaf.record_id)
    assert ledger.state(correction.leaf.record_id).status == RecordStatus.ACTIVE


@pytest.mark.parametrize("mismatch", ["subject", "catalog", "supersedes", "provider"])
def test_a_correction_must_match_the_record(
    stack: Stack,
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    other_provider: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
    mismatch: str,
) -> None:
    """A correction for another subject, catalog entry, record or provider is refused."""
    changes: dict[str, object] = {
        "subject": {"subject_tag": os.urandom(32)},
        "catalog": {"entry": catalog_id("BJ-XZXK-002")},
        "supersedes": {"supersedes": os.urandom(32)},
        "provider": {"provider": other_provider.address},
    }[mismatch]
    correction = _correction_of(stack, gateway, batch, 0, **changes)
    proof = batch.proof(0)
    ledger.file_objection(department, proof, REASON)
    expect_revert(
        lambda: ledger.resolve_objection(provider, proof, ObjectionOutcome.CORRECTED, correction),
        "LedgerCorrectionMismatch",
        recordId=proof.leaf.record_id,
        correctionId=correction.leaf.record_id,
    )


def test_resolution_refusals(
    stack: Stack,
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    other_provider: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """No objection, a stray correction, or another provider: each refused by name."""
    proof = batch.proof(0)
    record_id = proof.leaf.record_id
    expect_revert(
        lambda: ledger.resolve_objection(provider, proof, ObjectionOutcome.REJECTED),
        "LedgerNoObjection",
        recordId=record_id,
    )
    ledger.file_objection(department, proof, REASON)
    correction = _correction_of(stack, gateway, batch, 0)
    expect_revert(
        lambda: ledger.resolve_objection(provider, proof, ObjectionOutcome.REJECTED, correction),
        "LedgerUnexpectedCorrection",
        recordId=record_id,
    )
    expect_revert(
        lambda: ledger.resolve_objection(other_provider, proof, ObjectionOutcome.REJECTED),
        "LedgerNotProvider",
        recordId=record_id,
        account=other_provider.address,
    )


def test_a_superseded_record_cannot_be_acted_on(
    stack: Stack,
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """Objection, revocation, repair and a second resolution of a Corrected record name its successor."""
    proof = batch.proof(0)
    correction = _correction_of(stack, gateway, batch, 0)
    ledger.file_objection(department, proof, REASON)
    ledger.resolve_objection(provider, proof, ObjectionOutcome.CORRECTED, correction)
    args = {"recordId": proof.leaf.record_id, "supersededBy": correction.leaf.record_id}
    expect_revert(lambda: ledger.file_objection(department, proof, REASON), "LedgerRecordSuperseded", **args)
    expect_revert(lambda: ledger.revoke(provider, proof, REASON), "LedgerRecordSuperseded", **args)
    expect_revert(lambda: ledger.request_repair(department, proof, REASON), "LedgerRecordSuperseded", **args)
    expect_revert(
        lambda: ledger.resolve_objection(provider, proof, ObjectionOutcome.REJECTED), "LedgerRecordSuperseded", **args
    )


# ----------------------------------------------------------------- revocation


def test_provider_revokes_a_record(ledger: CreditLedger, provider: LocalAccount, batch: AnchoredBatch) -> None:
    """Revocation makes the record Revoked; revoking again is refused."""
    proof = batch.proof(3)
    receipt = ledger.revoke(provider, proof, REASON)
    assert ledger.events(receipt)[0].args == {
        "recordId": proof.leaf.record_id,
        "provider": provider.address,
        "reasonHash": REASON,
    }
    assert ledger.state(proof.leaf.record_id).status == RecordStatus.REVOKED
    expect_revert(
        lambda: ledger.revoke(provider, proof, REASON),
        "LedgerInvalidStatus",
        recordId=proof.leaf.record_id,
        status=RecordStatus.REVOKED,
    )


def test_only_the_active_provider_revokes(
    stack: Stack,
    ledger: CreditLedger,
    governors: list[LocalAccount],
    provider: LocalAccount,
    other_provider: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """Another provider cannot revoke; neither can the provider once suspended."""
    proof = batch.proof(0)
    expect_revert(
        lambda: ledger.revoke(other_provider, proof, REASON),
        "LedgerNotProvider",
        recordId=proof.leaf.record_id,
        account=other_provider.address,
    )
    govern(stack.consortium, governors, stack.consortium.suspend_call(provider.address))
    expect_revert(
        lambda: ledger.revoke(provider, proof, REASON),
        "LedgerNotProvider",
        recordId=proof.leaf.record_id,
        account=provider.address,
    )


# --------------------------------------------------------------------- repair


def test_repair_is_approved_after_the_minimum_days(
    chain: Chain, ledger: CreditLedger, department: LocalAccount, provider: LocalAccount, batch: AnchoredBatch
) -> None:
    """Approval before the catalog's minimum days is refused with the earliest time; after, the record is Repaired."""
    proof = batch.proof(0)
    receipt = ledger.request_repair(department, proof, REASON)
    assert ledger.events(receipt)[0].name == "RepairRequested"
    assert ledger.state(proof.leaf.record_id).repair_pending
    earliest = ledger.batch(proof.gateway, proof.root).anchored_at + MIN_DAYS_BEFORE_REPAIR * DAY
    expect_revert(
        lambda: ledger.approve_repair(provider, proof),
        "LedgerRepairTooEarly",
        recordId=proof.leaf.record_id,
        earliest=earliest,
    )
    chain.increase_time(MIN_DAYS_BEFORE_REPAIR * DAY)
    receipt = ledger.approve_repair(provider, proof)
    assert ledger.events(receipt)[0].args == {"recordId": proof.leaf.record_id, "provider": provider.address}
    state = ledger.state(proof.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.REPAIRED, False)


def test_repair_uses_the_record_catalog_version(
    chain: Chain,
    stack: Stack,
    ledger: CreditLedger,
    governors: list[LocalAccount],
    department: LocalAccount,
    provider: LocalAccount,
    batch: AnchoredBatch,
    penalty_entry: bytes,
) -> None:
    """A later catalog version with a shorter minimum does not shorten it for records of version 1."""
    govern(
        stack.consortium, governors, stack.catalog.update_call(penalty_spec(provider.address, min_days_before_repair=1))
    )
    proof = batch.proof(0)
    ledger.request_repair(department, proof, REASON)
    chain.increase_time(2 * DAY)
    expect_revert(
        lambda: ledger.approve_repair(provider, proof),
        "LedgerRepairTooEarly",
        recordId=proof.leaf.record_id,
        earliest=ledger.batch(proof.gateway, proof.root).anchored_at + MIN_DAYS_BEFORE_REPAIR * DAY,
    )


def test_repair_refusals(
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    other_provider: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """No request, another provider, or a revoked record: each refused by name."""
    proof = batch.proof(0)
    record_id = proof.leaf.record_id
    expect_revert(lambda: ledger.approve_repair(provider, proof), "LedgerNoRepairRequest", recordId=record_id)
    expect_revert(lambda: ledger.reject_repair(provider, proof, REASON), "LedgerNoRepairRequest", recordId=record_id)
    ledger.request_repair(department, proof, REASON)
    expect_revert(
        lambda: ledger.approve_repair(other_provider, proof),
        "LedgerNotProvider",
        recordId=record_id,
        account=other_provider.address,
    )
    revoked = batch.proof(1)
    ledger.revoke(provider, revoked, REASON)
    expect_revert(
        lambda: ledger.request_repair(department, revoked, REASON),
        "LedgerInvalidStatus",
        recordId=revoked.leaf.record_id,
        status=RecordStatus.REVOKED,
    )


def test_a_bogus_repair_request_does_not_block_the_provider_s_genuine_one(
    chain: Chain,
    ledger: CreditLedger,
    devnet: Devnet,
    gateway: LocalAccount,
    department: LocalAccount,
    provider: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """A pending request, bogus or not, refuses no later one, direct or relayed (issue 16, finding 11: a service
    account's request made the provider's fail with LedgerRepairAlreadyRequested); approval answers them all."""
    proof = batch.proof(0)
    ledger.request_repair(department, proof, b"\x01" * 32)  # bogus: no evidence behind it
    genuine = ledger.request_repair(provider, proof, REASON)
    court = devnet.by_label("court-hebei").account
    relayed = ledger.relay_request_repair(gateway, proof, REASON, ledger.sign_request_repair(court, proof, REASON))
    assert [(e.name, e.args["member"]) for r in (genuine, relayed) for e in ledger.events(r)] == [
        ("RepairRequested", provider.address),
        ("RepairRequested", court.address),
    ]
    assert ledger.state(proof.leaf.record_id).repair_pending
    chain.increase_time(MIN_DAYS_BEFORE_REPAIR * DAY)
    ledger.approve_repair(provider, proof)
    state = ledger.state(proof.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.REPAIRED, False)


def test_provider_rejects_a_repair(
    ledger: CreditLedger, department: LocalAccount, provider: LocalAccount, batch: AnchoredBatch
) -> None:
    """A rejected request clears the pending flag, keeps the record Active, and may be made again."""
    proof = batch.proof(0)
    ledger.request_repair(department, proof, REASON)
    receipt = ledger.reject_repair(provider, proof, REASON)
    assert ledger.events(receipt)[0].name == "RepairRejected"
    state = ledger.state(proof.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, False)
    ledger.request_repair(department, proof, REASON)


# ------------------------------------------------------- relayed instructions


def test_gateway_relays_a_provider_revocation(
    ledger: CreditLedger, provider: LocalAccount, gateway: LocalAccount, batch: AnchoredBatch
) -> None:
    """A signed Revoke instruction relayed by a gateway acts as the provider and uses its nonce."""
    proof = batch.proof(0)
    instruction = ledger.sign_revoke(provider, proof, REASON)
    receipt = ledger.relay_revoke(gateway, proof, REASON, instruction)
    assert ledger.events(receipt)[0].args["provider"] == provider.address
    assert ledger.state(proof.leaf.record_id).status == RecordStatus.REVOKED
    assert ledger.nonce(provider.address) == 1


def test_relayed_correction_and_repair(
    chain: Chain,
    stack: Stack,
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """Objection resolution, repair approval and rejection all work as relayed instructions."""
    proof = batch.proof(0)
    correction = _correction_of(stack, gateway, batch, 0)
    ledger.file_objection(department, proof, REASON)
    instruction = ledger.sign_resolve_objection(provider, proof, ObjectionOutcome.CORRECTED, correction)
    ledger.relay_resolve_objection(gateway, proof, ObjectionOutcome.CORRECTED, instruction, correction)
    assert ledger.state(proof.leaf.record_id).superseded_by == correction.leaf.record_id

    ledger.request_repair(department, correction, REASON)
    ledger.relay_reject_repair(gateway, correction, REASON, ledger.sign_reject_repair(provider, correction, REASON))
    assert not ledger.state(correction.leaf.record_id).repair_pending
    ledger.request_repair(department, correction, REASON)
    chain.increase_time(MIN_DAYS_BEFORE_REPAIR * DAY)
    ledger.relay_approve_repair(gateway, correction, ledger.sign_approve_repair(provider, correction))
    assert ledger.state(correction.leaf.record_id).status == RecordStatus.REPAIRED
    assert ledger.nonce(provider.address) == 3


def test_relay_refusals(
    chain: Chain,
    ledger: CreditLedger,
    provider: LocalAccount,
    other_provider: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """Expired, foreign, altered, replayed or non-gateway relays are refused by name."""
    proof = batch.proof(0)
    record_id = proof.leaf.record_id
    past = chain.latest_timestamp() - 1
    expired = ledger.sign_revoke(provider, proof, REASON, deadline=past)
    expect_revert(
        lambda: ledger.relay_revoke(gateway, proof, REASON, expired), "LedgerInstructionExpired", deadline=past
    )
    foreign = ledger.sign_revoke(other_provider, proof, REASON)
    expect_revert(
        lambda: ledger.relay_revoke(gateway, proof, REASON, foreign),
        "LedgerNotProvider",
        recordId=record_id,
        account=other_provider.address,
    )
    good = ledger.sign_revoke(provider, proof, REASON)
    expect_revert(
        lambda: ledger.relay_revoke(provider, proof, REASON, good), "LedgerNotGateway", account=provider.address
    )
    altered = b"\x01" * 32  # the gateway relays another reason than the provider signed
    recovered = recover_signer(
        ledger.domain.digest(revoke_struct_hash(record_id, altered, good.nonce, good.deadline)), good.signature
    )
    expect_revert(
        lambda: ledger.relay_revoke(gateway, proof, altered, good),
        "LedgerNotProvider",
        recordId=record_id,
        account=recovered,
    )
    ledger.relay_revoke(gateway, proof, REASON, good)
    expect_revert(
        lambda: ledger.relay_revoke(gateway, proof, REASON, good),
        "InvalidAccountNonce",
        account=provider.address,
        currentNonce=1,
    )


# ------------------------------------------------ member instructions, relayed


def test_gateway_relays_a_member_objection(
    ledger: CreditLedger, department: LocalAccount, gateway: LocalAccount, batch: AnchoredBatch
) -> None:
    """A relayed FileObjection disputes the record and the event names the signing member, not the gateway."""
    proof = batch.proof(2)
    receipt = ledger.relay_file_objection(gateway, proof, REASON, ledger.sign_file_objection(department, proof, REASON))
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [
        (
            "ObjectionFiled",
            {
                "recordId": proof.leaf.record_id,
                "subjectTag": proof.leaf.subject_tag,
                "member": department.address,
                "reasonHash": REASON,
            },
        )
    ]
    assert ledger.state(proof.leaf.record_id).status == RecordStatus.DISPUTED
    assert (ledger.nonce(department.address), ledger.nonce(gateway.address)) == (1, 0)


def test_gateway_relays_a_member_repair_request(
    ledger: CreditLedger, department: LocalAccount, gateway: LocalAccount, batch: AnchoredBatch
) -> None:
    """A relayed RequestRepair marks the repair pending and the event names the signing member, not the gateway."""
    proof = batch.proof(3)
    evidence = os.urandom(32)
    instruction = ledger.sign_request_repair(department, proof, evidence)
    receipt = ledger.relay_request_repair(gateway, proof, evidence, instruction)
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [
        (
            "RepairRequested",
            {
                "recordId": proof.leaf.record_id,
                "subjectTag": proof.leaf.subject_tag,
                "member": department.address,
                "evidenceHash": evidence,
            },
        )
    ]
    state = ledger.state(proof.leaf.record_id)
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, True)
    assert ledger.nonce(department.address) == 1


def test_instructions_signed_ahead_carry_consecutive_nonces(
    ledger: CreditLedger, department: LocalAccount, gateway: LocalAccount, batch: AnchoredBatch
) -> None:
    """A member signs several instructions before any is relayed by naming their nonces; they relay in order."""
    objection = ledger.sign_file_objection(department, batch.proof(0), REASON)
    repair = ledger.sign_request_repair(department, batch.proof(1), REASON, nonce=objection.nonce + 1)
    ledger.relay_file_objection(gateway, batch.proof(0), REASON, objection)
    ledger.relay_request_repair(gateway, batch.proof(1), REASON, repair)
    assert ledger.state(batch.proof(1).leaf.record_id).repair_pending
    assert ledger.nonce(department.address) == 2


_MemberSign = Callable[..., Instruction]
_MemberRelay = Callable[[LocalAccount, RecordProof, bytes, Instruction], TxReceipt]


def _member_flow(ledger: CreditLedger, flow: str) -> tuple[_MemberSign, _MemberRelay, Callable[..., bytes]]:
    """The sign, relay and struct-hash functions of a member flow."""
    if flow == "objection":
        return ledger.sign_file_objection, ledger.relay_file_objection, file_objection_struct_hash
    return ledger.sign_request_repair, ledger.relay_request_repair, request_repair_struct_hash


@pytest.mark.parametrize("flow", ["objection", "repair"])
def test_member_relays_need_an_active_member_signer(
    stack: Stack,
    ledger: CreditLedger,
    governors: list[LocalAccount],
    department: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
    flow: str,
) -> None:
    """A signer that is no member, a member suspended since signing, or an altered argument is refused by name."""
    sign, relay, struct_hash = _member_flow(ledger, flow)
    proof = batch.proof(0)
    stranger = Account.create()
    foreign = sign(stranger, proof, REASON)
    expect_revert(lambda: relay(gateway, proof, REASON, foreign), "LedgerNotProviderMember", account=stranger.address)

    good = sign(department, proof, REASON)
    altered = b"\x01" * 32  # the gateway relays another hash than the member signed
    recovered = recover_signer(
        ledger.domain.digest(struct_hash(proof.leaf.record_id, altered, good.nonce, good.deadline)), good.signature
    )
    assert recovered != department.address
    expect_revert(lambda: relay(gateway, proof, altered, good), "LedgerNotProviderMember", account=recovered)

    govern(stack.consortium, governors, stack.consortium.suspend_call(department.address))
    expect_revert(lambda: relay(gateway, proof, REASON, good), "LedgerNotProviderMember", account=department.address)


@pytest.mark.parametrize("flow", ["objection", "repair"])
def test_member_relay_refusals(
    chain: Chain,
    ledger: CreditLedger,
    department: LocalAccount,
    provider: LocalAccount,
    gateway: LocalAccount,
    batch: AnchoredBatch,
    flow: str,
) -> None:
    """A relay by a non-gateway, an expired instruction and a replayed one are refused by name."""
    sign, relay, _ = _member_flow(ledger, flow)
    proof = batch.proof(0)
    past = chain.latest_timestamp() - 1
    expired = sign(department, proof, REASON, deadline=past)
    expect_revert(lambda: relay(gateway, proof, REASON, expired), "LedgerInstructionExpired", deadline=past)
    good = sign(department, proof, REASON)
    expect_revert(lambda: relay(provider, proof, REASON, good), "LedgerNotGateway", account=provider.address)
    expect_revert(lambda: relay(department, proof, REASON, good), "LedgerNotGateway", account=department.address)
    relay(gateway, proof, REASON, good)
    expect_revert(
        lambda: relay(gateway, proof, REASON, good), "InvalidAccountNonce", account=department.address, currentNonce=1
    )


def test_member_instruction_types_and_domain_are_the_contract_ones(chain: Chain, ledger: CreditLedger) -> None:
    """FILE_OBJECTION_TYPEHASH, REQUEST_REPAIR_TYPEHASH and the EIP-5267 domain are what the client signs with."""
    functions = chain.contract("CreditLedger", ledger.address).functions
    assert bytes(chain.call(functions.FILE_OBJECTION_TYPEHASH())) == keccak(FILE_OBJECTION_TYPE.encode())
    assert bytes(chain.call(functions.REQUEST_REPAIR_TYPEHASH())) == keccak(REQUEST_REPAIR_TYPE.encode())
    _, name, version, chain_id, verifying_contract, _, _ = chain.call(functions.eip712Domain())
    assert {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract} == (
        ledger.domain.as_dict()
    )


# ---------------------------------------------------------------------- views


def test_record_digest_matches_the_contract(ledger: CreditLedger, provider: LocalAccount, batch: AnchoredBatch) -> None:
    """The locally computed CreditRecord digest is the contract's, and the signature recovers to the provider."""
    leaf = batch.leaves[0]
    assert ledger.record_digest(leaf) == ledger.record_digest_on_chain(leaf)
    signature = ledger.sign_record(provider, leaf)
    assert recover_signer(ledger.record_digest(leaf), signature) == provider.address


@pytest.mark.parametrize("names", [["decision"], ["decision", "subjectName"], ["a", "decidedOn", "decision"]])
def test_disclosed_fields_verify_on_chain(ledger: CreditLedger, names: list[str]) -> None:
    """MerkleProof.sol's multiproof accepts our field disclosures and refuses an altered value."""
    payload = {"a": 1, "decidedOn": "2026-03-02", "decision": {"fine": 50000}, "subjectName": "北京某某科技有限公司"}
    commitment = ContentCommitment(payload, os.urandom(32))
    disclosure = commitment.disclose(names)
    assert ledger.verify_fields_on_chain(commitment.content_hash, disclosure)
    first = next(iter(disclosure.fields))
    altered = {**disclosure.fields, first: DisclosedField("forged", disclosure.fields[first].salt)}
    assert not ledger.verify_fields_on_chain(
        commitment.content_hash, Disclosure(altered, disclosure.proof, disclosure.proof_flags)
    )


# ------------------------------------------------- batches owned by their gateway


@pytest.mark.parametrize("kind", [BatchKind.RECORDS, BatchKind.ACCESS_LOG], ids=["same-kind", "other-kind"])
def test_another_gateway_anchoring_a_pending_root_first_changes_nothing_of_ours(
    chain: Chain,
    stack: Stack,
    ledger: CreditLedger,
    devnet: Devnet,
    gateway: LocalAccount,
    provider: LocalAccount,
    department: LocalAccount,
    penalty_entry: bytes,
    kind: BatchKind,
) -> None:
    """Tianjin anchoring Beijing's root first, of either kind, makes its own batch: Beijing still anchors,
    its bundles verify and lifecycle calls on its records work."""
    foreign = devnet.by_label("gateway-tianjin").account
    leaves = [make_leaf(penalty_entry, provider.address) for _ in range(3)]
    signed = [SignedRecord(leaf, ledger.sign_record(provider, leaf)) for leaf in leaves]
    root = record_tree(leaves).root
    ledger.anchor_batch(foreign, root, len(leaves), kind)  # the front-run, seen in the mempool
    bundles = anchor_records(stack, gateway, signed)
    assert ledger.batch(foreign.address, root).kind == kind
    ours = ledger.batch(gateway.address, root)
    assert (ours.gateway, ours.kind, ours.count) == (gateway.address, BatchKind.RECORDS, 3)
    for bundle in bundles:
        report = verify_bundle(bundle.to_json(), chain)
        assert report.valid, report.checks
        assert f"by GATEWAY {gateway.address}" in next(c.detail for c in report.checks if c.name == "anchored")
    proof = RecordProof.from_tree(record_tree(leaves), leaves, 0, gateway=gateway.address)
    ledger.file_objection(department, proof, REASON)
    ledger.resolve_objection(provider, proof, ObjectionOutcome.REJECTED)
    ledger.revoke(provider, proof, REASON)
    assert ledger.state(leaves[0].record_id).status == RecordStatus.REVOKED


def test_a_proof_names_the_gateway_whose_batch_it_is(
    ledger: CreditLedger, devnet: Devnet, department: LocalAccount, batch: AnchoredBatch
) -> None:
    """A record proved against a gateway that never anchored its root is refused, naming both."""
    foreign = devnet.by_label("gateway-tianjin").account.address
    proof = replace(batch.proof(0), gateway=foreign)
    expect_revert(
        lambda: ledger.file_objection(department, proof, REASON), "LedgerUnknownBatch", gateway=foreign, root=proof.root
    )


def test_a_bundle_speaks_of_the_batch_its_transaction_anchored(
    chain: Chain,
    stack: Stack,
    ledger: CreditLedger,
    devnet: Devnet,
    gateway: LocalAccount,
    provider: LocalAccount,
    penalty_entry: bytes,
) -> None:
    """A bundle whose transaction is another gateway's anchoring of the same root, of the other kind, fails."""
    foreign = devnet.by_label("gateway-tianjin").account
    leaf = make_leaf(penalty_entry, provider.address)
    (bundle,) = anchor_records(stack, gateway, [SignedRecord(leaf, ledger.sign_record(provider, leaf))])
    receipt = ledger.anchor_batch(foreign, bundle.batch.root, 1, BatchKind.ACCESS_LOG)
    block = chain.w3.eth.get_block(receipt["blockNumber"])
    shadow = replace(
        bundle,
        batch=replace(
            bundle.batch,
            tx_hash=bytes(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            anchored_at=int(block["timestamp"]),
        ),
    )
    report = verify_bundle(shadow.to_json(), chain)
    assert not report.valid
    assert next(c for c in report.checks if c.name == "anchored").detail == (
        "the root is an access-log batch, not a record batch"
    )
    assert verify_bundle(bundle.to_json(), chain).valid


# ------------------------------------------------------ suspended is suspended


def test_a_suspended_provider_takes_no_lifecycle_step_directly_or_relayed(
    chain: Chain,
    stack: Stack,
    ledger: CreditLedger,
    governors: list[LocalAccount],
    gateway: LocalAccount,
    provider: LocalAccount,
    department: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """Revoke, resolve an objection, approve or reject a repair by a suspended provider revert, and so do the
    instructions it signed before its suspension."""
    disputed, repairing, revoked = batch.proof(0), batch.proof(1), batch.proof(2)
    ledger.file_objection(department, disputed, REASON)
    ledger.request_repair(department, repairing, REASON)
    chain.increase_time(MIN_DAYS_BEFORE_REPAIR * DAY)
    nonce = ledger.nonce(provider.address)
    signed = {
        "revoke": ledger.sign_revoke(provider, revoked, REASON, nonce=nonce),
        "resolve": ledger.sign_resolve_objection(provider, disputed, ObjectionOutcome.REVOKED, nonce=nonce),
        "approve": ledger.sign_approve_repair(provider, repairing, nonce=nonce),
        "reject": ledger.sign_reject_repair(provider, repairing, REASON, nonce=nonce),
    }
    govern(stack.consortium, governors, stack.consortium.suspend_call(provider.address))
    steps: list[tuple[bytes, Callable[[], TxReceipt]]] = [
        (revoked.leaf.record_id, lambda: ledger.revoke(provider, revoked, REASON)),
        (disputed.leaf.record_id, lambda: ledger.resolve_objection(provider, disputed, ObjectionOutcome.REVOKED)),
        (repairing.leaf.record_id, lambda: ledger.approve_repair(provider, repairing)),
        (repairing.leaf.record_id, lambda: ledger.reject_repair(provider, repairing, REASON)),
        (revoked.leaf.record_id, lambda: ledger.relay_revoke(gateway, revoked, REASON, signed["revoke"])),
        (
            disputed.leaf.record_id,
            lambda: ledger.relay_resolve_objection(gateway, disputed, ObjectionOutcome.REVOKED, signed["resolve"]),
        ),
        (repairing.leaf.record_id, lambda: ledger.relay_approve_repair(gateway, repairing, signed["approve"])),
        (repairing.leaf.record_id, lambda: ledger.relay_reject_repair(gateway, repairing, REASON, signed["reject"])),
    ]
    for record_id, step in steps:
        expect_revert(step, "LedgerNotProvider", recordId=record_id, account=provider.address)
    assert [ledger.state(p.leaf.record_id).status for p in (disputed, repairing, revoked)] == [
        RecordStatus.DISPUTED,
        RecordStatus.ACTIVE,
        RecordStatus.ACTIVE,
    ]


def test_a_suspended_member_files_no_objection_nor_repair_request(
    stack: Stack,
    ledger: CreditLedger,
    governors: list[LocalAccount],
    gateway: LocalAccount,
    department: LocalAccount,
    batch: AnchoredBatch,
) -> None:
    """A suspended member's objection and repair request revert, directly and when signed before the suspension."""
    proof = batch.proof(0)
    nonce = ledger.nonce(department.address)
    objection = ledger.sign_file_objection(department, proof, REASON, nonce=nonce)
    repair = ledger.sign_request_repair(department, proof, REASON, nonce=nonce)
    govern(stack.consortium, governors, stack.consortium.suspend_call(department.address))
    for step in (
        lambda: ledger.file_objection(department, proof, REASON),
        lambda: ledger.request_repair(department, proof, REASON),
        lambda: ledger.relay_file_objection(gateway, proof, REASON, objection),
        lambda: ledger.relay_request_repair(gateway, proof, REASON, repair),
    ):
        expect_revert(step, "LedgerNotProviderMember", account=department.address)
