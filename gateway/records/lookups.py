"""Members' queries by subject id, registered (查询使用登记).

Every query a member makes by subject id (its records, measures, report, or the
subjectRef a department needs to sign a record) is registered before it is answered, with
who asked, how and for which purpose. Public lookups are rate-limited instead. So nobody
can test guessed ids against the gateway without either a limit or a trace.

Registrations of concurrent requests share one commit, as access-log entries do
(gateway.infra.group_commit): each request still waits for its own to be durable before
anything is answered, and a read's nonce is inserted in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.infra.errors import UnavailableError
from gateway.infra.group_commit import GroupCommit, Member
from gateway.infra.nonces import PendingNonce, replayed, replays
from gateway.infra.storage import RequestNonce, SubjectLookup

MAX_PURPOSE_LENGTH = 200
_REGISTER_ATTEMPTS = 20


class Registration(Member):
    """One query's registration waiting in a group, with its request's nonce when still unused."""

    def __init__(self, values: dict[str, Any], nonce: PendingNonce | None) -> None:
        super().__init__()
        self.values = values
        self.nonce = nonce if nonce is not None and not nonce.used else None


def register_lookup(
    engine: Engine,
    group: GroupCommit[Any],
    *,
    requester: str,
    subject_ref: bytes,
    kind: str,
    purpose: str,
    now: int,
    nonce: PendingNonce | None = None,
) -> None:
    """Register one member's query about a subject, committed before anything is answered,
    in one transaction with the registrations of concurrent requests.

    With `nonce` (a read's, checked unused but not yet recorded: gateway.infra.nonces) the
    nonce row is inserted in the same transaction; a nonce used before (by another request,
    or a copy of this one in the group) refuses this registration alone (AUTH_REPLAYED) and
    registers nothing."""
    values = {
        "requester": requester,
        "subject_ref": subject_ref,
        "kind": kind,
        "purpose": purpose[:MAX_PURPOSE_LENGTH],
        "at": now,
    }
    group.run(Registration(values, nonce), lambda members: commit_registrations(engine, members))


def commit_registrations(engine: Engine, members: list[Registration]) -> None:
    """Commit a group of registrations and their unused nonces in one transaction, settling each."""
    for _ in range(_REGISTER_ATTEMPTS):
        try:
            with Session(engine) as session, session.begin():
                refused = replays(session, [member.nonce for member in members])
                kept = [member for position, member in enumerate(members) if position not in refused]
                if kept:
                    session.execute(insert(SubjectLookup), [member.values for member in kept])
                nonces = [member.nonce.values() for member in kept if member.nonce is not None]
                if nonces:
                    session.execute(insert(RequestNonce), nonces)
        except IntegrityError:
            continue  # another process used one of the nonces meanwhile: check them again
        for position, member in enumerate(members):
            if position in refused:
                member.settle(replayed())
                continue
            if member.nonce is not None:
                member.nonce.used = True
            member.settle()
        return
    raise UnavailableError("LOOKUP_REGISTER_BUSY", "the query could not be registered; nothing was answered")


def register_lookups(
    session: Session, *, requester: str, subject_refs: Sequence[bytes], kind: str, purpose: str, now: int
) -> None:
    """Register one member's query about many subjects (a list screening): one bulk insert
    and one commit, before anything is answered."""
    if not subject_refs:
        return
    purpose = purpose[:MAX_PURPOSE_LENGTH]
    session.execute(
        insert(SubjectLookup),
        [
            {"requester": requester, "subject_ref": ref, "kind": kind, "purpose": purpose, "at": now}
            for ref in subject_refs
        ],
    )
    session.commit()


def lookups(
    session: Session, *, requester: str | None, subject_ref: bytes | None, after: int, limit: int
) -> list[dict[str, Any]]:
    """Registered lookups in order, optionally of one member or one subject."""
    query = select(SubjectLookup).where(SubjectLookup.id > after)
    if requester is not None:
        query = query.where(SubjectLookup.requester == requester)
    if subject_ref is not None:
        query = query.where(SubjectLookup.subject_ref == subject_ref)
    rows = session.scalars(query.order_by(SubjectLookup.id).limit(limit))
    return [
        {
            "id": row.id,
            "requester": row.requester,
            "subjectRef": "0x" + row.subject_ref.hex(),
            "kind": row.kind,
            "purpose": row.purpose,
            "at": row.at,
        }
        for row in rows
    ]
