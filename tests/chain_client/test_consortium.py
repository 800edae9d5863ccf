"""The Consortium contract through its Python wrapper, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from chain_client import (
    Call,
    Chain,
    Consortium,
    Devnet,
    MemberSpec,
    Role,
    Stack,
    deploy_stack,
    shipped_calendars,
)
from tests.chain_client.conftest import govern
from tests.support.reverts import expect_revert

LIFETIME = 7 * 24 * 3600


@pytest.fixture
def consortium(stack: Stack) -> Consortium:
    return stack.consortium


def newcomer_spec(**overrides: Any) -> MemberSpec:
    fields: dict[str, Any] = {
        "account": Account.create().address,
        "region": 110000,
        "name": "北京市生态环境局",
        "roles": (Role.PROVIDER,),
        "gateway_url": "",
    }
    fields.update(overrides)
    return MemberSpec(**fields)


# ------------------------------------------------------------------ deployment


def test_deployment_holds_the_founding_members(consortium: Consortium, devnet: Devnet) -> None:
    """The demo deployment admits every founding member with its region, name, roles and URL."""
    members = consortium.members()
    assert [m.account for m in members] == [d.account.address for d in devnet.accounts]
    for member, dev in zip(members, devnet.accounts, strict=True):
        assert (member.region, member.name, member.gateway_url) == (dev.region, dev.name, dev.gateway_url)
        assert member.roles == frozenset(dev.roles)
        assert member.active
        assert member.admitted_at > 0


def test_deployment_sets_threshold_and_lifetime(consortium: Consortium) -> None:
    """The founding threshold, governor count and proposal lifetime are as deployed; the demo deployment's
    only proposals are the adoptions of the shipped calendars, all executed."""
    assert consortium.threshold() == 2
    assert consortium.active_governor_count() == 3
    assert consortium.proposal_lifetime() == LIFETIME
    adoptions = len(shipped_calendars())
    assert consortium.proposal_count() == adoptions
    assert all(consortium.proposal(i).executed for i in range(1, adoptions + 1))


@pytest.mark.parametrize(
    ("threshold", "lifetime", "members_change", "error", "arguments"),
    [
        (0, LIFETIME, None, "ConsortiumInvalidThreshold", {"threshold": 0, "activeGovernors": 3}),
        (4, LIFETIME, None, "ConsortiumInvalidThreshold", {"threshold": 4, "activeGovernors": 3}),
        (2, 0, None, "ConsortiumInvalidLifetime", {"lifetime": 0}),
        (2, LIFETIME, "duplicate", "ConsortiumAlreadyMember", None),
        (2, LIFETIME, "zero", "ConsortiumZeroAddress", {}),
        (2, LIFETIME, "region", "ConsortiumInvalidRegion", {"region": 99999}),
        (2, LIFETIME, "name", "ConsortiumEmptyName", {}),
        (2, LIFETIME, "role", "ConsortiumUnknownRole", None),
    ],
)
def test_deployment_refuses_bad_founding_parameters(
    chain: Chain,
    devnet: Devnet,
    threshold: int,
    lifetime: int,
    members_change: str | None,
    error: str,
    arguments: dict[str, Any] | None,
) -> None:
    """A constructor with a bad threshold, lifetime or member reverts with the named error."""
    governors = devnet.with_role(Role.GOVERNOR)
    members = [MemberSpec(g.account.address, g.region, g.name, g.roles) for g in governors]
    extra = governors[0].account.address
    if members_change == "duplicate":
        members.append(MemberSpec(extra, 110000, "again", (Role.PROVIDER,)))
        arguments = {"account": extra}
    elif members_change == "zero":
        members.append(MemberSpec("0x" + "00" * 20, 110000, "nobody", ()))  # type: ignore[arg-type]
    elif members_change == "region":
        members.append(newcomer_spec(region=99999))
    elif members_change == "name":
        members.append(newcomer_spec(name=""))
    elif members_change == "role":
        spec = newcomer_spec()
        args = [(m.account, m.region, m.name, m.gateway_url, [r.id for r in m.roles]) for m in members]
        args.append((spec.account, spec.region, spec.name, "", [keccak(text="MAYOR_ROLE")]))
        deployer = governors[0].account
        expect_revert(
            lambda: chain.deploy(deployer, "Consortium", args, threshold, lifetime),
            error,
            role=keccak(text="MAYOR_ROLE"),
        )
        return
    assert arguments is not None
    expect_revert(
        lambda: deploy_stack(chain, governors[0].account, members, threshold=threshold, proposal_lifetime=lifetime),
        error,
        **arguments,
    )


# ------------------------------------------------------------------- proposals


def test_propose_records_the_call_and_counts_the_proposer(
    chain: Chain, consortium: Consortium, governors: list[LocalAccount]
) -> None:
    """propose stores the target and calldata hash, emits the calldata, and approves for the proposer."""
    call = consortium.set_threshold_call(3)
    before = consortium.proposal_count()
    proposal_id, receipt = consortium.propose(governors[0], call)
    assert proposal_id == before + 1 == consortium.proposal_count()
    proposal = consortium.proposal(proposal_id)
    assert proposal.target == consortium.address
    assert proposal.data_hash == keccak(call.data)
    assert proposal.approvers == (governors[0].address,)
    assert proposal.proposer == governors[0].address
    assert not proposal.executed
    block_time = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert proposal.expires_at == block_time + LIFETIME
    events = consortium.events(receipt)
    assert [e.name for e in events] == ["ProposalCreated", "ProposalApproved"]
    assert events[0].args == {
        "proposalId": proposal_id,
        "proposer": governors[0].address,
        "target": consortium.address,
        "data": call.data,
        "expiresAt": proposal.expires_at,
    }
    assert consortium.proposed_call(proposal_id) == call
    assert consortium.approval_count(proposal_id) == 1


def test_propose_is_refused_to_non_governors(consortium: Consortium, provider: LocalAccount) -> None:
    """A member without the GOVERNOR role cannot propose."""
    expect_revert(
        lambda: consortium.propose(provider, consortium.set_threshold_call(1)),
        "ConsortiumNotGovernor",
        account=provider.address,
    )


def test_propose_is_refused_for_a_target_without_code(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """A proposal must call a contract, not an externally owned account."""
    target = Account.create().address
    expect_revert(
        lambda: consortium.propose(governors[0], Call(target, b"\x00")), "ConsortiumInvalidTarget", target=target
    )


def test_approve_adds_an_approval(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """A second governor's approval is recorded and emitted."""
    proposal_id, _ = consortium.propose(governors[0], consortium.set_threshold_call(3))
    receipt = consortium.approve(governors[1], proposal_id)
    assert [(e.name, e.args) for e in consortium.events(receipt)] == [
        ("ProposalApproved", {"proposalId": proposal_id, "governor": governors[1].address})
    ]
    assert consortium.proposal(proposal_id).approvers == (governors[0].address, governors[1].address)
    assert consortium.approval_count(proposal_id) == 2


