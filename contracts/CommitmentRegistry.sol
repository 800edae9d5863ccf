// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortium} from "./interfaces/IConsortium.sol";
import {ICommitmentRegistry} from "./interfaces/ICommitmentRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title CommitmentRegistry
/// @notice Credit commitment letters, their deadlines, fulfilment and breach.
contract CommitmentRegistry is ICommitmentRegistry {
    IConsortium private immutable _consortium;

    mapping(bytes32 commitmentId => Commitment) private _commitments;

    /// @notice Creates a registry whose departments are the consortium's PROVIDER members.
    /// @param consortium_ The Consortium.
    constructor(IConsortium consortium_) {
        _consortium = consortium_;
    }

    /// @inheritdoc ICommitmentRegistry
    function record(CommitmentInput calldata input) external returns (bytes32 commitmentId) {
        _checkProvider(msg.sender);
        return _record(input);
    }

    /// @inheritdoc ICommitmentRegistry
    function recordBatch(CommitmentInput[] calldata inputs) external returns (bytes32[] memory commitmentIds) {
        _checkProvider(msg.sender);
        commitmentIds = new bytes32[](inputs.length);
        for (uint256 i = 0; i < inputs.length; ++i) {
            commitmentIds[i] = _record(inputs[i]);
        }
    }

    /// @inheritdoc ICommitmentRegistry
    function fulfil(bytes32 commitmentId) external {
        Commitment storage c = _pendingOfCaller(commitmentId);
        c.status = CommitmentStatus.Fulfilled;
        emit CommitmentFulfilled(commitmentId, msg.sender);
    }

    /// @inheritdoc ICommitmentRegistry
    function breach(bytes32 commitmentId, bytes32 breachRecordId, bool violation) external {
        Commitment storage c = _pendingOfCaller(commitmentId);
        if (breachRecordId == bytes32(0)) revert CommitmentMissingBreachRecord(commitmentId);
        if (!violation && block.timestamp <= c.deadline) revert CommitmentNotDue(commitmentId, c.deadline);
        c.status = CommitmentStatus.Breached;
        c.breachRecordId = breachRecordId;
        emit CommitmentBreached(commitmentId, msg.sender, breachRecordId, violation);
    }

    /// @inheritdoc ICommitmentRegistry
    function withdraw(bytes32 commitmentId) external {
        Commitment storage c = _pendingOfCaller(commitmentId);
        c.status = CommitmentStatus.Withdrawn;
        emit CommitmentWithdrawn(commitmentId, msg.sender);
    }

    /// @inheritdoc ICommitmentRegistry
    function commitment(bytes32 commitmentId) external view returns (Commitment memory) {
        return _existing(commitmentId);
    }

    /// @inheritdoc ICommitmentRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    function _record(CommitmentInput calldata input) private returns (bytes32 commitmentId) {
        if (input.deadline <= block.timestamp) revert CommitmentInvalidDeadline(input.deadline);
        commitmentId = keccak256(abi.encode(msg.sender, input.subjectRef, input.kind, input.docHash));
        Commitment storage c = _commitments[commitmentId];
        if (c.status != CommitmentStatus.None) revert CommitmentExists(commitmentId);
        c.department = msg.sender;
        c.kind = input.kind;
        c.status = CommitmentStatus.Pending;
        c.madeAt = uint64(block.timestamp);
        c.deadline = input.deadline;
        c.subjectRef = input.subjectRef;
        c.docHash = input.docHash;
        emit CommitmentRecorded(commitmentId, input.subjectRef, msg.sender, input.kind, input.docHash, input.deadline);
    }

    function _pendingOfCaller(bytes32 commitmentId) private view returns (Commitment storage c) {
        c = _existing(commitmentId);
        if (c.department != msg.sender) revert CommitmentNotDepartment(commitmentId, msg.sender);
        if (c.status != CommitmentStatus.Pending) revert CommitmentNotPending(commitmentId, c.status);
    }

    function _existing(bytes32 commitmentId) private view returns (Commitment storage c) {
        c = _commitments[commitmentId];
        if (c.status == CommitmentStatus.None) revert CommitmentUnknown(commitmentId);
    }

    function _checkProvider(address account) private view {
        if (!_consortium.hasRole(Roles.PROVIDER, account)) revert CommitmentNotProvider(account);
    }
}
