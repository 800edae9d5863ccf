"""The nonce store: each signed request's nonce is accepted once per signer.

A nonce is kept until the request's time window has passed; after that the timestamp
check refuses the request anyway, so the row can go. The primary key (address, nonce)
makes the check-and-insert one atomic statement on SQLite and PostgreSQL alike, across
any number of gateway processes sharing the database.

A read that releases plaintext does not commit its nonce on its own: `pending` checks it
is unused (one SELECT, so a replay is refused before any work) and the nonce row is
inserted in the transaction that commits the read's access-log entry
(gateway.records.access_log), or of the query's registration when the read registers
one first (gateway.records.lookups); the primary key still refuses a concurrent replay there.
A pending nonce that no release took is committed by `settle` before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.infra.errors import AuthError
from gateway.infra.storage import RequestNonce


@dataclass
class PendingNonce:
    """A request's nonce, checked unused, to be inserted with the request's first write."""

    address: str
    nonce: str
    expires_at: int
    used: bool = False

    def row(self) -> RequestNonce:
        """The row that uses it up."""
        return RequestNonce(address=self.address, nonce=self.nonce, expires_at=self.expires_at)

    def values(self) -> dict[str, object]:
        """The row's columns, for a bulk insert."""
        return {"address": self.address, "nonce": self.nonce, "expires_at": self.expires_at}


def replays(session: Session, nonces: Sequence[PendingNonce | None]) -> set[int]:
    """Which of a group's nonces (by position; None for a request without one) are used
    already, or by an earlier request of the group (copies of one signed request)."""
    wanted = {n.nonce for n in nonces if n is not None}
    if not wanted:
        return set()
    used = {
        (row.address, row.nonce)
        for row in session.execute(
            select(RequestNonce.address, RequestNonce.nonce).where(RequestNonce.nonce.in_(wanted))
        )
    }
    refused = set()
    for position, pending in enumerate(nonces):
        if pending is None:
            continue
        key = (pending.address, pending.nonce)
        if key in used:
            refused.add(position)
        used.add(key)
    return refused


def replayed() -> AuthError:
    """The refusal of a nonce used before."""
    return AuthError("AUTH_REPLAYED", "this request's nonce was used before: replays are refused")


class NonceStore:
    """Seen nonces in the gateway's database."""

    def __init__(self, engine: Engine, window_s: int) -> None:
        self.engine = engine
        self.window_s = window_s

    def use(self, address: str, nonce: str, timestamp: int) -> None:
        """Record a nonce as used; AuthError AUTH_REPLAYED when it was used before."""
        self._commit(PendingNonce(address, nonce, self._expiry(timestamp)))

    def pending(self, address: str, nonce: str, timestamp: int) -> PendingNonce:
        """A nonce checked unused now, not yet recorded; AUTH_REPLAYED when it was used before."""
        with Session(self.engine) as session:
            seen = session.execute(
                select(RequestNonce.nonce).where(RequestNonce.address == address, RequestNonce.nonce == nonce)
            ).first()
        if seen is not None:
            raise replayed()
        return PendingNonce(address, nonce, self._expiry(timestamp))

    def settle(self, pending: PendingNonce) -> None:
        """Commit a pending nonce that no write took; AUTH_REPLAYED when another request used it meanwhile."""
        if not pending.used:
            self._commit(pending)

    def purge(self, now: int) -> int:
        """Forget nonces whose window has passed; how many went."""
        with Session(self.engine) as session, session.begin():
            result = session.execute(delete(RequestNonce).where(RequestNonce.expires_at < now))
            return int(getattr(result, "rowcount", 0) or 0)

    def _expiry(self, timestamp: int) -> int:
        return timestamp + self.window_s + 1

    def _commit(self, pending: PendingNonce) -> None:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(pending.row())
        except IntegrityError:
            raise replayed() from None
        pending.used = True
