"""The error body every refusal shares: {code, message, detail}, with the registry's status."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from gateway.infra.error_codes import status_of


def error_response(code: str, message: str, detail: object = None) -> JSONResponse:
    """An error response: the status is the registry's for the code."""
    return JSONResponse(status_code=status_of(code), content={"code": code, "message": message, "detail": detail})
