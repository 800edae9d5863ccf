"""Regional parts of a consortium-wide lists answer, format `credit-ledger/standing-part@1`
(schemas/standing-part.schema.json).

When a department asks its gateway for a subject's lists and measures, or screens many
subjects, that gateway asks every other region's gateway for its part with one
PEER-signed, predicate-only query: the subjects' subjectRefs, never an identifier. Each
holder answers which of them its own records put on the red or black list now, with the
measures its policy applies, and signs that part as a credit report is signed
(chain_client.spec.signed_document). The part names the gateway it is for (`audience`),
the query (`queryHash`), the request (`requestNonce`) and a block and time, so the asking
gateway, and anyone it shows the part to, checks that it answers that question for that
gateway and nothing else.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from chain_client.spec.content import canonical_json
from chain_client.spec.keccak import keccak
from chain_client.spec.records import checksummed
from chain_client.spec.schemas import schema_problems
from chain_client.spec.signed_document import document_digest, sign_document
from chain_client.verify.bundles import Check
from chain_client.verify.signed import format_check, signature_check

STANDING_PART_FORMAT = "credit-ledger/standing-part@1"
SCHEMA_FILE = "standing-part.schema.json"


def query_hash(subject_refs: Sequence[str]) -> str:
    """keccak256 of the RFC 8785 JSON array of the asked subjectRefs (lower-case 0x hex, in order)."""
    return "0x" + keccak(canonical_json([ref.lower() for ref in subject_refs])).hex()


def part_digest(document: Mapping[str, Any]) -> str:
    """The digest a combined answer names a part by: keccak256 of its signed body's JCS form."""
    return "0x" + document_digest(document["part"]).hex()


def build_part_document(part: Mapping[str, Any], account: LocalAccount) -> dict[str, Any]:
    """The signed credit-ledger/standing-part@1 document of this body.

    ValueError when the body names another gateway than the signer."""
    body = copy.deepcopy(dict(part))
    if str(body.get("gateway", "")).lower() != account.address.lower():
        raise ValueError(f"the part names gateway {body.get('gateway')}, but {account.address} would sign it")
    return {"format": STANDING_PART_FORMAT, "part": body, "signature": sign_document(account, body)}


@dataclass(frozen=True)
class PartExpectation:
    """What a part must answer: this question (the subjectRefs asked, in order), from this
    gateway, for this audience, on this chain; `request_nonce` when the checker sent it."""

    subject_refs: tuple[str, ...]
    gateway: str
    audience: str
    chain_id: int
    ledger: str
    request_nonce: str | None = None


def check_part(document: object, expected: PartExpectation) -> Check:
    """`part`: passed only when the document is a well-formed part signed by the expected
    gateway, for the expected audience and question, listing only subjects asked for.
    Never raises: anything wrong is the failed check's detail."""
    if not isinstance(document, dict):
        return Check("part", False, "not a JSON object")
    checked = format_check(schema_problems(SCHEMA_FILE, document), document, lambda: STANDING_PART_FORMAT)
    if not checked.passed:
        return Check("part", False, f"format: {checked.detail}")
    body: dict[str, Any] = document["part"]
    if checksummed(body["gateway"]) != checksummed(expected.gateway):
        return Check("part", False, f"the part is from {body['gateway']}, not from {expected.gateway}")
    signed = signature_check(body, document["signature"], "part")
    if not signed.passed:
        return Check("part", False, signed.detail)
    problem = _binding_problem(body, expected)
    if problem:
        return Check("part", False, problem)
    return Check("part", True, f"signed by {body['gateway']} for {body['audience']}, {len(body['listed'])} listed")


def _binding_problem(body: dict[str, Any], expected: PartExpectation) -> str | None:
    if (body["chainId"], checksummed(body["ledger"])) != (expected.chain_id, checksummed(expected.ledger)):
        return f"the part is of chain {body['chainId']} ledger {body['ledger']}, not the one asked about"
    if checksummed(body["audience"]) != checksummed(expected.audience):
        return f"the part is for the gateway {body['audience']}, not for {expected.audience}"
    if body["queryHash"] != query_hash(expected.subject_refs) or body["count"] != len(expected.subject_refs):
        return "the part answers another query (queryHash)"
    if expected.request_nonce is not None and body["requestNonce"] != expected.request_nonce:
        return "the part answers another request (requestNonce)"
    asked = {ref.lower() for ref in expected.subject_refs}
    refs = [entry["subjectRef"] for entry in body["listed"]]
    if len(set(refs)) != len(refs) or not asked.issuperset(refs):
        return "the part lists a subject twice or one that was not asked for"
    return None
