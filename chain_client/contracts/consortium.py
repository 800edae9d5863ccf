"""Typed wrapper over the Consortium contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3.logs import DISCARD
from web3.types import TxReceipt

from chain_client._errors import ChainClientError
from chain_client.contracts.chain import Chain, Event
from chain_client.spec.roles import Role

CONTRACT_NAME = "Consortium"
DEFAULT_PROPOSAL_LIFETIME = 7 * 24 * 3600  # a week for the other regions to approve


@dataclass(frozen=True)
class MemberSpec:
    """A member to admit: at deployment or through an admit proposal."""

    account: ChecksumAddress
    region: int
    name: str
    roles: tuple[Role, ...]
    gateway_url: str = ""


@dataclass(frozen=True)
class Member:
    """A member as the chain holds it."""

    account: ChecksumAddress
    region: int
    name: str
    gateway_url: str
    active: bool
    admitted_at: int
    roles: frozenset[Role]


@dataclass(frozen=True)
class Call:
    """A call the consortium makes once a proposal is approved."""

    target: ChecksumAddress
    data: bytes


@dataclass(frozen=True)
class Proposal:
    """A threshold proposal as the chain holds it."""

    proposal_id: int
    target: ChecksumAddress
    expires_at: int
    executed: bool
    data_hash: bytes
    approvers: tuple[ChecksumAddress, ...]

    @property
    def proposer(self) -> ChecksumAddress:
        """The governor who proposed it (its first approver)."""
        return self.approvers[0]


class Consortium:
    """Members, roles and k-of-n proposals on chain.

    Governance changes are built as Call values (`admit_call`, `suspend_call`, ...),
    proposed, approved and executed by governors; `govern` does all three for scripts.
    """

    def __init__(self, chain: Chain, address: ChecksumAddress) -> None:
        self.chain = chain
        self.address = address
        self._contract = chain.contract(CONTRACT_NAME, address)

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        deployer: LocalAccount,
        members: Sequence[MemberSpec],
        *,
        threshold: int,
        proposal_lifetime: int = DEFAULT_PROPOSAL_LIFETIME,
    ) -> tuple[Consortium, TxReceipt]:
        """Deploy a consortium with its founding members."""
        initial = [(m.account, m.region, m.name, m.gateway_url, [r.id for r in m.roles]) for m in members]
        address, receipt = chain.deploy(deployer, CONTRACT_NAME, initial, threshold, proposal_lifetime)
        return cls(chain, address), receipt

    # ------------------------------------------------------------- calls to make

    def admit_call(self, member: MemberSpec) -> Call:
        """Admit a new member."""
        return self._call(
            "admit", member.account, member.region, member.name, member.gateway_url, [r.id for r in member.roles]
        )

    def suspend_call(self, account: ChecksumAddress) -> Call:
        """Suspend a member."""
        return self._call("suspend", account)

    def reinstate_call(self, account: ChecksumAddress) -> Call:
        """Reinstate a suspended member."""
        return self._call("reinstate", account)

    def grant_role_call(self, account: ChecksumAddress, role: Role) -> Call:
        """Grant a role to a member."""
        return self._call("grantRole", account, role.id)

    def revoke_role_call(self, account: ChecksumAddress, role: Role) -> Call:
        """Revoke a role from a member."""
        return self._call("revokeRole", account, role.id)

    def set_gateway_url_call(self, account: ChecksumAddress, url: str) -> Call:
        """Set a member's gateway URL."""
        return self._call("setGatewayUrl", account, url)

    def set_threshold_call(self, threshold: int) -> Call:
        """Change the number of approvals a proposal needs."""
        return self._call("setThreshold", threshold)

    # ----------------------------------------------------------------- proposals

    def propose(self, governor: LocalAccount, call: Call) -> tuple[int, TxReceipt]:
        """Propose call; returns the new proposal's id and the receipt."""
        receipt = self.chain.transact(governor, self._contract.functions.propose(call.target, call.data))
        (event,) = self._contract.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["proposalId"]), receipt

    def approve(self, governor: LocalAccount, proposal_id: int) -> TxReceipt:
        """Approve a proposal."""
        return self.chain.transact(governor, self._contract.functions.approve(proposal_id))

    def execute(self, governor: LocalAccount, proposal_id: int, data: bytes | None = None) -> TxReceipt:
        """Execute a proposal that has enough approvals (its calldata read from the chain when not given)."""
        calldata = self.proposed_call(proposal_id).data if data is None else data
        return self.chain.transact(governor, self._contract.functions.execute(proposal_id, calldata))

    def govern(self, governors: Sequence[LocalAccount], call: Call) -> TxReceipt:
        """Propose with the first governor, approve with the others, execute; the execute receipt."""
        proposal_id, _ = self.propose(governors[0], call)
        for governor in governors[1:]:
            self.approve(governor, proposal_id)
        return self.execute(governors[0], proposal_id, call.data)

    def proposed_call(self, proposal_id: int) -> Call:
        """The call a proposal makes, read from its ProposalCreated event."""
        created = self._contract.events.ProposalCreated()
        logs = created.get_logs(argument_filters={"proposalId": proposal_id}, from_block=0)
        if not logs:
            raise ChainClientError(f"no ProposalCreated event for proposal {proposal_id}")
        args = logs[0]["args"]
        return Call(target=args["target"], data=bytes(args["data"]))

    # --------------------------------------------------------------------- views

    def has_role(self, role: Role, account: ChecksumAddress, *, block: int | None = None) -> bool:
        """Whether account is an active member holding role (now, or at an older block)."""
        return bool(self.chain.call(self._contract.functions.hasRole(role.id, account), block=block))

    def is_member(self, account: ChecksumAddress) -> bool:
        """Whether account has been admitted (it may be suspended)."""
        return bool(self.chain.call(self._contract.functions.isMember(account)))

    def member(self, account: ChecksumAddress) -> Member:
        """A member's record and roles; ContractRevertError ConsortiumNotMember otherwise."""
        region, active, admitted_at, name, gateway_url = self.chain.call(self._contract.functions.getMember(account))
        roles = frozenset(
            role for role in Role if self.chain.call(self._contract.functions.roleAssigned(role.id, account))
        )
        return Member(account, int(region), str(name), str(gateway_url), bool(active), int(admitted_at), roles)

    def members(self) -> list[Member]:
        """Every member, in admission order."""
        count = int(self.chain.call(self._contract.functions.memberCount()))
        return [self.member(self.chain.call(self._contract.functions.memberAt(i))) for i in range(count)]

    def threshold(self) -> int:
        """Approvals a proposal needs."""
        return int(self.chain.call(self._contract.functions.threshold()))

    def active_governor_count(self) -> int:
        """Active members holding the GOVERNOR role."""
        return int(self.chain.call(self._contract.functions.activeGovernorCount()))

    def proposal_lifetime(self) -> int:
        """Seconds a proposal stays open."""
        return int(self.chain.call(self._contract.functions.proposalLifetime()))

    def proposal_count(self) -> int:
        """Proposals made so far."""
        return int(self.chain.call(self._contract.functions.proposalCount()))

    def proposal(self, proposal_id: int) -> Proposal:
        """A proposal; ContractRevertError ConsortiumUnknownProposal for unknown ids."""
        target, expires_at, executed, data_hash, approvers = self.chain.call(
            self._contract.functions.getProposal(proposal_id)
        )
        return Proposal(proposal_id, target, int(expires_at), bool(executed), bytes(data_hash), tuple(approvers))

    def approval_count(self, proposal_id: int) -> int:
        """Approvals that count now (of governors still active)."""
        return int(self.chain.call(self._contract.functions.approvalCount(proposal_id)))

    def events(self, receipt: TxReceipt) -> list[Event]:
        """The consortium's events in a receipt, decoded, in log order."""
        return self.chain.decode_events(self._contract, receipt)

    # ------------------------------------------------------------------ internal

    def _call(self, function: str, *args: object) -> Call:
        data = self._contract.encode_abi(function, args=list(args))
        return Call(self.address, bytes.fromhex(data.removeprefix("0x")))
