"""Checking and accepting submitted records (POST /v1/records).

A department prepares each record itself: it draws a 32-byte recordSeed, computes the
salted field commitments of its payload (contentHash), the record leaf and the
recordId, and signs the leaf with EIP-712 (`gateway.client.prepare_record` does all of
it). The gateway recomputes everything from what it is sent, so nothing it stores or
anchors differs from what the provider signed. Checks, in order, each with its code:

    RECORD_MALFORMED               fields missing, of the wrong type or not hex
    USCC_* / RID_*                 the subject id fails GB 32100 / GB 11643
    RECORD_PROVIDER_MISMATCH       the record's provider is not the requester
    CATALOG_UNKNOWN_ENTRY          no catalog entry with that code
    CATALOG_ENTRY_INACTIVE         the entry is withdrawn
    CATALOG_VERSION_NOT_LATEST          the record names an older version than the latest
    CATALOG_NOT_SOURCE             the provider is not the entry's source department
    CATALOG_SCHEMA_UNAVAILABLE     this gateway has no schema with the entry's schemaHash
    RECORD_PAYLOAD_TOO_LARGE       canonical payload above the configured limit
    PAYLOAD_SCHEMA_VIOLATION       the payload breaks the entry's JSON Schema
    RECORD_CONTENT_HASH_MISMATCH   a given contentHash differs from the payload's commitment
    RECORD_ID_MISMATCH             a given recordId differs from the fields' recordId
    RECORD_ISSUED_AT_INVALID       issuedAt more than five minutes in the future
    RECORD_SUPERSEDES_UNKNOWN      supersedes names a record this gateway does not hold
                                   for the same provider and subject
    RECORD_BAD_SIGNATURE           the EIP-712 signature is not the provider's

A record whose recordId is stored already is reported as a duplicate and changes
nothing (idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from chain_client import (
    CatalogEntry,
    ContentCommitment,
    LedgerDomain,
    RecordLeaf,
    SignedRecord,
    canonical_json,
    catalog_id,
    recover_address,
)
from chain_client._eip712 import record_struct_hash
from chain_client._records import address_bytes, checksummed
from gateway.catalog_schemas import SchemaStore
from gateway.chain_view import ChainView
from gateway.envelope import Keyring
from gateway.errors import GatewayError, InputError
from gateway.intake import store_records
from gateway.storage import StoredRecord
from gateway.subject_ids import SubjectIdError, parse_subject, subject_ref

FUTURE_TOLERANCE_S = 300
ZERO32_HEX = "0x" + "00" * 32


class RecordSubmission(BaseModel):
    """One record as its provider submits it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "catalogCode": "BJ-XZCF-001",
                    "catalogVersion": 1,
                    "subject": "91110108MA01C5XL6R",
                    "payload": {
                        "subjectName": "北京示例科技有限公司",
                        "decisionNumber": "京市监罚〔2026〕101号",
                        "violation": "虚假宣传",
                        "penalty": {"kind": "fine", "amountYuan": 50000},
                        "decidedOn": "2026-10-09",
                        "authority": "北京市市场监督管理局",
                    },
                    "recordSeed": "0x" + "5e" * 32,
                    "issuedAt": 1791590400,
                    "supersedes": ZERO32_HEX,
                    "provider": "0x917A6C517e2940FA51575f7E7BE9B3445cc69492",
                    "signature": "0x" + "ab" * 65,
                }
            ]
        },
    )

    catalog_code: str = Field(alias="catalogCode", min_length=1, max_length=64)
    catalog_version: int = Field(alias="catalogVersion", ge=1, lt=2**16)
    subject: str = Field(max_length=64, description="Unified social credit code or resident id.")
    payload: dict[str, Any] = Field(description="The record's fields, as the catalog entry's JSON Schema says.")
    record_seed: str = Field(alias="recordSeed", description="32 random bytes, hex: the seed of the field salts.")
    issued_at: int = Field(alias="issuedAt", ge=0, lt=2**64)
    supersedes: str = Field(ZERO32_HEX, description="recordId this record supersedes (corrections), or zero.")
    provider: str
    signature: str = Field(description="The provider's EIP-712 CreditRecord signature, 65 bytes hex.")
    content_hash: str | None = Field(None, alias="contentHash", description="Optional: checked when given.")
    record_id: str | None = Field(None, alias="recordId", description="Optional: checked when given.")

    @field_validator("record_seed", "supersedes", "content_hash", "record_id")
    @classmethod
    def _bytes32(cls, value: str | None) -> str | None:
        if value is not None:
            _hex(value, 32)
        return value

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str) -> str:
        _hex(value, 65)
        return value

    @field_validator("provider")
    @classmethod
    def _address(cls, value: str) -> str:
        _hex(value, 20)
        return value


