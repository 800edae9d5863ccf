"""The signed measures answer (联合奖惩), for the consortium or for this region only.

This gateway's standing of the subject (`standing_of`, its own records) is combined with
every other region's signed part (gateway.standing.consortium): the lists and measures are
the union, every region is named with its status, and the parts travel in the answer so a
department, or anyone it shows the answer to, checks each region's statement on its own
(`credit-ledger/measures@2`, docs/formats.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from chain_client import sign_document
from gateway.infra.service import Gateway
from gateway.records.entitlement import Requester
from gateway.standing.consortium import Scope, ask_regions, combined, own_answer, own_listed
from gateway.standing.measures import Standing, standing_of

MEASURES_FORMAT = "credit-ledger/measures@2"


def measures_answer(
    gw: Gateway, session: Session, subject_ref: bytes, requester: Requester, scope: Scope
) -> tuple[dict[str, Any], Standing]:
    """The signed answer (lists as booleans, measures' codes, regions, parts: nothing of the
    records) and this region's standing behind it (for the auditors' proofs)."""
    ref = "0x" + subject_ref.hex()
    standing = standing_of(gw, session, subject_ref, requester)
    regions = [own_answer(gw, own_listed(gw, ref, standing))]
    if scope == "consortium":
        regions += ask_regions(gw, [ref])
    answered = [r for r in regions if r.status == "answered"]
    lists, measures, listed_by = combined(ref, answered)
    answer = {
        "subjectRef": ref,
        "chainId": gw.stack.chain.chain_id,
        "ledger": gw.stack.ledger.address,
        "gateway": gw.account.address,
        "requester": requester.address,
        "asOf": gw.now(),
        "asOfBlock": gw.index.position.block,
        "scope": scope,
        "lists": lists,
        "measures": [{"code": code, "kind": kind} for code, kind in measures],
        "listedBy": listed_by,
        "basisCount": len(standing.basis),
        "regions": [r.to_json() for r in regions],
    }
    parts = [r.part for r in regions if r.part is not None]
    document = {"format": MEASURES_FORMAT, "answer": answer, "signature": sign_document(gw.account, answer)}
    return {**document, "parts": parts}, standing
