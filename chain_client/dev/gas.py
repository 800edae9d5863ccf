"""Gas used by each contract operation, measured by running it on a chain.

Keys are `<function>` or `<function>_<variant>`: `anchorBatch_100000` anchors a root
for 100,000 records, `approveRepair_depth17` proves a record 17 levels deep in a
100,000-record batch; `fileObjection_disputed_depth17` and
`requestRepair_pending_depth17` file on a record that already has one open;
`fileSubjectObjection_depth17` and `requestSubjectRepair_depth17` are a subject's own
filings, sent by the record's gateway. A
consortium change is measured as its three transactions.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from itertools import islice

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from chain_client.contracts.catalog import CatalogEntrySpec, DisclosureClass, ListKind
from chain_client.contracts.commitments import CommitmentKind, CommitmentSpec
from chain_client.contracts.consortium import Call, MemberSpec
from chain_client.contracts.ledger import BatchKind, ObjectionOutcome, RecordProof
from chain_client.contracts.stack import Stack
from chain_client.dev.chain import DevChain
from chain_client.dev.demo_stack import deploy_demo_stack
from chain_client.dev.devnet import Devnet, devnet_for
from chain_client.spec.calendar import Term, TermUnit, shipped_calendars
from chain_client.spec.merkle import StandardMerkleTree
from chain_client.spec.records import RecordLeaf, catalog_id, record_tree
from chain_client.spec.roles import Role
from chain_client.spec.terms import CalendarRef, CommitmentTerm

LARGE_BATCH = 100_000
DEEP = 17
_DAY = 24 * 3600


@dataclass(frozen=True)
class _Actors:
    governors: list[LocalAccount]
    provider: LocalAccount
    gateway: LocalAccount
    member: LocalAccount  # a department (PROVIDER) filing objections and repair requests


def measure_gas(chain: DevChain) -> dict[str, int]:
    """Deploy the demo stack on a development chain and record gasUsed per operation."""
    devnet = devnet_for(chain.chain_id)
    stack = deploy_demo_stack(chain)
    actors = _actors(devnet)
    gas: dict[str, int] = {}
    for name, contract in stack.record.contracts.items():
        receipt = chain.receipt(bytes.fromhex(contract.tx_hash[2:]))
        assert receipt is not None, f"the deployment of {name} has no receipt"
        suffix = f"_{len(devnet.accounts)}members" if name == "Consortium" else ""
        gas[f"deploy{name}{suffix}"] = _used(receipt)
    gas.update(_consortium_gas(stack, actors))
    gas.update(_catalog_gas(stack, actors))
    gas.update(_ledger_gas(stack, actors, chain))
    gas.update(_calendar_gas(stack, actors))
    gas.update(_commitment_gas(stack, actors))
    gas.update(_subject_keys_gas(stack, devnet))
    return gas


def _subject_keys_gas(stack: Stack, devnet: Devnet) -> dict[str, int]:
    # A registrar revokes a subject's key credential by its digest (all the chain holds).
    registrar = devnet.with_role(Role.REGISTRAR)[0].account
    return {"revokeSubjectCredential": _used(stack.subject_keys.revoke(registrar, os.urandom(32)))}


def _actors(devnet: Devnet) -> _Actors:
    return _Actors(
        governors=[d.account for d in devnet.with_role(Role.GOVERNOR)],
        provider=devnet.by_label("samr-beijing").account,
        gateway=devnet.by_label("gateway-beijing").account,
        member=devnet.by_label("tax-beijing").account,
    )


def _govern(stack: Stack, actors: _Actors, action: str, call: Call) -> dict[str, int]:
    consortium = stack.consortium
    proposal_id, propose = consortium.propose(actors.governors[0], call)
    approve = consortium.approve(actors.governors[1], proposal_id)
    execute = consortium.execute(actors.governors[0], proposal_id, call.data)
    return {
        f"propose_{action}": int(propose["gasUsed"]),
        f"approve_{action}": int(approve["gasUsed"]),
        f"execute_{action}": int(execute["gasUsed"]),
    }


def _consortium_gas(stack: Stack, actors: _Actors) -> dict[str, int]:
    consortium = stack.consortium
    department = stack.chain.w3.eth.account.create().address
    changes = {
        "admit": consortium.admit_call(
            MemberSpec(department, 110000, "北京市生态环境局 (Beijing ecology and environment)", (Role.PROVIDER,))
        ),
        "grantRole": consortium.grant_role_call(department, Role.AUDITOR),
        "revokeRole": consortium.revoke_role_call(department, Role.AUDITOR),
        "setGatewayUrl": consortium.set_gateway_url_call(department, "https://credit.example.gov.cn/gateway"),
        "suspend": consortium.suspend_call(department),
        "reinstate": consortium.reinstate_call(department),
        "setThreshold": consortium.set_threshold_call(3),
    }
    gas: dict[str, int] = {}
    for action, call in changes.items():
        gas.update(_govern(stack, actors, action, call))
    # Later measurements need a 2-of-3 threshold again.
    proposal_id, _ = consortium.propose(actors.governors[0], consortium.set_threshold_call(2))
    for governor in actors.governors[1:]:
        consortium.approve(governor, proposal_id)
    consortium.execute(actors.governors[0], proposal_id)
    return gas


def _penalty_spec(source: str, min_days: int) -> CatalogEntrySpec:
    return CatalogEntrySpec(
        code="BJ-XZCF-001",
        source=source,  # type: ignore[arg-type]
        disclosure_class=DisclosureClass.A,
        list_kind=ListKind.BLACK,
        publicity_days=3 * 365,
        min_days_before_repair=min_days,
        schema_hash=os.urandom(32),
    )


def _catalog_gas(stack: Stack, actors: _Actors) -> dict[str, int]:
    catalog = stack.catalog
    spec = _penalty_spec(actors.provider.address, 90)
    gas = _govern(stack, actors, "createEntry", catalog.create_call(spec))
    gas.update(_govern(stack, actors, "updateEntry", catalog.update_call(_penalty_spec(actors.provider.address, 90))))
    gas.update(_govern(stack, actors, "setActive", catalog.set_active_call(spec.catalog_id, False)))
    _govern(stack, actors, "setActive", catalog.set_active_call(spec.catalog_id, True))
    return gas


def _ledger_gas(stack: Stack, actors: _Actors, chain: DevChain) -> dict[str, int]:
    ledger = stack.ledger
    gas = {
        "anchorBatch_1": _used(ledger.anchor_batch(actors.gateway, os.urandom(32), 1)),
        f"anchorBatch_{LARGE_BATCH}": _used(ledger.anchor_batch(actors.gateway, os.urandom(32), LARGE_BATCH)),
    }
    roots = [os.urandom(32) for _ in range(10)]
    gas["anchorBatches_10roots"] = _used(
        ledger.anchor_batches(actors.gateway, roots, [LARGE_BATCH] * 10, [BatchKind.RECORDS] * 10)
    )
    gas["anchorBatch_accessLog"] = _used(ledger.anchor_batch(actors.gateway, os.urandom(32), 500, BatchKind.ACCESS_LOG))

    entry = catalog_id("BJ-XZCF-001")
    version = stack.catalog.latest_version(entry)
    # Originals followed by corrections of the first few, so that a correction can be
    # proved from the same batch; the measured pair is one where both sit 17 levels deep.
    candidates = 20
    leaves = [_leaf(entry, version, actors.provider.address) for _ in range(LARGE_BATCH - candidates)]
    leaves += [_leaf(entry, version, actors.provider.address, leaves[i]) for i in range(candidates)]
    tree = record_tree(leaves)
    ledger.anchor_batch(actors.gateway, tree.root, len(leaves))
    first_correction = LARGE_BATCH - candidates
    pair = next(i for i in range(candidates) if len(tree.proof(i)) == DEEP == len(tree.proof(first_correction + i)))
    original = RecordProof.from_tree(tree, leaves, pair, gateway=actors.gateway.address)
    correction = RecordProof.from_tree(tree, leaves, first_correction + pair, gateway=actors.gateway.address)
    deep = _deep_proofs(tree, leaves, 11, skip=candidates, gateway=actors.gateway.address)
    key = f"depth{DEEP}"
    m, p, g = actors.member, actors.provider, actors.gateway
    reason = os.urandom(32)

    gas[f"fileObjection_{key}"] = _used(ledger.file_objection(m, deep[0], reason))
    # A further objection on a record already Disputed (objections accumulate).
    gas[f"fileObjection_disputed_{key}"] = _used(ledger.file_objection(p, deep[0], reason))
    objection = ledger.sign_file_objection(m, deep[7], reason)
    gas[f"fileObjectionBySig_{key}"] = _used(ledger.relay_file_objection(g, deep[7], reason, objection))
    # A subject's own objection, filed by the gateway that anchored the record's batch.
    gas[f"fileSubjectObjection_{key}"] = _used(ledger.file_subject_objection(g, deep[9], reason, os.urandom(32)))
    gas[f"resolveObjection_rejected_{key}"] = _used(ledger.resolve_objection(p, deep[0], ObjectionOutcome.REJECTED))
    ledger.file_objection(m, deep[1], reason)
    gas[f"resolveObjection_revoked_{key}"] = _used(ledger.resolve_objection(p, deep[1], ObjectionOutcome.REVOKED))
    ledger.file_objection(m, original, reason)
    gas[f"resolveObjection_corrected_{key}"] = _used(
        ledger.resolve_objection(p, original, ObjectionOutcome.CORRECTED, correction)
    )
    gas[f"revoke_{key}"] = _used(ledger.revoke(p, deep[2], reason))
    gas[f"revokeBySig_{key}"] = _used(ledger.relay_revoke(g, deep[3], reason, ledger.sign_revoke(p, deep[3], reason)))
    gas[f"requestRepair_{key}"] = _used(ledger.request_repair(m, deep[4], reason))
    # A further request while one is pending (requests accumulate).
    gas[f"requestRepair_pending_{key}"] = _used(ledger.request_repair(p, deep[4], reason))
    request = ledger.sign_request_repair(m, deep[8], reason)
    gas[f"requestRepairBySig_{key}"] = _used(ledger.relay_request_repair(g, deep[8], reason, request))
    gas[f"requestSubjectRepair_{key}"] = _used(ledger.request_subject_repair(g, deep[10], reason, os.urandom(32)))
    gas[f"rejectRepair_{key}"] = _used(ledger.reject_repair(p, deep[4], reason))
    ledger.request_repair(m, deep[5], reason)
    ledger.request_repair(m, deep[6], reason)
    chain.increase_time(90 * _DAY)
    gas[f"approveRepair_{key}"] = _used(ledger.approve_repair(p, deep[5]))
    instruction = ledger.sign_approve_repair(p, deep[6])
    gas[f"approveRepairBySig_{key}"] = _used(ledger.relay_approve_repair(g, deep[6], instruction))
    return gas


def _calendar_gas(stack: Stack, actors: _Actors) -> dict[str, int]:
    # A corrected notice for a year the demo consortium adopted: the same size as a real one.
    (calendar, *_) = shipped_calendars()
    corrected = replace(calendar, title=calendar.title + "（更正）")
    return _govern(stack, actors, "adoptCalendar", stack.calendars.adopt_call(corrected))


def _commitment_gas(stack: Stack, actors: _Actors) -> dict[str, int]:
    registry, chain = stack.commitments, stack.chain
    # A 7-working-day term counted in one adopted year; the chain checks the calendar is
    # the latest adopted, not the count, so any date of that year measures the same.
    (calendar, *_) = shipped_calendars()
    term = CommitmentTerm(
        dt.date(calendar.year, 3, 2),
        Term(TermUnit.WORKING_DAYS, 7),
        (CalendarRef(calendar.year, stack.calendars.latest_version(calendar.year)),),
    )

    def spec() -> CommitmentSpec:
        deadline = chain.latest_timestamp() + 7 * _DAY
        return CommitmentSpec(os.urandom(32), CommitmentKind.INCOMPLETE_ACCEPTANCE, os.urandom(32), deadline, term)

    p, g = actors.provider, actors.gateway
    first, receipt = registry.record(p, spec())
    gas = {"recordCommitment": _used(receipt)}
    relayed = spec()
    _, receipt = registry.relay_record(g, relayed, registry.sign_record(p, relayed))
    gas["recordCommitmentBySig"] = _used(receipt)
    ids, receipt = registry.record_batch(p, [spec() for _ in range(10)])
    gas["recordCommitmentBatch_10"] = _used(receipt)
    gas["fulfilCommitment"] = _used(registry.fulfil(p, first))
    gas["withdrawCommitment"] = _used(registry.withdraw(p, ids[0]))

    def breach_record(commitment: bytes) -> RecordLeaf:
        subject_tag = registry.commitment(commitment).subject_tag
        return _leaf(catalog_id("BJ-XZCF-001"), 1, p.address, subject_tag=subject_tag)

    gas["breachCommitment_violation"] = _used(registry.breach(p, ids[1], breach_record(ids[1]), violation=True))
    gas["fulfilCommitmentBySig"] = _used(registry.relay_fulfil(g, ids[2], registry.sign_fulfil(p, ids[2])))
    gas["withdrawCommitmentBySig"] = _used(registry.relay_withdraw(g, ids[3], registry.sign_withdraw(p, ids[3])))
    relayed_record = breach_record(ids[4])
    breach = registry.sign_breach(p, ids[4], relayed_record, True)
    gas["breachCommitmentBySig_violation"] = _used(registry.relay_breach(g, ids[4], relayed_record, True, breach))
    return gas


def _leaf(
    entry: bytes,
    version: int,
    provider: str,
    superseded: RecordLeaf | None = None,
    *,
    subject_tag: bytes | None = None,
) -> RecordLeaf:
    return RecordLeaf.create(
        catalog_id=entry,
        catalog_version=version,
        subject_tag=superseded.subject_tag if superseded else subject_tag or os.urandom(32),
        content_hash=os.urandom(32),
        provider=provider,
        issued_at=1_760_000_000,
        supersedes=superseded.record_id if superseded else bytes(32),
    )


def _deep_proofs(
    tree: StandardMerkleTree, leaves: list[RecordLeaf], count: int, *, skip: int, gateway: str
) -> list[RecordProof]:
    deep = (i for i in range(skip, len(leaves) - skip) if len(tree.proof(i)) == DEEP)
    return [RecordProof.from_tree(tree, leaves, i, gateway=gateway) for i in islice(deep, count)]


def _used(receipt: TxReceipt) -> int:
    return int(receipt["gasUsed"])
