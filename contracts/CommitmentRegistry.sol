// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ICalendarRegistry} from "./interfaces/ICalendarRegistry.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {ICommitmentRegistry} from "./interfaces/ICommitmentRegistry.sol";
import {Roles} from "./libraries/Roles.sol";
import {RelayedInstructions} from "./RelayedInstructions.sol";

/// @title CommitmentRegistry
/// @notice Credit commitment letters, their deadlines, fulfilment and breach.
contract CommitmentRegistry is ICommitmentRegistry, RelayedInstructions {
    /// @notice EIP-712 type of a relayed recording; `dueBy` is the commitment's own deadline,
    /// counted from `acceptedOn` in `termLength` units of `termUnit` with `calendars`.
    bytes32 public constant RECORD_COMMITMENT_TYPEHASH = keccak256(
        "RecordCommitment(bytes32 subjectTag,uint8 kind,bytes32 docHash,uint32 acceptedOn,uint8 termUnit,"
        "uint16 termLength,CalendarRef[] calendars,uint64 dueBy,uint256 nonce,uint64 deadline)"
        "CalendarRef(uint16 year,uint16 version)"
    );
    /// @notice EIP-712 type of one calendar a deadline was counted with.
    bytes32 public constant CALENDAR_REF_TYPEHASH = keccak256("CalendarRef(uint16 year,uint16 version)");
    /// @notice The longest working-day term (about a year).
    uint16 public constant MAX_WORKING_DAYS = 250;
    /// @notice The longest term in months.
    uint16 public constant MAX_MONTHS = 60;
    /// @notice The most calendar years a working-day term can span.
    uint256 public constant MAX_CALENDARS = 3;
    /// @notice EIP-712 type of a relayed fulfilment.
    bytes32 public constant FULFIL_TYPEHASH = keccak256("Fulfil(bytes32 commitmentId,uint256 nonce,uint64 deadline)");
    /// @notice EIP-712 type of a relayed breach.
    bytes32 public constant BREACH_TYPEHASH = keccak256(
        "Breach(bytes32 commitmentId,bytes32 breachRecordId,bool violation,uint256 nonce,uint64 deadline)"
    );
    /// @notice EIP-712 type of a relayed withdrawal.
    bytes32 public constant WITHDRAW_TYPEHASH =
        keccak256("Withdraw(bytes32 commitmentId,uint256 nonce,uint64 deadline)");

    IConsortium private immutable _consortium;
    ICalendarRegistry private immutable _calendars;

    mapping(bytes32 commitmentId => Commitment) private _commitments;

    /// @notice Creates a registry whose departments are the consortium's PROVIDER members.
    /// @param consortium_ The Consortium.
    /// @param calendars_ The CalendarRegistry whose adopted calendars working-day terms name.
    constructor(IConsortium consortium_, ICalendarRegistry calendars_) RelayedInstructions("CreditCommitments", "1") {
        _consortium = consortium_;
        _calendars = calendars_;
    }

    // ----------------------------------------------------------------- recording

    /// @inheritdoc ICommitmentRegistry
    function record(CommitmentInput calldata input) external returns (bytes32 commitmentId) {
        _checkProvider(msg.sender);
        return _record(msg.sender, input);
    }

    /// @inheritdoc ICommitmentRegistry
    function recordBySig(CommitmentInput calldata input, Instruction calldata instruction)
        external
        returns (bytes32 commitmentId)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                RECORD_COMMITMENT_TYPEHASH,
                input.subjectTag,
                input.kind,
                input.docHash,
                input.term.acceptedOn,
                input.term.unit,
                input.term.length,
                _calendarsHash(input.term.calendars),
                input.deadline,
                instruction.nonce,
                instruction.deadline
            )
        );
        address department = _instructionSigner(structHash, instruction);
        _checkProvider(department);
        return _record(department, input);
    }

    /// @inheritdoc ICommitmentRegistry
    function recordBatch(CommitmentInput[] calldata inputs) external returns (bytes32[] memory commitmentIds) {
        _checkProvider(msg.sender);
        commitmentIds = new bytes32[](inputs.length);
        for (uint256 i = 0; i < inputs.length; ++i) {
            commitmentIds[i] = _record(msg.sender, inputs[i]);
        }
    }

    // ----------------------------------------------------------------- outcomes

    /// @inheritdoc ICommitmentRegistry
    function fulfil(bytes32 commitmentId) external {
        _fulfil(msg.sender, commitmentId);
    }

    /// @inheritdoc ICommitmentRegistry
    function fulfilBySig(bytes32 commitmentId, Instruction calldata instruction) external {
        bytes32 structHash =
            keccak256(abi.encode(FULFIL_TYPEHASH, commitmentId, instruction.nonce, instruction.deadline));
        _fulfil(_instructionSigner(structHash, instruction), commitmentId);
    }

    /// @inheritdoc ICommitmentRegistry
    function breach(bytes32 commitmentId, BreachRecord calldata breachRecord, bool violation) external {
        _breach(msg.sender, commitmentId, breachRecord, violation);
    }

    /// @inheritdoc ICommitmentRegistry
    function breachBySig(
        bytes32 commitmentId,
        BreachRecord calldata breachRecord,
        bool violation,
        Instruction calldata instruction
    ) external {
        // The recordId hashes the department, which is the commitment's: the struct hash
        // takes that department's recordId, and _breach refuses any other signer.
        address department = _existing(commitmentId).department;
        bytes32 breachRecordId = _breachRecordId(department, commitmentId, breachRecord);
        bytes32 structHash = keccak256(
            abi.encode(
                BREACH_TYPEHASH, commitmentId, breachRecordId, violation, instruction.nonce, instruction.deadline
            )
        );
        _breach(_instructionSigner(structHash, instruction), commitmentId, breachRecord, violation);
    }

    /// @inheritdoc ICommitmentRegistry
    function withdraw(bytes32 commitmentId) external {
        _withdraw(msg.sender, commitmentId);
    }

    /// @inheritdoc ICommitmentRegistry
    function withdrawBySig(bytes32 commitmentId, Instruction calldata instruction) external {
        bytes32 structHash =
            keccak256(abi.encode(WITHDRAW_TYPEHASH, commitmentId, instruction.nonce, instruction.deadline));
        _withdraw(_instructionSigner(structHash, instruction), commitmentId);
    }

    // --------------------------------------------------------------------- views

    /// @inheritdoc ICommitmentRegistry
    function commitment(bytes32 commitmentId) external view returns (Commitment memory) {
        return _existing(commitmentId);
    }

    /// @inheritdoc ICommitmentRegistry
    function calendars() external view returns (address) {
        return address(_calendars);
    }

    /// @inheritdoc ICommitmentRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Records for `department`, whose PROVIDER role the caller has checked.
    function _record(address department, CommitmentInput calldata input) private returns (bytes32 commitmentId) {
        if (input.deadline <= block.timestamp) revert CommitmentInvalidDeadline(input.deadline);
        _checkTerm(input.term);
        commitmentId = keccak256(abi.encode(department, input.subjectTag, input.kind, input.docHash));
        Commitment storage c = _commitments[commitmentId];
        if (c.status != CommitmentStatus.None) revert CommitmentExists(commitmentId);
        c.department = department;
        c.kind = input.kind;
        c.status = CommitmentStatus.Pending;
        c.madeAt = uint64(block.timestamp);
        c.deadline = input.deadline;
        c.subjectTag = input.subjectTag;
        c.docHash = input.docHash;
        emit CommitmentRecorded(
            commitmentId, input.subjectTag, department, input.kind, input.docHash, input.deadline, input.term
        );
    }

    /// @dev A term the chain can vouch for without counting days: bounded, and for working
    /// days naming the latest adopted calendar of consecutive years starting in the year of
    /// the acceptance day or the next (the count starts the day after acceptance).
    function _checkTerm(Term calldata term) private view {
        CalendarRef[] calldata refs = term.calendars;
        if (term.unit == TermUnit.Months) {
            if (term.length == 0 || term.length > MAX_MONTHS || refs.length != 0) _invalidTerm(term);
            return;
        }
        if (term.length == 0 || term.length > MAX_WORKING_DAYS) _invalidTerm(term);
        if (refs.length == 0 || refs.length > MAX_CALENDARS) _invalidTerm(term);
        uint32 acceptedYear = term.acceptedOn / 10000;
        if (refs[0].year < acceptedYear || refs[0].year > acceptedYear + 1) _invalidTerm(term);
        for (uint256 i = 0; i < refs.length; ++i) {
            CalendarRef calldata ref = refs[i];
            if (i > 0 && ref.year != refs[i - 1].year + 1) _invalidTerm(term);
            uint16 latest = _calendars.latestVersion(ref.year);
            if (latest == 0 || ref.version != latest) revert CommitmentCalendarNotCurrent(ref.year, ref.version, latest);
        }
    }

    function _invalidTerm(Term calldata term) private pure {
        revert CommitmentInvalidTerm(term.acceptedOn, term.unit, term.length);
    }

    /// @dev EIP-712 encoding of a CalendarRef[]: keccak256 of the concatenated struct hashes.
    function _calendarsHash(CalendarRef[] calldata refs) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](refs.length);
        for (uint256 i = 0; i < refs.length; ++i) {
            hashes[i] = keccak256(abi.encode(CALENDAR_REF_TYPEHASH, refs[i].year, refs[i].version));
        }
        return keccak256(abi.encodePacked(hashes));
    }

    /// @dev The recordId of the department's breach record about the commitment's subject
    /// (docs/formats.md, "Record leaf and recordId").
    function _breachRecordId(address department, bytes32 commitmentId, BreachRecord calldata breachRecord)
        private
        view
        returns (bytes32)
    {
        if (breachRecord.contentHash == bytes32(0)) revert CommitmentMissingBreachRecord(commitmentId);
        return keccak256(
            abi.encode(
                department,
                breachRecord.catalogId,
                _commitments[commitmentId].subjectTag,
                breachRecord.contentHash,
                breachRecord.issuedAt
            )
        );
    }

    function _fulfil(address department, bytes32 commitmentId) private {
        Commitment storage c = _pendingOf(department, commitmentId);
        c.status = CommitmentStatus.Fulfilled;
        emit CommitmentFulfilled(commitmentId, department);
    }

    function _breach(address department, bytes32 commitmentId, BreachRecord calldata breachRecord, bool violation)
        private
    {
        Commitment storage c = _pendingOf(department, commitmentId);
        bytes32 breachRecordId = _breachRecordId(department, commitmentId, breachRecord);
        if (!violation && block.timestamp <= c.deadline) revert CommitmentNotDue(commitmentId, c.deadline);
        c.status = CommitmentStatus.Breached;
        c.breachRecordId = breachRecordId;
        emit CommitmentBreached(commitmentId, department, breachRecordId, violation);
    }

    function _withdraw(address department, bytes32 commitmentId) private {
        Commitment storage c = _pendingOf(department, commitmentId);
        c.status = CommitmentStatus.Withdrawn;
        emit CommitmentWithdrawn(commitmentId, department);
    }

    /// @dev The department's pending commitment, while the department is an active PROVIDER:
    /// checked when the step executes, so a suspended department's own calls and the
    /// instructions it signed before its suspension are refused alike.
    function _pendingOf(address department, bytes32 commitmentId) private view returns (Commitment storage c) {
        c = _existing(commitmentId);
        if (c.department != department) revert CommitmentNotDepartment(commitmentId, department);
        _checkProvider(department);
        if (c.status != CommitmentStatus.Pending) revert CommitmentNotPending(commitmentId, c.status);
    }

    function _existing(bytes32 commitmentId) private view returns (Commitment storage c) {
        c = _commitments[commitmentId];
        if (c.status == CommitmentStatus.None) revert CommitmentUnknown(commitmentId);
    }

    function _checkProvider(address account) private view {
        if (!_consortium.hasRole(Roles.PROVIDER, account)) revert CommitmentNotProvider(account);
    }

    /// @dev Only an active GATEWAY relays instructions.
    function _checkRelayer(address relayer) internal view override {
        if (!_consortium.hasRole(Roles.GATEWAY, relayer)) revert CommitmentNotGateway(relayer);
    }

    function _revertInstructionExpired(uint64 deadline) internal pure override {
        revert CommitmentInstructionExpired(deadline);
    }
}
