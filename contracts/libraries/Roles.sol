// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Roles
/// @notice The consortium's role identifiers, shared by every contract that checks them.
library Roles {
    /// @notice A region's credit centre: governs membership and the catalog.
    bytes32 internal constant GOVERNOR = keccak256("GOVERNOR_ROLE");
    /// @notice A department that sources catalog entries and signs records.
    bytes32 internal constant PROVIDER = keccak256("PROVIDER_ROLE");
    /// @notice Reads provenance trails and access logs.
    bytes32 internal constant AUDITOR = keccak256("AUDITOR_ROLE");
    /// @notice A gateway's service account: anchors record and access-log batches.
    bytes32 internal constant GATEWAY = keccak256("GATEWAY_ROLE");
    /// @notice A region's gateway identity when it reads from another region's gateway.
    bytes32 internal constant PEER = keccak256("PEER_ROLE");
    /// @notice Binds subjects' keys to their identities (企业: market regulation; 个人: public security)
    /// and revokes those bindings in SubjectKeys.
    bytes32 internal constant REGISTRAR = keccak256("REGISTRAR_ROLE");

    /// @notice Whether `role` is one of the roles above.
    function isKnown(bytes32 role) internal pure returns (bool) {
        return role == GOVERNOR || role == PROVIDER || role == AUDITOR || role == GATEWAY || role == PEER
            || role == REGISTRAR;
    }
}
