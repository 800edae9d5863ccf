// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IConsortium
/// @notice Membership of the credit-ledger consortium: the chain accounts of regional
/// credit centres, departments, auditors and gateways, each with a GB/T 2260 region code
/// and a set of roles. Every change is made by a proposal that a threshold (k of n) of
/// active governors approves, so that no single region controls the consortium. The same
/// proposal mechanism governs other contracts (the catalog) by calling them.
interface IConsortium {
    /// @notice A member as stored on chain.
    /// @param region GB/T 2260 six-digit administrative division code (110000 Beijing).
    /// @param active False while the member is suspended; a suspended member holds no role.
    /// @param admittedAt Block time of admission.
    /// @param name Human-readable name of the organisation.
    /// @param gatewayUrl Base URL of the member's gateway, empty when it runs none.
    struct Member {
        uint32 region;
        bool active;
        uint64 admittedAt;
        string name;
        string gatewayUrl;
    }

    /// @notice A member to create at deployment.
    struct InitialMember {
        address account;
        uint32 region;
        string name;
        string gatewayUrl;
        bytes32[] roles;
    }

    /// @notice A threshold proposal: a call that the consortium makes once approved.
    /// @dev Only the calldata's hash is stored; the calldata itself is in the
    /// ProposalCreated event and is passed again to execute (as OpenZeppelin's Governor
    /// does), which keeps proposing cheap whatever the size of the call. The proposer is
    /// the first approver. Target, expiry and the executed flag share one storage slot.
    /// @param target Contract to call: the consortium itself or a contract it governs.
    /// @param expiresAt Block time after which it can no longer be approved or executed.
    /// @param executed True once executed; a proposal executes at most once.
    /// @param dataHash keccak256 of the calldata.
    /// @param approvers Governors who approved it, in order; the first is the proposer.
    struct Proposal {
        address target;
        uint64 expiresAt;
        bool executed;
        bytes32 dataHash;
        address[] approvers;
    }

    /// @notice Emitted when an account becomes a member.
    event MemberAdmitted(address indexed account, uint32 indexed region, string name, bytes32[] roles);
    /// @notice Emitted when a member is suspended: it holds no role until reinstated.
    event MemberSuspended(address indexed account);
    /// @notice Emitted when a suspended member is reinstated.
    event MemberReinstated(address indexed account);
    /// @notice Emitted when a member is given a role.
    event RoleGranted(address indexed account, bytes32 indexed role);
    /// @notice Emitted when a role is taken from a member.
    event RoleRevoked(address indexed account, bytes32 indexed role);
    /// @notice Emitted when a member's gateway URL changes.
    event GatewayUrlSet(address indexed account, string url);
    /// @notice Emitted when the approval threshold changes.
    event ThresholdChanged(uint256 previousThreshold, uint256 newThreshold);
    /// @notice Emitted when a governor proposes a call.
    event ProposalCreated(
        uint256 indexed proposalId, address indexed proposer, address indexed target, bytes data, uint64 expiresAt
    );
    /// @notice Emitted when a governor approves a proposal (the proposer's approval included).
    event ProposalApproved(uint256 indexed proposalId, address indexed governor);
    /// @notice Emitted when an approved proposal has been executed.
    event ProposalExecuted(uint256 indexed proposalId, address indexed executor);

    /// @notice The caller is not an active governor.
    error ConsortiumNotGovernor(address account);
    /// @notice A governance function was called directly instead of through a proposal.
    error ConsortiumOnlyThroughProposal(address caller);
    /// @notice No proposal has this id.
    error ConsortiumUnknownProposal(uint256 proposalId);
    /// @notice The proposal's lifetime has passed.
    error ConsortiumProposalExpired(uint256 proposalId, uint64 expiresAt);
    /// @notice The proposal has already been executed.
    error ConsortiumProposalAlreadyExecuted(uint256 proposalId);
    /// @notice This governor has already approved this proposal.
    error ConsortiumAlreadyApproved(uint256 proposalId, address governor);
    /// @notice Fewer active governors approved the proposal than the threshold asks.
    error ConsortiumInsufficientApprovals(uint256 proposalId, uint256 approvals, uint256 threshold);
    /// @notice The calldata given to execute is not the calldata that was proposed.
    error ConsortiumProposalDataMismatch(uint256 proposalId, bytes32 expected, bytes32 given);
    /// @notice The proposal's target is the zero address or holds no code.
    error ConsortiumInvalidTarget(address target);
    /// @notice A threshold must lie between 1 and the number of active governors.
    error ConsortiumInvalidThreshold(uint256 threshold, uint256 activeGovernors);
    /// @notice The change would leave fewer active governors than the threshold.
    error ConsortiumThresholdUnreachable(uint256 threshold, uint256 activeGovernorsAfter);
    /// @notice The account is already a member.
    error ConsortiumAlreadyMember(address account);
    /// @notice The account is not a member.
    error ConsortiumNotMember(address account);
    /// @notice The member is already suspended.
    error ConsortiumMemberSuspended(address account);
    /// @notice The member is active, so it cannot be reinstated.
    error ConsortiumMemberActive(address account);
    /// @notice The zero address cannot be a member.
    error ConsortiumZeroAddress();
    /// @notice The region is not a six-digit GB/T 2260 code.
    error ConsortiumInvalidRegion(uint32 region);
    /// @notice A member needs a name.
    error ConsortiumEmptyName();
    /// @notice The role is not one of the consortium's roles.
    error ConsortiumUnknownRole(bytes32 role);
    /// @notice The member already holds the role.
    error ConsortiumRoleAlreadyGranted(address account, bytes32 role);
    /// @notice The member does not hold the role.
    error ConsortiumRoleNotGranted(address account, bytes32 role);
    /// @notice A proposal lifetime must be positive.
    error ConsortiumInvalidLifetime(uint64 lifetime);

