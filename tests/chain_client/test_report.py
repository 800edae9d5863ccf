"""Signed documents and credit reports: building, offline and online verification, tampering.

Every report here is built from records signed by a provider and anchored on the
embedded chain, with real proof bundles disclosing the fields the report shows.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain_client import (
    Chain,
    Devnet,
    DisclosureClass,
    ObjectionOutcome,
    RecordProof,
    RecordStatus,
    SignedRecord,
    Stack,
    anchor_records,
)
from chain_client.dev import DevChain
from chain_client.spec.signed_document import document_digest, document_signer, sign_document
from chain_client.verify.report import (
    ONLINE_RECORD_CHECKS,
    ONLINE_REPORT_CHECKS,
    RECORD_CHECKS,
    REPORT_CHECKS,
    REPORT_FORMAT,
    build_report_document,
    report_record,
    report_schema,
    report_schema_problems,
    verify_report,
)
from tests.chain_client.conftest import PENALTY_CODE, govern, make_leaf
from tests.support.reports import (
    PENALTY_ID,
    PUBLIC_FIELDS,
    SUBJECT_KEY,
    TAMPERS,
    Issued,
    deploy_embedded_stack,
    issue_report,
    rolled_back,
    tampered,
)

REASON = b"\x0e" * 32


@pytest.fixture(scope="module")
def embedded_stack() -> Stack:
    """The demo consortium on an embedded chain of this module's own."""
    return deploy_embedded_stack()


@pytest.fixture
def stack(embedded_stack: Stack) -> Iterator[Stack]:
    """Reports are built on the embedded chain only; whatever a test changes is rolled back."""
    with rolled_back(embedded_stack) as rolled:
        yield rolled


@pytest.fixture
def requester(devnet: Devnet) -> LocalAccount:
    """Hebei's auditor, asking Beijing's gateway for a report (异地互认)."""
    account: LocalAccount = devnet.by_label("auditor-hebei").account
    return account


@pytest.fixture
def issued(
    stack: Stack, provider: LocalAccount, gateway: LocalAccount, requester: LocalAccount, penalty_entry: bytes
) -> Issued:
    return issue_report(stack, provider, gateway, requester)


# ------------------------------------------------------------ signed documents


def test_a_signed_document_recovers_its_signer_whatever_the_key_order() -> None:
    """document_signer recovers the signing account from the JCS digest, so key order and spacing do not matter."""
    account = Account.create()
    document = {"b": [1, 2.5, "三"], "a": {"y": None, "x": True}}
    signature = sign_document(account, document)
    reordered = {"a": {"x": True, "y": None}, "b": [1, 2.5, "三"]}
    assert document_digest(reordered) == document_digest(document)
    assert document_signer(reordered, signature) == account.address
    assert document_signer({**document, "b": [1, 2.5, "四"]}, signature) != account.address


@pytest.mark.parametrize(
    "signature",
    ["", "0x", "0x1234", "0x" + "zz" * 65, "0x" + "00" * 65, "0x" + "ff" * 65, "00" * 66, "0x" + "11" * 64 + "05"],
)
def test_a_malformed_signature_has_no_signer(signature: str) -> None:
    """Bad length, bad hex, zero, out-of-range r/s and bad v give None instead of raising."""
    assert document_signer({"a": 1}, signature) is None


def test_a_document_without_canonical_form_has_no_signer() -> None:
    """A document JCS cannot represent (an integer beyond 2**53) cannot have been signed: None."""
    signature = sign_document(Account.create(), {"a": 1})
    assert document_signer({"a": 2**60}, signature) is None


# ------------------------------------------------------------------- building


def test_built_reports_follow_the_committed_schema(issued: Issued) -> None:
    """A built report validates against report.schema.json and carries a bundle per record."""
    assert report_schema()["$id"] == REPORT_FORMAT
    assert report_schema_problems(issued.document) == []
    assert issued.document["format"] == REPORT_FORMAT
    records = issued.document["report"]["records"]
    assert [r["view"] for r in records] == ["public", "full", "public"]
    assert sorted(records[0]["fields"]) == sorted(PUBLIC_FIELDS)
    assert records[2]["fields"] == {}
    assert "disclosure" not in records[2]["proof"]


