"""List screening (名单筛查): many subjects' lists and measures in one signed answer.

A member sends up to MAX_SCREENING_SUBJECTS ids; each becomes one line of the answer,
in the order sent: the normalized id, its subjectRef, its lists as booleans and the
measures' codes, exactly as `GET /v1/subjects/{s}/measures` would answer that member
(`standings_of` is `standing_of` over batched reads), and the regions that list it; or the
stable code of a malformed id. The lines are the leaves of a Merkle tree whose root the
gateway signs (`credit-ledger/screening@2`, chain_client.verify.screening), so one line
can be shown on its own with its proof.

For the consortium (the default) the whole batch of subjectRefs goes to every other
region's gateway in one request (gateway.standing.consortium); each line combines this
region's standing with the parts, the header names every region and its status, and the
signed parts travel beside the lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from chain_client import build_screening_document
from gateway.infra.service import Gateway
from gateway.infra.subject_ids import SubjectId, SubjectIdError, parse_subject
from gateway.records.entitlement import Requester
from gateway.records.lookups import register_lookups
from gateway.standing.consortium import Listed, Scope, ask_regions, combined, own_answer, own_listed
from gateway.standing.measures import standings_of

MAX_SCREENING_SUBJECTS = 10_000
LOOKUP_KIND = "screening"


@dataclass(frozen=True)
class _Asked:
    index: int
    sent: str
    subject: SubjectId | None
    error: str | None


def screening_answer(
    gw: Gateway, session: Session, requester: Requester, subjects: Sequence[str], purpose: str, scope: Scope
) -> dict[str, Any]:
    """The signed screening of these subjects for this requester, each valid subject's
    query registered first (one bulk insert)."""
    asked = [_parse(index, sent) for index, sent in enumerate(subjects)]
    refs = {a.index: gw.subject_ref(a.subject) for a in asked if a.subject is not None}
    register_lookups(
        session,
        requester=requester.address,
        subject_refs=list(refs.values()),
        kind=LOOKUP_KIND,
        purpose=purpose,
        now=gw.now(),
    )
    standings = standings_of(gw, session, list(refs.values()), requester)
    own: dict[str, Listed] = {}
    for ref, standing in standings.items():
        own.update(own_listed(gw, "0x" + ref.hex(), standing))
    regions = [own_answer(gw, own)]
    if scope == "consortium":
        regions += ask_regions(gw, list(dict.fromkeys("0x" + ref.hex() for ref in refs.values())))
    answered = [r for r in regions if r.status == "answered"]
    lines: list[dict[str, Any]] = []
    for a in asked:
        if a.subject is None:
            lines.append({"index": a.index, "subject": a.sent, "code": a.error})
            continue
        ref_hex = "0x" + refs[a.index].hex()
        lists, measures, listed_by = combined(ref_hex, answered)
        lines.append(
            {
                "index": a.index,
                "subject": a.subject.value,
                "subjectRef": ref_hex,
                "lists": lists,
                "measures": [code for code, _ in measures],
                "listedBy": listed_by,
            }
        )
    header = {
        "chainId": gw.stack.chain.chain_id,
        "ledger": gw.stack.ledger.address,
        "gateway": gw.account.address,
        "requester": requester.address,
        "purpose": purpose,
        "generatedAt": gw.now(),
        "asOfBlock": gw.index.position.block,  # the chain-state index's block, which the lists are read as of
        "scope": scope,
        "regions": [r.to_json() for r in regions],
    }
    parts = [r.part for r in regions if r.part is not None]
    return build_screening_document(header, lines, gw.account, parts)


def _parse(index: int, sent: str) -> _Asked:
    try:
        return _Asked(index, sent, parse_subject(sent), None)
    except SubjectIdError as exc:
        return _Asked(index, sent, None, exc.code)
