// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {ICreditCatalog} from "./interfaces/ICreditCatalog.sol";
import {ICreditLedger} from "./interfaces/ICreditLedger.sol";
import {Roles} from "./libraries/Roles.sol";
import {RelayedInstructions} from "./RelayedInstructions.sol";

/// @title CreditLedger
/// @notice Batch anchoring and the record lifecycle, proved leaf by leaf.
contract CreditLedger is ICreditLedger, RelayedInstructions {
    /// @notice EIP-712 type of a provider's signature over a record.
    bytes32 public constant CREDIT_RECORD_TYPEHASH = keccak256(
        "CreditRecord(bytes32 recordId,bytes32 catalogId,uint16 catalogVersion,bytes32 subjectTag,"
        "bytes32 contentHash,address provider,uint64 issuedAt,bytes32 supersedes)"
    );
    /// @notice EIP-712 type of a PROVIDER member's relayed objection.
    bytes32 public constant FILE_OBJECTION_TYPEHASH =
        keccak256("FileObjection(bytes32 recordId,bytes32 reasonHash,uint256 nonce,uint64 deadline)");
    /// @notice EIP-712 type of a relayed objection resolution.
    bytes32 public constant RESOLVE_OBJECTION_TYPEHASH = keccak256(
        "ResolveObjection(bytes32 recordId,uint8 outcome,bytes32 correctionId,uint256 nonce,uint64 deadline)"
    );
    /// @notice EIP-712 type of a relayed revocation.
    bytes32 public constant REVOKE_TYPEHASH =
        keccak256("Revoke(bytes32 recordId,bytes32 reasonHash,uint256 nonce,uint64 deadline)");
    /// @notice EIP-712 type of a PROVIDER member's relayed repair request.
    bytes32 public constant REQUEST_REPAIR_TYPEHASH =
        keccak256("RequestRepair(bytes32 recordId,bytes32 evidenceHash,uint256 nonce,uint64 deadline)");
    /// @notice EIP-712 type of a relayed repair approval.
    bytes32 public constant APPROVE_REPAIR_TYPEHASH =
        keccak256("ApproveRepair(bytes32 recordId,uint256 nonce,uint64 deadline)");
    /// @notice EIP-712 type of a relayed repair rejection.
    bytes32 public constant REJECT_REPAIR_TYPEHASH =
        keccak256("RejectRepair(bytes32 recordId,bytes32 reasonHash,uint256 nonce,uint64 deadline)");

    uint256 private constant _MAX_COUNT = type(uint24).max;

    IConsortium private immutable _consortium;
    ICreditCatalog private immutable _catalog;

    /// @dev Keyed by the anchoring gateway too: a root anchored by one gateway is that
    /// gateway's batch, and another gateway anchoring the same value makes its own entry.
    mapping(address gateway => mapping(bytes32 root => Batch)) private _batches;
    mapping(bytes32 recordId => RecordState) private _states;

    /// @notice Creates a ledger bound to a consortium and its catalog.
    /// @param consortium_ The Consortium whose roles are checked.
    /// @param catalog_ The CreditCatalog whose repair rules apply.
    constructor(IConsortium consortium_, ICreditCatalog catalog_) RelayedInstructions("CreditLedger", "1") {
        _consortium = consortium_;
        _catalog = catalog_;
    }

    // ---------------------------------------------------------------- anchoring

    /// @inheritdoc ICreditLedger
    function anchorBatch(bytes32 root, uint256 count, BatchKind kind) external {
        _checkGateway(msg.sender);
        _anchor(root, count, kind);
    }

    /// @inheritdoc ICreditLedger
    function anchorBatches(bytes32[] calldata roots, uint256[] calldata counts, BatchKind[] calldata kinds) external {
        if (roots.length != counts.length || roots.length != kinds.length) {
            revert LedgerLengthMismatch(roots.length, counts.length, kinds.length);
        }
        _checkGateway(msg.sender);
        for (uint256 i = 0; i < roots.length; ++i) {
            _anchor(roots[i], counts[i], kinds[i]);
        }
    }

    // ---------------------------------------------------------------- objections

    /// @inheritdoc ICreditLedger
    function fileObjection(RecordProof calldata record, bytes32 reasonHash) external {
        _fileObjection(msg.sender, record, reasonHash);
    }

    /// @inheritdoc ICreditLedger
    function fileObjectionBySig(RecordProof calldata record, bytes32 reasonHash, Instruction calldata instruction)
        external
    {
        bytes32 structHash = keccak256(
            abi.encode(
                FILE_OBJECTION_TYPEHASH, record.leaf.recordId, reasonHash, instruction.nonce, instruction.deadline
            )
        );
        _fileObjection(_instructionSigner(structHash, instruction), record, reasonHash);
    }

    /// @inheritdoc ICreditLedger
    function fileSubjectObjection(RecordProof calldata record, bytes32 reasonHash, bytes32 subjectEvidence) external {
        _checkRecordGateway(record);
        _fileObjectionFor(msg.sender, record, reasonHash);
        emit SubjectFiling(record.leaf.recordId, msg.sender, subjectEvidence);
    }

    /// @inheritdoc ICreditLedger
    function resolveObjection(RecordProof calldata record, ObjectionOutcome outcome, RecordProof calldata correction)
        external
    {
        _resolveObjection(msg.sender, record, outcome, correction);
    }

    /// @inheritdoc ICreditLedger
    function resolveObjectionBySig(
        RecordProof calldata record,
        ObjectionOutcome outcome,
        RecordProof calldata correction,
        Instruction calldata instruction
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                RESOLVE_OBJECTION_TYPEHASH,
                record.leaf.recordId,
                uint8(outcome),
                correction.leaf.recordId,
                instruction.nonce,
                instruction.deadline
            )
        );
        _resolveObjection(_instructionSigner(structHash, instruction), record, outcome, correction);
    }

    // ---------------------------------------------------------------- revocation

    /// @inheritdoc ICreditLedger
    function revoke(RecordProof calldata record, bytes32 reasonHash) external {
        _revoke(msg.sender, record, reasonHash);
    }

    /// @inheritdoc ICreditLedger
    function revokeBySig(RecordProof calldata record, bytes32 reasonHash, Instruction calldata instruction) external {
        bytes32 structHash = keccak256(
            abi.encode(REVOKE_TYPEHASH, record.leaf.recordId, reasonHash, instruction.nonce, instruction.deadline)
        );
        _revoke(_instructionSigner(structHash, instruction), record, reasonHash);
    }

    // -------------------------------------------------------------------- repair

    /// @inheritdoc ICreditLedger
    function requestRepair(RecordProof calldata record, bytes32 evidenceHash) external {
        _requestRepair(msg.sender, record, evidenceHash);
    }

    /// @inheritdoc ICreditLedger
    function requestRepairBySig(RecordProof calldata record, bytes32 evidenceHash, Instruction calldata instruction)
        external
    {
        bytes32 structHash = keccak256(
            abi.encode(
                REQUEST_REPAIR_TYPEHASH, record.leaf.recordId, evidenceHash, instruction.nonce, instruction.deadline
            )
        );
        _requestRepair(_instructionSigner(structHash, instruction), record, evidenceHash);
    }

    /// @inheritdoc ICreditLedger
    function requestSubjectRepair(RecordProof calldata record, bytes32 evidenceHash, bytes32 subjectEvidence)
        external
    {
        _checkRecordGateway(record);
        _requestRepairFor(msg.sender, record, evidenceHash);
        emit SubjectFiling(record.leaf.recordId, msg.sender, subjectEvidence);
    }

    /// @inheritdoc ICreditLedger
    function approveRepair(RecordProof calldata record) external {
        _approveRepair(msg.sender, record);
    }

    /// @inheritdoc ICreditLedger
    function approveRepairBySig(RecordProof calldata record, Instruction calldata instruction) external {
        bytes32 structHash = keccak256(
            abi.encode(APPROVE_REPAIR_TYPEHASH, record.leaf.recordId, instruction.nonce, instruction.deadline)
        );
        _approveRepair(_instructionSigner(structHash, instruction), record);
    }

    /// @inheritdoc ICreditLedger
    function rejectRepair(RecordProof calldata record, bytes32 reasonHash) external {
        _rejectRepair(msg.sender, record, reasonHash);
    }

    /// @inheritdoc ICreditLedger
    function rejectRepairBySig(RecordProof calldata record, bytes32 reasonHash, Instruction calldata instruction)
        external
    {
        bytes32 structHash = keccak256(
            abi.encode(REJECT_REPAIR_TYPEHASH, record.leaf.recordId, reasonHash, instruction.nonce, instruction.deadline)
        );
        _rejectRepair(_instructionSigner(structHash, instruction), record, reasonHash);
    }

    // --------------------------------------------------------------------- views

    /// @inheritdoc ICreditLedger
    function statusOf(bytes32 recordId) external view returns (Status status, bytes32 supersededBy) {
        RecordState storage state = _states[recordId];
        return (state.status, state.supersededBy);
    }

    /// @inheritdoc ICreditLedger
    function recordState(bytes32 recordId) external view returns (RecordState memory) {
        return _states[recordId];
    }

    /// @inheritdoc ICreditLedger
    function batch(address gateway, bytes32 root) external view returns (Batch memory) {
        Batch memory b = _batches[gateway][root];
        if (b.anchoredAt == 0) revert LedgerUnknownBatch(gateway, root);
        return b;
    }

    /// @inheritdoc ICreditLedger
    function verifyFields(
        bytes32 contentHash,
        FieldOpening[] calldata fields,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external pure returns (bool) {
        bytes32[] memory leaves = new bytes32[](fields.length);
        for (uint256 i = 0; i < fields.length; ++i) {
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(fields[i].name, fields[i].salt, fields[i].value))));
        }
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, contentHash, leaves);
    }

    /// @inheritdoc ICreditLedger
    function recordDigest(RecordLeaf calldata leaf) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CREDIT_RECORD_TYPEHASH, leaf)));
    }

    /// @inheritdoc ICreditLedger
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc ICreditLedger
    function catalog() external view returns (address) {
        return address(_catalog);
    }

    // ------------------------------------------------------------------ internal

    function _anchor(bytes32 root, uint256 count, BatchKind kind) private {
        if (root == bytes32(0)) revert LedgerZeroRoot();
        if (count == 0 || count > _MAX_COUNT) revert LedgerInvalidCount(count);
        if (_batches[msg.sender][root].anchoredAt != 0) revert LedgerRootAlreadyAnchored(msg.sender, root);
        _batches[msg.sender][root] = Batch({
            gateway: msg.sender,
            kind: kind,
            count: uint24(count),
            blockNumber: uint32(block.number),
            anchoredAt: uint32(block.timestamp)
        });
        emit BatchAnchored(root, msg.sender, kind, count);
    }

    /// @dev Objections accumulate: a Disputed record takes more (each an ObjectionFiled
    /// event), so no one's objection blocks another's; the resolution answers them all.
    function _fileObjection(address actor, RecordProof calldata record, bytes32 reasonHash) private {
        _checkProviderRole(actor);
        _fileObjectionFor(actor, record, reasonHash);
    }

    function _fileObjectionFor(address actor, RecordProof calldata record, bytes32 reasonHash) private {
        bytes32 recordId = _verifyRecord(record);
        RecordState storage state = _states[recordId];
        if (state.status != Status.Disputed) {
            _requireStatus(recordId, state, Status.Active);
            state.status = Status.Disputed;
        }
        emit ObjectionFiled(recordId, record.leaf.subjectTag, actor, reasonHash);
    }

    function _resolveObjection(
        address actor,
        RecordProof calldata record,
        ObjectionOutcome outcome,
        RecordProof calldata correction
    ) private {
        bytes32 recordId = _verifyRecord(record);
        _checkProvider(recordId, record.leaf.provider, actor);
        RecordState storage state = _states[recordId];
        if (state.status == Status.Corrected) revert LedgerRecordSuperseded(recordId, state.supersededBy);
        if (state.status != Status.Disputed) revert LedgerNoObjection(recordId);
        bytes32 correctionId;
        if (outcome == ObjectionOutcome.Corrected) {
            correctionId = _verifyCorrection(record.leaf, correction);
            state.status = Status.Corrected;
            state.supersededBy = correctionId;
        } else {
            if (correction.root != bytes32(0)) revert LedgerUnexpectedCorrection(recordId);
            state.status = outcome == ObjectionOutcome.Revoked ? Status.Revoked : Status.Active;
        }
        emit ObjectionResolved(recordId, actor, outcome, correctionId);
    }

    function _verifyCorrection(RecordLeaf calldata original, RecordProof calldata correction)
        private
        view
        returns (bytes32 correctionId)
    {
        correctionId = _verifyRecord(correction);
        RecordLeaf calldata c = correction.leaf;
        if (
            c.supersedes != original.recordId || c.subjectTag != original.subjectTag
                || c.catalogId != original.catalogId || c.provider != original.provider
        ) revert LedgerCorrectionMismatch(original.recordId, correctionId);
        Status correctionStatus = _states[correctionId].status;
        if (correctionStatus != Status.Active) revert LedgerInvalidStatus(correctionId, correctionStatus);
    }

    function _revoke(address actor, RecordProof calldata record, bytes32 reasonHash) private {
        bytes32 recordId = _verifyRecord(record);
        _checkProvider(recordId, record.leaf.provider, actor);
        RecordState storage state = _states[recordId];
        Status status = state.status;
        if (status == Status.Corrected) revert LedgerRecordSuperseded(recordId, state.supersededBy);
        if (status != Status.Active && status != Status.Disputed) revert LedgerInvalidStatus(recordId, status);
        state.status = Status.Revoked;
        state.repairPending = false;
        emit RecordRevoked(recordId, actor, reasonHash);
    }

    /// @dev Requests accumulate: a pending request does not refuse another (each a
    /// RepairRequested event), so no one's request blocks another's; the provider's
    /// approval or rejection answers every request pending at the time.
    function _requestRepair(address actor, RecordProof calldata record, bytes32 evidenceHash) private {
        _checkProviderRole(actor);
        _requestRepairFor(actor, record, evidenceHash);
    }

    function _requestRepairFor(address actor, RecordProof calldata record, bytes32 evidenceHash) private {
        bytes32 recordId = _verifyRecord(record);
        RecordState storage state = _states[recordId];
        _requireStatus(recordId, state, Status.Active);
        if (!state.repairPending) state.repairPending = true;
        emit RepairRequested(recordId, record.leaf.subjectTag, actor, evidenceHash);
    }

    function _approveRepair(address actor, RecordProof calldata record) private {
        bytes32 recordId = _verifyRecord(record);
        _checkProvider(recordId, record.leaf.provider, actor);
        RecordState storage state = _states[recordId];
        _requireStatus(recordId, state, Status.Active);
        if (!state.repairPending) revert LedgerNoRepairRequest(recordId);
        uint256 minDays = _catalog.repairRule(record.leaf.catalogId, record.leaf.catalogVersion);
        uint256 earliest = uint256(_batches[record.gateway][record.root].anchoredAt) + minDays * 1 days;
        if (block.timestamp < earliest) revert LedgerRepairTooEarly(recordId, earliest);
        state.status = Status.Repaired;
        state.repairPending = false;
        emit RepairApproved(recordId, actor);
    }

    function _rejectRepair(address actor, RecordProof calldata record, bytes32 reasonHash) private {
        bytes32 recordId = _verifyRecord(record);
        _checkProvider(recordId, record.leaf.provider, actor);
        RecordState storage state = _states[recordId];
        if (!state.repairPending) revert LedgerNoRepairRequest(recordId);
        state.repairPending = false;
        emit RepairRejected(recordId, actor, reasonHash);
    }

    /// @dev Recomputes the recordId and the leaf, and checks the proof against the record
    /// batch that `record.gateway` anchored under `record.root`. Returns the recordId.
    function _verifyRecord(RecordProof calldata record) private view returns (bytes32 recordId) {
        RecordLeaf calldata leaf = record.leaf;
        recordId = leaf.recordId;
        bytes32 computed =
            keccak256(abi.encode(leaf.provider, leaf.catalogId, leaf.subjectTag, leaf.contentHash, leaf.issuedAt));
        if (computed != recordId) revert LedgerRecordIdMismatch(recordId, computed);
        Batch storage b = _batches[record.gateway][record.root];
        if (b.anchoredAt == 0) revert LedgerUnknownBatch(record.gateway, record.root);
        if (b.kind != BatchKind.Records) revert LedgerNotRecordBatch(record.gateway, record.root);
        bytes32 leafHash = keccak256(bytes.concat(keccak256(abi.encode(leaf))));
        if (!MerkleProof.verifyCalldata(record.proof, record.root, leafHash)) {
            revert LedgerInvalidProof(recordId, record.root);
        }
    }

    function _requireStatus(bytes32 recordId, RecordState storage state, Status expected) private view {
        Status status = state.status;
        if (status == expected) return;
        if (status == Status.Corrected) revert LedgerRecordSuperseded(recordId, state.supersededBy);
        revert LedgerInvalidStatus(recordId, status);
    }

    function _checkProvider(bytes32 recordId, address provider, address actor) private view {
        if (actor != provider || !_consortium.hasRole(Roles.PROVIDER, actor)) {
            revert LedgerNotProvider(recordId, actor);
        }
    }

    /// @dev Only an active GATEWAY relays instructions, as only one anchors.
    function _checkRelayer(address relayer) internal view override {
        _checkGateway(relayer);
    }

    function _revertInstructionExpired(uint64 deadline) internal pure override {
        revert LedgerInstructionExpired(deadline);
    }

    function _checkGateway(address account) private view {
        if (!_consortium.hasRole(Roles.GATEWAY, account)) revert LedgerNotGateway(account);
    }

    /// @dev A subject's own filing comes from the gateway it signed in at, which must be
    /// the gateway that anchored the record's batch (so holds the record) and still active.
    function _checkRecordGateway(RecordProof calldata record) private view {
        _checkGateway(msg.sender);
        if (record.gateway != msg.sender) revert LedgerNotRecordGateway(record.leaf.recordId, msg.sender);
    }

    /// @dev Objections and repair requests come from departments: active PROVIDER members.
    function _checkProviderRole(address account) private view {
        if (!_consortium.hasRole(Roles.PROVIDER, account)) revert LedgerNotProviderMember(account);
    }
}
