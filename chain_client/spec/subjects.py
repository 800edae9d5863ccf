"""Subjects' signatures (docs/formats.md, "Subjects' signatures", normative).

A subject (a company by its unified social credit code, a person by its resident id
number) signs with its own key. A REGISTRAR member binds that key to the subject's
subjectRef with a credential, its EIP-712 signature of a `SubjectCredential`; the subject
then signs its consents (`SubjectConsent`), their withdrawal (`WithdrawConsent`) and its
own objections and repair requests (`SubjectObjection`, `SubjectRepairRequest`). All
are signed in the "CreditSubjects" domain (`SubjectDomain`), whose verifying
contract is the SubjectKeys revocation registry, where a registrar revokes a credential
by its digest. A consent's id is its digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_canonical_address, to_checksum_address

from chain_client._errors import ChainClientError
from chain_client.spec.eip712 import Eip712Domain, recover_signer, sign_digest
from chain_client.spec.keccak import keccak

SUBJECT_DOMAIN_NAME = "CreditSubjects"
SUBJECT_CREDENTIAL_TYPE = (
    "SubjectCredential(bytes32 subjectRef,address subjectKey,address registrar,uint64 issuedAt,uint64 expiresAt)"
)
SUBJECT_CONSENT_TYPE = (
    "SubjectConsent(bytes32 credential,address grantee,string purpose,uint64 expiresAt,uint256 chainId,"
    "address consortium,bytes32 nonce)"
)
WITHDRAW_CONSENT_TYPE = "WithdrawConsent(bytes32 consentId,bytes32 credential)"
SUBJECT_OBJECTION_TYPE = "SubjectObjection(bytes32 recordId,bytes32 reasonHash,bytes32 credential,bytes32 nonce)"
SUBJECT_REPAIR_REQUEST_TYPE = (
    "SubjectRepairRequest(bytes32 recordId,bytes32 evidenceHash,bytes32 credential,bytes32 nonce)"
)
SUBJECT_CREDENTIAL_FORMAT = "credit-ledger/subject-credential@1"
MAX_CONSENT_LIFETIME_S = 366 * 86_400  # "at most one year": a leap year's 366 days
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")


class SubjectDocumentError(ChainClientError, ValueError):
    """A credential, consent or withdrawal document is malformed."""


@dataclass(frozen=True)
class SubjectDomain(Eip712Domain):
    """The EIP-712 domain of subjects' signatures ("CreditSubjects", version "1", the SubjectKeys registry)."""

    name: ClassVar[str] = SUBJECT_DOMAIN_NAME


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + to_canonical_address(address)