@dataclass(frozen=True)
class Outcome:
    """What became of one submitted record."""

    index: int
    status: str  # "accepted" | "duplicate" | "rejected"
    record_id: str | None = None
    error: GatewayError | None = None


@dataclass(frozen=True)
class CheckedRecord:
    """A record that passed every check, ready to store."""

    signed: SignedRecord
    plaintext: bytes


@dataclass(frozen=True)
class SubmissionRules:
    """What the checks need: the chain's view, schemas, the subject key and limits."""

    view: ChainView
    schemas: SchemaStore
    domain: LedgerDomain
    subject_key: bytes
    max_payload_bytes: int


def check_record(raw: object, *, requester: str, rules: SubmissionRules, session: Session, now: int) -> CheckedRecord:
    """Every check of one record; the first failure raises InputError with its code."""
    try:
        item = RecordSubmission.model_validate(raw)
    except ValidationError as exc:
        problems = [{"path": "/".join(str(p) for p in e["loc"]), "problem": e["type"]} for e in exc.errors()]
        raise InputError(
            "RECORD_MALFORMED", "the record is missing fields or has malformed ones", detail=problems
        ) from None
    try:
        subject = parse_subject(item.subject)
    except SubjectIdError as exc:
        raise InputError(exc.code, str(exc)) from None
    provider = checksummed(item.provider)
    if provider != requester:
        raise InputError("RECORD_PROVIDER_MISMATCH", "a department submits only its own records", status=403)
    entry = _entry_for(rules, item, provider)
    schema = rules.schemas.get(entry.schema_hash)
    if schema is None:
        raise InputError(
            "CATALOG_SCHEMA_UNAVAILABLE",
            "this gateway does not hold the JSON Schema the catalog entry names",
            detail={"schemaHash": "0x" + entry.schema_hash.hex()},
            status=503,
        )
    if len(canonical_json(item.payload)) > rules.max_payload_bytes:
        raise InputError("RECORD_PAYLOAD_TOO_LARGE", f"the payload exceeds {rules.max_payload_bytes} bytes", status=413)
    violations = schema.violations(item.payload)
    if violations:
        raise InputError("PAYLOAD_SCHEMA_VIOLATION", "the payload does not match the entry's schema", detail=violations)
    try:
        content_hash = ContentCommitment(item.payload, _hex(item.record_seed, 32)).content_hash
    except ValueError as exc:
        raise InputError("PAYLOAD_SCHEMA_VIOLATION", str(exc)) from None
    if item.content_hash is not None and _hex(item.content_hash, 32) != content_hash:
        raise InputError("RECORD_CONTENT_HASH_MISMATCH", "contentHash is not the commitment of payload and recordSeed")
    leaf = RecordLeaf.create(
        catalog_id=entry.catalog_id,
        catalog_version=item.catalog_version,
        subject_ref=subject_ref(rules.subject_key, subject),
        content_hash=content_hash,
        provider=provider,
        issued_at=item.issued_at,
        supersedes=_hex(item.supersedes, 32),
    )
    if item.record_id is not None and _hex(item.record_id, 32) != leaf.record_id:
        raise InputError("RECORD_ID_MISMATCH", "recordId is not keccak256 of the record's fields")
    if item.issued_at > now + FUTURE_TOLERANCE_S:
        raise InputError("RECORD_ISSUED_AT_INVALID", "issuedAt is in the future")
    if leaf.supersedes != bytes(32):
        _check_supersedes(session, leaf)
    signature = _hex(item.signature, 65)
    signer = recover_address(rules.domain.digest(record_struct_hash(leaf)), signature)
    if signer != address_bytes(provider):
        raise InputError("RECORD_BAD_SIGNATURE", "the signature is not the provider's EIP-712 signature of this record")
    sealed_content = {"subject": subject.value, "payload": item.payload, "recordSeed": item.record_seed}
    return CheckedRecord(SignedRecord(leaf, signature), json.dumps(sealed_content, ensure_ascii=False).encode())


