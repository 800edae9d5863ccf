"""A region's part of a consortium-wide lists answer, as its gateway gives it to another
region's gateway (`POST /peer/v1/standings`, PEER only).

The question names subjects by subjectRef alone (the keyed hash the gateways share), and
the part answers with booleans and measure codes alone: which of those subjects this
region's records put on the red or black list now, and the measures this gateway's policy
applies. No identifier, record id, record count or content leaves. The asking gateway is
the requester the lists are judged for (`counts_for`): a gateway is neither a record's
provider nor an AUDITOR, so only class-A list records (public by policy) weigh in a part,
and a class-B or C record of this region is never revealed to another region by a list.

The part is signed by this gateway as the measures answer is (chain_client
`build_part_document`), for the asking gateway (`audience`), the query (`queryHash`), the
request's nonce, and this block and time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from chain_client import build_part_document, query_hash
from gateway.infra.service import Gateway
from gateway.records.entitlement import Requester
from gateway.standing.measures import lists_json, measures_of, standings_of


def own_region(gw: Gateway) -> int:
    """This gateway's region code as the consortium records it (0 when it is not a member)."""
    member = gw.view.member(gw.account.address)
    return member.region if member else 0


def region_part(
    gw: Gateway, session: Session, peer: Requester, subject_refs: Sequence[bytes], request_nonce: str
) -> dict[str, Any]:
    """The signed credit-ledger/standing-part@1 of these subjects for the asking gateway."""
    standings = standings_of(gw, session, list(dict.fromkeys(subject_refs)), peer)
    listed = []
    for ref, standing in standings.items():
        if not standing.lists:
            continue
        measures = [{"code": m.code, "kind": m.kind} for m in measures_of(gw, standing)]
        listed.append({"subjectRef": "0x" + ref.hex(), "lists": lists_json(standing), "measures": measures})
    body = {
        "chainId": gw.stack.chain.chain_id,
        "ledger": gw.stack.ledger.address,
        "gateway": gw.account.address,
        "region": own_region(gw),
        "audience": peer.address,
        "queryHash": query_hash(["0x" + ref.hex() for ref in subject_refs]),
        "requestNonce": request_nonce,
        "generatedAt": gw.now(),
        "asOfBlock": gw.index.position.block,
        "count": len(subject_refs),
        "listed": listed,
    }
    return build_part_document(body, gw.account)
