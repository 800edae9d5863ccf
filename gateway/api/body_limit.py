"""A body limit that holds without Content-Length (chunked uploads).

The guard middleware refuses a declared Content-Length over the limit before anything is
read. A chunked body declares nothing, so this counts what arrives and stops reading at
the limit with 413 BODY_TOO_LARGE (an HTTPException, which FastAPI's body parsing lets
through to the error handlers), instead of holding an unbounded body in memory.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of request body are read."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, f"request bodies are limited to {self.limit} bytes")
            return message

        await self.app(scope, limited, send)