def accept_records(
    session: Session,
    keyring: Keyring,
    items: list[object],
    *,
    requester: str,
    rules: SubmissionRules,
    now: int,
    atomic: bool,
) -> list[Outcome]:
    """Check every record and store the good ones in the session (the caller commits).

    With atomic=True nothing is stored when any record is rejected.
    """
    outcomes: list[Outcome] = []
    checked: list[tuple[int, CheckedRecord]] = []
    for index, raw in enumerate(items):
        try:
            record = check_record(raw, requester=requester, rules=rules, session=session, now=now)
        except GatewayError as exc:
            outcomes.append(Outcome(index, "rejected", error=exc))
            continue
        checked.append((index, record))
    if atomic and outcomes:
        outcomes += [Outcome(i, "rejected", _hex_id(r), _NOT_STORED) for i, r in checked]
        return sorted(outcomes, key=lambda o: o.index)
    stored = store_records(session, keyring, [(r.signed, r.plaintext) for _, r in checked])
    for index, record in checked:
        new = record.signed.leaf.record_id in stored
        stored.discard(record.signed.leaf.record_id)  # a second copy in the same bulk is a duplicate
        outcomes.append(Outcome(index, "accepted" if new else "duplicate", _hex_id(record)))
    return sorted(outcomes, key=lambda o: o.index)


_NOT_STORED = InputError("BULK_REJECTED", "not stored: another record of this atomic bulk was rejected")


def _entry_for(rules: SubmissionRules, item: RecordSubmission, provider: str) -> CatalogEntry:
    entry = rules.view.entry(catalog_id(item.catalog_code))
    if not entry.active:
        raise InputError("CATALOG_ENTRY_INACTIVE", f"catalog entry {item.catalog_code} is withdrawn")
    if item.catalog_version != entry.version:
        raise InputError(
            "CATALOG_VERSION_NOT_LATEST",
            f"records are issued under the latest version of {item.catalog_code}",
            detail={"latestVersion": entry.version},
        )
    if entry.source != provider:
        raise InputError(
            "CATALOG_NOT_SOURCE", f"the provider is not the source department of {item.catalog_code}", status=403
        )
    return entry


def _check_supersedes(session: Session, leaf: RecordLeaf) -> None:
    previous = session.get(StoredRecord, leaf.supersedes)
    if previous is None or previous.provider != leaf.provider or previous.subject_ref != leaf.subject_ref:
        raise InputError(
            "RECORD_SUPERSEDES_UNKNOWN", "supersedes must name a record of the same provider and subject held here"
        )


def _hex_id(record: CheckedRecord) -> str:
    return "0x" + record.signed.leaf.record_id.hex()


def _hex(value: str, size: int) -> bytes:
    if not value.startswith("0x") or len(value) != 2 + 2 * size:
        raise ValueError(f"must be 0x and {size} bytes of hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise ValueError(f"must be 0x and {size} bytes of hex") from None
