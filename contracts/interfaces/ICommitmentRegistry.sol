// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRelayedInstructions} from "./IRelayedInstructions.sol";

/// @title ICommitmentRegistry
/// @notice Credit commitment letters (信用承诺书) with their deadlines. Only the
/// department that recorded a commitment changes it, directly or by an EIP-712
/// instruction that a gateway relays (domain "CreditCommitments", version "1"; the
/// instruction type and the signers' nonces are IRelayedInstructions', which the registry
/// implements too). A breach (违诺失信) names the dishonesty record it produced, so the two
/// stay linked on chain.
interface ICommitmentRegistry {
    /// @notice The kind of commitment.
    /// NotificationCommitment: 告知承诺; IncompleteAcceptance: 容缺受理, documents due by
    /// the deadline; SelfDiscipline: 自律承诺.
    enum Kind {
        NotificationCommitment,
        IncompleteAcceptance,
        SelfDiscipline
    }

    /// @notice A commitment's status; None means no such commitment.
    enum CommitmentStatus {
        None,
        Pending,
        Fulfilled,
        Breached,
        Withdrawn
    }

    /// @notice How a commitment's term is counted. WorkingDays: Chinese working days under
    /// the adopted calendars; Months: calendar months, which need no calendar.
    enum TermUnit {
        WorkingDays,
        Months
    }

    /// @notice One adopted calendar a deadline was counted with.
    struct CalendarRef {
        uint16 year;
        uint16 version;
    }

    /// @notice How a deadline was counted, so that anyone can count it again from the chain.
    /// @param acceptedOn The acceptance day (Beijing), as the number YYYYMMDD.
    /// @param unit Working days or months.
    /// @param length How many of them.
    /// @param calendars For working days: the calendar of each year counted in, consecutive
    /// years ascending, each the latest version adopted when recorded; for months: none.
    struct Term {
        uint32 acceptedOn;
        TermUnit unit;
        uint16 length;
        CalendarRef[] calendars;
    }

    /// @notice A commitment as stored.
    /// @param department The PROVIDER member that recorded it.
    /// @param kind Its kind.
    /// @param status Its status.
    /// @param madeAt Block time of recording.
    /// @param deadline Time by which it must be fulfilled (computed off chain in working days).
    /// @param subjectTag The committing subject, blinded for this commitment: keccak256(abi.encode(subjectRef,
    /// subjectSalt)) with a secret salt (docs/formats.md, "Subject tags"), so no two commitments link.
    /// @param docHash Hash of the signed commitment letter.
    /// @param breachRecordId The dishonesty record a breach produced, else zero.
    struct Commitment {
        address department;
        Kind kind;
        CommitmentStatus status;
        uint64 madeAt;
        uint64 deadline;
        bytes32 subjectTag;
        bytes32 docHash;
        bytes32 breachRecordId;
    }

    /// @notice What a department records.
    /// @param deadline The end of the term (23:59:59 Beijing of its last day), counted off chain.
    /// @param term How the deadline was counted.
    struct CommitmentInput {
        bytes32 subjectTag;
        Kind kind;
        bytes32 docHash;
        uint64 deadline;
        Term term;
    }

    /// @notice The dishonesty record a breach produced, by the leaf fields its recordId
    /// hashes besides the department (its provider) and the commitment's subjectTag (the breach record carries it): the
    /// registry computes recordId = keccak256(abi.encode(department, catalogId, subjectTag,
    /// contentHash, issuedAt)) itself, so a breach can only name a record of the same
    /// department about the same subject (docs/lifecycle.md says how it is checked once anchored).
    /// @param catalogId The record's catalog entry (a breach entry of the gateways' policy).
    /// @param contentHash The record's contentHash; zero is no record.
    /// @param issuedAt The record's issuedAt.
    struct BreachRecord {
        bytes32 catalogId;
        bytes32 contentHash;
        uint64 issuedAt;
    }

    /// @notice Emitted when a commitment is recorded, with how its deadline was counted.
    event CommitmentRecorded(
        bytes32 indexed commitmentId,
        bytes32 indexed subjectTag,
        address indexed department,
        Kind kind,
        bytes32 docHash,
        uint64 deadline,
        Term term
    );
    /// @notice Emitted when a commitment is fulfilled.
    event CommitmentFulfilled(bytes32 indexed commitmentId, address indexed department);
    /// @notice Emitted when a commitment is breached, naming the dishonesty record.
    event CommitmentBreached(
        bytes32 indexed commitmentId, address indexed department, bytes32 indexed breachRecordId, bool violation
    );
    /// @notice Emitted when a commitment is withdrawn.
    event CommitmentWithdrawn(bytes32 indexed commitmentId, address indexed department);

