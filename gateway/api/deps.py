"""Dependencies of the routes, as Annotated aliases: the gateway, sessions, the signed-in member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from chain_client import Role
from gateway.infra.errors import AuthError
from gateway.infra.request_auth import RequestAuthError, verify_request
from gateway.infra.service import Gateway
from gateway.records.entitlement import Requester


def get_gateway(request: Request) -> Gateway:
    """The running gateway."""
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_session(gateway: GatewayDep) -> Iterator[Session]:
    """A database session for one request."""
    with Session(gateway.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def current_member(request: Request, gateway: GatewayDep) -> Requester:
    """The active member that signed this request (EIP-191), its nonce now used up."""
    body = await request.body()
    try:
        signed = verify_request(
            request.headers,
            request.method,
            request.scope["path"],  # the path routed, exactly as decoded; url.path re-escapes
            request.query_params.multi_items(),
            body,
            now=gateway.wall_clock(),
            window_s=gateway.settings.auth_window_s,
        )
    except RequestAuthError as exc:
        raise AuthError(exc.code, str(exc)) from None
    roles = gateway.view.roles(signed.address)
    if not roles:
        raise AuthError("AUTH_NOT_MEMBER", "the signer is not an active member of the consortium")
    await run_in_threadpool(gateway.nonces.use, signed.address, signed.nonce, signed.timestamp)
    return Requester(signed.address, roles)


CurrentMember = Annotated[Requester, Depends(current_member)]


def require_role(member: Requester, *roles: Role) -> None:
    """403 ACCESS_ROLE_REQUIRED unless the member holds one of the roles."""
    if not member.roles & set(roles):
        names = " or ".join(r.value for r in roles)
        raise AuthError("ACCESS_ROLE_REQUIRED", f"this endpoint is for {names} members")


# The purpose of a read, as every reading route takes it.
Purpose = Annotated[
    str,
    Query(
        min_length=1,
        max_length=200,
        description="Why the record is read; logged with the release. Class B needs a consent for this purpose.",
    ),
]
