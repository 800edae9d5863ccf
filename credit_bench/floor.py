"""The floor: the least a signed read can cost, measured beside the gateway with the same generator.

`python -m credit_bench.floor --database-url URL --audience eip155:<chainId>:<gateway> --port P`
serves a bare ASGI application (no framework) on uvicorn, in a process of its own as the
gateway is, answering `GET /v1/records/{id}`: it verifies the request's signature with
the gateway's own code (`verify_signed_headers`, credit-ledger-request@2) and reads the
record's row by primary key from the gateway's database, nothing else (no nonce store,
no roles, no chain, no decryption, no access log). `GET /healthz` answers unsigned, for
the start-up wait. The gateway's figures are given as a fraction of this one's.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from sqlalchemy import Engine, select
from starlette.types import Receive, Scope, Send

from gateway.infra.request_auth import Audience, RequestAuthError, verify_signed_headers
from gateway.infra.storage import StoredRecord, connect

PREFIX = "/v1/records/0x"
_ROW = select(StoredRecord.record_id, StoredRecord.provider, StoredRecord.issued_at, StoredRecord.content_hash)


class FloorApp:
    """The ASGI application: signature check and one primary-key read per request."""

    def __init__(self, engine: Engine, audience: Audience) -> None:
        self.engine = engine
        self.audience = audience

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/healthz":
            await _answer(send, 200, {"status": "ok"})
            return
        if scope["method"] != "GET" or not path.startswith(PREFIX):
            await _answer(send, 404, {"code": "NOT_FOUND"})
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        try:
            verify_signed_headers(headers, "GET", path, query, audience=self.audience, now=int(time.time()))
            record_id = bytes.fromhex(path[len(PREFIX) :])
        except RequestAuthError as exc:
            await _answer(send, 401, {"code": exc.code})
            return
        except ValueError:
            await _answer(send, 422, {"code": "RECORD_ID_INVALID"})
            return
        with self.engine.connect() as connection:
            row = connection.execute(_ROW.where(StoredRecord.record_id == record_id)).first()
        if row is None:
            await _answer(send, 404, {"code": "RECORD_NOT_FOUND"})
            return
        await _answer(
            send,
            200,
            {
                "recordId": "0x" + row.record_id.hex(),
                "provider": row.provider,
                "issuedAt": row.issued_at,
                "contentHash": "0x" + row.content_hash.hex(),
            },
        )


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def main() -> None:
    """Serve the floor until killed."""
    parser = argparse.ArgumentParser(description="Serve the benchmark's floor endpoint.")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--audience", required=True, help="eip155:<chainId>:<gateway account>")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    app = FloorApp(connect(arguments.database_url), Audience.parse(arguments.audience))
    uvicorn.run(app, host="127.0.0.1", port=arguments.port, log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