def test_approve_twice_is_refused(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """A governor approves a proposal once; the proposer has already approved."""
    proposal_id, _ = consortium.propose(governors[0], consortium.set_threshold_call(3))
    expect_revert(
        lambda: consortium.approve(governors[0], proposal_id),
        "ConsortiumAlreadyApproved",
        proposalId=proposal_id,
        governor=governors[0].address,
    )
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.approve(governors[1], proposal_id),
        "ConsortiumAlreadyApproved",
        proposalId=proposal_id,
        governor=governors[1].address,
    )


def test_approve_of_an_unknown_proposal_is_refused(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """Approving, executing or reading a proposal id never made is refused."""
    expect_revert(lambda: consortium.approve(governors[0], 7), "ConsortiumUnknownProposal", proposalId=7)
    expect_revert(lambda: consortium.execute(governors[0], 7, b""), "ConsortiumUnknownProposal", proposalId=7)
    expect_revert(lambda: consortium.proposal(7), "ConsortiumUnknownProposal", proposalId=7)
    expect_revert(lambda: consortium.approval_count(7), "ConsortiumUnknownProposal", proposalId=7)


def test_approve_is_refused_to_non_governors(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount
) -> None:
    """A member without the GOVERNOR role cannot approve."""
    proposal_id, _ = consortium.propose(governors[0], consortium.set_threshold_call(3))
    expect_revert(lambda: consortium.approve(provider, proposal_id), "ConsortiumNotGovernor", account=provider.address)


def test_execute_runs_the_call_once_the_threshold_is_met(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """With k approvals, execute makes the call and marks the proposal executed."""
    call = consortium.set_threshold_call(3)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    receipt = consortium.execute(governors[2], proposal_id, call.data)
    names = [e.name for e in consortium.events(receipt)]
    assert names == ["ThresholdChanged", "ProposalExecuted"]
    assert consortium.threshold() == 3
    assert consortium.proposal(proposal_id).executed


def test_execute_reads_the_calldata_from_the_event_when_not_given(
    consortium: Consortium, governors: list[LocalAccount]
) -> None:
    """The wrapper fetches a proposal's calldata from its ProposalCreated event."""
    proposal_id, _ = consortium.propose(governors[0], consortium.set_threshold_call(1))
    consortium.approve(governors[1], proposal_id)
    consortium.execute(governors[1], proposal_id)
    assert consortium.threshold() == 1


def test_execute_below_the_threshold_is_refused(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """One approval out of a threshold of two does not execute."""
    call = consortium.set_threshold_call(3)
    proposal_id, _ = consortium.propose(governors[0], call)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumInsufficientApprovals",
        proposalId=proposal_id,
        approvals=1,
        threshold=2,
    )


def test_execute_with_other_calldata_is_refused(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """The executor must pass exactly the proposed calldata."""
    call = consortium.set_threshold_call(3)
    other = consortium.set_threshold_call(1)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, other.data),
        "ConsortiumProposalDataMismatch",
        proposalId=proposal_id,
        expected=keccak(call.data),
        given=keccak(other.data),
    )


def test_execute_twice_is_refused(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """A proposal executes once; approving or executing it again is refused."""
    call = consortium.set_gateway_url_call(governors[0].address, "https://bj.example/gw")
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    consortium.execute(governors[0], proposal_id, call.data)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumProposalAlreadyExecuted",
        proposalId=proposal_id,
    )
    expect_revert(
        lambda: consortium.approve(governors[2], proposal_id),
        "ConsortiumProposalAlreadyExecuted",
        proposalId=proposal_id,
    )


def test_execute_is_refused_to_non_governors(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount
) -> None:
    """Only a governor executes a proposal."""
    call = consortium.set_threshold_call(3)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(provider, proposal_id, call.data), "ConsortiumNotGovernor", account=provider.address
    )


