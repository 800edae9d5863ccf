"""Releasing records to requesters: entitlement, integrity, access log, then the view.

The order matters: the requester's entitlement is decided and the row's integrity
checked before anything is decrypted for them, and the access-log entry is committed
before the payload is returned, so no plaintext leaves unlogged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session, object_session

from chain_client import CatalogEntry, DisclosureClass, ProofBundle, RecordLeaf, RecordState, RecordStatus
from gateway.infra.errors import AuthError, ConflictError, GatewayError, InputError
from gateway.infra.logs import get_logger
from gateway.infra.service import Gateway
from gateway.infra.storage import StoredRecord
from gateway.infra.storage.leaves import leaf_of
from gateway.records.access_log import append_entry
from gateway.records.consents import valid_consent
from gateway.records.entitlement import Grant, Requester, View, decide
from gateway.records.reads import (
    OpenedRecord,
    RecordIntegrityError,
    anchoring_json,
    open_record,
    proof_bundle,
    public_until,
    publicity_end,
    publicly_visible,
    subject_opening,
)

log = get_logger("releases")


def grant_for(gw: Gateway, session: Session, member: Requester, row: StoredRecord, purpose: str) -> Grant:
    """The view this member gets of this record (AuthError 403 when none)."""
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
    consent = None
    if entry.disclosure_class == DisclosureClass.B and member.address != row.provider:
        consent = valid_consent(gw, session, row.subject_ref, member.address, purpose, gw.now())
    return decide(member, entry, row, consent)


def open_checked(gw: Gateway, row: StoredRecord) -> OpenedRecord:
    """Decrypt a row, counting and logging integrity failures (never their content)."""
    try:
        return open_record(gw.keyring, row)
    except RecordIntegrityError:
        log.error(
            "stored record failed its integrity check", extra={"fields": {"recordId": "0x" + row.record_id.hex()}}
        )
        raise


def integrity_failure(gw: Gateway, row: StoredRecord) -> dict[str, Any]:
    """How a list marks one of its records that failed its integrity check: its recordId and
    catalog code only, never its payload, subject, seed, salts or the reason. Counted in
    credit_ledger_integrity_failures_total and logged (recordId only), like a failed single read."""
    gw.metrics.integrity_failures.inc()
    record_id = _hex(row.record_id)
    log.error("stored record failed its integrity check; listed as failing", extra={"fields": {"recordId": record_id}})
    try:
        code: str | None = gw.view.entry_at(row.catalog_id, row.catalog_version).code
    except GatewayError:
        code = None  # the row's catalog fields no longer name an entry
    return {"recordId": record_id, "catalogCode": code, "integrity": "failed"}


def log_release(gw: Gateway, member: Requester, row: StoredRecord, purpose: str, grant: Grant) -> int:
    """Commit the access-log entry of a full release; its sequence number."""
    consent_id = grant.consent.consent_id if grant.consent is not None else None
    record_id = row.record_id
    session = object_session(row)
    if session is not None and not (session.new or session.dirty or session.deleted):
        # End the read's transaction so that its connection is back in the pool before the
        # append takes one: a request holding two at once exhausts the pool under load. The
        # rows read stay loaded (nothing changed them): expiring them would read each again.
        session.expire_on_commit = False
        session.commit()
    leaf = append_entry(
        gw.group_engine,
        gw.access_log_group,
        requester=member.address,
        record_id=record_id,
        purpose=purpose,
        consent_id=consent_id,
        now=gw.now(),
        nonce=member.nonce,  # a read's nonce, recorded in the entry's transaction
    )
    return leaf.sequence


def state_of(gw: Gateway, session: Session, row: StoredRecord) -> RecordState:
    """A record's lifecycle state from the chain-state index (gateway.infra.chain_index)."""
    return gw.index.record_state(session.connection(), row.record_id)


def states_of(gw: Gateway, session: Session, rows: Iterable[StoredRecord]) -> dict[bytes, RecordState]:
    """The states of many records, in one batched query of the index."""
    return gw.index.record_states(session.connection(), [row.record_id for row in rows])


def record_view(
    gw: Gateway,
    session: Session,
    member: Requester,
    row: StoredRecord,
    purpose: str,
    state: RecordState | None = None,
) -> dict[str, Any]:
    """Metadata, on-chain status (from the index, or `state` when the caller read it in a
    batch) and the payload the member is entitled to (logged when full)."""
    grant = grant_for(gw, session, member, row, purpose)
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
    state = state or state_of(gw, session, row)
    if grant.view == View.PUBLIC and not publicly_visible(entry, row, state, gw.now()):
        # Decided before the row is opened: a member not entitled to the record learns
        # nothing of it, not even that it fails its integrity check.
        raise AuthError("ACCESS_NOT_PUBLIC", "this record is outside its publicity window or no longer public")
    opened = open_checked(gw, row)
    view = metadata(gw, session, entry, row, state)
    if grant.view == View.PUBLIC:
        view.update(view="public", payload=public_fields(gw, entry, opened.payload), subject=None)
    else:
        sequence = log_release(gw, member, row, purpose, grant)
        view.update(full_view(row, opened, sequence))
    gw.metrics.releases.labels(entry.disclosure_class.name, view["view"]).inc()
    return view


