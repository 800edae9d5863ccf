"""Which red and black lists a subject is on now, and which joint measures apply
(联合奖惩自动触发), answered without revealing any record's contents.

A record puts its subject on its catalog entry's list while it is anchored, in force on
chain (Active, or Disputed while an objection is open: publicity continues during an
objection) and inside the entry's publicity period when it has one. A record that is
repaired, revoked or corrected leaves the list the moment the chain says so. A class-B
or C entry may carry a list too: its records weigh only in answers to requesters who may
read them without a consent (`counts_for`), so a measure is never an oracle for them. The answer
is signed by the gateway (chain_client.spec.signed_document) so a department can keep it as
the basis of its decision; auditors fetch the proof bundles behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chain_client import CatalogEntry, ListKind, ProofBundle, RecordState, RecordStatus
from gateway.infra.credit_policy import Measure
from gateway.infra.errors import AuthError
from gateway.infra.service import Gateway
from gateway.infra.storage import StoredRecord
from gateway.records.entitlement import Requester, decide
from gateway.records.reads import DAY_S, anchored_batch, proof_bundle, rows_of_subject, rows_of_subjects

IN_FORCE = frozenset({RecordStatus.ACTIVE, RecordStatus.DISPUTED})


@dataclass(frozen=True)
class Standing:
    """A subject's lists now and the records that put it there."""

    lists: frozenset[ListKind]
    catalog_codes: frozenset[str]
    basis: tuple[StoredRecord, ...]


def standing_of(gw: Gateway, session: Session, subject_ref: bytes, requester: Requester) -> Standing:
    """The lists the subject is on now, from its anchored list records held here that the
    requester may know of (`counts_for`)."""
    return standing_from_rows(gw, session, rows_of_subject(session, subject_ref), requester)


def standings_of(
    gw: Gateway, session: Session, subject_refs: Sequence[bytes], requester: Requester
) -> dict[bytes, Standing]:
    """`standing_of` for many subjects, their records and states read in a few batched queries."""
    rows = rows_of_subjects(session, subject_refs)
    states = gw.index.record_states(session.connection(), [row.record_id for found in rows.values() for row in found])
    return {ref: standing_from_rows(gw, session, rows.get(ref, []), requester, states) for ref in subject_refs}


def standing_from_rows(
    gw: Gateway,
    session: Session,
    rows: Iterable[StoredRecord],
    requester: Requester,
    states: Mapping[bytes, RecordState] | None = None,
) -> Standing:
    """The standing one subject's records (all of them, held here) give this requester.

    The status is read from the chain-state index, in one query, for the anchored list
    records inside their publicity that the requester may know of."""
    now = gw.now()
    lists: set[ListKind] = set()
    codes: set[str] = set()
    basis: list[StoredRecord] = []
    candidates: list[tuple[StoredRecord, CatalogEntry]] = []
    for row in rows:
        entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
        if entry.list_kind == ListKind.NONE or anchored_batch(session, row) is None:
            continue
        if not counts_for(requester, entry, row):
            continue
        if entry.publicity_days and now >= row.issued_at + entry.publicity_days * DAY_S:
            continue
        candidates.append((row, entry))
    if states is None:
        states = gw.index.record_states(session.connection(), [row.record_id for row, _ in candidates])
    for row, entry in candidates:
        if states[row.record_id].status not in IN_FORCE:
            continue
        lists.add(entry.list_kind)
        codes.add(entry.code)
        basis.append(row)
    return Standing(frozenset(lists), frozenset(codes), tuple(basis))


def counts_for(requester: Requester, entry: CatalogEntry, row: StoredRecord) -> bool:
    """Whether a list record may weigh in an answer to this requester: a class-A record
    always (lists are public by policy); a class-B or C one only when the requester may
    read it without a consent: its provider, and for class C a PROVIDER or AUDITOR member.
    A measure never tells anyone else that such a record exists. A consent does not count:
    it is for one purpose, and a measures question names none."""
    try:
        decide(requester, entry, row, None)
    except AuthError:
        return False
    return True


def lists_json(standing: Standing) -> dict[str, bool]:
    """The lists as booleans."""
    return {"red": ListKind.RED in standing.lists, "black": ListKind.BLACK in standing.lists}


def measures_of(gw: Gateway, standing: Standing) -> list[Measure]:
    """The measures the policy applies to this standing."""
    return gw.policy.measures_for(set(standing.lists), set(standing.catalog_codes))


def basis_proofs(gw: Gateway, session: Session, standing: Standing) -> list[ProofBundle]:
    """The proof bundles (no fields disclosed) of the records behind an answer, for auditors."""
    return [proof_bundle(session, gw.stack, row, gw.trees) for row in standing.basis]