def test_expired_proposal_cannot_be_approved_or_executed(
    chain: Chain, consortium: Consortium, governors: list[LocalAccount]
) -> None:
    """After its lifetime a proposal can neither be approved nor executed."""
    call = consortium.set_threshold_call(3)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expires_at = consortium.proposal(proposal_id).expires_at
    chain.increase_time(LIFETIME + 1)
    expect_revert(
        lambda: consortium.approve(governors[2], proposal_id),
        "ConsortiumProposalExpired",
        proposalId=proposal_id,
        expiresAt=expires_at,
    )
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumProposalExpired",
        proposalId=proposal_id,
        expiresAt=expires_at,
    )
    assert consortium.threshold() == 2


def test_a_failing_call_leaves_the_proposal_pending(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """execute reverts with the target's own error and the proposal stays executable later."""
    call = consortium.reinstate_call(governors[2].address)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumMemberActive",
        account=governors[2].address,
    )
    assert not consortium.proposal(proposal_id).executed


# ---------------------------------------------------------- threshold edges


def test_threshold_of_one_lets_a_single_governor_act(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """With k=1 the proposer's own approval is enough to execute."""
    govern(consortium, governors, consortium.set_threshold_call(1))
    spec = newcomer_spec()
    call = consortium.admit_call(spec)
    proposal_id, _ = consortium.propose(governors[2], call)
    consortium.execute(governors[2], proposal_id, call.data)
    assert consortium.is_member(spec.account)


def test_threshold_of_all_governors_needs_every_approval(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """With k=n two approvals of three are not enough, three are."""
    govern(consortium, governors, consortium.set_threshold_call(3))
    call = consortium.set_threshold_call(2)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumInsufficientApprovals",
        proposalId=proposal_id,
        approvals=2,
        threshold=3,
    )
    consortium.approve(governors[2], proposal_id)
    consortium.execute(governors[0], proposal_id, call.data)
    assert consortium.threshold() == 2


@pytest.mark.parametrize("threshold", [0, 4])
def test_threshold_outside_one_to_governor_count_is_refused(
    consortium: Consortium, governors: list[LocalAccount], threshold: int
) -> None:
    """A threshold of zero, or above the number of active governors, is refused."""
    call = consortium.set_threshold_call(threshold)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumInvalidThreshold",
        threshold=threshold,
        activeGovernors=3,
    )


