"""CommitmentRegistry: commitment letters, deadlines, fulfilment and breach."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace

import pytest
from eth_account.signers.local import LocalAccount

from chain_client import (
    CalendarRef,
    Chain,
    CommitmentKind,
    CommitmentRegistry,
    CommitmentSpec,
    CommitmentStatus,
    CommitmentTerm,
    RecordLeaf,
    Stack,
    Term,
    TermUnit,
    keccak,
    recover_signer,
)
from chain_client.spec.eip712 import (
    BREACH_TYPE,
    CALENDAR_REF_TYPE,
    FULFIL_TYPE,
    RECORD_COMMITMENT_TYPE,
    WITHDRAW_TYPE,
    breach_struct_hash,
    record_commitment_struct_hash,
)
from tests.chain_client.conftest import govern
from tests.support.reverts import expect_revert

DAY = 24 * 3600
BREACH_ENTRY = keccak(b"BJ-WNSX-001")


def breach_record(
    registry: CommitmentRegistry, commitment_id: bytes, department: str, *, subject_tag: bytes | None = None
) -> RecordLeaf:
    """A dishonesty record of the department about the commitment's subject (or about subject_tag)."""
    return RecordLeaf.create(
        catalog_id=BREACH_ENTRY,
        catalog_version=1,
        subject_tag=subject_tag or registry.commitment(commitment_id).subject_tag,
        content_hash=os.urandom(32),
        provider=department,
        issued_at=1_760_000_000,
        supersedes=bytes(32),
    )


@pytest.fixture
def registry(stack: Stack) -> CommitmentRegistry:
    return stack.commitments


# A 7-working-day term counted in 2026 with its adopted calendar: the chain checks the
# calendar is the latest adopted version, not the count, so any chain date can record it.
TERM_2026 = CommitmentTerm(dt.date(2026, 3, 2), Term(TermUnit.WORKING_DAYS, 7), (CalendarRef(2026, 1),))