    /// @notice Proposes a call by the consortium, approved at once by the proposer.
    /// @dev Only an active governor. Governance calls on this contract (admit, suspend,
    /// reinstate, grantRole, revokeRole, setGatewayUrl, setThreshold) are proposed here.
    /// @param target Contract to call: this consortium or a contract it governs.
    /// @param data Calldata of the call.
    /// @return proposalId Id of the new proposal.
    function propose(address target, bytes calldata data) external returns (uint256 proposalId);

    /// @notice Approves a pending proposal.
    /// @dev Only an active governor, once per proposal, before the proposal expires.
    /// @param proposalId Id of the proposal.
    function approve(uint256 proposalId) external;

    /// @notice Executes a proposal that enough active governors approved.
    /// @dev Only an active governor, before expiry, once. Approvals of governors who have
    /// since been suspended or lost the role do not count. A failing call reverts with
    /// the target's own error and leaves the proposal pending.
    /// @param proposalId Id of the proposal.
    /// @param data The proposed calldata, as emitted in ProposalCreated.
    function execute(uint256 proposalId, bytes calldata data) external;

    /// @notice Admits a new member. Only through a proposal.
    /// @param account Chain account of the member.
    /// @param region GB/T 2260 region code.
    /// @param name Name of the organisation.
    /// @param gatewayUrl Gateway base URL, or empty.
    /// @param roles Roles to grant.
    function admit(
        address account,
        uint32 region,
        string calldata name,
        string calldata gatewayUrl,
        bytes32[] calldata roles
    ) external;

    /// @notice Suspends a member: it holds no role while suspended. Only through a proposal.
    /// @param account The member.
    function suspend(address account) external;

    /// @notice Reinstates a suspended member with the roles it held. Only through a proposal.
    /// @param account The member.
    function reinstate(address account) external;

    /// @notice Grants a role to a member. Only through a proposal.
    /// @param account The member.
    /// @param role One of the role constants.
    function grantRole(address account, bytes32 role) external;

    /// @notice Revokes a role from a member. Only through a proposal.
    /// @param account The member.
    /// @param role One of the role constants.
    function revokeRole(address account, bytes32 role) external;

    /// @notice Sets a member's gateway URL (empty to clear). Only through a proposal.
    /// @param account The member.
    /// @param url The gateway's base URL.
    function setGatewayUrl(address account, string calldata url) external;

    /// @notice Sets the number of governor approvals a proposal needs. Only through a proposal.
    /// @param newThreshold Between 1 and the number of active governors.
    function setThreshold(uint256 newThreshold) external;

    /// @notice Whether an account is an active member holding a role.
    /// @param role The role.
    /// @param account The account.
    /// @return True when the account is an active member with that role.
    function hasRole(bytes32 role, address account) external view returns (bool);

    /// @notice Whether an account holds a role, active or not.
    /// @param role The role.
    /// @param account The account.
    /// @return True when the role is assigned, even while the member is suspended.
    function roleAssigned(bytes32 role, address account) external view returns (bool);

    /// @notice Whether an account is a member (active or suspended).
    /// @param account The account.
    /// @return True when it has been admitted.
    function isMember(address account) external view returns (bool);

    /// @notice Whether an account is a member that is not suspended.
    /// @param account The account.
    /// @return True for an active member.
    function isActiveMember(address account) external view returns (bool);

    /// @notice A member's record.
    /// @param account The member.
    /// @return The member; reverts with ConsortiumNotMember for other accounts.
    function getMember(address account) external view returns (Member memory);

    /// @notice Number of members ever admitted (suspended ones included).
    /// @return The count.
    function memberCount() external view returns (uint256);

    /// @notice The member account at an index of admission order.
    /// @param index From 0 to memberCount() - 1.
    /// @return The account.
    function memberAt(uint256 index) external view returns (address);

    /// @notice Number of active members holding the GOVERNOR role.
    /// @return The count.
    function activeGovernorCount() external view returns (uint256);

    /// @notice Number of active-governor approvals a proposal needs.
    /// @return The threshold.
    function threshold() external view returns (uint256);

    /// @notice Seconds a proposal stays open after it is made.
    /// @return The lifetime.
    function proposalLifetime() external view returns (uint64);

    /// @notice Number of proposals made; ids run from 1 to this.
    /// @return The count.
    function proposalCount() external view returns (uint256);

    /// @notice A proposal.
    /// @param proposalId Its id.
    /// @return The proposal; reverts with ConsortiumUnknownProposal for unknown ids.
    function getProposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice Approvals of a proposal that count now: those of governors still active.
    /// @param proposalId Its id.
    /// @return The count.
    function approvalCount(uint256 proposalId) external view returns (uint256);
}
