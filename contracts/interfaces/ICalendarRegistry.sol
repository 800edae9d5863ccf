// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ICalendarRegistry
/// @notice The working calendars (工作日历) the consortium has adopted, one per year,
/// each the State Council General Office's holiday notice for that year as a working
/// calendar document (format "credit-ledger/working-calendar", version 1). A year's calendar is adopted only by an
/// approved consortium proposal, which carries the document itself; a corrected notice
/// is adopted again as the next version of that year, and every version stays readable.
/// Commitment deadlines counted in working days name the versions they were counted with.
interface ICalendarRegistry {
    /// @notice One adopted version of a year's calendar.
    /// @param documentHash keccak256 of the document's bytes (its RFC 8785 form).
    /// @param adoptedAt Block time of the adoption.
    /// @param blockNumber Block of the adoption, where its CalendarAdopted event carries the document.
    struct Adoption {
        bytes32 documentHash;
        uint64 adoptedAt;
        uint64 blockNumber;
    }

    /// @notice Emitted when a year's calendar is adopted, with the document itself.
    event CalendarAdopted(uint16 indexed year, uint16 indexed version, bytes32 documentHash, bytes document);

    /// @notice Only the consortium, through an approved proposal, adopts calendars.
    error CalendarOnlyConsortium(address caller);
    /// @notice A year outside 2000–9999.
    error CalendarInvalidYear(uint16 year);
    /// @notice An adoption must carry the document.
    error CalendarEmptyDocument(uint16 year);
    /// @notice No such version of that year's calendar has been adopted.
    error CalendarUnknownVersion(uint16 year, uint16 version);

    /// @notice Adopts a year's calendar as its next version.
    /// @dev Only the consortium (an executed proposal). The contract cannot read the
    /// document: readers check that it is a valid calendar of `year` before using it.
    /// @param year The calendar year the document covers.
    /// @param document The document's bytes, its RFC 8785 form.
    /// @return version 1 for the year's first adoption, one more for each correction.
    function adopt(uint16 year, bytes calldata document) external returns (uint16 version);

    /// @notice The latest adopted version of a year's calendar.
    /// @param year The calendar year.
    /// @return The version, 0 when none has been adopted.
    function latestVersion(uint16 year) external view returns (uint16);

    /// @notice One adopted version of a year's calendar.
    /// @param year The calendar year.
    /// @param version The version, from 1.
    /// @return The adoption; reverts with CalendarUnknownVersion otherwise.
    function adoption(uint16 year, uint16 version) external view returns (Adoption memory);

    /// @notice The consortium whose proposals adopt calendars.
    /// @return Its address.
    function consortium() external view returns (address);
}
