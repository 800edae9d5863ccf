// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ISubjectKeys
/// @notice The revocation registry of subjects' key credentials, and the EIP-712 domain
/// ("CreditSubjects", version "1") that subjects and registrars sign in.
/// @dev A subject (a company by its unified social credit code, a person by its resident
/// id number) holds a key that a REGISTRAR member binds to its subjectRef with an off-chain
/// credential: the registrar's EIP-712 signature of a SubjectCredential. The chain holds
/// only the hashes (EIP-712 digests) of revoked credentials, never a subjectRef or a
/// subject's key, so nothing on chain links one subject's credentials, consents or
/// records. Gateways check a credential against this registry whenever they rely on it:
/// a revoked credential stops every consent signed under it at once. Re-binding a lost or
/// compromised key is a revocation and a new credential.
interface ISubjectKeys {
    /// @notice A registrar's binding of a subject's key (signed off chain, never stored here).
    /// @param subjectRef The subject's reference (docs/formats.md, "Subject references").
    /// @param subjectKey The address of the key the subject signs with.
    /// @param registrar The REGISTRAR member that signs the credential.
    /// @param issuedAt Unix seconds the credential was issued.
    /// @param expiresAt Unix seconds after which the credential no longer binds the key.
    struct SubjectCredential {
        bytes32 subjectRef;
        address subjectKey;
        address registrar;
        uint64 issuedAt;
        uint64 expiresAt;
    }

    /// @notice A subject's consent for one member to read its class-B records for a purpose.
    /// @param credential The EIP-712 digest of the credential binding the signing key.
    /// @param grantee The member allowed to read.
    /// @param purpose The purpose the member reads for, exactly as it states it.
    /// @param expiresAt Unix seconds the consent ends; at most one year after it is registered.
    /// @param chainId The audience: the chain the consortium runs on.
    /// @param consortium The audience: the consortium's Consortium contract.
    /// @param nonce Random; a gateway registers a (subject, nonce) once.
    struct SubjectConsent {
        bytes32 credential;
        address grantee;
        string purpose;
        uint64 expiresAt;
        uint256 chainId;
        address consortium;
        bytes32 nonce;
    }

    /// @notice A revocation as stored.
    /// @param revokedAt Block time of the revocation.
    /// @param registrar The REGISTRAR member that revoked.
    struct Revocation {
        uint64 revokedAt;
        address registrar;
    }

    /// @notice Emitted when a registrar revokes a credential.
    event CredentialRevoked(bytes32 indexed credentialHash, address indexed registrar);

    /// @notice Only an active REGISTRAR member revokes credentials.
    error SubjectKeysNotRegistrar(address account);
    /// @notice The credential is revoked already.
    error SubjectKeysAlreadyRevoked(bytes32 credentialHash, uint64 revokedAt);
    /// @notice The zero hash names no credential.
    error SubjectKeysZeroHash();

    /// @notice Revokes a credential: gateways stop accepting it, and every consent signed
    /// under it, at once.
    /// @dev Only an active REGISTRAR member. The hash alone says nothing of the subject.
    /// @param credentialHash The credential's EIP-712 digest (see credentialDigest).
    function revoke(bytes32 credentialHash) external;

    /// @notice When a credential was revoked.
    /// @param credentialHash The credential's EIP-712 digest.
    /// @return Block time of the revocation, 0 while it is not revoked.
    function revokedAt(bytes32 credentialHash) external view returns (uint64);

    /// @notice The registrar that revoked a credential.
    /// @param credentialHash The credential's EIP-712 digest.
    /// @return Its address, zero while the credential is not revoked.
    function revokedBy(bytes32 credentialHash) external view returns (address);

    /// @notice The EIP-712 digest a registrar signs for a credential, and its hash here.
    /// @param credential The credential.
    /// @return The digest.
    function credentialDigest(SubjectCredential calldata credential) external view returns (bytes32);

    /// @notice The EIP-712 digest a subject signs for a consent, which is also its consent id.
    /// @param consent The consent.
    /// @return The digest.
    function consentDigest(SubjectConsent calldata consent) external view returns (bytes32);

    /// @notice The consortium whose REGISTRAR members revoke credentials.
    /// @return Its address.
    function consortium() external view returns (address);
}
