// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRelayedInstructions} from "./IRelayedInstructions.sol";

/// @title ICreditLedger
/// @notice Anchors Merkle roots of record and access-log batches, and keeps the lifecycle
/// of each record: objection (异议), correction, revocation and credit repair (信用修复).
/// Anchoring writes no per-record storage: a record is Active until a lifecycle call,
/// which proves the record by its leaf fields, its batch root and a Merkle proof.
/// Each lifecycle step can be relayed by a gateway on the acting member's EIP-712
/// instruction (domain "CreditLedger", version "1"); the instruction type and the signers'
/// nonces are IRelayedInstructions', which the ledger implements too.
interface ICreditLedger {
    /// @notice What a batch root commits to.
    enum BatchKind {
        Records,
        AccessLog
    }

    /// @notice A record's lifecycle status; the default, Active, needs no storage.
    enum Status {
        Active,
        Disputed,
        Corrected,
        Revoked,
        Repaired
    }

    /// @notice How a provider answers an objection.
    enum ObjectionOutcome {
        Rejected,
        Revoked,
        Corrected
    }

    /// @notice An anchored batch, packed in one storage slot.
    /// @param gateway The GATEWAY member that anchored it.
    /// @param kind Records or AccessLog.
    /// @param count Number of leaves (at most 2^24 - 1).
    /// @param blockNumber Block of anchoring.
    /// @param anchoredAt Block time of anchoring (seconds, fits until 2106).
    struct Batch {
        address gateway;
        BatchKind kind;
        uint24 count;
        uint32 blockNumber;
        uint32 anchoredAt;
    }

    /// @notice The fields of a record leaf (docs/formats.md, "Record leaf and recordId").
    /// @dev subjectTag blinds the subject per record (docs/formats.md, "Subject tags"): a
    /// correction carries its original's tag, so the ledger checks the subject without
    /// any two unrelated records or events of one subject linking on chain.
    struct RecordLeaf {
        bytes32 recordId;
        bytes32 catalogId;
        uint16 catalogVersion;
        bytes32 subjectTag;
        bytes32 contentHash;
        address provider;
        uint64 issuedAt;
        bytes32 supersedes;
    }

    /// @notice A record with the proof that it is in an anchored batch.
    /// @param leaf The record leaf.
    /// @param gateway The GATEWAY member that anchored the batch: a batch is named by its
    /// gateway and its root, so no other gateway's anchoring of the same root counts.
    /// @param root The batch root.
    /// @param proof The Merkle proof from the leaf to the root.
    struct RecordProof {
        RecordLeaf leaf;
        address gateway;
        bytes32 root;
        bytes32[] proof;
    }

    /// @notice One revealed payload field: name, salt and RFC 8785 JSON of the value.
    struct FieldOpening {
        string name;
        bytes32 salt;
        bytes value;
    }

    /// @notice A record's lifecycle state.
    /// @param status The status.
    /// @param repairPending True while one or more repair requests await the provider.
    /// @param supersededBy The correcting record, when status is Corrected.
    struct RecordState {
        Status status;
        bool repairPending;
        bytes32 supersededBy;
    }

    /// @notice Emitted when a gateway anchors a batch root.
    event BatchAnchored(bytes32 indexed root, address indexed gateway, BatchKind indexed kind, uint256 count);
    /// @notice Emitted for each objection a PROVIDER member files on a subject's behalf.
    event ObjectionFiled(bytes32 indexed recordId, bytes32 indexed subjectTag, address indexed member, bytes32 reasonHash);
    /// @notice Emitted when the provider resolves an objection.
    event ObjectionResolved(
        bytes32 indexed recordId, address indexed provider, ObjectionOutcome outcome, bytes32 correctionId
    );
    /// @notice Emitted when the provider revokes a record.
    event RecordRevoked(bytes32 indexed recordId, address indexed provider, bytes32 reasonHash);
    /// @notice Emitted for each repair request a PROVIDER member files on a subject's behalf.
    event RepairRequested(
        bytes32 indexed recordId, bytes32 indexed subjectTag, address indexed member, bytes32 evidenceHash
    );
    /// @notice Emitted beside ObjectionFiled or RepairRequested when the record's own gateway
    /// files for a subject signed in with its key (fileSubjectObjection, requestSubjectRepair).
    /// @param recordId The record.
    /// @param gateway The gateway that anchored the record's batch and filed.
    /// @param subjectEvidence EIP-712 digest of the subject's signed SubjectObjection or
    /// SubjectRepairRequest (docs/formats.md, "Subjects' signatures"), which the gateway keeps.
    event SubjectFiling(bytes32 indexed recordId, address indexed gateway, bytes32 subjectEvidence);
    /// @notice Emitted when the provider approves a repair: the record leaves publicity.
    event RepairApproved(bytes32 indexed recordId, address indexed provider);
    /// @notice Emitted when the provider rejects a repair request.
    event RepairRejected(bytes32 indexed recordId, address indexed provider, bytes32 reasonHash);