def test_suspended_governor_cannot_approve(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """A suspended governor's approval is refused."""
    govern(consortium, governors, consortium.suspend_call(governors[2].address))
    proposal_id, _ = consortium.propose(governors[0], consortium.set_threshold_call(1))
    expect_revert(
        lambda: consortium.approve(governors[2], proposal_id), "ConsortiumNotGovernor", account=governors[2].address
    )


def test_approval_of_a_governor_suspended_later_does_not_count(
    consortium: Consortium, governors: list[LocalAccount]
) -> None:
    """Approvals are counted at execution, among governors still active."""
    call = consortium.set_gateway_url_call(governors[0].address, "https://bj.example/gw")
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[2], proposal_id)
    assert consortium.approval_count(proposal_id) == 2
    suspend = consortium.suspend_call(governors[2].address)
    suspend_id, _ = consortium.propose(governors[0], suspend)
    consortium.approve(governors[1], suspend_id)
    consortium.execute(governors[1], suspend_id, suspend.data)
    assert consortium.approval_count(proposal_id) == 1
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumInsufficientApprovals",
        proposalId=proposal_id,
        approvals=1,
        threshold=2,
    )
    consortium.approve(governors[1], proposal_id)
    consortium.execute(governors[0], proposal_id, call.data)
    assert consortium.member(governors[0].address).gateway_url == "https://bj.example/gw"


def test_suspending_below_the_threshold_is_refused(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """The consortium refuses to leave fewer active governors than its threshold."""
    govern(consortium, governors, consortium.suspend_call(governors[2].address))
    call = consortium.suspend_call(governors[1].address)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumThresholdUnreachable",
        threshold=2,
        activeGovernorsAfter=1,
    )


def test_revoking_governor_below_the_threshold_is_refused(
    consortium: Consortium, governors: list[LocalAccount]
) -> None:
    """Taking the GOVERNOR role away is refused when it would strand the threshold."""
    govern(consortium, governors, consortium.set_threshold_call(3))
    call = consortium.revoke_role_call(governors[2].address, Role.GOVERNOR)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    consortium.approve(governors[2], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumThresholdUnreachable",
        threshold=3,
        activeGovernorsAfter=2,
    )


# ------------------------------------------------------- governance functions


