"""A subject's records, by unified social credit code or resident id number."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.api.deps import CurrentMember, GatewayDep, SessionDep
from gateway.api.routes.records import Purpose
from gateway.api.schemas import ErrorBody, SubjectRecords
from gateway.errors import AuthError, InputError
from gateway.reads import rows_of_subject
from gateway.releases import record_view
from gateway.subject_ids import SubjectIdError, parse_subject

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])


@router.get("/{subject}/records", response_model=SubjectRecords, responses={422: {"model": ErrorBody}})
def read_subject_records(
    subject: str,
    gateway: GatewayDep,
    session: SessionDep,
    member: CurrentMember,
    purpose: Purpose = "unspecified",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    """The subject's records this member may see, each as `GET /v1/records/{id}` gives it.

    Records the member is not entitled to (class B without consent, class C without the
    role, class A outside publicity) are left out, not reported.
    """
    try:
        subject_ref = gateway.subject_ref(parse_subject(subject))
    except SubjectIdError as exc:
        raise InputError(exc.code, str(exc)) from None
    views = []
    for row in rows_of_subject(session, subject_ref, limit=limit, offset=offset):
        try:
            views.append(record_view(gateway, session, member, row, purpose))
        except AuthError:
            continue
    return {"subjectRef": "0x" + subject_ref.hex(), "records": views}
