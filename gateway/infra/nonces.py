"""The nonce store: each signed request's nonce is accepted once per signer.

A nonce is kept until the request's time window has passed; after that the timestamp
check refuses the request anyway, so the row can go. The primary key (address, nonce)
makes the check-and-insert one atomic statement on SQLite and PostgreSQL alike, across
any number of gateway processes sharing the database.

A read that releases plaintext does not commit its nonce on its own: `pending` checks it
is unused (one SELECT, so a replay is refused before any work) and the nonce row is
inserted in the transaction that commits the read's access-log entry
(gateway.records.access_log), or of the query's registration when the read registers
one first (gateway.records.lookups); both commit through `commit_nonced_group`, where a
replay refuses its request alone and the primary key still refuses a concurrent one.
A pending nonce that no release took is committed by `settle` before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.infra.errors import AuthError, GatewayError
from gateway.infra.group_commit import Member
from gateway.infra.storage import RequestNonce

GROUP_ATTEMPTS = 20  # transactions a group tries before it gives up (each lost race is retried)


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


class NoncedMember(Member):
    """A group commit's member carrying its request's nonce, when still unused."""

    def __init__(self, nonce: PendingNonce | None) -> None:
        super().__init__()
        self.nonce = nonce if nonce is not None and not nonce.used else None


N = TypeVar("N", bound=NoncedMember)


def commit_nonced_group(
    engine: Engine, members: list[N], write: Callable[[Session, list[N]], None], busy: GatewayError
) -> None:
    """Commit a group's writes and its members' unused nonces in one transaction, then settle
    each member (gateway.infra.group_commit).

    `write` writes the members kept: a nonce used already, or twice in the group (copies of
    one signed request), refuses its member alone with AUTH_REPLAYED. A unique violation
    (another process used a nonce, or took what `write` writes, meanwhile) rolls the whole
    transaction back and it is tried again; `busy` is raised after GROUP_ATTEMPTS.
    """
    for _ in range(GROUP_ATTEMPTS):
        try:
            with Session(engine) as session, session.begin():
                refused = _replays(session, [member.nonce for member in members])
                kept = [member for position, member in enumerate(members) if position not in refused]
                write(session, kept)
                nonces = [member.nonce.values() for member in kept if member.nonce is not None]
                if nonces:
                    session.execute(insert(RequestNonce), nonces)
        except IntegrityError:
            continue
        for position, member in enumerate(members):
            if position in refused:
                member.settle(replayed())
                continue
            if member.nonce is not None:
                member.nonce.used = True
            member.settle()
        return
    raise busy


def _replays(session: Session, nonces: Sequence[PendingNonce | None]) -> set[int]:
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
