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

    mapping(uint16 year => uint16) private _latest;
    mapping(uint16 year => mapping(uint16 version => Adoption)) private _adoptions;

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
        version = SafeCast.toUint16(uint256(_latest[year]) + 1);
        bytes32 documentHash = keccak256(document);
        _adoptions[year][version] =
            Adoption({documentHash: documentHash, adoptedAt: uint64(block.timestamp), blockNumber: uint64(block.number)});
        _latest[year] = version;
        emit CalendarAdopted(year, version, documentHash, document);
    }

    /// @inheritdoc ICalendarRegistry
    function latestVersion(uint16 year) external view returns (uint16) {
        return _latest[year];
    }

    /// @inheritdoc ICalendarRegistry
    function adoption(uint16 year, uint16 version) external view returns (Adoption memory) {
        if (version == 0 || version > _latest[year]) revert CalendarUnknownVersion(year, version);
        return _adoptions[year][version];
    }

    /// @inheritdoc ICalendarRegistry
    function consortium() external view returns (address) {
        return _consortium;
    }
}