@pytest.mark.parametrize(
    "build",
    [
        lambda c, a: c.admit_call(newcomer_spec()),
        lambda c, a: c.suspend_call(a),
        lambda c, a: c.reinstate_call(a),
        lambda c, a: c.grant_role_call(a, Role.AUDITOR),
        lambda c, a: c.revoke_role_call(a, Role.PROVIDER),
        lambda c, a: c.set_gateway_url_call(a, "https://x.example"),
        lambda c, a: c.set_threshold_call(1),
    ],
    ids=["admit", "suspend", "reinstate", "grantRole", "revokeRole", "setGatewayUrl", "setThreshold"],
)
def test_governance_functions_refuse_direct_calls(
    chain: Chain,
    consortium: Consortium,
    governors: list[LocalAccount],
    provider: LocalAccount,
    build: Callable[[Consortium, str], Call],
) -> None:
    """Every governance function can only be reached through an executed proposal."""
    call = build(consortium, provider.address)
    tx = {
        "from": governors[0].address,
        "to": consortium.address,
        "data": call.data,
        "nonce": chain.w3.eth.get_transaction_count(governors[0].address),
        "chainId": chain.chain_id,
        "gas": 500_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    expect_revert(
        lambda: chain.send(governors[0], tx),  # type: ignore[arg-type]
        "ConsortiumOnlyThroughProposal",
        caller=governors[0].address,
    )


def test_admit_adds_a_member_with_roles(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """An admitted member is active, holds its roles, and is listed last."""
    spec = newcomer_spec(roles=(Role.PROVIDER, Role.AUDITOR), gateway_url="https://eco.example")
    call = consortium.admit_call(spec)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    receipt = consortium.execute(governors[0], proposal_id, call.data)
    events = consortium.events(receipt)
    assert [e.name for e in events] == [
        "MemberAdmitted",
        "RoleGranted",
        "RoleGranted",
        "GatewayUrlSet",
        "ProposalExecuted",
    ]
    assert events[0].args == {
        "account": spec.account,
        "region": 110000,
        "name": spec.name,
        "roles": [Role.PROVIDER.id, Role.AUDITOR.id],
    }
    member = consortium.members()[-1]
    assert member.account == spec.account
    assert member.roles == {Role.PROVIDER, Role.AUDITOR}
    assert member.gateway_url == "https://eco.example"
    assert consortium.has_role(Role.PROVIDER, spec.account)
    assert consortium.has_role(Role.AUDITOR, spec.account)
    assert not consortium.has_role(Role.GOVERNOR, spec.account)


@pytest.mark.parametrize(
    ("spec_change", "error"),
    [
        ("existing", "ConsortiumAlreadyMember"),
        ("zero", "ConsortiumZeroAddress"),
        ("region", "ConsortiumInvalidRegion"),
        ("name", "ConsortiumEmptyName"),
        ("duplicate_role", "ConsortiumRoleAlreadyGranted"),
    ],
)
def test_admit_refuses_bad_members(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount, spec_change: str, error: str
) -> None:
    """Admitting an existing member, the zero address, a bad region or name, or a role twice is refused."""
    spec = {
        "existing": newcomer_spec(account=provider.address),
        "zero": newcomer_spec(account="0x" + "00" * 20),
        "region": newcomer_spec(region=1000000),
        "name": newcomer_spec(name=""),
        "duplicate_role": newcomer_spec(roles=(Role.PROVIDER, Role.PROVIDER)),
    }[spec_change]
    arguments = {
        "existing": {"account": provider.address},
        "zero": {},
        "region": {"region": 1000000},
        "name": {},
        "duplicate_role": {"account": spec.account, "role": Role.PROVIDER.id},
    }[spec_change]
    call = consortium.admit_call(spec)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(lambda: consortium.execute(governors[0], proposal_id, call.data), error, **arguments)


def test_admit_refuses_an_unknown_role(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """A role that is not one of the five consortium roles is refused."""
    spec = newcomer_spec()
    data = consortium._contract.encode_abi(
        "admit", args=[spec.account, spec.region, spec.name, "", [keccak(text="MAYOR_ROLE")]]
    )
    call = Call(consortium.address, bytes.fromhex(data[2:]))
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data),
        "ConsortiumUnknownRole",
        role=keccak(text="MAYOR_ROLE"),
    )


def test_suspend_and_reinstate_a_member(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount
) -> None:
    """A suspended member holds no role but stays a member; reinstating restores its roles."""
    govern(consortium, governors, consortium.suspend_call(provider.address))
    assert not consortium.has_role(Role.PROVIDER, provider.address)
    assert consortium.is_member(provider.address)
    member = consortium.member(provider.address)
    assert not member.active
    assert member.roles == {Role.PROVIDER, Role.REGISTRAR}  # Beijing market regulation registers companies
    govern(consortium, governors, consortium.reinstate_call(provider.address))
    assert consortium.has_role(Role.PROVIDER, provider.address)


def test_suspend_and_reinstate_a_governor_keep_the_governor_count(
    consortium: Consortium, governors: list[LocalAccount]
) -> None:
    """Suspending a governor lowers the active-governor count; reinstating raises it again."""
    govern(consortium, governors, consortium.suspend_call(governors[2].address))
    assert consortium.active_governor_count() == 2
    govern(consortium, governors, consortium.reinstate_call(governors[2].address))
    assert consortium.active_governor_count() == 3


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ("suspend_suspended", "ConsortiumMemberSuspended"),
        ("reinstate_active", "ConsortiumMemberActive"),
        ("suspend_stranger", "ConsortiumNotMember"),
        ("reinstate_stranger", "ConsortiumNotMember"),
        ("grant_stranger", "ConsortiumNotMember"),
        ("revoke_stranger", "ConsortiumNotMember"),
        ("url_stranger", "ConsortiumNotMember"),
    ],
)
def test_membership_changes_refuse_wrong_states(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount, action: str, error: str
) -> None:
    """Suspending twice, reinstating an active member, or changing a non-member is refused."""
    stranger = Account.create().address
    if action == "suspend_suspended":
        govern(consortium, governors, consortium.suspend_call(provider.address))
    call, account = {
        "suspend_suspended": (consortium.suspend_call(provider.address), provider.address),
        "reinstate_active": (consortium.reinstate_call(provider.address), provider.address),
        "suspend_stranger": (consortium.suspend_call(stranger), stranger),
        "reinstate_stranger": (consortium.reinstate_call(stranger), stranger),
        "grant_stranger": (consortium.grant_role_call(stranger, Role.AUDITOR), stranger),
        "revoke_stranger": (consortium.revoke_role_call(stranger, Role.AUDITOR), stranger),
        "url_stranger": (consortium.set_gateway_url_call(stranger, "https://x.example"), stranger),
    }[action]
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(lambda: consortium.execute(governors[0], proposal_id, call.data), error, account=account)


