"""JSON-RPC nodes that misbehave in front of a real node: one that lies, one that can be cut off,
one that names another chain.

`lying_node` stands for a compromised or faulty node between a reader and the chain. The
answers to eth_call (the adopted hashes) pass unchanged; the CalendarAdopted logs that
carry the documents come back with one date changed, as a node rewriting history would.
`severable_node` stands for an outage seen by one gateway only: while its `Link` is cut
it answers every request with HTTP 503, while the chain behind it goes on (and members
can still be suspended there). `relabelled_node` answers `eth_chainId` and `net_version`
with another chain id: a chain outside the development set, as a consortium's would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from eth_utils.crypto import keccak
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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


@dataclass
class Link:
    """The switch of a severable node: cut, every request is refused."""

    cut: bool = False


def severable_node(upstream: str, link: Link) -> Starlette:
    """An ASGI JSON-RPC endpoint forwarding to upstream, answering 503 while the link is cut."""

    async def forward(request: Request) -> Response:
        if link.cut:
            return Response("node unreachable", status_code=503)
        body = await request.json()
        async with httpx.AsyncClient(timeout=30) as client:
            return JSONResponse((await client.post(upstream, json=body)).json())

    return Starlette(routes=[Route("/", forward, methods=["POST"])])


def relabelled_node(upstream: str, chain_id: int) -> Starlette:
    """An ASGI JSON-RPC endpoint forwarding to upstream that names itself chain chain_id."""

    async def forward(request: Request) -> JSONResponse:
        body = await request.json()
        async with httpx.AsyncClient(timeout=30) as client:
            answer = (await client.post(upstream, json=body)).json()
        requests = body if isinstance(body, list) else [body]
        responses = answer if isinstance(answer, list) else [answer]
        for asked, response in zip(requests, responses, strict=True):
            if asked.get("method") == "eth_chainId":
                response["result"] = hex(chain_id)
            elif asked.get("method") == "net_version":
                response["result"] = str(chain_id)
        return JSONResponse(answer)

    return Starlette(routes=[Route("/", forward, methods=["POST"])])