    /// @notice The caller is not an active GATEWAY member.
    error LedgerNotGateway(address account);
    /// @notice The acting account (the caller, or a relayed instruction's signer) is not an
    /// active PROVIDER member: only departments file objections and repair requests.
    error LedgerNotProviderMember(address account);
    /// @notice Only the gateway that anchored the record's batch files for a subject signed in there.
    error LedgerNotRecordGateway(bytes32 recordId, address account);
    /// @notice A batch root must not be zero.
    error LedgerZeroRoot();
    /// @notice A batch holds between 1 and 2^24 - 1 leaves.
    error LedgerInvalidCount(uint256 count);
    /// @notice This gateway has anchored this root already.
    error LedgerRootAlreadyAnchored(address gateway, bytes32 root);
    /// @notice The batch arrays differ in length.
    error LedgerLengthMismatch(uint256 roots, uint256 counts, uint256 kinds);
    /// @notice This gateway has anchored no batch with this root.
    error LedgerUnknownBatch(address gateway, bytes32 root);
    /// @notice The gateway's batch with this root is an access-log batch, not a record batch.
    error LedgerNotRecordBatch(address gateway, bytes32 root);
    /// @notice The leaf's recordId is not the hash of its fields.
    error LedgerRecordIdMismatch(bytes32 recordId, bytes32 computed);
    /// @notice The Merkle proof does not lead from the leaf to the root.
    error LedgerInvalidProof(bytes32 recordId, bytes32 root);
    /// @notice The acting account is not the record's provider, or no longer a PROVIDER.
    error LedgerNotProvider(bytes32 recordId, address account);
    /// @notice The record's status does not allow this step.
    error LedgerInvalidStatus(bytes32 recordId, Status status);
    /// @notice The record has been corrected: act on the record that superseded it.
    error LedgerRecordSuperseded(bytes32 recordId, bytes32 supersededBy);
    /// @notice The record has no open objection.
    error LedgerNoObjection(bytes32 recordId);
    /// @notice The correction is not a record of the same subject and catalog entry that supersedes this one.
    error LedgerCorrectionMismatch(bytes32 recordId, bytes32 correctionId);
    /// @notice A correction was given for an outcome that takes none.
    error LedgerUnexpectedCorrection(bytes32 recordId);
    /// @notice No repair request is pending.
    error LedgerNoRepairRequest(bytes32 recordId);
    /// @notice The catalog's minimum days before repair have not passed since anchoring.
    error LedgerRepairTooEarly(bytes32 recordId, uint256 earliest);
    /// @notice The relayed instruction's deadline has passed.
    error LedgerInstructionExpired(uint64 deadline);

    /// @notice Anchors a batch root as the caller's batch.
    /// @dev Only an active GATEWAY member; a gateway anchors a root once. Batches are keyed
    /// by (gateway, root): another gateway anchoring the same root, of either kind, makes an
    /// entry of its own and neither blocks nor changes this one.
    /// @param root StandardMerkleTree root of the batch.
    /// @param count Number of leaves in the batch.
    /// @param kind Records or AccessLog.
    function anchorBatch(bytes32 root, uint256 count, BatchKind kind) external;

    /// @notice Anchors several batch roots in one transaction.
    /// @param roots The roots.
    /// @param counts Leaf counts, one per root.
    /// @param kinds Kinds, one per root.
    function anchorBatches(bytes32[] calldata roots, uint256[] calldata counts, BatchKind[] calldata kinds) external;