@dataclass(frozen=True)
class SubjectCredential:
    """A registrar's binding of a subject's key to its subjectRef."""

    subject_ref: bytes
    subject_key: ChecksumAddress
    registrar: ChecksumAddress
    issued_at: int
    expires_at: int

    def struct_hash(self) -> bytes:
        """hashStruct of the SubjectCredential."""
        return keccak(
            keccak(SUBJECT_CREDENTIAL_TYPE.encode())
            + self.subject_ref
            + _address_word(self.subject_key)
            + _address_word(self.registrar)
            + _word(self.issued_at)
            + _word(self.expires_at)
        )

    def digest(self, domain: SubjectDomain) -> bytes:
        """The digest the registrar signs; the credential's hash in the revocation registry."""
        return domain.digest(self.struct_hash())

    def to_json(self) -> dict[str, Any]:
        """The credential's fields as JSON."""
        return {
            "subjectRef": "0x" + self.subject_ref.hex(),
            "subjectKey": self.subject_key,
            "registrar": self.registrar,
            "issuedAt": self.issued_at,
            "expiresAt": self.expires_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> SubjectCredential:
        """Parse to_json()'s form; SubjectDocumentError when malformed."""
        try:
            return cls(
                subject_ref=_bytes32(data["subjectRef"]),
                subject_key=to_checksum_address(data["subjectKey"]),
                registrar=to_checksum_address(data["registrar"]),
                issued_at=_uint64(data["issuedAt"]),
                expires_at=_uint64(data["expiresAt"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SubjectDocumentError(f"malformed credential: {exc}") from None


@dataclass(frozen=True)
class SignedCredential:
    """A credential with its registrar's signature: what the subject holds and shows."""

    credential: SubjectCredential
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        """The credit-ledger/subject-credential@1 document."""
        return {
            "format": SUBJECT_CREDENTIAL_FORMAT,
            "credential": self.credential.to_json(),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> SignedCredential:
        """Parse a credit-ledger/subject-credential@1 document; SubjectDocumentError when malformed."""
        if not isinstance(data, dict) or data.get("format") != SUBJECT_CREDENTIAL_FORMAT:
            raise SubjectDocumentError(f"not a {SUBJECT_CREDENTIAL_FORMAT} document")
        return cls(SubjectCredential.from_json(data.get("credential")), _signature(data.get("signature")))

    def registrar_signer(self, domain: SubjectDomain) -> ChecksumAddress | None:
        """The address that signed the credential (None for a malformed signature)."""
        return recover_signer(self.credential.digest(domain), self.signature)


@dataclass(frozen=True)
class SubjectConsent:
    """A subject's consent for one member to read its class-B records for a purpose."""

    credential: bytes
    grantee: ChecksumAddress
    purpose: str
    expires_at: int
    chain_id: int
    consortium: ChecksumAddress
    nonce: bytes

    def struct_hash(self) -> bytes:
        """hashStruct of the SubjectConsent."""
        return keccak(
            keccak(SUBJECT_CONSENT_TYPE.encode())
            + self.credential
            + _address_word(self.grantee)
            + keccak(self.purpose.encode())
            + _word(self.expires_at)
            + _word(self.chain_id)
            + _address_word(self.consortium)
            + self.nonce
        )

    def digest(self, domain: SubjectDomain) -> bytes:
        """The digest the subject signs, which is also the consent's id."""
        return domain.digest(self.struct_hash())

    def to_json(self) -> dict[str, Any]:
        """The consent's fields as JSON."""
        return {
            "credential": "0x" + self.credential.hex(),
            "grantee": self.grantee,
            "purpose": self.purpose,
            "expiresAt": self.expires_at,
            "chainId": self.chain_id,
            "consortium": self.consortium,
            "nonce": "0x" + self.nonce.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> SubjectConsent:
        """Parse to_json()'s form; SubjectDocumentError when malformed."""
        try:
            purpose = data["purpose"]
            if not isinstance(purpose, str):
                raise TypeError("purpose is not a string")
            chain_id = data["chainId"]
            if not isinstance(chain_id, int) or isinstance(chain_id, bool) or not 0 < chain_id < 2**256:
                raise ValueError("chainId is not a positive integer")
            return cls(
                credential=_bytes32(data["credential"]),
                grantee=to_checksum_address(data["grantee"]),
                purpose=purpose,
                expires_at=_uint64(data["expiresAt"]),
                chain_id=chain_id,
                consortium=to_checksum_address(data["consortium"]),
                nonce=_bytes32(data["nonce"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SubjectDocumentError(f"malformed consent: {exc}") from None


@dataclass(frozen=True)
class ConsentWithdrawal:
    """A subject's withdrawal of one of its consents, signed under one of its credentials."""

    consent_id: bytes
    credential: bytes

    def struct_hash(self) -> bytes:
        """hashStruct of the WithdrawConsent."""
        return keccak(keccak(WITHDRAW_CONSENT_TYPE.encode()) + self.consent_id + self.credential)

    def digest(self, domain: SubjectDomain) -> bytes:
        """The digest the subject signs."""
        return domain.digest(self.struct_hash())


@dataclass(frozen=True)
class SubjectFiling:
    """A subject's own objection (SubjectObjection) or repair request (SubjectRepairRequest).

    `hash` is the objection's reasonHash or the request's evidenceHash, as the ledger
    takes it; the digest is the `subjectEvidence` the record's gateway puts on chain.
    """

    repair: bool
    record_id: bytes
    hash: bytes
    credential: bytes
    nonce: bytes

    def struct_hash(self) -> bytes:
        """hashStruct of the SubjectObjection or SubjectRepairRequest."""
        kind = SUBJECT_REPAIR_REQUEST_TYPE if self.repair else SUBJECT_OBJECTION_TYPE
        return keccak(keccak(kind.encode()) + self.record_id + self.hash + self.credential + self.nonce)

    def digest(self, domain: SubjectDomain) -> bytes:
        """The digest the subject signs: the filing's subjectEvidence on chain."""
        return domain.digest(self.struct_hash())


def sign_credential(registrar: LocalAccount, domain: SubjectDomain, credential: SubjectCredential) -> SignedCredential:
    """The registrar's signed credential."""
    return SignedCredential(credential, sign_digest(registrar, credential.digest(domain)))


def sign_consent(subject_key: LocalAccount, domain: SubjectDomain, consent: SubjectConsent) -> bytes:
    """The subject's 65-byte signature of a consent."""
    return sign_digest(subject_key, consent.digest(domain))


def sign_withdrawal(subject_key: LocalAccount, domain: SubjectDomain, withdrawal: ConsentWithdrawal) -> bytes:
    """The subject's 65-byte signature of a withdrawal."""
    return sign_digest(subject_key, withdrawal.digest(domain))


def sign_filing(subject_key: LocalAccount, domain: SubjectDomain, filing: SubjectFiling) -> bytes:
    """The subject's 65-byte signature of its objection or repair request."""
    return sign_digest(subject_key, filing.digest(domain))


def parse_signature(value: Any) -> bytes:
    """A 0x-hex 65-byte signature; SubjectDocumentError otherwise."""
    return _signature(value)


def _signature(value: Any) -> bytes:
    if not isinstance(value, str) or not _SIGNATURE.match(value):
        raise SubjectDocumentError("a signature is 0x and 65 bytes of hex")
    return bytes.fromhex(value[2:])


def _bytes32(value: Any) -> bytes:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise ValueError("expected 0x and 32 bytes of hex")
    return bytes.fromhex(value[2:])


def _uint64(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
        raise ValueError("expected an integer from 0 to 2**64 - 1")
    return value
