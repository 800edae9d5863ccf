"""A JSON-RPC node that lies: forwards to a real node and alters the documents of calendar adoptions.

It stands for a compromised or faulty node between a reader and the chain. The answers
to eth_call (the adopted hashes) pass unchanged; the CalendarAdopted logs that carry
the documents come back with one date changed, as a node rewriting history would.
"""

from __future__ import annotations

from typing import Any

import httpx
from eth_utils.crypto import keccak
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CALENDAR_ADOPTED = "0x" + keccak(text="CalendarAdopted(uint16,uint16,bytes32,bytes)").hex()
ORIGINAL, ALTERED = b"-01-01".hex(), b"-01-02".hex()


def lying_node(upstream: str) -> Starlette:
    """An ASGI JSON-RPC endpoint forwarding to upstream, with each adopted calendar's document altered."""

    async def forward(request: Request) -> JSONResponse:
        body = await request.json()
        async with httpx.AsyncClient(timeout=30) as client:
            answer = (await client.post(upstream, json=body)).json()
        for response in answer if isinstance(answer, list) else [answer]:
            _alter(response)
        return JSONResponse(answer)

    return Starlette(routes=[Route("/", forward, methods=["POST"])])


def _alter(response: dict[str, Any]) -> None:
    result = response.get("result")
    if not isinstance(result, list):
        return
    for log in result:
        if isinstance(log, dict) and log.get("topics", [None])[0] == CALENDAR_ADOPTED:
            log["data"] = log["data"].replace(ORIGINAL, ALTERED, 1)