    /// @notice Files an objection against an Active or Disputed record; it is Disputed after.
    /// @dev Any active PROVIDER member, on the subject's behalf (a paper application).
    /// Objections accumulate: one already open never refuses another, and the provider's
    /// resolution answers them all.
    /// @param record The record and its proof.
    /// @param reasonHash Hash of the objection's reason document.
    function fileObjection(RecordProof calldata record, bytes32 reasonHash) external;

    /// @notice fileObjection on a member's EIP-712 instruction (type FileObjection), relayed by
    /// a gateway; ObjectionFiled names the signing member, not the gateway.
    /// @dev Only an active GATEWAY relays; the signer must be an active PROVIDER member.
    /// @param record The record and its proof.
    /// @param reasonHash Hash of the objection's reason document.
    /// @param instruction The member's nonce, deadline and signature.
    function fileObjectionBySig(
        RecordProof calldata record,
        bytes32 reasonHash,
        IRelayedInstructions.Instruction calldata instruction
    ) external;

    /// @notice Resolves an objection: rejected (Active again), upheld and revoked, or
    /// upheld with a correction (the record becomes Corrected, superseded by `correction`).
    /// @dev Only the record's provider. `correction` must be empty (zero root) unless the
    /// outcome is Corrected; then it must be an anchored record of the same subject, catalog
    /// entry and provider whose `supersedes` is this record.
    /// @param record The disputed record and its proof.
    /// @param outcome The resolution.
    /// @param correction The correcting record and its proof, or an empty one.
    function resolveObjection(
        RecordProof calldata record,
        ObjectionOutcome outcome,
        RecordProof calldata correction
    ) external;

    /// @notice resolveObjection on the provider's EIP-712 instruction, relayed by a gateway.
    /// @param record The disputed record and its proof.
    /// @param outcome The resolution.
    /// @param correction The correcting record and its proof, or an empty one.
    /// @param instruction The provider's nonce, deadline and signature.
    function resolveObjectionBySig(
        RecordProof calldata record,
        ObjectionOutcome outcome,
        RecordProof calldata correction,
        IRelayedInstructions.Instruction calldata instruction
    ) external;

    /// @notice Revokes an Active or Disputed record.
    /// @dev Only the record's provider.
    /// @param record The record and its proof.
    /// @param reasonHash Hash of the revocation decision.
    function revoke(RecordProof calldata record, bytes32 reasonHash) external;

    /// @notice revoke on the provider's EIP-712 instruction, relayed by a gateway.
    /// @param record The record and its proof.
    /// @param reasonHash Hash of the revocation decision.
    /// @param instruction The provider's nonce, deadline and signature.
    function revokeBySig(
        RecordProof calldata record,
        bytes32 reasonHash,
        IRelayedInstructions.Instruction calldata instruction
    ) external;

    /// @notice Files an objection for a subject that signed it with its own key at the gateway.
    /// @dev Only an active GATEWAY member that anchored the record's batch (record.gateway);
    /// same status rules as fileObjection. Emits ObjectionFiled (member: the gateway) and
    /// SubjectFiling. The gateway keeps the subject's signed document.
    /// @param record The record and its proof.
    /// @param reasonHash Hash of the objection's reason document.
    /// @param subjectEvidence EIP-712 digest of the subject's SubjectObjection.
    function fileSubjectObjection(RecordProof calldata record, bytes32 reasonHash, bytes32 subjectEvidence) external;

    /// @notice Requests repair for a subject that signed the request with its own key at the gateway.
    /// @dev Only an active GATEWAY member that anchored the record's batch (record.gateway);
    /// same status rules as requestRepair. Emits RepairRequested (member: the gateway) and
    /// SubjectFiling.
    /// @param record The record and its proof.
    /// @param evidenceHash Hash of the evidence documents.
    /// @param subjectEvidence EIP-712 digest of the subject's SubjectRepairRequest.
    function requestSubjectRepair(RecordProof calldata record, bytes32 evidenceHash, bytes32 subjectEvidence)
        external;

