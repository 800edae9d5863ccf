"""Dependencies of the routes, as Annotated aliases: the gateway, sessions, the signed-in member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from chain_client import Role
from gateway.infra.errors import AuthError
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


def current_member(request: Request) -> Requester:
    """The active member that signed this request, authenticated by its SignedRoute before the body was read."""
    member = getattr(request.state, "member", None)
    if not isinstance(member, Requester):  # a route asking for a member must be a SignedRoute: fail closed
        raise AuthError("AUTH_MISSING", "this endpoint is not served as a signed route")
    return member


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


# Whose lists a measures answer or a screening covers: every region's (default) or this gateway's.
ScopeQuery = Annotated[
    Literal["consortium", "region"],
    Query(description="consortium: every region's gateway is asked for its signed part; region: this gateway only."),
]
