"""Signed credit reports for the tests: issuing one on the embedded chain, and tampering with it.

Shared by tests/chain_client/test_report.py and tests/gateway/test_verify_report_cli.py.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from chain_client import (
    ContentCommitment,
    DisclosureClass,
    ProofBundle,
    RecordLeaf,
    RecordProof,
    RecordStatus,
    SignedRecord,
    Stack,
    SubjectOpening,
    anchor_records,
    catalog_id,
    deploy_demo_stack,
    subject_ref_uscc,
)
from chain_client.dev import DevChain
from chain_client.spec.signed_document import sign_document
from chain_client.verify.report import View, build_report_document, report_record
from tests.chain_client.conftest import PENALTY_CODE
from tests.support.payloads import penalty
from tests.support.subjects import new_uscc

SUBJECT_KEY = b"\x5a" * 32
PUBLIC_FIELDS = ("authority", "decidedOn", "decisionNumber", "penalty", "subjectName", "violation")
PENALTY_ID = catalog_id(PENALTY_CODE)


# ------------------------------------------------------------ embedded chain


def deploy_embedded_stack() -> Stack:
    """The demo consortium on a new embedded chain (for a module-scoped `embedded_stack` fixture)."""
    return deploy_demo_stack(DevChain.embedded())


@contextmanager
def rolled_back(stack: Stack) -> Iterator[Stack]:
    """The stack, with whatever is done to its chain meanwhile reverted afterwards (for a `stack` fixture)."""
    snapshot = stack.chain.snapshot()
    yield stack
    stack.chain.revert_to(snapshot)


# ------------------------------------------------------------------ issuing


@dataclass
class Issued:
    """A signed report on one subject, and a record of another subject anchored in the same batch."""

    document: dict[str, Any]
    bundles: list[ProofBundle]
    other: ProofBundle
    signer: LocalAccount
    anchored_by: str

    def proof(self, index: int) -> RecordProof:
        bundle = self.bundles[index]
        return RecordProof(bundle.leaf, self.anchored_by, bundle.batch.root, bundle.batch.proof)


def issue_report(
    stack: Stack,
    provider: LocalAccount,
    gateway: LocalAccount,
    requester: LocalAccount,
    *,
    payloads: list[dict[str, Any]] | None = None,
    signer: LocalAccount | None = None,
) -> Issued:
    """Anchor three records of a subject and one of another; report the subject's (public, full, no fields shown)."""
    subject = new_uscc()
    subject_ref = subject_ref_uscc(SUBJECT_KEY, subject)
    payloads = payloads or [penalty(), penalty(violation="无证经营"), penalty()]
    commitments = [ContentCommitment(payload, os.urandom(32)) for payload in payloads]
    openings = [SubjectOpening(subject_ref, os.urandom(32)) for _ in payloads]  # a salt per record
    leaves = [
        RecordLeaf.create(
            catalog_id=PENALTY_ID,
            catalog_version=1,
            subject_tag=opening.tag(),
            content_hash=commitment.content_hash,
            provider=provider.address,
            issued_at=1_760_000_000 + i,
        )
        for i, (commitment, opening) in enumerate(zip(commitments, openings, strict=True))
    ]
    other_commitment = ContentCommitment(penalty(name="天津另一公司"), os.urandom(32))
    other_opening = SubjectOpening(os.urandom(32), os.urandom(32))
    other_leaf = RecordLeaf.create(
        catalog_id=PENALTY_ID,
        catalog_version=1,
        subject_tag=other_opening.tag(),
        content_hash=other_commitment.content_hash,
        provider=provider.address,
        issued_at=1_760_000_100,
    )
    signed = [SignedRecord(leaf, stack.ledger.sign_record(provider, leaf)) for leaf in [*leaves, other_leaf]]
    *bundles, other = anchor_records(stack, gateway, signed)
    views: list[View] = ["public", "full", "public"]
    shown = [PUBLIC_FIELDS, sorted(payloads[1]), ()]
    bundles = [bundle.with_subject(opening) for bundle, opening in zip(bundles, openings, strict=True)]
    bundles = [
        bundle.with_disclosure(commitment.disclose(names)) if names else bundle
        for bundle, commitment, names in zip(bundles, commitments, shown, strict=True)
    ]
    other = other.with_subject(other_opening).with_disclosure(other_commitment.disclose(PUBLIC_FIELDS))
    records = [
        report_record(
            bundle, catalog_code=PENALTY_CODE, disclosure_class=DisclosureClass.A, status=RecordStatus.ACTIVE, view=view
        )
        for bundle, view in zip(bundles, views, strict=True)
    ]
    chain = stack.chain
    body = {
        "subject": subject,
        "subjectRef": "0x" + subject_ref.hex(),
        "chainId": chain.chain_id,
        "ledger": stack.ledger.address,
        "gateway": (signer or gateway).address,
        "requester": requester.address,
        "generatedAt": chain.latest_timestamp(),
        "asOfBlock": chain.block_number(),
        "records": records,
        "lists": {"red": False, "black": True},
        "measures": ["M-BJ-XZCF-LIMIT-BID"],
    }
    return Issued(build_report_document(body, signer or gateway), bundles, other, signer or gateway, gateway.address)


