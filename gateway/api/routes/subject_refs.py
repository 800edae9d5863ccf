"""subjectRefs for departments: the consortium subject key stays inside the gateways.

A department signs each record's leaf, and a registrar each subject credential, naming the
subject by its subjectRef (HMAC-SHA256 under the consortium's subject key). Rather than
hold that key, which would let them test any guessed id against the chain, a PROVIDER or
REGISTRAR asks its gateway, and every answer is registered as a lookup.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from chain_client import Role
from gateway.api.deps import CurrentMember, GatewayDep, SessionDep, require_role
from gateway.api.schemas import ErrorBody, SubjectRefsIn
from gateway.api.signed import SignedRoute
from gateway.infra.subject_ids import SubjectIdError, parse_subject
from gateway.records.lookups import register_lookups

router = APIRouter(prefix="/v1/subject-refs", tags=["records"], route_class=SignedRoute)


@router.post("", response_model=dict[str, Any], responses={403: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def subject_refs(body: SubjectRefsIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """The subjectRef of each subject id (up to 100), for a PROVIDER preparing records or a REGISTRAR binding a
    subject's key; each is registered.

    An invalid id gets its code on its own line and registers nothing.
    """
    require_role(member, Role.PROVIDER, Role.REGISTRAR)
    answers: list[dict[str, Any]] = []
    refs: list[bytes] = []
    for text in body.subjects:
        try:
            parsed = parse_subject(text)
        except SubjectIdError as exc:
            answers.append({"subject": text, "subjectRef": None, "code": exc.code})
            continue
        ref = gateway.subject_ref(parsed)
        refs.append(ref)
        answers.append({"subject": parsed.value, "subjectRef": "0x" + ref.hex(), "code": None})
    # Every valid id registered, in one commit, before any is answered.
    register_lookups(
        session,
        requester=member.address,
        subject_refs=refs,
        kind="subject-ref",
        purpose=body.purpose,
        now=gateway.now(),
    )
    return {"subjects": answers}
