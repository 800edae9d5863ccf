"""Credit commitments (信用承诺) through the gateway: record, fulfil, withdraw, breach.

A commitment's deadline is counted from the day the department accepted it, in Chinese
working days over the consortium's adopted calendars (gateway.calendars) or in calendar
months. The department signs the deadline together with the term and the calendar
versions it was counted with, and the gateway counts it again with the latest adopted
calendars, so both sides agree on the calendar before anything reaches the chain; the
chain records the term, so anyone can count it once more.
A breach after the deadline (违诺失信) comes with the dishonesty record the department
signed under a breach catalog entry of the policy; the chain links the commitment to the
record, and the record names the commitment in its payload, so each leads to the other.
The chain names the subject only by the commitment's subjectTag; the gateway keeps its
opening (commitment_subjects) for the department, whose breach record carries that tag.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

from eth_typing import ChecksumAddress
from sqlalchemy.orm import Session

from chain_client import (
    CalendarRef,
    Commitment,
    CommitmentSpec,
    CommitmentStatus,
    ContractRevertError,
    Stack,
    SubjectOpening,
    beijing_date,
    breach_struct_hash,
    fulfil_struct_hash,
    record_commitment_struct_hash,
    withdraw_struct_hash,
)
from gateway.infra.calendars import parse_term
from gateway.infra.errors import AuthError, ConflictError, InputError, NotFoundError
from gateway.infra.service import Gateway
from gateway.infra.storage import CommitmentSubject
from gateway.infra.subject_ids import SubjectIdError, parse_subject
from gateway.lifecycle.relaying import SignedInstruction, check_instruction, preflight, relay
from gateway.lifecycle.terms import KIND_NAMES, KINDS, KindName
from gateway.records.checks import SubmissionRules, check_record
from gateway.records.entitlement import Requester
from gateway.records.intake import store_record


def record_commitment(
    gw: Gateway,
    session: Session,
    member: Requester,
    *,
    subject: str,
    subject_salt: bytes,
    kind: KindName,
    doc_hash: bytes,
    accepted_on: dt.date | None,
    working_days: int | None,
    months: int | None,
    signed_due_by: int,
    signed_calendars: tuple[CalendarRef, ...],
    signed: SignedInstruction,
) -> dict[str, Any]:
    """Record a department's commitment letter with its deadline and how it was counted."""
    try:
        subject_id = parse_subject(subject)
    except SubjectIdError as exc:
        raise InputError(exc.code, str(exc), detail=exc.detail) from None
    chain_kind = KINDS[kind]
    today = beijing_date(gw.now())
    accepted = accepted_on or today
    if accepted > today:
        raise InputError("COMMITMENT_ACCEPTED_IN_FUTURE", "acceptedOn lies after today (Beijing time)")
    term = parse_term(working_days=working_days, months=months, default=gw.policy.commitment_terms[chain_kind])
    deadline, counted = gw.view.calendars.count(accepted, term)
    expected = deadline.due_by
    if signed_due_by != expected or signed_calendars != counted.calendars:
        raise InputError(
            "COMMITMENT_DUE_MISMATCH",
            "dueBy or the calendars are not those of the term counted with the latest adopted calendars",
            detail={"expected": {"dueBy": expected, **counted.to_json()}},
        )
    if expected <= gw.now():
        raise InputError("COMMITMENT_ALREADY_DUE", "the commitment's deadline has passed already")
    opening = SubjectOpening(gw.subject_ref(subject_id), subject_salt)
    spec = CommitmentSpec(
        subject_tag=opening.tag(), kind=chain_kind, doc_hash=doc_hash, deadline=expected, term=counted
    )
    registry = gw.stack.commitments
    instruction = check_instruction(
        gw,
        member,
        signed,
        registry,
        lambda n, d: record_commitment_struct_hash(
            spec.subject_tag, int(chain_kind), doc_hash, counted, expected, n, d
        ),
    )
    commitment_id = spec.commitment_id(cast(ChecksumAddress, member.address))
    # Kept before relaying: a crash after the chain took it must not lose the opening.
    session.merge(
        CommitmentSubject(
            commitment_id=commitment_id,
            department=member.address,
            subject_ref=opening.subject_ref,
            subject_salt=opening.subject_salt,
        )
    )
    session.commit()
    tx = relay(gw, lambda: registry.relay_record(gw.account, spec, instruction)[1])
    recorded = _indexed(gw, commitment_id)
    result = commitment_json(recorded, gw.now())
    result.update(term=counted.to_json(), subject=subject_of(session, recorded), **tx)
    return result


