"""Checking and accepting submitted records (POST /v1/records).

A department prepares each record itself: it draws a 32-byte recordSeed and a 32-byte
subjectSalt (or takes the salt of the record it corrects, or of the commitment its
breach record follows), computes the salted field commitments of its payload
(contentHash), the subject's subjectTag, the record leaf and the
recordId, and signs the leaf with EIP-712 (`credit_client.prepare_record` does all of
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
    RECORD_SUBJECT_TAG_MISMATCH    a correction's subjectTag is not its original's (its
                                   subjectSalt must be the original's)
    RECORD_BAD_SIGNATURE           the EIP-712 signature is not the provider's

A record whose recordId is stored already is reported as a duplicate and changes
nothing (idempotent).
"""

from __future__ import annotations

import json
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from chain_client import (
    CatalogEntry,
    ContentCommitment,
    LedgerDomain,
    RecordLeaf,
    SignedRecord,
    SubjectOpening,
    address_bytes,
    canonical_json,
    catalog_id,
    checksummed,
    record_struct_hash,
    recover_address,
)
from gateway.infra.catalog_schemas import CatalogSchema, SchemaStore
from gateway.infra.chain_view import ChainView
from gateway.infra.check_pool import CHECK_POOL
from gateway.infra.envelope import Keyring
from gateway.infra.errors import GatewayError, InputError
from gateway.infra.service import Gateway
from gateway.infra.storage import StoredRecord
from gateway.infra.subject_ids import SubjectIdError, parse_subject, subject_ref
from gateway.records.intake import store_records

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
                    "subjectSalt": "0x" + "3c" * 32,
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
    subject_salt: str = Field(
        alias="subjectSalt",
        description="32 secret random bytes, hex: subjectTag = keccak256(abi.encode(subjectRef, subjectSalt)). "
        "A correction reuses its original's; a breach record its commitment's.",
    )
    issued_at: int = Field(alias="issuedAt", ge=0, lt=2**64)
    supersedes: str = Field(ZERO32_HEX, description="recordId this record supersedes (corrections), or zero.")
    provider: str
    signature: str = Field(description="The provider's EIP-712 CreditRecord signature, 65 bytes hex.")
    content_hash: str | None = Field(None, alias="contentHash", description="Optional: checked when given.")
    record_id: str | None = Field(None, alias="recordId", description="Optional: checked when given.")

    @field_validator("record_seed", "subject_salt", "supersedes", "content_hash", "record_id")
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
    subject: SubjectOpening
    plaintext: bytes


@dataclass(frozen=True)
class SubmissionRules:
    """What the checks need: the chain's view, schemas, the subject key and limits."""

    view: ChainView
    schemas: SchemaStore
    domain: LedgerDomain
    subject_key: bytes
    max_payload_bytes: int

    @classmethod
    def of(cls, gw: Gateway) -> SubmissionRules:
        """The rules of a running gateway."""
        return cls(
            view=gw.view,
            schemas=gw.schemas,
            domain=gw.stack.ledger.domain,
            subject_key=gw.subject_key,
            max_payload_bytes=gw.settings.max_payload_bytes,
        )


def check_record(raw: object, *, requester: str, rules: SubmissionRules, session: Session, now: int) -> CheckedRecord:
    """Every check of one record; the first failure raises InputError with its code."""
    checked, signed_by_provider = _check_fields(raw, requester, _ViewLookups(rules), now)
    return _check_stored(session, checked, signed_by_provider)


class _Lookups(Protocol):
    """Where the checks find catalog entries and schemas, and the keys and limits they use."""

    @property
    def domain(self) -> LedgerDomain:
        """The EIP-712 domain records are signed under."""
        ...

    @property
    def subject_key(self) -> bytes:
        """The consortium's subject key."""
        ...

    @property
    def max_payload_bytes(self) -> int:
        """The largest canonical payload accepted."""
        ...

    def entry(self, code: str) -> CatalogEntry:
        """The latest version of an entry by code; InputError CATALOG_UNKNOWN_ENTRY otherwise."""
        ...

    def schema(self, digest: bytes) -> CatalogSchema | None:
        """The schema with this hash, if held."""
        ...


class _ViewLookups:
    """Lookups from the gateway's chain view and schema store (in the gateway's process)."""

    def __init__(self, rules: SubmissionRules) -> None:
        self._rules = rules
        self.domain = rules.domain
        self.subject_key = rules.subject_key
        self.max_payload_bytes = rules.max_payload_bytes

    def entry(self, code: str) -> CatalogEntry:
        return self._rules.view.entry(catalog_id(code))

    def schema(self, digest: bytes) -> CatalogSchema | None:
        return self._rules.schemas.get(digest)