# ---------------------------------------------------------------- tampering


def tamper_field_value(issued: Issued, body: dict[str, Any]) -> None:
    body["records"][0]["fields"]["penalty"] = {"kind": "fine", "amountYuan": 500}


def tamper_field_and_disclosure(issued: Issued, body: dict[str, Any]) -> None:
    tamper_field_value(issued, body)
    body["records"][0]["proof"]["disclosure"]["fields"]["penalty"]["value"] = {"kind": "fine", "amountYuan": 500}


def tamper_hidden_field(issued: Issued, body: dict[str, Any]) -> None:
    body["records"][0]["fields"]["caseOfficer"] = "某某"


def tamper_status(issued: Issued, body: dict[str, Any]) -> None:
    body["records"][1]["status"] = "Disputed"


def tamper_swapped_bundle(issued: Issued, body: dict[str, Any]) -> None:
    other = issued.other
    assert other.disclosure is not None
    body["records"][0]["recordId"] = "0x" + other.leaf.record_id.hex()
    body["records"][0]["fields"] = {name: f.value for name, f in other.disclosure.fields.items()}
    body["records"][0]["proof"] = other.to_json()


def tamper_catalog_code(issued: Issued, body: dict[str, Any]) -> None:
    body["records"][2]["catalogCode"] = "BJ-XZXK-001"


def tamper_chain_id(issued: Issued, body: dict[str, Any]) -> None:
    body["chainId"] += 1


TAMPERS: dict[str, tuple[Callable[[Issued, dict[str, Any]], None], list[str]]] = {
    # name: (change to the report body, failures when re-signed by the gateway itself)
    "fieldValue": (tamper_field_value, ["records[0].fields"]),
    "fieldAndDisclosure": (tamper_field_and_disclosure, ["records[0].bundle"]),
    "hiddenField": (tamper_hidden_field, ["records[0].fields"]),
    "status": (tamper_status, []),
    "swappedBundle": (tamper_swapped_bundle, ["records[0].subjectRef"]),
    "catalogCode": (tamper_catalog_code, ["records[2].catalog"]),
    "chainId": (tamper_chain_id, ["records[0].chain", "records[1].chain", "records[2].chain"]),
}


def tampered(issued: Issued, name: str, *, resign: bool) -> dict[str, Any]:
    """The report with one change: as a forger would leave it, or re-signed by the (faulty) gateway."""
    document = copy.deepcopy(issued.document)
    TAMPERS[name][0](issued, document["report"])
    if resign:
        document["signature"] = sign_document(issued.signer, document["report"])
    return document