def fulfil(gw: Gateway, member: Requester, commitment_id: str, signed: SignedInstruction) -> dict[str, Any]:
    """The department marks a commitment fulfilled (documents came in time)."""
    commitment = _own_pending(gw, member, commitment_id)
    instruction = check_instruction(
        gw, member, signed, gw.stack.commitments, lambda n, d: fulfil_struct_hash(commitment.commitment_id, n, d)
    )
    tx = relay(gw, lambda: gw.stack.commitments.relay_fulfil(gw.account, commitment.commitment_id, instruction))
    return {**commitment_json(_indexed(gw, commitment.commitment_id), gw.now()), **tx}


def withdraw(gw: Gateway, member: Requester, commitment_id: str, signed: SignedInstruction) -> dict[str, Any]:
    """The department withdraws a pending commitment."""
    commitment = _own_pending(gw, member, commitment_id)
    instruction = check_instruction(
        gw, member, signed, gw.stack.commitments, lambda n, d: withdraw_struct_hash(commitment.commitment_id, n, d)
    )
    tx = relay(gw, lambda: gw.stack.commitments.relay_withdraw(gw.account, commitment.commitment_id, instruction))
    return {**commitment_json(_indexed(gw, commitment.commitment_id), gw.now()), **tx}


def breach(
    gw: Gateway,
    session: Session,
    member: Requester,
    commitment_id: str,
    *,
    record: object,
    violation: bool,
    signed: SignedInstruction,
) -> dict[str, Any]:
    """Mark a commitment breached and store the dishonesty record it produced.

    The record is checked in full first (as POST /v1/records would), and the breach is run
    on chain without sending it. Then the record is stored for anchoring and committed,
    idempotently on its recordId, and only then is the breach relayed naming it: a crash
    or an unreachable chain after the store leaves a record and no breach (the department
    sends the same breach again; the record is not stored twice), never a breach naming a
    record nobody holds. The chain computes the breach's recordId from the record's
    catalogId, contentHash and issuedAt with the department and the commitment's
    subjectTag, so the breach names a record of this department about this subject: its
    submission carries the commitment's subjectSalt (GET /v1/commitments/{id} gives it).
    """
    commitment = _own_pending(gw, member, commitment_id)
    if not violation and gw.now() <= commitment.deadline:
        raise ConflictError(
            "COMMITMENT_NOT_DUE",
            "the deadline has not passed: a breach before it is marked as a violation",
            detail={"dueBy": commitment.deadline},
        )
    checked = check_record(
        record, requester=member.address, rules=SubmissionRules.of(gw), session=session, now=gw.now()
    )
    leaf = checked.signed.leaf
    entry = gw.view.entry_at(leaf.catalog_id, leaf.catalog_version)
    if entry.code not in gw.policy.breach_entries:
        raise InputError(
            "BREACH_ENTRY_NOT_ALLOWED",
            "a breach record is issued under a breach catalog entry of the policy",
            detail={"allowed": sorted(gw.policy.breach_entries)},
        )
    if leaf.subject_tag != commitment.subject_tag or _payload_commitment(checked.plaintext) != commitment_id.lower():
        raise InputError("BREACH_RECORD_MISMATCH", "the breach record names another subject or another commitment")
    instruction = check_instruction(
        gw,
        member,
        signed,
        gw.stack.commitments,
        lambda n, d: breach_struct_hash(commitment.commitment_id, leaf.record_id, violation, n, d),
    )
    registry = gw.stack.commitments
    # What the chain would refuse now (a suspended department, a used nonce ...) stores nothing.
    preflight(
        lambda: registry.preflight_breach(gw.account.address, commitment.commitment_id, leaf, violation, instruction)
    )
    if store_record(session, gw.keyring, checked.signed, checked.subject, checked.plaintext):
        session.commit()
        gw.metrics.records.labels("accepted").inc()
    tx = relay(gw, lambda: registry.relay_breach(gw.account, commitment.commitment_id, leaf, violation, instruction))
    return {**commitment_json(_indexed(gw, commitment.commitment_id), gw.now()), **tx}


def subject_of(session: Session, commitment: Commitment) -> dict[str, str] | None:
    """The opening of a commitment's subjectTag, when this gateway relayed it (else None)."""
    kept = session.get(CommitmentSubject, commitment.commitment_id)
    if kept is None:
        return None
    return {"subjectRef": "0x" + kept.subject_ref.hex(), "subjectSalt": "0x" + kept.subject_salt.hex()}