    /// @notice The acting account (the caller, or a relayed instruction's signer) is not an active PROVIDER member.
    error CommitmentNotProvider(address account);
    /// @notice The relayer is not an active GATEWAY member.
    error CommitmentNotGateway(address account);
    /// @notice The relayed instruction's deadline has passed.
    error CommitmentInstructionExpired(uint64 deadline);
    /// @notice This commitment has been recorded already.
    error CommitmentExists(bytes32 commitmentId);
    /// @notice No commitment has this id.
    error CommitmentUnknown(bytes32 commitmentId);
    /// @notice Only the recording department changes a commitment.
    error CommitmentNotDepartment(bytes32 commitmentId, address account);
    /// @notice The commitment is no longer pending.
    error CommitmentNotPending(bytes32 commitmentId, CommitmentStatus status);
    /// @notice A deadline must lie in the future when recorded.
    error CommitmentInvalidDeadline(uint64 deadline);
    /// @notice A breach before the deadline must be marked as a violation.
    error CommitmentNotDue(bytes32 commitmentId, uint64 deadline);
    /// @notice A breach must name the dishonesty record it produced (a non-zero contentHash).
    error CommitmentMissingBreachRecord(bytes32 commitmentId);
    /// @notice A term's length is out of bounds, or its calendars do not fit its unit and acceptance day.
    error CommitmentInvalidTerm(uint32 acceptedOn, TermUnit unit, uint16 length);
    /// @notice A deadline must be counted with the latest adopted calendar of each year (0: none adopted).
    error CommitmentCalendarNotCurrent(uint16 year, uint16 version, uint16 latestVersion);

    /// @notice Records a commitment.
    /// @dev Only an active PROVIDER member, which becomes its department. A working-day
    /// term must name, for each consecutive year counted in, that year's latest adopted
    /// calendar; the chain cannot count days, so auditors recount the deadline from the
    /// adopted documents and the term (credit-ledger commitments check-deadline).
    /// @param input Subject, kind, letter hash and deadline.
    /// @return commitmentId keccak256(abi.encode(department, subjectTag, kind, docHash)).
    function record(CommitmentInput calldata input) external returns (bytes32 commitmentId);

    /// @notice record on a department's EIP-712 instruction (type RecordCommitment, whose
    /// `dueBy` is `input.deadline` and whose term fields are `input.term`), relayed by a
    /// gateway; the signer becomes the department.
    /// @dev Only an active GATEWAY relays; the signer must be an active PROVIDER.
    /// @param input Subject, kind, letter hash and deadline.
    /// @param instruction The department's nonce, deadline and signature.
    /// @return commitmentId keccak256(abi.encode(signer, subjectTag, kind, docHash)).
    function recordBySig(CommitmentInput calldata input, IRelayedInstructions.Instruction calldata instruction)
        external
        returns (bytes32 commitmentId);

    /// @notice Records several commitments in one transaction.
    /// @param inputs The commitments.
    /// @return commitmentIds Their ids, in order.
    function recordBatch(CommitmentInput[] calldata inputs) external returns (bytes32[] memory commitmentIds);

    /// @notice Marks a pending commitment fulfilled.
    /// @dev Only its department, while an active PROVIDER.
    /// @param commitmentId The commitment.
    function fulfil(bytes32 commitmentId) external;

    /// @notice fulfil on the department's EIP-712 instruction (type Fulfil), relayed by a gateway.
    /// @dev Only an active GATEWAY relays; the signer must be the commitment's department and
    /// an active PROVIDER when the instruction executes (an instruction signed before a
    /// suspension is refused after it).
    /// @param commitmentId The commitment.
    /// @param instruction The department's nonce, deadline and signature.
    function fulfilBySig(bytes32 commitmentId, IRelayedInstructions.Instruction calldata instruction) external;

    /// @notice Marks a pending commitment breached, linking the dishonesty record it produced.
    /// @dev Only its department, while an active PROVIDER; before the deadline only when
    /// `violation` is set (a commitment broken outright, not merely late). The stored
    /// breachRecordId is computed from `breachRecord`, the department and the subjectTag.
    /// @param commitmentId The commitment.
    /// @param breachRecord The dishonesty record's catalogId, contentHash and issuedAt.
    /// @param violation True for a breach before the deadline.
    function breach(bytes32 commitmentId, BreachRecord calldata breachRecord, bool violation) external;

    /// @notice breach on the department's EIP-712 instruction (type Breach, whose
    /// `breachRecordId` is the recordId computed from `breachRecord`), relayed by a gateway.
    /// @dev Only an active GATEWAY relays; the signer must be the commitment's department and
    /// an active PROVIDER when the instruction executes.
    /// @param commitmentId The commitment.
    /// @param breachRecord The dishonesty record's catalogId, contentHash and issuedAt.
    /// @param violation True for a breach before the deadline.
    /// @param instruction The department's nonce, deadline and signature.
    function breachBySig(
        bytes32 commitmentId,
        BreachRecord calldata breachRecord,
        bool violation,
        IRelayedInstructions.Instruction calldata instruction
    ) external;

    /// @notice Withdraws a pending commitment.
    /// @dev Only its department, while an active PROVIDER.
    /// @param commitmentId The commitment.
    function withdraw(bytes32 commitmentId) external;

    /// @notice withdraw on the department's EIP-712 instruction (type Withdraw), relayed by a gateway.
    /// @dev Only an active GATEWAY relays; the signer must be the commitment's department and
    /// an active PROVIDER when the instruction executes.
    /// @param commitmentId The commitment.
    /// @param instruction The department's nonce, deadline and signature.
    function withdrawBySig(bytes32 commitmentId, IRelayedInstructions.Instruction calldata instruction) external;

    /// @notice A commitment.
    /// @param commitmentId The commitment.
    /// @return The commitment; reverts with CommitmentUnknown for unknown ids.
    function commitment(bytes32 commitmentId) external view returns (Commitment memory);

    /// @notice The calendar registry whose adopted calendars working-day terms name.
    /// @return Its address.
    function calendars() external view returns (address);

    /// @notice The consortium whose roles this registry checks.
    /// @return Its address.
    function consortium() external view returns (address);
}