def test_building_refuses_a_malformed_report_or_another_gateway(issued: Issued, provider: LocalAccount) -> None:
    """A gateway does not sign a report that fails the schema, or one naming another gateway."""
    body = copy.deepcopy(issued.document["report"])
    with pytest.raises(ValueError, match="names gateway"):
        build_report_document(body, provider)
    body["records"][0]["status"] = "Revoked"
    with pytest.raises(ValueError, match="records/0/status"):
        build_report_document(body, issued.signer)
    with pytest.raises(ValueError, match="not in force"):
        report_record(
            issued.bundles[0],
            catalog_code=PENALTY_CODE,
            disclosure_class=DisclosureClass.A,
            status=RecordStatus.REVOKED,
            view="public",
        )


# -------------------------------------------------------------- verification


def test_a_report_verifies_offline(issued: Issued) -> None:
    """From the file alone every report and record check passes."""
    result = verify_report(issued.document)
    assert result.valid, result.failures
    assert [c.name for c in result.checks] == list(REPORT_CHECKS)
    assert [[c.name for c in r.checks] for r in result.records] == [list(RECORD_CHECKS)] * 3
    assert [r.bundle.valid for r in result.records] == [True] * 3
    assert result.records[0].bundle.current is None
    assert result.subject == issued.document["report"]["subject"]


def test_a_report_verifies_against_the_chain(chain: Chain, issued: Issued) -> None:
    """Against the chain the gateway's role and every record's status are checked, and pass."""
    result = verify_report(issued.document, chain)
    assert result.valid, result.failures
    assert [c.name for c in result.checks] == list(REPORT_CHECKS + ONLINE_REPORT_CHECKS)
    for record in result.records:
        assert [c.name for c in record.checks] == list(RECORD_CHECKS + ONLINE_RECORD_CHECKS)
        assert record.bundle.current is True
        assert record.check("status").detail == "Active"
    assert f"an active GATEWAY at block {issued.document['report']['asOfBlock']}" in result.check("gateway").detail


def test_the_subject_key_ties_the_identifier_to_subject_ref(issued: Issued) -> None:
    """With the consortium's subjectKey the identifier is checked against subjectRef; another key fails."""
    assert verify_report(issued.document, subject_key=SUBJECT_KEY).check("subject").passed
    result = verify_report(issued.document, subject_key=b"\x01" * 32)
    assert result.failures == ["subject"]


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_a_changed_report_fails_the_signature(issued: Issued, name: str) -> None:
    """Any change to the signed report, left unsigned, fails `signature` (and the record check guarding it)."""
    result = verify_report(tampered(issued, name, resign=False))
    assert result.failures == ["signature", *TAMPERS[name][1]]


@pytest.mark.parametrize("name", sorted(name for name, (_, failures) in TAMPERS.items() if failures))
def test_a_gateway_cannot_sign_a_report_its_bundles_contradict(issued: Issued, name: str) -> None:
    """Re-signed by the gateway, the change still fails the record check that ties the report to its bundles."""
    result = verify_report(tampered(issued, name, resign=True))
    assert result.failures == TAMPERS[name][1]


def test_a_broken_signature_fails_only_the_signature(issued: Issued) -> None:
    """One altered byte of the signature fails `signature`, naming who signed instead."""
    document = copy.deepcopy(issued.document)
    signature = bytearray(bytes.fromhex(document["signature"][2:]))
    signature[7] ^= 0x01
    document["signature"] = "0x" + signature.hex()
    result = verify_report(document)
    assert result.failures == ["signature"]
    assert "not by the gateway" in result.check("signature").detail


def test_a_malformed_report_fails_only_the_format(issued: Issued) -> None:
    """A missing key or an unknown view is named by the schema, and nothing else is checked."""
    document = copy.deepcopy(issued.document)
    del document["report"]["lists"]
    document["report"]["records"][0]["view"] = "secret"
    result = verify_report(document)
    assert result.failures == ["format"]
    assert result.check("format").detail == "report: 'lists' is a required property (and 1 more)"
    assert result.records == ()


