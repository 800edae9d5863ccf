"""SubjectKeys: registrars revoke subjects' key credentials by hash; the "CreditSubjects" EIP-712 digests."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from chain_client import (
    SUBJECT_CREDENTIAL_FORMAT,
    Devnet,
    Role,
    SignedCredential,
    Stack,
    SubjectConsent,
    SubjectCredential,
    SubjectDocumentError,
    SubjectDomain,
    SubjectFiling,
    keccak,
    sign_credential,
)
from tests.chain_client.conftest import govern
from tests.support.reverts import expect_revert


def _credential(stack: Stack, registrar: LocalAccount) -> SubjectCredential:
    return SubjectCredential(
        subject_ref=os.urandom(32),
        subject_key=Account.create().address,
        registrar=registrar.address,
        issued_at=1_760_000_000,
        expires_at=1_860_000_000,
    )


def _registrar(devnet: Devnet) -> LocalAccount:
    return devnet.by_label("psb-beijing").account


def test_the_demo_consortium_has_registrars_for_companies_and_persons(stack: Stack, devnet: Devnet) -> None:
    """Beijing market regulation (companies) and the Beijing public security bureau (persons) are REGISTRARs."""
    registrars = {d.label for d in devnet.with_role(Role.REGISTRAR)}
    assert registrars == {"samr-beijing", "psb-beijing"}
    for label in registrars:
        assert stack.consortium.has_role(Role.REGISTRAR, devnet.by_label(label).account.address)
    assert stack.subject_keys.consortium() == stack.consortium.address


def test_a_registrar_revokes_a_credential_by_its_hash(stack: Stack, devnet: Devnet) -> None:
    """revoke records the time and the registrar, and emits CredentialRevoked with the hash alone."""
    registrar = _registrar(devnet)
    digest = _credential(stack, registrar).digest(stack.subject_keys.domain)
    assert stack.subject_keys.revoked_at(digest) == 0
    assert stack.subject_keys.revoked_by(digest) is None
    receipt = stack.subject_keys.revoke(registrar, digest)
    events = stack.subject_keys.events(receipt)
    assert [(e.name, e.args) for e in events] == [
        ("CredentialRevoked", {"credentialHash": digest, "registrar": registrar.address})
    ]
    assert stack.subject_keys.revoked_at(digest) == stack.chain.block_timestamp(int(receipt["blockNumber"]))
    assert stack.subject_keys.revoked_by(digest) == registrar.address


def test_a_credential_is_revoked_once(stack: Stack, devnet: Devnet) -> None:
    """A second revocation reverts with SubjectKeysAlreadyRevoked and the first revocation's time."""
    registrar = _registrar(devnet)
    digest = os.urandom(32)
    stack.subject_keys.revoke(registrar, digest)
    revoked_at = stack.subject_keys.revoked_at(digest)
    expect_revert(
        lambda: stack.subject_keys.revoke(registrar, digest),
        "SubjectKeysAlreadyRevoked",
        credentialHash=digest,
        revokedAt=revoked_at,
    )


def test_only_an_active_registrar_revokes(stack: Stack, devnet: Devnet, governors: list[LocalAccount]) -> None:
    """Governors, departments without the role, and a suspended registrar are refused."""
    digest = os.urandom(32)
    for label in ("governor-beijing", "tax-beijing", "auditor-hebei"):
        account = devnet.by_label(label).account
        expect_revert(
            lambda a=account: stack.subject_keys.revoke(a, digest), "SubjectKeysNotRegistrar", account=account.address
        )
    registrar = _registrar(devnet)
    govern(stack.consortium, governors, stack.consortium.suspend_call(registrar.address))
    expect_revert(
        lambda: stack.subject_keys.revoke(registrar, digest), "SubjectKeysNotRegistrar", account=registrar.address
    )
    assert stack.subject_keys.revoked_at(digest) == 0


def test_the_zero_hash_is_refused(stack: Stack, devnet: Devnet) -> None:
    """The zero hash names no credential."""
    expect_revert(lambda: stack.subject_keys.revoke(_registrar(devnet), bytes(32)), "SubjectKeysZeroHash")


