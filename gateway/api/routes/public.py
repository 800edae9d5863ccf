"""Public reads, no signature: class-A disclosures (信用信息公示) and the catalog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from chain_client import DisclosureClass
from gateway.api.deps import GatewayDep, SessionDep
from gateway.api.schemas import CatalogView, ErrorBody, PublicDisclosures
from gateway.infra.errors import InputError
from gateway.infra.rate_limit import RateLimiter
from gateway.infra.subject_ids import SubjectIdError, parse_subject
from gateway.records.reads import RecordIntegrityError, rows_of_subject
from gateway.records.releases import integrity_failure, public_disclosure, states_of

router = APIRouter(prefix="/public/v1", tags=["public"])


@router.get("/disclosures", response_model=PublicDisclosures, responses={422: {"model": ErrorBody}})
def read_disclosures(
    request: Request,
    gateway: GatewayDep,
    session: SessionDep,
    subject: Annotated[str, Query(min_length=15, max_length=18, examples=["91110108MA01C5XL6R"])],
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> Any:
    """A subject's public records: class A, anchored, within the publicity window, not
    revoked, corrected or repaired; public fields only, each with a proof bundle that
    discloses them.

    Each client may look up `public_lookups_per_minute` subjects a minute (429
    `RATE_LIMITED` with Retry-After beyond). `subjectRef` is answered only with public
    records, so an id without any cannot be turned into the subjectRef that on-chain
    events or non-public answers carry.

    A public record that fails its integrity check is listed in `integrityFailures`
    (recordId and catalog code only) and never served; the others still are.
    """
    limiter: RateLimiter = request.app.state.public_lookups
    limiter.take(request.client.host if request.client else "unknown")
    try:
        subject_ref = gateway.subject_ref(parse_subject(subject))
    except SubjectIdError as exc:
        raise InputError(exc.code, str(exc), detail=exc.detail) from None
    disclosures = []
    failed = []
    rows = rows_of_subject(session, subject_ref, limit=limit, offset=0)
    states = states_of(gateway, session, rows)
    for row in rows:
        try:
            disclosure = public_disclosure(gateway, session, row, states[row.record_id])
        except RecordIntegrityError:
            failed.append(integrity_failure(gateway, row))
            continue
        if disclosure is not None:
            disclosures.append(disclosure)
    return {
        "subjectRef": "0x" + subject_ref.hex() if disclosures or failed else None,
        "asOfBlock": gateway.index.position.block,
        "disclosures": disclosures,
        "integrityFailures": failed,
    }


@router.get("/gateway", response_model=dict[str, Any])
def read_gateway_identity(gateway: GatewayDep) -> Any:
    """Who this gateway is on chain: the audience a signed request for it names.

    A client may discover the audience here once; a department's production client pins
    it in its configuration instead, so that a wrong URL gets refusals, not its requests.
    """
    audience = gateway.audience
    return {"audience": str(audience), "chainId": audience.chain_id, "gateway": audience.gateway}


@router.get("/deployment", response_model=dict[str, Any])
def read_deployment(gateway: GatewayDep) -> Any:
    """The chain and contract addresses this gateway serves (its deployment record)."""
    return gateway.stack.record.to_json()


@router.get("/catalog", response_model=CatalogView)
def read_catalog(gateway: GatewayDep) -> Any:
    """The public credit information catalog: every entry at its latest version."""
    entries = []
    for entry in gateway.view.entries():
        schema = gateway.schemas.get(entry.schema_hash)
        entries.append(
            {
                "catalogId": "0x" + entry.catalog_id.hex(),
                "code": entry.code,
                "source": entry.source,
                "class": DisclosureClass(entry.disclosure_class).name,
                "list": entry.list_kind.name,
                "publicityDays": entry.publicity_days,
                "minDaysBeforeRepair": entry.min_days_before_repair,
                "version": entry.version,
                "active": entry.active,
                "schemaHash": "0x" + entry.schema_hash.hex(),
                "schema": schema.document if schema is not None else None,
            }
        )
    return {"entries": entries}
