"""Operations: liveness, readiness (database and chain) and Prometheus metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from chain_client import ChainClientError, Role
from gateway.api.deps import GatewayDep
from gateway.api.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def read_health() -> Any:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def read_readiness(gateway: GatewayDep) -> Any:
    """Ready when the database answers, the chain answers with our deployment, and the
    chain-state index has a position; shows how fresh the index is (its block, the age of
    its follower's last pass, and whether this process follows)."""
    database = chain = False
    block = None
    try:
        with gateway.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = True
    except Exception:  # noqa: BLE001 - any database failure means not ready
        database = False
    try:
        block = gateway.stack.chain.block_number()
        found = "0x" + gateway.stack.chain.code_hash(gateway.stack.ledger.address).hex()
        chain = found == gateway.stack.record.contracts["CreditLedger"].code_hash
    except ChainClientError:
        chain = False
    index = None
    position = None
    if database:
        position = gateway.index.read_position()
        index = {
            "block": position.block,
            "ageSeconds": round(position.age_s(time.time()), 3) if position.advanced_at else None,
            "follower": gateway.index.following,
        }
    warnings = []
    try:
        missing = gateway.view.calendars.next_year_missing(gateway.now()) if chain else None
    except ChainClientError:
        missing = None
    gateway.metrics.calendar_next_year_missing.set(int(missing is not None))
    if missing is not None:
        warnings.append(
            {
                "code": "CALENDAR_NEXT_YEAR_NOT_ADOPTED",
                "year": missing,
                "message": f"no working calendar is adopted for {missing}: commitments whose deadline falls in "
                f"{missing} are refused until the governors adopt the State Council's notice",
            }
        )
    # A process whose index has no position yet would refuse every chain-dependent read.
    ready = database and chain and position is not None and position.block >= 0
    body = {
        "status": "ready" if ready else "not-ready",
        "database": database,
        "chain": chain,
        "chainId": gateway.stack.chain.chain_id,
        "blockNumber": block,
        "gatewayRole": Role.GATEWAY in gateway.view.roles_last_seen(gateway.account.address),
        "index": index,
        "warnings": warnings,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
def read_metrics(gateway: GatewayDep) -> Response:
    """Prometheus text exposition: requests, records, releases, anchoring lag, chain availability."""
    return Response(gateway.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
