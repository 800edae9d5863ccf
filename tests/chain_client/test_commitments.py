"""CommitmentRegistry: commitment letters, deadlines, fulfilment and breach."""

from __future__ import annotations

import os

import pytest
from eth_account.signers.local import LocalAccount

from chain_client import (
    Chain,
    CommitmentKind,
    CommitmentRegistry,
    CommitmentSpec,
    CommitmentStatus,
    Stack,
)
from tests.chain_client.conftest import govern
from tests.support.reverts import expect_revert

DAY = 24 * 3600
BREACH_RECORD = b"\xbb" * 32


@pytest.fixture
def registry(stack: Stack) -> CommitmentRegistry:
    return stack.commitments


def _spec(
    chain: Chain, *, days: int = 7, kind: CommitmentKind = CommitmentKind.INCOMPLETE_ACCEPTANCE
) -> CommitmentSpec:
    return CommitmentSpec(
        subject_ref=os.urandom(32), kind=kind, doc_hash=os.urandom(32), deadline=chain.latest_timestamp() + days * DAY
    )


def test_record_stores_the_commitment(chain: Chain, registry: CommitmentRegistry, provider: LocalAccount) -> None:
    """A department records a commitment: Pending, with its kind, letter hash and deadline."""
    spec = _spec(chain)
    commitment_id, receipt = registry.record(provider, spec)
    event = registry.events(receipt)[0]
    assert (event.name, event.args["commitmentId"], event.args["department"]) == (
        "CommitmentRecorded",
        commitment_id,
        provider.address,
    )
    stored = registry.commitment(commitment_id)
    assert (stored.department, stored.kind, stored.status) == (
        provider.address,
        CommitmentKind.INCOMPLETE_ACCEPTANCE,
        CommitmentStatus.PENDING,
    )
    assert (stored.subject_ref, stored.doc_hash, stored.deadline) == (spec.subject_ref, spec.doc_hash, spec.deadline)
    assert stored.breach_record_id is None
    assert stored.made_at == chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]


def test_record_batch_stores_each(chain: Chain, registry: CommitmentRegistry, provider: LocalAccount) -> None:
    """The batch form records every commitment, of every kind."""
    specs = [_spec(chain, kind=kind) for kind in CommitmentKind]
    ids, receipt = registry.record_batch(provider, specs)
    assert [e.args["commitmentId"] for e in registry.events(receipt)] == ids
    assert [registry.commitment(i).kind for i in ids] == list(CommitmentKind)


def test_recording_refusals(
    chain: Chain,
    stack: Stack,
    registry: CommitmentRegistry,
    provider: LocalAccount,
    auditor: LocalAccount,
    governors: list[LocalAccount],
) -> None:
    """Non-providers, duplicates and past deadlines are refused by name."""
    spec = _spec(chain)
    expect_revert(lambda: registry.record(auditor, spec), "CommitmentNotProvider", account=auditor.address)
    registry.record(provider, spec)
    expect_revert(
        lambda: registry.record(provider, spec), "CommitmentExists", commitmentId=spec.commitment_id(provider.address)
    )
    past = CommitmentSpec(os.urandom(32), CommitmentKind.SELF_DISCIPLINE, os.urandom(32), chain.latest_timestamp() - 1)
    expect_revert(lambda: registry.record(provider, past), "CommitmentInvalidDeadline", deadline=past.deadline)
    govern(stack.consortium, governors, stack.consortium.suspend_call(provider.address))
    expect_revert(
        lambda: registry.record_batch(provider, [_spec(chain)]), "CommitmentNotProvider", account=provider.address
    )


def test_fulfil_and_withdraw(chain: Chain, registry: CommitmentRegistry, provider: LocalAccount) -> None:
    """Fulfilled and Withdrawn are final: nothing changes them afterwards."""
    fulfilled, _ = registry.record(provider, _spec(chain))
    withdrawn, _ = registry.record(provider, _spec(chain))
    assert registry.events(registry.fulfil(provider, fulfilled))[0].name == "CommitmentFulfilled"
    assert registry.events(registry.withdraw(provider, withdrawn))[0].name == "CommitmentWithdrawn"
    assert registry.commitment(fulfilled).status == CommitmentStatus.FULFILLED
    assert registry.commitment(withdrawn).status == CommitmentStatus.WITHDRAWN
    expect_revert(
        lambda: registry.breach(provider, fulfilled, BREACH_RECORD, violation=True),
        "CommitmentNotPending",
        commitmentId=fulfilled,
        status=CommitmentStatus.FULFILLED,
    )
    expect_revert(
        lambda: registry.fulfil(provider, withdrawn),
        "CommitmentNotPending",
        commitmentId=withdrawn,
        status=CommitmentStatus.WITHDRAWN,
    )


def test_breach_after_the_deadline_names_the_dishonesty_record(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount
) -> None:
    """Before the deadline a plain breach is refused; after it the breach links the dishonesty record."""
    spec = _spec(chain, days=7)
    commitment_id, _ = registry.record(provider, spec)
    expect_revert(
        lambda: registry.breach(provider, commitment_id, BREACH_RECORD),
        "CommitmentNotDue",
        commitmentId=commitment_id,
        deadline=spec.deadline,
    )
    chain.increase_time(7 * DAY + 1)
    receipt = registry.breach(provider, commitment_id, BREACH_RECORD)
    assert registry.events(receipt)[0].args == {
        "commitmentId": commitment_id,
        "department": provider.address,
        "breachRecordId": BREACH_RECORD,
        "violation": False,
    }
    stored = registry.commitment(commitment_id)
    assert (stored.status, stored.breach_record_id) == (CommitmentStatus.BREACHED, BREACH_RECORD)


def test_breach_before_the_deadline_needs_the_violation_flag(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount
) -> None:
    """A commitment broken outright is breached at once when marked as a violation."""
    commitment_id, _ = registry.record(provider, _spec(chain))
    registry.breach(provider, commitment_id, BREACH_RECORD, violation=True)
    assert registry.commitment(commitment_id).status == CommitmentStatus.BREACHED


def test_only_the_recording_department_changes_a_commitment(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, other_provider: LocalAccount
) -> None:
    """Another department cannot fulfil, breach or withdraw; a breach must name its record."""
    commitment_id, _ = registry.record(provider, _spec(chain))
    for action in (
        lambda: registry.fulfil(other_provider, commitment_id),
        lambda: registry.withdraw(other_provider, commitment_id),
        lambda: registry.breach(other_provider, commitment_id, BREACH_RECORD, violation=True),
    ):
        expect_revert(action, "CommitmentNotDepartment", commitmentId=commitment_id, account=other_provider.address)
    expect_revert(
        lambda: registry.breach(provider, commitment_id, bytes(32), violation=True),
        "CommitmentMissingBreachRecord",
        commitmentId=commitment_id,
    )


def test_unknown_commitments_are_refused(registry: CommitmentRegistry, provider: LocalAccount) -> None:
    """Reading or changing an id never recorded names it."""
    unknown = os.urandom(32)
    expect_revert(lambda: registry.commitment(unknown), "CommitmentUnknown", commitmentId=unknown)
    expect_revert(lambda: registry.fulfil(provider, unknown), "CommitmentUnknown", commitmentId=unknown)