def _check_fields(raw: object, requester: str, lookups: _Lookups, now: int) -> tuple[CheckedRecord, bool]:
    """Every check that needs no database, in order; the record and whether its provider signed it.

    The signature is recovered here (it is most of the work) but judged in _check_stored,
    after the supersedes check, so that a record failing both reports the same code as ever.
    """
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
        raise InputError(exc.code, str(exc), detail=exc.detail) from None
    provider = checksummed(item.provider)
    if provider != requester:
        raise InputError("RECORD_PROVIDER_MISMATCH", "a department submits only its own records")
    entry = _entry_for(lookups.entry(item.catalog_code), item, provider)
    schema = lookups.schema(entry.schema_hash)
    if schema is None:
        raise InputError(
            "CATALOG_SCHEMA_UNAVAILABLE",
            "this gateway does not hold the JSON Schema the catalog entry names",
            detail={"schemaHash": "0x" + entry.schema_hash.hex()},
        )
    try:
        size = len(canonical_json(item.payload))
    except ValueError as exc:  # NaN, Infinity or an integer past 2**53: JCS has no form for them
        raise InputError("PAYLOAD_SCHEMA_VIOLATION", str(exc)) from None
    if size > lookups.max_payload_bytes:
        raise InputError("RECORD_PAYLOAD_TOO_LARGE", f"the payload exceeds {lookups.max_payload_bytes} bytes")
    violations = schema.violations(item.payload)
    if violations:
        raise InputError("PAYLOAD_SCHEMA_VIOLATION", "the payload does not match the entry's schema", detail=violations)
    try:
        content_hash = ContentCommitment(item.payload, _hex(item.record_seed, 32)).content_hash
    except ValueError as exc:
        raise InputError("PAYLOAD_SCHEMA_VIOLATION", str(exc)) from None
    if item.content_hash is not None and _hex(item.content_hash, 32) != content_hash:
        raise InputError("RECORD_CONTENT_HASH_MISMATCH", "contentHash is not the commitment of payload and recordSeed")
    opening = SubjectOpening(subject_ref(lookups.subject_key, subject), _hex(item.subject_salt, 32))
    leaf = RecordLeaf.create(
        catalog_id=entry.catalog_id,
        catalog_version=item.catalog_version,
        subject_tag=opening.tag(),
        content_hash=content_hash,
        provider=provider,
        issued_at=item.issued_at,
        supersedes=_hex(item.supersedes, 32),
    )
    if item.record_id is not None and _hex(item.record_id, 32) != leaf.record_id:
        raise InputError("RECORD_ID_MISMATCH", "recordId is not keccak256 of the record's fields")
    if item.issued_at > now + FUTURE_TOLERANCE_S:
        raise InputError("RECORD_ISSUED_AT_INVALID", "issuedAt is in the future")
    signature = _hex(item.signature, 65)
    signer = recover_address(lookups.domain.digest(record_struct_hash(leaf)), signature)
    sealed_content = {"subject": subject.value, "payload": item.payload, "recordSeed": item.record_seed}
    plaintext = json.dumps(sealed_content, ensure_ascii=False).encode()
    checked = CheckedRecord(SignedRecord(leaf, signature), opening, plaintext)
    return checked, signer == address_bytes(provider)


def _check_stored(session: Session, checked: CheckedRecord, signed_by_provider: bool) -> CheckedRecord:
    """The checks left after _check_fields: supersedes (in the database), then the signature."""
    leaf = checked.signed.leaf
    if leaf.supersedes != bytes(32):
        _check_supersedes(session, leaf, checked.subject)
    if not signed_by_provider:
        raise InputError("RECORD_BAD_SIGNATURE", "the signature is not the provider's EIP-712 signature of this record")
    return checked


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
    for index, result in enumerate(_check_all(items, requester, rules, now)):
        try:
            if isinstance(result, GatewayError):
                raise result
            record = _check_stored(session, *result)
        except GatewayError as exc:
            outcomes.append(Outcome(index, "rejected", error=exc))
            continue
        checked.append((index, record))
    if atomic and outcomes:
        outcomes += [Outcome(i, "rejected", _hex_id(r), _NOT_STORED) for i, r in checked]
        return sorted(outcomes, key=lambda o: o.index)
    stored = store_records(session, keyring, [(r.signed, r.subject, r.plaintext) for _, r in checked])
    for index, record in checked:
        new = record.signed.leaf.record_id in stored
        stored.discard(record.signed.leaf.record_id)  # a second copy in the same bulk is a duplicate
        outcomes.append(Outcome(index, "accepted" if new else "duplicate", _hex_id(record)))
    return sorted(outcomes, key=lambda o: o.index)


_NOT_STORED = InputError("BULK_REJECTED", "not stored: another record of this atomic bulk was rejected")

# ------------------------------------------------------------ checks in worker processes
#
# Every check but the database's is a pure function of the record, the catalog entry,
# the schema, the domain and the subject key, and costs some 0.2 ms of one core (most of
# it the signature recovery and the per-field commitments). A large bulk is therefore
# split between worker processes, one per core, with the entries and schemas it names
# resolved here first; the workers run the very same _check_fields. Small bulks, single
# records and a gateway on one core check in-process.

PARALLEL_MIN_RECORDS = 1_000
_CHUNK = 500
_Checked = tuple[CheckedRecord, bool] | GatewayError


