"""Public working calendars and deadline previews: every region and client counts the same deadline."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from chain_client import beijing_date
from gateway.api.deps import GatewayDep
from gateway.api.schemas import CalendarView, DeadlinePreview, ErrorBody
from gateway.infra.calendars import parse_term
from gateway.lifecycle.terms import KINDS, KindName

router = APIRouter(prefix="/public/v1", tags=["calendars"])

_ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (404, 422, 500, 503)}


@router.get("/calendars/{year}", response_model=CalendarView, responses=_ERRORS)
def read_calendar(
    gateway: GatewayDep,
    year: Annotated[int, Path(ge=2000, le=9999)],
    version: Annotated[int | None, Query(ge=1, le=65535)] = None,
) -> Any:
    """A year's adopted working calendar (its latest version unless `version` is given), read
    from the chain and checked against its adopted hash; 422 WORKING_DAYS_YEAR_NOT_COVERED
    when the consortium has adopted none."""
    book = gateway.view.calendars
    adopted = book.adopted(year, version)
    return {
        "year": year,
        "version": adopted.adoption.version,
        "latestVersion": book.latest_version(year),
        "documentHash": "0x" + adopted.adoption.document_hash.hex(),
        "adoptedAt": adopted.adoption.adopted_at,
        "blockNumber": adopted.adoption.block_number,
        "document": json.loads(adopted.document),
    }


@router.get("/deadlines", response_model=DeadlinePreview, responses=_ERRORS)
def preview_deadline(
    gateway: GatewayDep,
    acceptedOn: Annotated[dt.date | None, Query(description="Acceptance day (Beijing); default today.")] = None,  # noqa: N803
    workingDays: Annotated[int | None, Query(ge=1, le=250)] = None,  # noqa: N803
    months: Annotated[int | None, Query(ge=1, le=60)] = None,
    kind: Annotated[
        KindName | None, Query(description="The policy's term for this kind, when no term is given.")
    ] = None,
) -> Any:
    """The deadline a new commitment accepted on `acceptedOn` gets, and the calendars it is
    counted with: what a department signs as `dueBy` and `calendars` in POST /v1/commitments."""
    accepted = acceptedOn or beijing_date(gateway.now())
    default = gateway.policy.commitment_terms[KINDS[kind or KindName.NOTIFICATION]]
    term = parse_term(working_days=workingDays, months=months, default=default)
    deadline, counted = gateway.view.calendars.count(accepted, term)
    book = gateway.view.calendars
    return {
        **counted.to_json(),
        "dueBy": deadline.due_by,
        "dueOn": deadline.last_day.isoformat(),
        "calendars": [
            {**ref.to_json(), "documentHash": "0x" + book.adopted(ref.year, ref.version).adoption.document_hash.hex()}
            for ref in counted.calendars
        ],
    }