def test_grant_and_revoke_a_role(consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount) -> None:
    """A granted role is held and emitted; a revoked one is gone."""
    call = consortium.grant_role_call(provider.address, Role.AUDITOR)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    receipt = consortium.execute(governors[0], proposal_id, call.data)
    assert consortium.events(receipt)[0].args == {"account": provider.address, "role": Role.AUDITOR.id}
    assert consortium.has_role(Role.AUDITOR, provider.address)
    govern(consortium, governors, consortium.revoke_role_call(provider.address, Role.AUDITOR))
    assert not consortium.has_role(Role.AUDITOR, provider.address)
    assert consortium.has_role(Role.PROVIDER, provider.address)


def test_granting_governor_raises_the_governor_count(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount
) -> None:
    """A new governor counts towards thresholds at once and can approve."""
    govern(consortium, governors, consortium.grant_role_call(provider.address, Role.GOVERNOR))
    assert consortium.active_governor_count() == 4
    govern(consortium, governors, consortium.set_threshold_call(4))
    assert consortium.threshold() == 4


@pytest.mark.parametrize(
    ("action", "error"),
    [("grant_held", "ConsortiumRoleAlreadyGranted"), ("revoke_missing", "ConsortiumRoleNotGranted")],
)
def test_role_changes_refuse_held_or_missing_roles(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount, action: str, error: str
) -> None:
    """Granting a held role or revoking a missing one is refused."""
    call, role = {
        "grant_held": (consortium.grant_role_call(provider.address, Role.PROVIDER), Role.PROVIDER),
        "revoke_missing": (consortium.revoke_role_call(provider.address, Role.AUDITOR), Role.AUDITOR),
    }[action]
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(
        lambda: consortium.execute(governors[0], proposal_id, call.data), error, account=provider.address, role=role.id
    )


@pytest.mark.parametrize("function", ["grantRole", "revokeRole"])
def test_role_changes_refuse_unknown_roles(
    consortium: Consortium, governors: list[LocalAccount], provider: LocalAccount, function: str
) -> None:
    """Only the five consortium roles can be granted or revoked."""
    mayor = keccak(text="MAYOR_ROLE")
    data = consortium._contract.encode_abi(function, args=[provider.address, mayor])
    call = Call(consortium.address, bytes.fromhex(data[2:]))
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    expect_revert(lambda: consortium.execute(governors[0], proposal_id, call.data), "ConsortiumUnknownRole", role=mayor)


def test_set_gateway_url(consortium: Consortium, governors: list[LocalAccount], devnet: Devnet) -> None:
    """A gateway's URL is changed by proposal and emitted."""
    gateway = devnet.by_label("gateway-tianjin").account.address
    call = consortium.set_gateway_url_call(gateway, "https://tj.example/credit")
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    receipt = consortium.execute(governors[0], proposal_id, call.data)
    assert consortium.events(receipt)[0].args == {"account": gateway, "url": "https://tj.example/credit"}
    assert consortium.member(gateway).gateway_url == "https://tj.example/credit"


def test_set_threshold_emits_the_change(consortium: Consortium, governors: list[LocalAccount]) -> None:
    """ThresholdChanged carries the previous and the new threshold."""
    call = consortium.set_threshold_call(3)
    proposal_id, _ = consortium.propose(governors[0], call)
    consortium.approve(governors[1], proposal_id)
    receipt = consortium.execute(governors[0], proposal_id, call.data)
    assert consortium.events(receipt)[0].args == {"previousThreshold": 2, "newThreshold": 3}


# ------------------------------------------------------------------------ views


def test_member_of_a_stranger_is_refused(consortium: Consortium) -> None:
    """Reading a non-member's record reverts with ConsortiumNotMember."""
    stranger = Account.create().address
    expect_revert(lambda: consortium.member(stranger), "ConsortiumNotMember", account=stranger)
    assert not consortium.is_member(stranger)
    assert not consortium.has_role(Role.PROVIDER, stranger)


def test_member_index_out_of_range_panics(chain: Chain, consortium: Consortium) -> None:
    """memberAt past the end reverts with Panic 0x32, decoded the same on every node."""
    contract = chain.contract("Consortium", consortium.address)
    expect_revert(lambda: chain.call(contract.functions.memberAt(99)), "Panic", code=0x32)
