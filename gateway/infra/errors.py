"""The gateway's errors, one root: each carries a stable code, its HTTP status and safe detail.

The code is declared once, with its status and meaning, in gateway.infra.error_codes;
the classes say what kind of failure it is.

    GatewayError                 code, status (from the registry), message, detail
    ├── AuthError                unsigned, stale, replayed, unknown or unentitled requester
    ├── NotFoundError            no such record, consent or subject data here
    ├── InputError               a request or record that cannot be accepted
    ├── ConflictError            the state does not allow it
    ├── UnavailableError         the chain or a peer cannot be reached now
    ├── ConfigurationError       settings refused at start (dev secrets outside development ...)
    └── FixedCodeError           a class that names its own code: envelope, request-signature,
                                 subject-id, report-file and stored-batch errors

Messages and details never hold plaintext payloads, keys or salts: they are written to
logs and returned to callers who may not be entitled to the record.
"""

from __future__ import annotations

from typing import Any

from gateway.infra.error_codes import status_of


class GatewayError(Exception):
    """Root of the gateway's errors: a declared code (gateway.infra.error_codes), whose status it answers with."""

    def __init__(self, code: str, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail
        self.status = status_of(code)  # KeyError for an undeclared code: declare it in error_codes

    def to_json(self) -> dict[str, Any]:
        """The `{code, message, detail}` body of an error response."""
        return {"code": self.code, "message": self.message, "detail": self.detail}


class AuthError(GatewayError):
    """The requester is not authenticated (401) or not allowed (403)."""


class NotFoundError(GatewayError):
    """Nothing here under that id."""


class InputError(GatewayError):
    """The request or one of its records cannot be accepted as given."""


class ConflictError(GatewayError):
    """The current state does not allow the request."""


class UnavailableError(GatewayError):
    """A dependency (the chain, a peer gateway) cannot be reached now; try again."""


class ConfigurationError(GatewayError):
    """The gateway's settings are refused; it does not start."""


class FixedCodeError(GatewayError):
    """An error whose class names its code (`code` attribute): raised with a message only."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(type(self).code, message, detail=detail)