def test_a_report_signed_by_a_non_gateway_fails_online(
    chain: Chain,
    stack: Stack,
    provider: LocalAccount,
    gateway: LocalAccount,
    requester: LocalAccount,
    penalty_entry: bytes,
) -> None:
    """A report signed by a provider naming itself as gateway passes offline, and fails `gateway` on chain."""
    for signer in (provider, Account.create()):
        issued = issue_report(stack, provider, gateway, requester, signer=signer)
        assert verify_report(issued.document).valid
        result = verify_report(issued.document, chain)
        assert result.failures == ["gateway"]
        assert f"{signer.address} was not an active member with the GATEWAY role" in result.check("gateway").detail


def test_a_gateway_suspended_after_the_report_still_vouches_for_it(
    chain: Chain, stack: Stack, issued: Issued, governors: list[LocalAccount], gateway: LocalAccount
) -> None:
    """The gateway's role is judged at the report's block, so a later suspension leaves the report valid."""
    govern(stack.consortium, governors, stack.consortium.suspend_call(gateway.address))
    result = verify_report(issued.document, chain)
    assert result.valid, result.failures
    assert f"at block {issued.document['report']['asOfBlock']}" in result.check("gateway").detail


def test_a_report_of_another_chain_fails_the_chain_id(chain: Chain, issued: Issued) -> None:
    """A report naming another chain id fails `chainId` against this chain, and no other online check runs."""
    result = verify_report(tampered(issued, "chainId", resign=True), chain)
    assert result.failures == ["chainId", *TAMPERS["chainId"][1]]
    assert [c.name for c in result.records[0].checks] == list(RECORD_CHECKS)


def test_a_report_checked_on_a_chain_without_its_deployment_fails(issued: Issued) -> None:
    """On a fresh chain of the same id the ledger is missing: `gateway` and every bundle fail."""
    result = verify_report(issued.document, DevChain.embedded())
    assert "the code at" in result.check("gateway").detail
    assert result.failures == ["gateway"] + [f"records[{i}].{name}" for i in range(3) for name in ("bundle", "status")]


@pytest.mark.parametrize("outcome", ["revoked", "corrected"])
def test_a_record_withdrawn_after_the_report_fails_its_status(
    stack: Stack,
    chain: Chain,
    issued: Issued,
    provider: LocalAccount,
    gateway: LocalAccount,
    requester: LocalAccount,
    outcome: str,
) -> None:
    """A record revoked or corrected on chain since the report fails `status`, naming the new status and successor."""
    ledger = stack.ledger
    proof = issued.proof(1)
    if outcome == "revoked":
        ledger.revoke(provider, proof, REASON)
        expected = "Revoked now, no longer in force; the report says Active"
    else:
        leaf = make_leaf(
            PENALTY_ID, provider.address, subject_tag=proof.leaf.subject_tag, supersedes=proof.leaf.record_id
        )
        (correction,) = anchor_records(stack, gateway, [SignedRecord(leaf, ledger.sign_record(provider, leaf))])
        ledger.file_objection(provider, proof, REASON)
        ledger.resolve_objection(
            provider,
            proof,
            ObjectionOutcome.CORRECTED,
            RecordProof(leaf, gateway.address, correction.batch.root, correction.batch.proof),
        )
        expected = f"Corrected now, no longer in force, superseded by 0x{leaf.record_id.hex()}"
    result = verify_report(issued.document, chain)
    assert result.failures == ["records[1].status"]
    assert expected in result.records[1].check("status").detail
    assert result.records[1].bundle.valid
    assert verify_report(issued.document).valid


def test_a_disputed_record_is_still_in_force(
    stack: Stack, chain: Chain, issued: Issued, provider: LocalAccount
) -> None:
    """An objection filed since the report leaves it valid; the status check says what changed."""
    stack.ledger.file_objection(provider, issued.proof(0), REASON)
    result = verify_report(issued.document, chain)
    assert result.valid, result.failures
    assert result.records[0].check("status").detail == "Disputed now; the report says Active"