    /// @notice Requests credit repair of an Active record; repairPending is true after.
    /// @dev Any active PROVIDER member, on the subject's behalf (a paper application).
    /// Requests accumulate: one already pending never refuses another, and the provider's
    /// approval or rejection answers every pending request.
    /// @param record The record and its proof.
    /// @param evidenceHash Hash of the evidence documents.
    function requestRepair(RecordProof calldata record, bytes32 evidenceHash) external;

    /// @notice requestRepair on a member's EIP-712 instruction (type RequestRepair), relayed by
    /// a gateway; RepairRequested names the signing member, not the gateway.
    /// @dev Only an active GATEWAY relays; the signer must be an active PROVIDER member.
    /// @param record The record and its proof.
    /// @param evidenceHash Hash of the evidence documents.
    /// @param instruction The member's nonce, deadline and signature.
    function requestRepairBySig(
        RecordProof calldata record,
        bytes32 evidenceHash,
        IRelayedInstructions.Instruction calldata instruction
    ) external;

    /// @notice Approves the pending repair requests: the record becomes Repaired.
    /// @dev Only the record's provider, and only once the catalog version's
    /// minDaysBeforeRepair have passed since the record's batch was anchored.
    /// @param record The record and its proof.
    function approveRepair(RecordProof calldata record) external;

    /// @notice approveRepair on the provider's EIP-712 instruction, relayed by a gateway.
    /// @param record The record and its proof.
    /// @param instruction The provider's nonce, deadline and signature.
    function approveRepairBySig(RecordProof calldata record, IRelayedInstructions.Instruction calldata instruction)
        external;

    /// @notice Rejects the pending repair requests (all of them: each requester may file again).
    /// @dev Only the record's provider.
    /// @param record The record and its proof.
    /// @param reasonHash Hash of the rejection decision.
    function rejectRepair(RecordProof calldata record, bytes32 reasonHash) external;

    /// @notice rejectRepair on the provider's EIP-712 instruction, relayed by a gateway.
    /// @param record The record and its proof.
    /// @param reasonHash Hash of the rejection decision.
    /// @param instruction The provider's nonce, deadline and signature.
    function rejectRepairBySig(
        RecordProof calldata record,
        bytes32 reasonHash,
        IRelayedInstructions.Instruction calldata instruction
    ) external;

    /// @notice A record's status and the record that superseded it, if any.
    /// @param recordId The record.
    /// @return status The status (Active for any record never acted on).
    /// @return supersededBy The correcting record, or zero.
    function statusOf(bytes32 recordId) external view returns (Status status, bytes32 supersededBy);

    /// @notice A record's full lifecycle state.
    /// @param recordId The record.
    /// @return The state.
    function recordState(bytes32 recordId) external view returns (RecordState memory);

    /// @notice A gateway's anchored batch.
    /// @param gateway The GATEWAY member that anchored it.
    /// @param root The batch root.
    /// @return The batch; reverts with LedgerUnknownBatch unless that gateway anchored that root.
    function batch(address gateway, bytes32 root) external view returns (Batch memory);

    /// @notice Whether revealed fields are committed in a record's contentHash (selective
    /// disclosure: the other fields stay hidden behind their salts).
    /// @dev Leaves are OpenZeppelin standard leaves of (name, salt, value), in the order the
    /// multiproof consumes them; the proof is OpenZeppelin's multiproof.
    /// @param contentHash The record's contentHash.
    /// @param fields The revealed fields.
    /// @param proof The multiproof's sibling hashes.
    /// @param proofFlags The multiproof's flags.
    /// @return True when every field is committed in contentHash.
    function verifyFields(
        bytes32 contentHash,
        FieldOpening[] calldata fields,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external pure returns (bool);

    /// @notice The EIP-712 digest a provider signs for a record (type CreditRecord).
    /// @param leaf The record leaf.
    /// @return The digest.
    function recordDigest(RecordLeaf calldata leaf) external view returns (bytes32);

    /// @notice The consortium whose roles this ledger checks.
    /// @return Its address.
    function consortium() external view returns (address);

    /// @notice The catalog whose repair rules this ledger applies.
    /// @return Its address.
    function catalog() external view returns (address);
}