def test_credential_digests_agree_with_the_contract_and_eth_account(stack: Stack, devnet: Devnet) -> None:
    """chain_client's SubjectCredential digest is the contract's and eth-account's generic encoder's."""
    registrar = _registrar(devnet)
    credential = _credential(stack, registrar)
    domain = stack.subject_keys.domain
    assert domain.as_dict()["name"] == "CreditSubjects"
    generic = encode_typed_data(
        domain.as_dict(),
        {
            "SubjectCredential": [
                {"name": "subjectRef", "type": "bytes32"},
                {"name": "subjectKey", "type": "address"},
                {"name": "registrar", "type": "address"},
                {"name": "issuedAt", "type": "uint64"},
                {"name": "expiresAt", "type": "uint64"},
            ]
        },
        {**credential.to_json(), "subjectRef": credential.subject_ref},
    )
    expected = keccak(b"\x19" + generic.version + generic.header + generic.body)
    assert credential.digest(domain) == stack.subject_keys.credential_digest(credential) == expected
    signed = sign_credential(registrar, domain, credential)
    assert signed.registrar_signer(domain) == registrar.address


def test_consent_digests_agree_with_the_contract_and_eth_account(stack: Stack, devnet: Devnet) -> None:
    """chain_client's SubjectConsent digest (the consent id) is the contract's and eth-account's."""
    consent = SubjectConsent(
        credential=os.urandom(32),
        grantee=devnet.by_label("court-hebei").account.address,
        purpose="government-procurement-review 政府采购审查",
        expires_at=1_790_000_000,
        chain_id=stack.chain.chain_id,
        consortium=stack.consortium.address,
        nonce=os.urandom(32),
    )
    domain = stack.subject_keys.domain
    generic = encode_typed_data(
        domain.as_dict(),
        {
            "SubjectConsent": [
                {"name": "credential", "type": "bytes32"},
                {"name": "grantee", "type": "address"},
                {"name": "purpose", "type": "string"},
                {"name": "expiresAt", "type": "uint64"},
                {"name": "chainId", "type": "uint256"},
                {"name": "consortium", "type": "address"},
                {"name": "nonce", "type": "bytes32"},
            ]
        },
        {**consent.to_json(), "credential": consent.credential, "nonce": consent.nonce},
    )
    expected = keccak(b"\x19" + generic.version + generic.header + generic.body)
    assert consent.digest(domain) == stack.subject_keys.consent_digest(consent) == expected


@pytest.mark.parametrize(
    ("repair", "type_name", "hash_name"),
    [(False, "SubjectObjection", "reasonHash"), (True, "SubjectRepairRequest", "evidenceHash")],
)
def test_subject_filing_digests_agree_with_eth_account(
    stack: Stack, repair: bool, type_name: str, hash_name: str
) -> None:
    """A subject's SubjectObjection / SubjectRepairRequest digest (the chain's subjectEvidence) is eth-account's."""
    filing = SubjectFiling(repair, os.urandom(32), os.urandom(32), os.urandom(32), os.urandom(32))
    domain = stack.subject_keys.domain
    members = ["recordId", hash_name, "credential", "nonce"]
    generic = encode_typed_data(
        domain.as_dict(),
        {type_name: [{"name": name, "type": "bytes32"} for name in members]},
        dict(zip(members, (filing.record_id, filing.hash, filing.credential, filing.nonce), strict=True)),
    )
    assert filing.digest(domain) == keccak(b"\x19" + generic.version + generic.header + generic.body)


def test_credential_documents_round_trip_and_refuse_malformed_ones() -> None:
    """A subject-credential@1 document parses back to itself; a wrong format, field or signature is refused."""
    registrar = Account.create()
    domain = SubjectDomain(31337, Account.create().address)
    credential = SubjectCredential(os.urandom(32), Account.create().address, registrar.address, 1, 2**64 - 1)
    signed = sign_credential(registrar, domain, credential)
    document = signed.to_json()
    assert document["format"] == SUBJECT_CREDENTIAL_FORMAT
    assert SignedCredential.from_json(document) == signed
    assert SignedCredential.from_json(document).registrar_signer(domain) == registrar.address
    broken = [
        {**document, "format": "credit-ledger/subject-credential@2"},
        {**document, "signature": "0x1234"},
        {**document, "credential": {**document["credential"], "expiresAt": 2**64}},
        {**document, "credential": {**document["credential"], "issuedAt": True}},
        {**document, "credential": {**document["credential"], "subjectRef": "0x12"}},
        {**document, "credential": {k: v for k, v in document["credential"].items() if k != "subjectKey"}},
        [],
    ]
    for bad in broken:
        with pytest.raises(SubjectDocumentError):
            SignedCredential.from_json(bad)