def _check_all(items: list[object], requester: str, rules: SubmissionRules, now: int) -> list[_Checked]:
    pool = CHECK_POOL.get() if len(items) >= PARALLEL_MIN_RECORDS else None
    lookups = _ResolvedLookups.of(items, rules) if pool is not None else None
    if pool is not None and lookups is not None:
        chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
        try:
            parts = pool.map(
                _check_chunk, [lookups] * len(chunks), [requester] * len(chunks), [now] * len(chunks), chunks
            )
            return [_unpack(result) for part in parts for result in part]
        except BrokenProcessPool:
            CHECK_POOL.discard(pool)  # a worker died (killed, out of memory): check here, start afresh next time
    view_lookups = _ViewLookups(rules)
    return [_check_or_error(raw, requester, view_lookups, now) for raw in items]


def _check_or_error(raw: object, requester: str, lookups: _Lookups, now: int) -> _Checked:
    try:
        return _check_fields(raw, requester, lookups, now)
    except GatewayError as exc:
        return exc


def _check_chunk(lookups: _ResolvedLookups, requester: str, now: int, raws: list[object]) -> list[object]:
    """In a worker process: _check_fields of each record, errors as plain tuples."""
    results: list[object] = []
    for raw in raws:
        result = _check_or_error(raw, requester, lookups, now)
        if isinstance(result, GatewayError):
            results.append(("error", result.code, result.message, result.detail))
        else:
            results.append(result)
    return results


def _unpack(result: object) -> _Checked:
    if isinstance(result, tuple) and result and result[0] == "error":
        _, code, message, detail = result
        return InputError(code, message, detail=detail)
    return result  # type: ignore[return-value]


@dataclass(frozen=True)
class _ResolvedLookups:
    """The entries and schemas a bulk names, resolved in the gateway's process, for workers."""

    domain: LedgerDomain
    subject_key: bytes = field(repr=False)
    max_payload_bytes: int
    entries: dict[str, CatalogEntry | tuple[str, str, Any]]
    schemas: dict[bytes, tuple[str, dict[str, Any]]]

    @classmethod
    def of(cls, items: list[object], rules: SubmissionRules) -> _ResolvedLookups | None:
        """Resolve every catalog code named; None if the chain failed (the caller checks in-process,
        where the failure surfaces exactly as it always did)."""
        named = (raw.get("catalogCode") for raw in items if isinstance(raw, dict))
        entries: dict[str, CatalogEntry | tuple[str, str, Any]] = {}
        schemas: dict[bytes, tuple[str, dict[str, Any]]] = {}
        for code in {code for code in named if isinstance(code, str)}:
            try:
                entry = rules.view.entry(catalog_id(code))
            except InputError as exc:
                entries[code] = (exc.code, exc.message, exc.detail)
                continue
            except Exception:  # noqa: BLE001 - the in-process path raises it in its own order
                return None
            entries[code] = entry
            schema = rules.schemas.get(entry.schema_hash)
            if schema is not None:
                schemas[schema.hash] = (schema.name, schema.document)
        return cls(rules.domain, rules.subject_key, rules.max_payload_bytes, entries, schemas)

    def entry(self, code: str) -> CatalogEntry:
        found = self.entries.get(code)
        if isinstance(found, tuple):
            error_code, message, detail = found
            raise InputError(error_code, message, detail=detail)
        if found is None:
            raise InputError("CATALOG_UNKNOWN_ENTRY", "the catalog has no such entry")
        return found

    def schema(self, digest: bytes) -> CatalogSchema | None:
        held = self.schemas.get(digest)
        if held is None:
            return None
        compiled = _WORKER_SCHEMAS.get(digest)
        if compiled is None:
            compiled = _WORKER_SCHEMAS[digest] = CatalogSchema.of(*held)
        return compiled


_WORKER_SCHEMAS: dict[bytes, CatalogSchema] = {}  # in a worker process: schemas compiled once


def _entry_for(entry: CatalogEntry, item: RecordSubmission, provider: str) -> CatalogEntry:
    if not entry.active:
        raise InputError("CATALOG_ENTRY_INACTIVE", f"catalog entry {item.catalog_code} is withdrawn")
    if item.catalog_version != entry.version:
        raise InputError(
            "CATALOG_VERSION_NOT_LATEST",
            f"records are issued under the latest version of {item.catalog_code}",
            detail={"latestVersion": entry.version},
        )
    if entry.source != provider:
        raise InputError("CATALOG_NOT_SOURCE", f"the provider is not the source department of {item.catalog_code}")
    return entry


def _check_supersedes(session: Session, leaf: RecordLeaf, subject: SubjectOpening) -> None:
    previous = session.get(StoredRecord, leaf.supersedes)
    if previous is None or previous.provider != leaf.provider or previous.subject_ref != subject.subject_ref:
        raise InputError(
            "RECORD_SUPERSEDES_UNKNOWN", "supersedes must name a record of the same provider and subject held here"
        )
    if previous.subject_tag != leaf.subject_tag:  # the ledger would refuse the correction when resolving
        raise InputError(
            "RECORD_SUBJECT_TAG_MISMATCH",
            "a correction names its subject by its original's subjectTag: give the original's subjectSalt",
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
