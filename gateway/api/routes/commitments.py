"""Credit commitments: record with a counted deadline, fulfil, withdraw, breach, overdue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from chain_client import CalendarRef, Role
from gateway.api.deps import CurrentMember, GatewayDep, SessionDep, require_role
from gateway.api.schemas import BreachIn, CommitmentIn, ErrorBody, InstructionOnly
from gateway.api.signed import BodySize, SignedRoute, body_limit
from gateway.lifecycle import commitments

router = APIRouter(prefix="/v1/commitments", tags=["commitments"], route_class=SignedRoute)

_ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (403, 404, 409, 422, 503)}


@router.post("", response_model=dict[str, Any], responses=_ERRORS)
def record_commitment(body: CommitmentIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """Record a commitment (PROVIDER). `dueBy` and `calendars` must be those
    GET /public/v1/deadlines gives: the end (23:59:59 Beijing) of the `workingDays`-th
    working day after `acceptedOn` under the latest adopted calendars, or of the day
    `months` later; a year with no adopted calendar is refused with
    WORKING_DAYS_YEAR_NOT_COVERED."""
    require_role(member, Role.PROVIDER)
    return commitments.record_commitment(
        gateway,
        session,
        member,
        subject=body.subject,
        subject_salt=bytes.fromhex(body.subjectSalt[2:]),
        kind=body.kind,
        doc_hash=bytes.fromhex(body.docHash[2:]),
        accepted_on=body.acceptedOn,
        working_days=body.workingDays,
        months=body.months,
        signed_due_by=body.dueBy,
        signed_calendars=tuple(CalendarRef(ref.year, ref.version) for ref in body.calendars),
        signed=body.instruction,
    )


@router.get("/overdue", response_model=dict[str, Any])
def list_overdue(
    gateway: GatewayDep,
    member: CurrentMember,
    department: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
) -> Any:
    """Pending commitments past their deadline, oldest deadline first (any member), as of the
    chain-state index's block (`asOfBlock`)."""
    found = commitments.overdue_from_index(gateway, department)
    now = gateway.now()
    return {
        "asOfBlock": gateway.index.position.block,
        "commitments": [commitments.commitment_json(c, now) for c in found],
    }


@router.get("/{commitment_id}", response_model=dict[str, Any], responses=_ERRORS)
def read_commitment(commitment_id: str, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """A commitment as the chain holds it, with whether it is overdue and how its deadline was counted;
    to its own department also the opening of its subjectTag (`subject`), which its breach record reuses."""
    found = commitments.find_commitment(gateway, commitment_id)
    term, _, _ = gateway.stack.commitments.recorded_term(found.commitment_id)
    answer = {
        **commitments.commitment_json(found, gateway.now()),
        "term": term.to_json(),
        "asOfBlock": gateway.index.position.block,
    }
    if found.department == member.address:
        answer["subject"] = commitments.subject_of(session, found)
    return answer


@router.post("/{commitment_id}/fulfilment", response_model=dict[str, Any], responses=_ERRORS)
def fulfil(commitment_id: str, body: InstructionOnly, gateway: GatewayDep, member: CurrentMember) -> Any:
    """The department marks the commitment fulfilled."""
    return commitments.fulfil(gateway, member, commitment_id, body.instruction)


@router.post("/{commitment_id}/withdrawal", response_model=dict[str, Any], responses=_ERRORS)
def withdraw(commitment_id: str, body: InstructionOnly, gateway: GatewayDep, member: CurrentMember) -> Any:
    """The department withdraws the commitment."""
    return commitments.withdraw(gateway, member, commitment_id, body.instruction)


@router.post(
    "/{commitment_id}/breach",
    response_model=dict[str, Any],
    responses=_ERRORS,
    openapi_extra=body_limit(BodySize.RECORD),
)
def breach(commitment_id: str, body: BreachIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """The department records the breach after the deadline (or, marked `violation`, before it)
    with the dishonesty record it signed under a breach catalog entry; the chain links the two."""
    return commitments.breach(
        gateway,
        session,
        member,
        commitment_id,
        record=body.record,
        violation=body.violation,
        signed=body.instruction,
    )
