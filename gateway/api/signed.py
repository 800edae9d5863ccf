"""Signed routes: the signer is authenticated before its request body is read.

Every `/v1` and `/peer/v1` route is a `SignedRoute` (a subject's `/v1/self` routes a
`SubjectRoute`, which admits a credential-bound subject key instead of a member). Before
the framework reads a byte of the body, the route checks the signature headers (format,
window, audience, and the signature itself over the body hash the `X-CL-Content-SHA256`
header declares), admits the signer (an active member), and uses up its nonce. Only then is the body read, up to the
route's own limit, hashed as it streams and compared with the signed hash. So a stranger's
100 MiB upload costs a header check, not 100 MiB of memory.

A route declares its limit with `openapi_extra=body_limit(BodySize.X)`; it shows in the
OpenAPI document as `x-body-limit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import replace
from enum import Enum
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.types import Message

from gateway.infra.errors import AuthError, InputError
from gateway.infra.request_auth import SignedRequest, verify_signed_headers
from gateway.infra.service import Gateway
from gateway.infra.settings import Settings
from gateway.records.entitlement import Requester

BODY_LIMIT_KEY = "x-body-limit"
SMALL_BODY_BYTES = 64 * 1024  # instructions, consents, lifecycle steps: a few hundred bytes
RECORD_BODY_BYTES = 2 * 1024 * 1024  # a step that carries one credit record (a breach, a correction)


class BodySize(Enum):
    """How large a signed route's body may be."""

    SMALL = "small"
    RECORD = "record"
    BULK = "bulk"  # a bulk of records: the gateway's max_body_bytes

    def limit(self, settings: Settings) -> int:
        """The limit in bytes under these settings."""
        if self is BodySize.BULK:
            return settings.max_body_bytes
        return min(settings.max_body_bytes, SMALL_BODY_BYTES if self is BodySize.SMALL else RECORD_BODY_BYTES)


def body_limit(size: BodySize) -> dict[str, Any]:
    """The `openapi_extra` that gives a signed route this body limit."""
    return {BODY_LIMIT_KEY: size.value}


class SignedRoute(APIRoute):
    """An APIRoute whose requests are authenticated before their body is read: a member's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        size = BodySize((self.openapi_extra or {}).get(BODY_LIMIT_KEY, BodySize.SMALL.value))

        async def signed_handler(request: Request) -> Response:
            gateway: Gateway = request.app.state.gateway
            signed = verify_signed_headers(
                request.headers,
                request.method,
                request.scope["path"],  # the path routed, exactly as decoded; url.path re-escapes
                request.query_params.multi_items(),
                audience=gateway.audience,
                now=gateway.wall_clock(),
                window_s=gateway.settings.auth_window_s,
            )
            await self.admit(gateway, request, signed)
            if request.method != "GET":
                await run_in_threadpool(gateway.nonces.use, signed.address, signed.nonce, signed.timestamp)
                body = await read_signed_body(request, size.limit(gateway.settings), signed)
                return await handler(Request(request.scope, _replay(body)))
            pending = await run_in_threadpool(gateway.nonces.pending, signed.address, signed.nonce, signed.timestamp)
            member = getattr(request.state, "member", None)
            if isinstance(member, Requester):
                request.state.member = replace(member, nonce=pending)
            body = await read_signed_body(request, size.limit(gateway.settings), signed)
            try:
                response = await handler(Request(request.scope, _replay(body)))
            finally:
                # Recorded now unless a release recorded it; a replay's answer never leaves.
                await run_in_threadpool(gateway.nonces.settle, pending)
            return response

        return signed_handler

    async def admit(self, gateway: Gateway, request: Request, signed: SignedRequest) -> None:
        """Who the verified signer is here, in request.state: an active member (its roles from the chain)."""
        roles = await run_in_threadpool(gateway.view.roles, signed.address)
        if not roles:
            raise AuthError("AUTH_NOT_MEMBER", "the signer is not an active member of the consortium")
        request.state.member = Requester(signed.address, roles)


async def read_signed_body(request: Request, limit: int, signed: SignedRequest) -> bytes:
    """The body, at most `limit` bytes, hashed as it streams; it must be the one signed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InputError("BODY_TOO_LARGE", f"this endpoint takes bodies of at most {limit} bytes")
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise InputError("BODY_TOO_LARGE", f"this endpoint takes bodies of at most {limit} bytes")
        digest.update(chunk)
        chunks.append(chunk)
    signed.check_body(digest.hexdigest())
    return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Coroutine[Any, Any, Message]]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
