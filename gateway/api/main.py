"""Build the FastAPI app of one gateway: routers, error handlers, metrics, request logs and docs."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain_client import ChainClientError, ChainUnavailableError
from gateway.api.body_limit import BodyLimit
from gateway.api.error_response import error_response
from gateway.api.observe import GuardAndObserve
from gateway.api.routes import (
    access_log,
    calendars,
    commitments,
    consents,
    instructions,
    lifecycle,
    ops,
    peer,
    public,
    records,
    screenings,
    self_service,
    subject_refs,
    subjects,
)
from gateway.api.schemas import ErrorBody
from gateway.infra.errors import GatewayError
from gateway.infra.logs import get_logger
from gateway.infra.rate_limit import RateLimitedError, RateLimiter
from gateway.infra.service import Gateway

log = get_logger("http")
# Swagger UI and ReDoc as the installed fastapi-offline package ships them: /docs works
# without reaching a CDN (an offline machine, a closed government network).
DOCS_ASSETS_URL = "/docs-assets"
DOCS_ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"

DESCRIPTION = """\
The credit-ledger gateway: departments submit signed credit records, the gateway keeps
their payloads encrypted and anchors their hashes on the consortium chain, and releases
payloads only as the catalog's disclosure class allows, logging every release.

**Authentication.** Every `/v1` and `/peer/v1` request is signed by a member key
(EIP-191) for this gateway (its audience, `GET /public/v1/gateway`) over the method,
path, sorted query, body SHA-256, timestamp and nonce, in the headers `X-CL-Address`,
`X-CL-Audience`, `X-CL-Content-SHA256`, `X-CL-Timestamp`, `X-CL-Nonce`, `X-CL-Signature`
(see `credit_client.GatewayClient`). The signer is checked before the body is read; each
route's body limit is its `x-body-limit`. `/public` and the operations endpoints need none.

**Errors** are JSON `{code, message, detail}` with stable codes.
"""


def create_app(gateway: Gateway) -> FastAPI:
    """The ASGI app serving one gateway."""
    app = FastAPI(
        title="credit-ledger gateway",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        responses={
            401: {"model": ErrorBody, "description": "Not authenticated (AUTH_*)."},
            403: {"model": ErrorBody, "description": "Not entitled (ACCESS_*, AUTH_NOT_MEMBER)."},
        },
    )
    app.state.gateway = gateway
    app.state.public_lookups = RateLimiter(gateway.settings.public_lookups_per_minute)
    for router in (
        records.router,
        subject_refs.router,
        lifecycle.router,
        subjects.router,
        screenings.router,
        commitments.router,
        instructions.router,
        consents.router,
        self_service.router,
        access_log.router,
        public.router,
        calendars.router,
        peer.router,
        ops.router,
    ):
        app.include_router(router)
    _install_docs(app)
    _install_error_handlers(app)
    _install_middleware(app, gateway)
    return app


def _install_docs(app: FastAPI) -> None:
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


INTEGRITY_CODES = frozenset({"RECORD_INTEGRITY_FAILED", "ACCESS_LOG_INTEGRITY_FAILED", "CALENDAR_INTEGRITY_FAILED"})


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        if exc.code in INTEGRITY_CODES:
            request.app.state.gateway.metrics.integrity_failures.inc()
        response = error_response(exc.code, exc.message, exc.detail)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(ChainUnavailableError)
    async def chain_unavailable(_request: Request, _exc: ChainUnavailableError) -> JSONResponse:
        return error_response("CHAIN_UNAVAILABLE", "the chain cannot be reached now; try again later")

    @app.exception_handler(ChainClientError)
    async def chain_error(_request: Request, exc: ChainClientError) -> JSONResponse:
        log.error("chain error", extra={"fields": {"error": type(exc).__name__}})
        return error_response("CHAIN_ERROR", "the chain answered with an error")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Locations and error types only: the input itself may hold personal data.
        detail = [{"path": "/".join(str(p) for p in e["loc"]), "problem": e["type"]} for e in exc.errors()]
        return error_response("REQUEST_INVALID", "the request does not match the API", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "BODY_MALFORMED", 404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "BODY_TOO_LARGE"}
        return error_response(codes.get(exc.status_code, "BODY_MALFORMED"), str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", extra={"fields": {"error": type(exc).__name__}})
        return error_response("INTERNAL_ERROR", "the gateway failed to handle the request")


def _install_middleware(app: FastAPI, gateway: Gateway) -> None:
    limit = gateway.settings.max_body_bytes
    app.add_middleware(BodyLimit, limit=limit)
    app.add_middleware(GuardAndObserve, metrics=gateway.metrics, limit=limit)  # outermost: added last
