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
from sqlalchemy.orm import Session

from gateway.infra.errors import UnavailableError
from gateway.infra.group_commit import GroupCommit
from gateway.infra.nonces import NoncedMember, PendingNonce, commit_nonced_group
from gateway.infra.storage import SubjectLookup

MAX_PURPOSE_LENGTH = 200


class Registration(NoncedMember):
    """One query's registration waiting in a group, with its request's nonce when still unused."""

    def __init__(self, values: dict[str, Any], nonce: PendingNonce | None) -> None:
        super().__init__(nonce)
        self.values = values


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
    commit_nonced_group(
        engine,
        members,
        _insert_registrations,
        UnavailableError("LOOKUP_REGISTER_BUSY", "the query could not be registered; nothing was answered"),
    )


def _insert_registrations(session: Session, kept: list[Registration]) -> None:
    if kept:
        session.execute(insert(SubjectLookup), [member.values for member in kept])


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
