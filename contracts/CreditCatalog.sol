// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortium} from "./interfaces/IConsortium.sol";
import {ICreditCatalog} from "./interfaces/ICreditCatalog.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title CreditCatalog
/// @notice Versioned catalog entries, changed only by the consortium's approved proposals.
contract CreditCatalog is ICreditCatalog {
    IConsortium private immutable _consortium;

    mapping(bytes32 catalogId => uint16) private _latest;
    mapping(bytes32 catalogId => mapping(uint16 version => Entry)) private _versions;
    bytes32[] private _ids;

    modifier onlyConsortium() {
        _checkConsortium();
        _;
    }

    /// @notice Creates an empty catalog governed by a consortium.
    /// @param consortium_ The Consortium contract whose proposals change the catalog.
    constructor(IConsortium consortium_) {
        _consortium = consortium_;
    }

    /// @inheritdoc ICreditCatalog
    function createEntry(EntryInput calldata input) external onlyConsortium returns (bytes32 catalogId) {
        if (bytes(input.code).length == 0) revert CatalogEmptyCode();
        catalogId = keccak256(bytes(input.code));
        if (_latest[catalogId] != 0) revert CatalogEntryExists(catalogId);
        _ids.push(catalogId);
        _store(catalogId, 1, input, true);
    }

    /// @inheritdoc ICreditCatalog
    function updateEntry(bytes32 catalogId, EntryInput calldata input) external onlyConsortium returns (uint16 version) {
        Entry storage current = _current(catalogId);
        if (keccak256(bytes(input.code)) != catalogId) revert CatalogCodeChanged(catalogId, input.code);
        version = current.version + 1;
        _store(catalogId, version, input, current.active);
    }

    /// @inheritdoc ICreditCatalog
    function setActive(bytes32 catalogId, bool active) external onlyConsortium returns (uint16 version) {
        Entry storage current = _current(catalogId);
        if (current.active == active) revert CatalogActiveUnchanged(catalogId, active);
        version = current.version + 1;
        Entry storage next = _versions[catalogId][version];
        // Copy the current version, then change only the flag and the stamp.
        next.source = current.source;
        next.disclosureClass = current.disclosureClass;
        next.listKind = current.listKind;
        next.publicityDays = current.publicityDays;
        next.minDaysBeforeRepair = current.minDaysBeforeRepair;
        next.schemaHash = current.schemaHash;
        next.code = current.code;
        next.version = version;
        next.active = active;
        next.changedAt = uint64(block.timestamp);
        _latest[catalogId] = version;
        emit EntryVersioned(catalogId, version, next.source, next.code, active);
    }

    /// @inheritdoc ICreditCatalog
    function entry(bytes32 catalogId) external view returns (Entry memory) {
        return _current(catalogId);
    }

    /// @inheritdoc ICreditCatalog
    function entryAt(bytes32 catalogId, uint16 version) external view returns (Entry memory) {
        return _at(catalogId, version);
    }

    /// @inheritdoc ICreditCatalog
    function latestVersion(bytes32 catalogId) external view returns (uint16) {
        return _latest[catalogId];
    }

    /// @inheritdoc ICreditCatalog
    function repairRule(bytes32 catalogId, uint16 version) external view returns (uint32 minDaysBeforeRepair) {
        return _at(catalogId, version).minDaysBeforeRepair;
    }

    /// @inheritdoc ICreditCatalog
    function entryCount() external view returns (uint256) {
        return _ids.length;
    }

    /// @inheritdoc ICreditCatalog
    function catalogIdAt(uint256 index) external view returns (bytes32) {
        return _ids[index];
    }

    /// @inheritdoc ICreditCatalog
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    function _store(bytes32 catalogId, uint16 version, EntryInput calldata input, bool active) private {
        if (!_consortium.hasRole(Roles.PROVIDER, input.source)) revert CatalogSourceNotProvider(input.source);
        _versions[catalogId][version] = Entry({
            source: input.source,
            disclosureClass: input.disclosureClass,
            listKind: input.listKind,
            publicityDays: input.publicityDays,
            minDaysBeforeRepair: input.minDaysBeforeRepair,
            version: version,
            active: active,
            changedAt: uint64(block.timestamp),
            schemaHash: input.schemaHash,
            code: input.code
        });
        _latest[catalogId] = version;
        emit EntryVersioned(catalogId, version, input.source, input.code, active);
    }

    function _current(bytes32 catalogId) private view returns (Entry storage) {
        uint16 version = _latest[catalogId];
        if (version == 0) revert CatalogUnknownEntry(catalogId);
        return _versions[catalogId][version];
    }

    function _at(bytes32 catalogId, uint16 version) private view returns (Entry storage e) {
        if (_latest[catalogId] == 0) revert CatalogUnknownEntry(catalogId);
        e = _versions[catalogId][version];
        if (e.version == 0) revert CatalogUnknownVersion(catalogId, version);
    }

    function _checkConsortium() private view {
        if (msg.sender != address(_consortium)) revert CatalogOnlyConsortium(msg.sender);
    }
}
