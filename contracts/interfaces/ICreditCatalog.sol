// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ICreditCatalog
/// @notice The public credit information catalog (公共信用信息目录): what each kind of
/// record is, which department sources it, how it may be disclosed, how long it is
/// published and when it may be repaired. Entries change only through the consortium's
/// governor threshold; every change makes a new version and every version stays readable,
/// so a record is always judged by the catalog version it was issued under.
interface ICreditCatalog {
    /// @notice How a record's payload may be disclosed.
    /// A: public (社会公开); B: authorized query with the subject's consent (授权查询);
    /// C: shared between departments (部门共享).
    enum DisclosureClass {
        A,
        B,
        C
    }

    /// @notice Whether records of the entry put a subject on a red or black list.
    enum ListKind {
        None,
        Red,
        Black
    }

    /// @notice A catalog entry at one version.
    /// @param code Catalog code, for example "BJ-XZCF-001"; catalogId = keccak256(code).
    /// @param source The PROVIDER member that sources these records.
    /// @param disclosureClass A, B or C.
    /// @param listKind None, Red or Black.
    /// @param publicityDays Days a class-A record is published after issue.
    /// @param minDaysBeforeRepair Days after anchoring before a repair may be approved.
    /// @param version 1 for the first version, one more for each change.
    /// @param schemaHash keccak256 of the JSON Schema of the payload.
    /// @param active False once the entry is withdrawn: no new records.
    /// @param changedAt Block time of this version.
    struct Entry {
        address source;
        DisclosureClass disclosureClass;
        ListKind listKind;
        uint32 publicityDays;
        uint32 minDaysBeforeRepair;
        uint16 version;
        bool active;
        uint64 changedAt;
        bytes32 schemaHash;
        string code;
    }

    /// @notice The fields a governor proposal sets when creating or updating an entry.
    struct EntryInput {
        string code;
        address source;
        DisclosureClass disclosureClass;
        ListKind listKind;
        uint32 publicityDays;
        uint32 minDaysBeforeRepair;
        bytes32 schemaHash;
    }

    /// @notice Emitted when an entry is created (version 1) or changed (a new version).
    event EntryVersioned(
        bytes32 indexed catalogId, uint16 indexed version, address indexed source, string code, bool active
    );

    /// @notice Only the consortium, executing an approved proposal, changes the catalog.
    error CatalogOnlyConsortium(address caller);
    /// @notice No entry has this id.
    error CatalogUnknownEntry(bytes32 catalogId);
    /// @notice The entry has no such version.
    error CatalogUnknownVersion(bytes32 catalogId, uint16 version);
    /// @notice An entry with this code already exists.
    error CatalogEntryExists(bytes32 catalogId);
    /// @notice An entry needs a code.
    error CatalogEmptyCode();
    /// @notice An update must keep the entry's code: the code is its identity.
    error CatalogCodeChanged(bytes32 catalogId, string code);
    /// @notice The source must be an active PROVIDER member.
    error CatalogSourceNotProvider(address source);
    /// @notice The entry is already in that active state.
    error CatalogActiveUnchanged(bytes32 catalogId, bool active);

    /// @notice Creates an entry at version 1. Only through a consortium proposal.
    /// @param input The entry's fields.
    /// @return catalogId keccak256 of the code.
    function createEntry(EntryInput calldata input) external returns (bytes32 catalogId);

    /// @notice Replaces an entry's fields as a new version. Only through a consortium proposal.
    /// @param catalogId The entry.
    /// @param input The new fields; the code must stay the same.
    /// @return version The new version.
    function updateEntry(bytes32 catalogId, EntryInput calldata input) external returns (uint16 version);

    /// @notice Withdraws or restores an entry as a new version. Only through a consortium proposal.
    /// @param catalogId The entry.
    /// @param active The new state.
    /// @return version The new version.
    function setActive(bytes32 catalogId, bool active) external returns (uint16 version);

    /// @notice The latest version of an entry.
    /// @param catalogId The entry.
    /// @return The entry; reverts with CatalogUnknownEntry for unknown ids.
    function entry(bytes32 catalogId) external view returns (Entry memory);

    /// @notice An entry at a given version.
    /// @param catalogId The entry.
    /// @param version From 1 to the latest.
    /// @return The entry at that version.
    function entryAt(bytes32 catalogId, uint16 version) external view returns (Entry memory);

    /// @notice The latest version of an entry, 0 when it does not exist.
    /// @param catalogId The entry.
    /// @return The version.
    function latestVersion(bytes32 catalogId) external view returns (uint16);

    /// @notice The repair rule of an entry at a version, cheap for other contracts to read.
    /// @param catalogId The entry.
    /// @param version The version.
    /// @return minDaysBeforeRepair Days after anchoring before repair may be approved.
    function repairRule(bytes32 catalogId, uint16 version) external view returns (uint32 minDaysBeforeRepair);

    /// @notice Number of entries.
    /// @return The count.
    function entryCount() external view returns (uint256);

    /// @notice The id of the entry at an index of creation order.
    /// @param index From 0 to entryCount() - 1.
    /// @return The catalogId.
    function catalogIdAt(uint256 index) external view returns (bytes32);

    /// @notice The consortium that governs this catalog.
    /// @return Its address.
    function consortium() external view returns (address);
}
