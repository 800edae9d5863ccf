"""List screening (名单筛查): many subjects against the red and black lists in one signed answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.api.deps import CurrentMember, GatewayDep, ScopeQuery, SessionDep
from gateway.api.schemas import ErrorBody, ScreeningIn
from gateway.api.signed import BodySize, SignedRoute, body_limit
from gateway.infra.errors import InputError
from gateway.standing.screening import MAX_SCREENING_SUBJECTS, screening_answer

router = APIRouter(prefix="/v1/screenings", tags=["subjects"], route_class=SignedRoute)


@router.post(
    "",
    response_model=dict[str, Any],
    responses={413: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    openapi_extra=body_limit(BodySize.RECORD),
)
def screen_subjects(
    body: ScreeningIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember, scope: ScopeQuery = "consortium"
) -> Any:
    """Which red and black lists each subject (up to 10,000) is on now and which joint measures apply.

    One line per subject in the order sent, as `GET /v1/subjects/{s}/measures` would answer
    this member (booleans and measure codes only), or the stable code of a malformed id.
    The lines are leaves of a Merkle tree whose root the gateway signs
    (`credit-ledger/screening@2`), so a line can be shown and checked on its own with its
    proof. Every valid subject's query is registered. For the consortium (default) every
    other region's gateway is asked for its signed part in one request; the header names
    each region and whether it answered, the parts travel beside the lines.
    `scope=region`: this gateway's records only.
    """
    if len(body.subjects) > MAX_SCREENING_SUBJECTS:
        raise InputError("SCREENING_TOO_LARGE", f"a screening holds at most {MAX_SCREENING_SUBJECTS:,} subjects")
    return screening_answer(gateway, session, member, body.subjects, body.purpose, scope)
