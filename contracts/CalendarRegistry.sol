// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICalendarRegistry} from "./interfaces/ICalendarRegistry.sol";

/// @title CalendarRegistry
/// @notice Working calendars adopted by the consortium, versioned per year.
/// @dev The document lives in the adoption's event (and the proposal's calldata); the
/// contract keeps its hash, so that a reader checks whatever document it was given.
contract CalendarRegistry is ICalendarRegistry {
    address private immutable _consortium;

    mapping(uint16 year => Adoption[]) private _adoptions;

    /// @notice Creates an empty registry governed by a consortium.
    /// @param consortium_ The Consortium contract whose proposals adopt calendars.
    constructor(address consortium_) {
        _consortium = consortium_;
    }

    /// @inheritdoc ICalendarRegistry
    function adopt(uint16 year, bytes calldata document) external returns (uint16 version) {
        if (msg.sender != _consortium) revert CalendarOnlyConsortium(msg.sender);
        if (year < 2000 || year > 9999) revert CalendarInvalidYear(year);
        if (document.length == 0) revert CalendarEmptyDocument(year);
        Adoption[] storage versions = _adoptions[year];
        bytes32 documentHash = keccak256(document);
        versions.push(
            Adoption({documentHash: documentHash, adoptedAt: uint64(block.timestamp), blockNumber: uint64(block.number)})
        );
        version = SafeCast.toUint16(versions.length);
        emit CalendarAdopted(year, version, documentHash, document);
    }

    /// @inheritdoc ICalendarRegistry
    function latestVersion(uint16 year) external view returns (uint16) {
        return uint16(_adoptions[year].length);
    }

    /// @inheritdoc ICalendarRegistry
    function adoption(uint16 year, uint16 version) external view returns (Adoption memory) {
        Adoption[] storage versions = _adoptions[year];
        if (version == 0 || version > versions.length) revert CalendarUnknownVersion(year, version);
        return versions[version - 1];
    }

    /// @inheritdoc ICalendarRegistry
    function consortium() external view returns (address) {
        return _consortium;
    }
}
