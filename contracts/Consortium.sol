// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Consortium
/// @notice Members, roles and k-of-n governor proposals of the credit-ledger consortium.
/// @dev Governance functions are callable only by this contract itself, i.e. through an
/// executed proposal; the same proposals call the contracts the consortium governs.
contract Consortium is IConsortium {
    /// @notice Role id of regional credit centres.
    bytes32 public constant GOVERNOR_ROLE = Roles.GOVERNOR;
    /// @notice Role id of data-providing departments.
    bytes32 public constant PROVIDER_ROLE = Roles.PROVIDER;
    /// @notice Role id of auditors.
    bytes32 public constant AUDITOR_ROLE = Roles.AUDITOR;
    /// @notice Role id of gateway service accounts.
    bytes32 public constant GATEWAY_ROLE = Roles.GATEWAY;
    /// @notice Role id of gateways reading from other regions.
    bytes32 public constant PEER_ROLE = Roles.PEER;
    /// @notice Role id of registrars, who bind subjects' keys to their identities.
    bytes32 public constant REGISTRAR_ROLE = Roles.REGISTRAR;

    uint64 private immutable _proposalLifetime;

    mapping(address account => Member) private _members;
    mapping(address account => mapping(bytes32 role => bool)) private _roles;
    address[] private _memberList;
    uint256 private _activeGovernors;
    uint256 private _threshold;

    mapping(uint256 proposalId => Proposal) private _proposals;
    uint256 private _proposalCount;

    modifier onlyGovernor() {
        _checkGovernor(msg.sender);
        _;
    }

    modifier onlySelf() {
        _checkSelf();
        _;
    }

    /// @notice Creates the consortium with its founding members.
    /// @param initialMembers Founding members; at least `initialThreshold` of them governors.
    /// @param initialThreshold Governor approvals a proposal needs.
    /// @param lifetime Seconds a proposal stays open.
    constructor(InitialMember[] memory initialMembers, uint256 initialThreshold, uint64 lifetime) {
        if (lifetime == 0) revert ConsortiumInvalidLifetime(lifetime);
        _proposalLifetime = lifetime;
        for (uint256 i = 0; i < initialMembers.length; ++i) {
            InitialMember memory m = initialMembers[i];
            _admit(m.account, m.region, m.name, m.gatewayUrl, m.roles);
        }
        _setThreshold(initialThreshold);
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IConsortium
    function propose(address target, bytes calldata data) external onlyGovernor returns (uint256 proposalId) {
        if (target.code.length == 0) revert ConsortiumInvalidTarget(target);
        proposalId = ++_proposalCount;
        Proposal storage p = _proposals[proposalId];
        p.target = target;
        p.expiresAt = uint64(block.timestamp) + _proposalLifetime;
        p.dataHash = keccak256(data);
        emit ProposalCreated(proposalId, msg.sender, target, data, p.expiresAt);
        _approve(proposalId, p, msg.sender);
    }

    /// @inheritdoc IConsortium
    function approve(uint256 proposalId) external onlyGovernor {
        Proposal storage p = _openProposal(proposalId);
        _approve(proposalId, p, msg.sender);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 proposalId, bytes calldata data) external onlyGovernor {
        Proposal storage p = _openProposal(proposalId);
        bytes32 given = keccak256(data);
        if (given != p.dataHash) revert ConsortiumProposalDataMismatch(proposalId, p.dataHash, given);
        uint256 approvals = _countApprovals(p);
        if (approvals < _threshold) revert ConsortiumInsufficientApprovals(proposalId, approvals, _threshold);
        // Marked before the call so that the call cannot execute the proposal again.
        p.executed = true;
        Address.functionCall(p.target, data);
        emit ProposalExecuted(proposalId, msg.sender);
    }

    // --------------------------------------------------------------- governance

    /// @inheritdoc IConsortium
    function admit(
        address account,
        uint32 region,
        string calldata name,
        string calldata gatewayUrl,
        bytes32[] calldata roles
    ) external onlySelf {
        _admit(account, region, name, gatewayUrl, roles);
    }

    /// @inheritdoc IConsortium
    function suspend(address account) external onlySelf {
        Member storage m = _existingMember(account);
        if (!m.active) revert ConsortiumMemberSuspended(account);
        if (_roles[account][Roles.GOVERNOR]) _removeActiveGovernor();
        m.active = false;
        emit MemberSuspended(account);
    }

    /// @inheritdoc IConsortium
    function reinstate(address account) external onlySelf {
        Member storage m = _existingMember(account);
        if (m.active) revert ConsortiumMemberActive(account);
        m.active = true;
        if (_roles[account][Roles.GOVERNOR]) ++_activeGovernors;
        emit MemberReinstated(account);
    }

    /// @inheritdoc IConsortium
    function grantRole(address account, bytes32 role) external onlySelf {
        Member storage m = _existingMember(account);
        _grantRole(account, role);
        if (role == Roles.GOVERNOR && m.active) ++_activeGovernors;
    }

    /// @inheritdoc IConsortium
    function revokeRole(address account, bytes32 role) external onlySelf {
        Member storage m = _existingMember(account);
        if (!Roles.isKnown(role)) revert ConsortiumUnknownRole(role);
        if (!_roles[account][role]) revert ConsortiumRoleNotGranted(account, role);
        if (role == Roles.GOVERNOR && m.active) _removeActiveGovernor();
        _roles[account][role] = false;
        emit RoleRevoked(account, role);
    }

    /// @inheritdoc IConsortium
    function setGatewayUrl(address account, string calldata url) external onlySelf {
        _existingMember(account).gatewayUrl = url;
        emit GatewayUrlSet(account, url);
    }

    /// @inheritdoc IConsortium
    function setThreshold(uint256 newThreshold) external onlySelf {
        _setThreshold(newThreshold);
    }

    // -------------------------------------------------------------------- views

    /// @inheritdoc IConsortium
    function hasRole(bytes32 role, address account) external view returns (bool) {
        return _hasRole(role, account);
    }

    /// @inheritdoc IConsortium
    function roleAssigned(bytes32 role, address account) external view returns (bool) {
        return _roles[account][role];
    }

    /// @inheritdoc IConsortium
    function isMember(address account) external view returns (bool) {
        return _members[account].admittedAt != 0;
    }

    /// @inheritdoc IConsortium
    function isActiveMember(address account) external view returns (bool) {
        return _members[account].active;
    }

    /// @inheritdoc IConsortium
    function getMember(address account) external view returns (Member memory) {
        return _existingMember(account);
    }

    /// @inheritdoc IConsortium
    function memberCount() external view returns (uint256) {
        return _memberList.length;
    }

    /// @inheritdoc IConsortium
    function memberAt(uint256 index) external view returns (address) {
        return _memberList[index];
    }

    /// @inheritdoc IConsortium
    function activeGovernorCount() external view returns (uint256) {
        return _activeGovernors;
    }

    /// @inheritdoc IConsortium
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IConsortium
    function proposalLifetime() external view returns (uint64) {
        return _proposalLifetime;
    }

    /// @inheritdoc IConsortium
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        return _existingProposal(proposalId);
    }

    /// @inheritdoc IConsortium
    function approvalCount(uint256 proposalId) external view returns (uint256) {
        return _countApprovals(_existingProposal(proposalId));
    }

    // ----------------------------------------------------------------- internal

    function _admit(
        address account,
        uint32 region,
        string memory name,
        string memory gatewayUrl,
        bytes32[] memory roles
    ) private {
        if (account == address(0)) revert ConsortiumZeroAddress();
        if (_members[account].admittedAt != 0) revert ConsortiumAlreadyMember(account);
        if (region < 100000 || region > 999999) revert ConsortiumInvalidRegion(region);
        if (bytes(name).length == 0) revert ConsortiumEmptyName();
        _members[account] = Member({
            region: region,
            active: true,
            admittedAt: uint64(block.timestamp),
            name: name,
            gatewayUrl: gatewayUrl
        });
        _memberList.push(account);
        emit MemberAdmitted(account, region, name, roles);
        for (uint256 i = 0; i < roles.length; ++i) {
            _grantRole(account, roles[i]);
            if (roles[i] == Roles.GOVERNOR) ++_activeGovernors;
        }
        if (bytes(gatewayUrl).length != 0) emit GatewayUrlSet(account, gatewayUrl);
    }

    function _grantRole(address account, bytes32 role) private {
        if (!Roles.isKnown(role)) revert ConsortiumUnknownRole(role);
        if (_roles[account][role]) revert ConsortiumRoleAlreadyGranted(account, role);
        _roles[account][role] = true;
        emit RoleGranted(account, role);
    }

    function _removeActiveGovernor() private {
        uint256 remaining = _activeGovernors - 1;
        if (remaining < _threshold) revert ConsortiumThresholdUnreachable(_threshold, remaining);
        _activeGovernors = remaining;
    }

    function _setThreshold(uint256 newThreshold) private {
        if (newThreshold == 0 || newThreshold > _activeGovernors) {
            revert ConsortiumInvalidThreshold(newThreshold, _activeGovernors);
        }
        uint256 previous = _threshold;
        _threshold = newThreshold;
        emit ThresholdChanged(previous, newThreshold);
    }

    function _approve(uint256 proposalId, Proposal storage p, address governor) private {
        // A linear scan beats a mapping here: a consortium has a handful of governors
        // (one per region), and it saves a storage slot per approval.
        address[] storage approvers = p.approvers;
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (approvers[i] == governor) revert ConsortiumAlreadyApproved(proposalId, governor);
        }
        approvers.push(governor);
        emit ProposalApproved(proposalId, governor);
    }

    function _countApprovals(Proposal storage p) private view returns (uint256 approvals) {
        address[] storage approvers = p.approvers;
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (_hasRole(Roles.GOVERNOR, approvers[i])) ++approvals;
        }
    }

    function _hasRole(bytes32 role, address account) private view returns (bool) {
        return _members[account].active && _roles[account][role];
    }

    function _existingMember(address account) private view returns (Member storage m) {
        m = _members[account];
        if (m.admittedAt == 0) revert ConsortiumNotMember(account);
    }

    function _existingProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.target == address(0)) revert ConsortiumUnknownProposal(proposalId);
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _existingProposal(proposalId);
        if (p.executed) revert ConsortiumProposalAlreadyExecuted(proposalId);
        if (block.timestamp > p.expiresAt) revert ConsortiumProposalExpired(proposalId, p.expiresAt);
    }

    function _checkGovernor(address account) private view {
        if (!_hasRole(Roles.GOVERNOR, account)) revert ConsortiumNotGovernor(account);
    }

    function _checkSelf() private view {
        if (msg.sender != address(this)) revert ConsortiumOnlyThroughProposal(msg.sender);
    }
}
