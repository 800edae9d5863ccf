"""A man in the middle for peer reads: forwards to a real gateway and alters what it answers.

Registered on chain as a region's gateway URL, it stands for a compromised or faulty
holder. It is an attacker for the tests, not a stand-in for any of our components: the
real gateway behind it decides, logs and answers as it always does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Alteration = Callable[[dict[str, Any]], None]


def tampering_proxy(upstream: str, alter: Alteration, *, altered: str = "/peer/v1/records/") -> Starlette:
    """An ASGI app forwarding every request to upstream and altering the JSON answers of
    the peer routes under `altered` (by default /peer/v1/records reads)."""

    async def forward(request: Request) -> Response:
        async with httpx.AsyncClient(base_url=upstream, timeout=30) as client:
            answer = await client.request(
                request.method,
                request.url.path,
                params=list(request.query_params.multi_items()),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
                content=await request.body(),
            )
        content = answer.content
        if request.url.path.startswith(altered) and answer.status_code == 200:
            document = answer.json()
            alter(document)
            content = httpx.Response(200, json=document).content
        return Response(content, status_code=answer.status_code, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])])
