"""The nonce store: each signed request's nonce is accepted once per signer.

A nonce is kept until the request's time window has passed; after that the timestamp
check refuses the request anyway, so the row can go. The primary key (address, nonce)
makes the check-and-insert one atomic statement on SQLite and PostgreSQL alike, across
any number of gateway processes sharing the database.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.infra.errors import AuthError
from gateway.infra.storage import RequestNonce


class NonceStore:
    """Seen nonces in the gateway's database."""

    def __init__(self, engine: Engine, window_s: int) -> None:
        self.engine = engine
        self.window_s = window_s

    def use(self, address: str, nonce: str, timestamp: int) -> None:
        """Record a nonce as used; AuthError AUTH_REPLAYED when it was used before."""
        try:
            with Session(self.engine) as session, session.begin():
                session.add(RequestNonce(address=address, nonce=nonce, expires_at=timestamp + self.window_s + 1))
        except IntegrityError:
            raise AuthError("AUTH_REPLAYED", "this request's nonce was used before: replays are refused") from None

    def purge(self, now: int) -> int:
        """Forget nonces whose window has passed; how many went."""
        with Session(self.engine) as session, session.begin():
            result = session.execute(delete(RequestNonce).where(RequestNonce.expires_at < now))
            return int(getattr(result, "rowcount", 0) or 0)