def proof_for(
    gw: Gateway, session: Session, member: Requester, row: StoredRecord, purpose: str, disclose: list[str]
) -> ProofBundle:
    """The record's proof bundle, disclosing the named fields the member may see."""
    grant = grant_for(gw, session, member, row, purpose)
    bundle = proof_bundle(session, gw.stack, row, gw.trees)
    if grant.view == View.FULL:
        bundle = bundle.with_subject(subject_opening(row))
    if not disclose:
        return bundle
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
    if grant.view == View.PUBLIC:
        # Judged on the schema's public names before the payload is looked at: a private
        # field and a missing one get the same answer, so a public view learns no name.
        schema = gw.schemas.get(entry.schema_hash)
        allowed = schema.public_fields if schema is not None else frozenset()
        state = state_of(gw, session, row)
        if not set(disclose) <= allowed or not publicly_visible(entry, row, state, gw.now()):
            raise AuthError(
                "ACCESS_FIELD_NOT_PUBLIC",
                "only public fields of public records are disclosed to this member",
            )
    opened = open_checked(gw, row)
    unknown = sorted(set(disclose) - set(opened.payload))
    if unknown:
        raise InputError("DISCLOSE_UNKNOWN_FIELD", "the record has no such field", detail={"fields": unknown})
    if grant.view == View.FULL:
        log_release(gw, member, row, purpose, grant)
    return bundle.with_disclosure(opened.commitment.disclose(disclose))


def full_view(row: StoredRecord, opened: OpenedRecord, sequence: int) -> dict[str, Any]:
    """What a full view adds to the metadata: payload, subject and its tag's opening, and the logged release."""
    return {
        "view": "full",
        "payload": opened.payload,
        "subject": opened.subject,
        "subjectRef": _hex(row.subject_ref),
        "subjectSalt": _hex(row.subject_salt),
        "accessLogSequence": sequence,
    }


def public_fields(gw: Gateway, entry: CatalogEntry, payload: dict[str, Any]) -> dict[str, Any]:
    """The fields of a payload that its schema makes public."""
    schema = gw.schemas.get(entry.schema_hash)
    names = schema.public_fields if schema is not None else frozenset()
    return {name: value for name, value in payload.items() if name in names}


def metadata(
    gw: Gateway, session: Session, entry: CatalogEntry, row: StoredRecord, state: RecordState
) -> dict[str, Any]:
    """What any member entitled to a view sees besides the payload, of a record held here."""
    return leaf_metadata(entry, leaf_of(row), state, anchoring_json(session, row), gw.index.position.block)


def leaf_metadata(
    entry: CatalogEntry, leaf: RecordLeaf, state: RecordState, anchoring: dict[str, Any], as_of_block: int
) -> dict[str, Any]:
    """The metadata of a view from a record's leaf, its catalog entry and state on chain (as of
    the index's block), and its anchoring: one shape for records held here and for those a peer
    holds (peers.checked_answer)."""
    return {
        "recordId": _hex(leaf.record_id),
        "catalog": {
            "catalogId": _hex(leaf.catalog_id),
            "code": entry.code,
            "version": leaf.catalog_version,
            "class": entry.disclosure_class.name,
            "list": entry.list_kind.name,
        },
        "subjectTag": _hex(leaf.subject_tag),
        "provider": leaf.provider,
        "issuedAt": leaf.issued_at,
        "supersedes": _hex(leaf.supersedes),
        "contentHash": _hex(leaf.content_hash),
        "status": {
            "status": state.status.name,
            "repairPending": state.repair_pending,
            "supersededBy": _hex(state.superseded_by) if state.superseded_by else None,
        },
        "anchoring": anchoring,
        "asOfBlock": as_of_block,
        "publicUntil": publicity_end(entry, leaf.issued_at),
        "view": None,
        "subject": None,
        "subjectRef": None,
        "subjectSalt": None,
        "payload": None,
        "accessLogSequence": None,
    }


def public_disclosure(
    gw: Gateway, session: Session, row: StoredRecord, state: RecordState | None = None
) -> dict[str, Any] | None:
    """A record's public fields with their proof, when it is public now; else None."""
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
    if entry.disclosure_class != DisclosureClass.A or row.batch_id is None:
        return None
    state = state or state_of(gw, session, row)
    if not publicly_visible(entry, row, state, gw.now()):
        return None
    try:
        bundle = proof_bundle(session, gw.stack, row, gw.trees)
    except ConflictError:
        return None  # not anchored yet: published once it is provable
    opened = open_checked(gw, row)
    fields = public_fields(gw, entry, opened.payload)
    if not fields:
        return None
    gw.metrics.releases.labels("A", "public").inc()
    return {
        "recordId": _hex(row.record_id),
        "catalogCode": entry.code,
        "list": entry.list_kind.name,
        "status": state.status.name,
        "disputed": state.status == RecordStatus.DISPUTED,
        "issuedAt": row.issued_at,
        "publicUntil": public_until(entry, row),
        "fields": fields,
        "bundle": bundle.with_subject(subject_opening(row))
        .with_disclosure(opened.commitment.disclose(fields))
        .to_json(),
    }


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