def _spec(
    chain: Chain,
    *,
    days: int = 7,
    kind: CommitmentKind = CommitmentKind.INCOMPLETE_ACCEPTANCE,
    term: CommitmentTerm = TERM_2026,
) -> CommitmentSpec:
    return CommitmentSpec(
        subject_tag=os.urandom(32),
        kind=kind,
        doc_hash=os.urandom(32),
        deadline=chain.latest_timestamp() + days * DAY,
        term=term,
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
    assert (stored.subject_tag, stored.doc_hash, stored.deadline) == (spec.subject_tag, spec.doc_hash, spec.deadline)
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
    past = replace(_spec(chain, kind=CommitmentKind.SELF_DISCIPLINE), deadline=chain.latest_timestamp() - 1)
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
        lambda: registry.breach(
            provider, fulfilled, breach_record(registry, fulfilled, provider.address), violation=True
        ),
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
    record = breach_record(registry, commitment_id, provider.address)
    expect_revert(
        lambda: registry.breach(provider, commitment_id, record),
        "CommitmentNotDue",
        commitmentId=commitment_id,
        deadline=spec.deadline,
    )
    chain.increase_time(7 * DAY + 1)
    receipt = registry.breach(provider, commitment_id, record)
    assert registry.events(receipt)[0].args == {
        "commitmentId": commitment_id,
        "department": provider.address,
        "breachRecordId": record.record_id,
        "violation": False,
    }
    stored = registry.commitment(commitment_id)
    assert (stored.status, stored.breach_record_id) == (CommitmentStatus.BREACHED, record.record_id)


def test_breach_before_the_deadline_needs_the_violation_flag(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount
) -> None:
    """A commitment broken outright is breached at once when marked as a violation."""
    commitment_id, _ = registry.record(provider, _spec(chain))
    registry.breach(provider, commitment_id, breach_record(registry, commitment_id, provider.address), violation=True)
    assert registry.commitment(commitment_id).status == CommitmentStatus.BREACHED


def test_only_the_recording_department_changes_a_commitment(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, other_provider: LocalAccount
) -> None:
    """Another department cannot fulfil, breach or withdraw; a breach must name its record."""
    commitment_id, _ = registry.record(provider, _spec(chain))
    record = breach_record(registry, commitment_id, other_provider.address)
    for action in (
        lambda: registry.fulfil(other_provider, commitment_id),
        lambda: registry.withdraw(other_provider, commitment_id),
        lambda: registry.breach(other_provider, commitment_id, record, violation=True),
    ):
        expect_revert(action, "CommitmentNotDepartment", commitmentId=commitment_id, account=other_provider.address)
    no_content = replace(breach_record(registry, commitment_id, provider.address), content_hash=bytes(32))
    expect_revert(
        lambda: registry.breach(provider, commitment_id, no_content, violation=True),
        "CommitmentMissingBreachRecord",
        commitmentId=commitment_id,
    )


def test_unknown_commitments_are_refused(registry: CommitmentRegistry, provider: LocalAccount) -> None:
    """Reading or changing an id never recorded names it."""
    unknown = os.urandom(32)
    expect_revert(lambda: registry.commitment(unknown), "CommitmentUnknown", commitmentId=unknown)
    expect_revert(lambda: registry.fulfil(provider, unknown), "CommitmentUnknown", commitmentId=unknown)


# ------------------------------------------------- department instructions, relayed


def test_gateway_relays_a_department_recording(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, gateway: LocalAccount
) -> None:
    """A relayed RecordCommitment makes the signer, not the gateway, the department, under the usual id."""
    spec = _spec(chain)
    instruction = registry.sign_record(provider, spec)
    commitment_id, receipt = registry.relay_record(gateway, spec, instruction)
    assert commitment_id == spec.commitment_id(provider.address)
    assert [(e.name, e.args) for e in registry.events(receipt)] == [
        (
            "CommitmentRecorded",
            {
                "commitmentId": commitment_id,
                "subjectTag": spec.subject_tag,
                "department": provider.address,
                "kind": int(spec.kind),
                "docHash": spec.doc_hash,
                "deadline": spec.deadline,
                "term": {
                    "acceptedOn": 20260302,
                    "unit": int(TermUnit.WORKING_DAYS),
                    "length": 7,
                    "calendars": [{"year": 2026, "version": 1}],
                },
            },
        )
    ]
    assert registry.recorded_term(commitment_id)[:2] == (TERM_2026, spec.deadline)
    stored = registry.commitment(commitment_id)
    assert (stored.department, stored.status, stored.deadline) == (
        provider.address,
        CommitmentStatus.PENDING,
        spec.deadline,
    )
    assert (registry.nonce(provider.address), registry.nonce(gateway.address)) == (1, 0)


def test_gateway_relays_fulfil_breach_and_withdraw(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, gateway: LocalAccount
) -> None:
    """Fulfil, Breach and Withdraw instructions act as the department, and their events name it."""
    fulfilled, _ = registry.record(provider, _spec(chain))
    breached, _ = registry.record(provider, _spec(chain))
    withdrawn, _ = registry.record(provider, _spec(chain))
    record = breach_record(registry, breached, provider.address)
    receipts = [
        registry.relay_fulfil(gateway, fulfilled, registry.sign_fulfil(provider, fulfilled)),
        registry.relay_breach(gateway, breached, record, True, registry.sign_breach(provider, breached, record, True)),
        registry.relay_withdraw(gateway, withdrawn, registry.sign_withdraw(provider, withdrawn)),
    ]
    events = [registry.events(r)[0] for r in receipts]
    assert [(e.name, e.args["department"]) for e in events] == [
        ("CommitmentFulfilled", provider.address),
        ("CommitmentBreached", provider.address),
        ("CommitmentWithdrawn", provider.address),
    ]
    assert (events[1].args["breachRecordId"], events[1].args["violation"]) == (record.record_id, True)
    assert [registry.commitment(i).status for i in (fulfilled, breached, withdrawn)] == [
        CommitmentStatus.FULFILLED,
        CommitmentStatus.BREACHED,
        CommitmentStatus.WITHDRAWN,
    ]
    assert registry.nonce(provider.address) == 3


def test_a_relayed_breach_keeps_the_deadline_rule(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, gateway: LocalAccount
) -> None:
    """A relayed breach before the deadline without the violation flag is refused, as a direct one."""
    spec = _spec(chain)
    commitment_id, _ = registry.record(provider, spec)
    record = breach_record(registry, commitment_id, provider.address)
    instruction = registry.sign_breach(provider, commitment_id, record, False)
    expect_revert(
        lambda: registry.relay_breach(gateway, commitment_id, record, False, instruction),
        "CommitmentNotDue",
        commitmentId=commitment_id,
        deadline=spec.deadline,
    )


def test_relayed_recording_needs_an_active_provider_signer(
    chain: Chain,
    stack: Stack,
    registry: CommitmentRegistry,
    governors: list[LocalAccount],
    provider: LocalAccount,
    auditor: LocalAccount,
    gateway: LocalAccount,
) -> None:
    """A non-provider signer, an altered input and a provider suspended since signing are refused by name."""
    spec = _spec(chain)
    by_auditor = registry.sign_record(auditor, spec)
    expect_revert(
        lambda: registry.relay_record(gateway, spec, by_auditor), "CommitmentNotProvider", account=auditor.address
    )
    good = registry.sign_record(provider, spec)
    later = replace(spec, deadline=spec.deadline + DAY)  # the gateway relays another due date than signed
    struct_hash = record_commitment_struct_hash(
        later.subject_tag, int(later.kind), later.doc_hash, later.term, later.deadline, good.nonce, good.deadline
    )
    recovered = recover_signer(registry.domain.digest(struct_hash), good.signature)
    assert recovered != provider.address
    expect_revert(lambda: registry.relay_record(gateway, later, good), "CommitmentNotProvider", account=recovered)
    govern(stack.consortium, governors, stack.consortium.suspend_call(provider.address))
    expect_revert(lambda: registry.relay_record(gateway, spec, good), "CommitmentNotProvider", account=provider.address)


def test_relayed_changes_need_the_department_signer(
    chain: Chain,
    registry: CommitmentRegistry,
    provider: LocalAccount,
    other_provider: LocalAccount,
    gateway: LocalAccount,
) -> None:
    """Another department's instruction, or a breach relayed with another flag than signed, is refused by name."""
    commitment_id, _ = registry.record(provider, _spec(chain))
    record = breach_record(registry, commitment_id, provider.address)
    for relay in (
        lambda: registry.relay_fulfil(gateway, commitment_id, registry.sign_fulfil(other_provider, commitment_id)),
        lambda: registry.relay_withdraw(gateway, commitment_id, registry.sign_withdraw(other_provider, commitment_id)),
        lambda: registry.relay_breach(
            gateway,
            commitment_id,
            record,
            True,
            registry.sign_breach(other_provider, commitment_id, record, True),
        ),
    ):
        expect_revert(relay, "CommitmentNotDepartment", commitmentId=commitment_id, account=other_provider.address)
    signed = registry.sign_breach(provider, commitment_id, record, False)
    struct_hash = breach_struct_hash(commitment_id, record.record_id, True, signed.nonce, signed.deadline)
    recovered = recover_signer(registry.domain.digest(struct_hash), signed.signature)
    assert recovered != provider.address
    expect_revert(
        lambda: registry.relay_breach(gateway, commitment_id, record, True, signed),
        "CommitmentNotDepartment",
        commitmentId=commitment_id,
        account=recovered,
    )


def test_a_breach_names_a_record_of_the_department_about_the_subject(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, gateway: LocalAccount
) -> None:
    """The chain computes the breach's recordId from the department and the commitment's subject, whatever is sent."""
    commitment_id, _ = registry.record(provider, _spec(chain))
    other_subject = breach_record(registry, commitment_id, provider.address, subject_tag=os.urandom(32))
    registry.breach(provider, commitment_id, other_subject, violation=True)
    stored = registry.commitment(commitment_id).breach_record_id
    # A leaf about another subject (or random bytes) cannot be named: the recordId stored is
    # that of the department's record about the commitment's own subject.
    own_subject = registry.commitment(commitment_id).subject_tag
    assert stored != other_subject.record_id
    assert stored == replace(other_subject, subject_tag=own_subject).computed_record_id()
    relayed, _ = registry.record(provider, _spec(chain))
    signed = registry.sign_breach(provider, relayed, other_subject, True)
    # Signed over the other subject's recordId, the instruction does not recover to the department.
    computed = replace(other_subject, subject_tag=registry.commitment(relayed).subject_tag).computed_record_id()
    struct_hash = breach_struct_hash(relayed, computed, True, signed.nonce, signed.deadline)
    recovered = recover_signer(registry.domain.digest(struct_hash), signed.signature)
    expect_revert(
        lambda: registry.relay_breach(gateway, relayed, other_subject, True, signed),
        "CommitmentNotDepartment",
        commitmentId=relayed,
        account=recovered,
    )


def test_a_suspended_department_takes_no_step_directly_or_relayed(
    chain: Chain,
    stack: Stack,
    registry: CommitmentRegistry,
    governors: list[LocalAccount],
    provider: LocalAccount,
    gateway: LocalAccount,
) -> None:
    """Fulfil, withdraw and breach by a suspended department revert, and so do its instructions signed before."""
    ids = [registry.record(provider, _spec(chain))[0] for _ in range(3)]
    record = breach_record(registry, ids[2], provider.address)
    nonce = registry.nonce(provider.address)
    signed_fulfil = registry.sign_fulfil(provider, ids[0], nonce=nonce)
    signed_withdraw = registry.sign_withdraw(provider, ids[1], nonce=nonce)
    signed_breach = registry.sign_breach(provider, ids[2], record, True, nonce=nonce)
    govern(stack.consortium, governors, stack.consortium.suspend_call(provider.address))
    for step in (
        lambda: registry.fulfil(provider, ids[0]),
        lambda: registry.withdraw(provider, ids[1]),
        lambda: registry.breach(provider, ids[2], record, violation=True),
        lambda: registry.relay_fulfil(gateway, ids[0], signed_fulfil),
        lambda: registry.relay_withdraw(gateway, ids[1], signed_withdraw),
        lambda: registry.relay_breach(gateway, ids[2], record, True, signed_breach),
    ):
        expect_revert(step, "CommitmentNotProvider", account=provider.address)
    assert [registry.commitment(i).status for i in ids] == [CommitmentStatus.PENDING] * 3
    govern(stack.consortium, governors, stack.consortium.reinstate_call(provider.address))
    registry.relay_fulfil(gateway, ids[0], signed_fulfil)
    assert registry.commitment(ids[0]).status == CommitmentStatus.FULFILLED


def test_relay_refusals(
    chain: Chain,
    stack: Stack,
    registry: CommitmentRegistry,
    governors: list[LocalAccount],
    provider: LocalAccount,
    gateway: LocalAccount,
) -> None:
    """A relay by a non-gateway or a suspended gateway, an expired instruction and a replayed one are refused."""
    commitment_id, _ = registry.record(provider, _spec(chain))
    past = chain.latest_timestamp() - 1
    expired = registry.sign_fulfil(provider, commitment_id, deadline=past)
    expect_revert(
        lambda: registry.relay_fulfil(gateway, commitment_id, expired), "CommitmentInstructionExpired", deadline=past
    )
    good = registry.sign_withdraw(provider, commitment_id)
    expect_revert(
        lambda: registry.relay_withdraw(provider, commitment_id, good),
        "CommitmentNotGateway",
        account=provider.address,
    )
    spec = _spec(chain)
    recorded = registry.sign_record(provider, spec, nonce=good.nonce + 1)
    registry.relay_withdraw(gateway, commitment_id, good)
    expect_revert(
        lambda: registry.relay_withdraw(gateway, commitment_id, good),
        "InvalidAccountNonce",
        account=provider.address,
        currentNonce=1,
    )
    govern(stack.consortium, governors, stack.consortium.suspend_call(gateway.address))
    expect_revert(
        lambda: registry.relay_record(gateway, spec, recorded), "CommitmentNotGateway", account=gateway.address
    )


def test_commitment_instruction_types_and_domain_are_the_contract_ones(
    chain: Chain, registry: CommitmentRegistry
) -> None:
    """The registry's typehashes and EIP-5267 domain ("CreditCommitments", "1") are what the client signs with."""
    functions = chain.contract("CommitmentRegistry", registry.address).functions
    for constant, type_string in [
        (functions.RECORD_COMMITMENT_TYPEHASH(), RECORD_COMMITMENT_TYPE),
        (functions.CALENDAR_REF_TYPEHASH(), CALENDAR_REF_TYPE),
        (functions.FULFIL_TYPEHASH(), FULFIL_TYPE),
        (functions.BREACH_TYPEHASH(), BREACH_TYPE),
        (functions.WITHDRAW_TYPEHASH(), WITHDRAW_TYPE),
    ]:
        assert bytes(chain.call(constant)) == keccak(type_string.encode()), type_string
    _, name, version, chain_id, verifying_contract, _, _ = chain.call(functions.eip712Domain())
    assert {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract} == (
        registry.domain.as_dict()
    )
    assert name == "CreditCommitments"


# ------------------------------------------------------------------ terms and calendars


def test_a_months_term_names_no_calendar(chain: Chain, registry: CommitmentRegistry, provider: LocalAccount) -> None:
    """A self-discipline commitment counted in months records without any calendar."""
    term = CommitmentTerm(dt.date(2031, 5, 6), Term(TermUnit.MONTHS, 12))
    commitment_id, _ = registry.record(provider, _spec(chain, kind=CommitmentKind.SELF_DISCIPLINE, term=term))
    assert registry.recorded_term(commitment_id)[0] == term


@pytest.mark.parametrize(
    "term",
    [
        CommitmentTerm(dt.date(2031, 5, 6), Term(TermUnit.MONTHS, 12), (CalendarRef(2031, 1),)),
        CommitmentTerm(dt.date(2026, 3, 2), Term(TermUnit.WORKING_DAYS, 7)),
        CommitmentTerm(dt.date(2024, 3, 2), Term(TermUnit.WORKING_DAYS, 7), (CalendarRef(2026, 1),)),
        CommitmentTerm(dt.date(2025, 12, 30), Term(TermUnit.WORKING_DAYS, 7), (CalendarRef(2026, 1),) * 2),
    ],
    ids=["months-with-calendar", "working-days-without", "calendar-of-another-year", "years-not-consecutive"],
)
def test_terms_that_do_not_fit_their_calendars_are_refused(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, term: CommitmentTerm
) -> None:
    """A term whose calendars do not fit its unit and acceptance day is refused with its fields."""
    expect_revert(
        lambda: registry.record(provider, _spec(chain, term=term)),
        "CommitmentInvalidTerm",
        acceptedOn=term.accepted_on_number,
        unit=int(term.term.unit),
        length=term.term.length,
    )


def test_a_term_must_name_the_latest_adopted_calendars(
    chain: Chain,
    stack: Stack,
    registry: CommitmentRegistry,
    provider: LocalAccount,
    governors: list[LocalAccount],
) -> None:
    """A year nobody adopted, a version never adopted, and a version since corrected are refused by name."""
    unadopted = CommitmentTerm(dt.date(2031, 12, 24), Term(TermUnit.WORKING_DAYS, 7), (CalendarRef(2031, 1),))
    expect_revert(
        lambda: registry.record(provider, _spec(chain, term=unadopted)),
        "CommitmentCalendarNotCurrent",
        year=2031,
        version=1,
        latestVersion=0,
    )
    future = replace(TERM_2026, calendars=(CalendarRef(2026, 2),))
    expect_revert(
        lambda: registry.record(provider, _spec(chain, term=future)),
        "CommitmentCalendarNotCurrent",
        year=2026,
        version=2,
        latestVersion=1,
    )
    calendar = stack.calendars.read(2026).calendar
    govern(
        stack.consortium,
        governors,
        stack.calendars.adopt_call(replace(calendar, title=calendar.title + " (corrected)")),
    )
    expect_revert(
        lambda: registry.record(provider, _spec(chain)),
        "CommitmentCalendarNotCurrent",
        year=2026,
        version=1,
        latestVersion=2,
    )
    registry.record(provider, _spec(chain, term=future))


def test_the_signed_term_is_the_relayed_term(
    chain: Chain, registry: CommitmentRegistry, provider: LocalAccount, gateway: LocalAccount
) -> None:
    """A gateway relaying another acceptance day or term length than signed acts for nobody the chain knows."""
    spec = _spec(chain)
    good = registry.sign_record(provider, spec)
    for changed in (
        replace(spec.term, accepted_on=dt.date(2026, 3, 3)),
        replace(spec.term, term=Term(TermUnit.WORKING_DAYS, 8)),
    ):
        relayed = replace(spec, term=changed)
        struct_hash = record_commitment_struct_hash(
            spec.subject_tag, int(spec.kind), spec.doc_hash, changed, spec.deadline, good.nonce, good.deadline
        )
        recovered = recover_signer(registry.domain.digest(struct_hash), good.signature)
        expect_revert(
            lambda r=relayed: registry.relay_record(gateway, r, good), "CommitmentNotProvider", account=recovered
        )
