"""Typed wrapper over the SubjectKeys contract: revoked subject-key credentials, by hash.

The credentials themselves are off chain (chain_client.spec.subjects); the registry holds
only the digests a REGISTRAR member revoked, so a gateway can tell at once whether a
credential still binds its key.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3.types import TxReceipt

from chain_client.contracts.chain import Chain, Event
from chain_client.spec.subjects import SubjectConsent, SubjectCredential, SubjectDomain

CONTRACT_NAME = "SubjectKeys"


class SubjectKeys:
    """The revocation registry, and the "CreditSubjects" EIP-712 domain it verifies."""

    def __init__(self, chain: Chain, address: ChecksumAddress) -> None:
        self.chain = chain
        self.address = address
        self._contract = chain.contract(CONTRACT_NAME, address)

    @property
    def domain(self) -> SubjectDomain:
        """The "CreditSubjects" domain of this deployment."""
        return SubjectDomain(self.chain.chain_id, self.address)

    def revoke(self, registrar: LocalAccount, credential_hash: bytes) -> TxReceipt:
        """Revoke a credential by its digest (an active REGISTRAR member only)."""
        return self.chain.transact(registrar, self._contract.functions.revoke(credential_hash))

    def revoked_at(self, credential_hash: bytes) -> int:
        """Block time of the credential's revocation, 0 while it is not revoked."""
        return int(self.chain.call(self._contract.functions.revokedAt(credential_hash)))

    def revoked_by(self, credential_hash: bytes) -> ChecksumAddress | None:
        """The registrar that revoked the credential, None while it is not revoked."""
        address = str(self.chain.call(self._contract.functions.revokedBy(credential_hash)))
        return None if int(address, 16) == 0 else to_checksum_address(address)

    def credential_digest(self, credential: SubjectCredential) -> bytes:
        """The contract's own digest of a credential (what chain_client.spec.subjects computes)."""
        fields = (
            credential.subject_ref,
            credential.subject_key,
            credential.registrar,
            credential.issued_at,
            credential.expires_at,
        )
        return bytes(self.chain.call(self._contract.functions.credentialDigest(fields)))

    def consent_digest(self, consent: SubjectConsent) -> bytes:
        """The contract's own digest of a consent."""
        fields = (
            consent.credential,
            consent.grantee,
            consent.purpose,
            consent.expires_at,
            consent.chain_id,
            consent.consortium,
            consent.nonce,
        )
        return bytes(self.chain.call(self._contract.functions.consentDigest(fields)))

    def consortium(self) -> ChecksumAddress:
        """The consortium whose REGISTRAR members revoke."""
        return to_checksum_address(self.chain.call(self._contract.functions.consortium()))

    def events(self, receipt: TxReceipt) -> list[Event]:
        """The registry's events in a receipt."""
        return self.chain.decode_events(self._contract, receipt)