def find_commitment(gw: Gateway, commitment_id: str) -> Commitment:
    """A commitment from the chain-state index; 404 COMMITMENT_NOT_FOUND when it has none
    (one recorded on chain without this gateway shows from the follower's next pass)."""
    key = _commitment_key(commitment_id)
    with gw.engine.connect() as connection:
        found = gw.index.commitment(connection, key)
    if found is None:
        raise NotFoundError("COMMITMENT_NOT_FOUND", "no commitment has this id")
    return found


def overdue_from_index(gw: Gateway, department: str | None) -> list[Commitment]:
    """Pending commitments past their deadline now, from the chain-state index (oldest deadline first)."""
    with gw.engine.connect() as connection:
        return gw.index.pending_due_before(connection, gw.now(), department)


def _commitment_key(commitment_id: str) -> bytes:
    try:
        if not commitment_id.startswith("0x") or len(commitment_id) != 66:
            raise ValueError
        return bytes.fromhex(commitment_id[2:])
    except ValueError:
        raise InputError("COMMITMENT_ID_MALFORMED", "a commitment id is 0x and 32 bytes of hex") from None


def _on_chain(gw: Gateway, commitment_id: str) -> Commitment:
    """A commitment read from the chain now: a step decides on it before spending gas."""
    try:
        return gw.stack.commitments.commitment(_commitment_key(commitment_id))
    except ContractRevertError:
        raise NotFoundError("COMMITMENT_NOT_FOUND", "no commitment has this id") from None


def _indexed(gw: Gateway, commitment_id: bytes) -> Commitment:
    """A commitment a step just relayed, as the index holds it from the receipt (read your writes)."""
    with gw.engine.connect() as connection:
        found = gw.index.commitment(connection, commitment_id)
    return found if found is not None else gw.stack.commitments.commitment(commitment_id)


def commitment_json(commitment: Commitment, now: int) -> dict[str, Any]:
    """A commitment as the API shows it, with whether it is overdue now."""
    return {
        "commitmentId": "0x" + commitment.commitment_id.hex(),
        "department": commitment.department,
        "kind": KIND_NAMES[commitment.kind].value,
        "status": commitment.status.name,
        "subjectTag": "0x" + commitment.subject_tag.hex(),
        "docHash": "0x" + commitment.doc_hash.hex(),
        "madeAt": commitment.made_at,
        "dueBy": commitment.deadline,
        "dueOn": beijing_date(commitment.deadline).isoformat(),
        "overdue": is_overdue(commitment, now),
        "breachRecordId": "0x" + commitment.breach_record_id.hex() if commitment.breach_record_id else None,
    }


def is_overdue(commitment: Commitment, now: int) -> bool:
    """Pending and past its deadline: the department should fulfil it or record the breach."""
    return commitment.status == CommitmentStatus.PENDING and now > commitment.deadline


def overdue_commitments(stack: Stack, now: int, department: str | None = None) -> list[Commitment]:
    """Pending commitments past their deadline, from the registry's events (oldest deadline first)."""
    registry = stack.chain.contract("CommitmentRegistry", stack.commitments.address)
    filters = {"department": department} if department else None
    logs = registry.events.CommitmentRecorded().get_logs(
        from_block=stack.record.contracts["CommitmentRegistry"].block, argument_filters=filters
    )
    ids = dict.fromkeys(bytes(log["args"]["commitmentId"]) for log in logs)
    found = [stack.commitments.commitment(commitment_id) for commitment_id in ids]
    return sorted((c for c in found if is_overdue(c, now)), key=lambda c: (c.deadline, c.commitment_id))


def _own_pending(gw: Gateway, member: Requester, commitment_id: str) -> Commitment:
    commitment = _on_chain(gw, commitment_id)
    if commitment.department != member.address:
        raise AuthError("COMMITMENT_NOT_DEPARTMENT", "only the recording department may do this")
    if commitment.status != CommitmentStatus.PENDING:
        raise ConflictError(
            "COMMITMENT_NOT_PENDING", "the commitment is no longer pending", detail={"status": commitment.status.name}
        )
    return commitment


def _payload_commitment(plaintext: bytes) -> str | None:
    value = json.loads(plaintext)["payload"].get("commitmentId")
    return value.lower() if isinstance(value, str) else None
