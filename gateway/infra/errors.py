"""The gateway's errors: each carries a stable code, an HTTP status and safe detail.

    GatewayError                 code, status, message, detail
    ├── AuthError                401/403: unsigned, stale, replayed, unknown or unentitled requester
    ├── NotFoundError            404: no such record, consent or subject data here
    ├── InputError               400/413/422: a request or record that cannot be accepted
    ├── ConflictError            409: the state does not allow it
    ├── UnavailableError         503: the chain or a peer cannot be reached now
    └── ConfigurationError       settings refused at start (dev secrets outside development ...)

Messages and details never hold plaintext payloads, keys or salts: they are written to
logs and returned to callers who may not be entitled to the record.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Root of the gateway's errors."""

    status = 500

    def __init__(self, code: str, message: str, *, detail: Any = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail
        if status is not None:
            self.status = status

    def to_json(self) -> dict[str, Any]:
        """The `{code, message, detail}` body of an error response."""
        return {"code": self.code, "message": self.message, "detail": self.detail}


class AuthError(GatewayError):
    """The requester is not authenticated (401) or not allowed (403)."""

    status = 401


class NotFoundError(GatewayError):
    """Nothing here under that id."""

    status = 404


class InputError(GatewayError):
    """The request or one of its records cannot be accepted as given."""

    status = 422


class ConflictError(GatewayError):
    """The current state does not allow the request."""

    status = 409


class UnavailableError(GatewayError):
    """A dependency (the chain, a peer gateway) cannot be reached now; try again."""

    status = 503


class ConfigurationError(GatewayError):
    """The gateway's settings are refused; it does not start."""

    status = 500
