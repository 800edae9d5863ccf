// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {ISubjectKeys} from "./interfaces/ISubjectKeys.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title SubjectKeys
/// @notice Revoked subject-key credentials, by hash only, and the "CreditSubjects" EIP-712 domain.
/// @dev Credentials and consents are checked by the gateways off chain; this contract is
/// where a revocation becomes public at once, and the verifying contract of the domain.
contract SubjectKeys is ISubjectKeys, EIP712 {
    /// @notice keccak256 of the SubjectCredential type.
    bytes32 public constant SUBJECT_CREDENTIAL_TYPEHASH = keccak256(
        "SubjectCredential(bytes32 subjectRef,address subjectKey,address registrar,uint64 issuedAt,uint64 expiresAt)"
    );
    /// @notice keccak256 of the SubjectConsent type.
    bytes32 public constant SUBJECT_CONSENT_TYPEHASH = keccak256(
        "SubjectConsent(bytes32 credential,address grantee,string purpose,uint64 expiresAt,uint256 chainId,"
        "address consortium,bytes32 nonce)"
    );

    IConsortium private immutable _consortium;

    mapping(bytes32 credentialHash => Revocation) private _revocations;

    /// @notice Creates an empty registry whose REGISTRAR members are the consortium's.
    /// @param consortium_ The Consortium contract holding the roles.
    constructor(address consortium_) EIP712("CreditSubjects", "1") {
        _consortium = IConsortium(consortium_);
    }

    /// @inheritdoc ISubjectKeys
    function revoke(bytes32 credentialHash) external {
        _revoke(credentialHash, msg.sender);
    }

    /// @inheritdoc ISubjectKeys
    function revokedAt(bytes32 credentialHash) external view returns (uint64) {
        return _revocations[credentialHash].revokedAt;
    }

    /// @inheritdoc ISubjectKeys
    function revokedBy(bytes32 credentialHash) external view returns (address) {
        return _revocations[credentialHash].registrar;
    }

    /// @inheritdoc ISubjectKeys
    function credentialDigest(SubjectCredential calldata credential) external view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    SUBJECT_CREDENTIAL_TYPEHASH,
                    credential.subjectRef,
                    credential.subjectKey,
                    credential.registrar,
                    credential.issuedAt,
                    credential.expiresAt
                )
            )
        );
    }

    /// @inheritdoc ISubjectKeys
    function consentDigest(SubjectConsent calldata consent) external view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    SUBJECT_CONSENT_TYPEHASH,
                    consent.credential,
                    consent.grantee,
                    keccak256(bytes(consent.purpose)),
                    consent.expiresAt,
                    consent.chainId,
                    consent.consortium,
                    consent.nonce
                )
            )
        );
    }

    /// @inheritdoc ISubjectKeys
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    function _revoke(bytes32 credentialHash, address registrar) private {
        if (!_consortium.hasRole(Roles.REGISTRAR, registrar)) revert SubjectKeysNotRegistrar(registrar);
        if (credentialHash == bytes32(0)) revert SubjectKeysZeroHash();
        uint64 already = _revocations[credentialHash].revokedAt;
        if (already != 0) revert SubjectKeysAlreadyRevoked(credentialHash, already);
        _revocations[credentialHash] = Revocation({revokedAt: uint64(block.timestamp), registrar: registrar});
        emit CredentialRevoked(credentialHash, registrar);
    }
}
