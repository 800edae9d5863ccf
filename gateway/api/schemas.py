"""Response and request bodies of the HTTP API.

Input and output models are separate, and no output model has a field for ciphertext,
keys, salts or seeds: what a response may carry is fixed here, not by what a handler
happens to hold.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.infra.error_codes import REGISTRY
from gateway.lifecycle.relaying import SignedInstruction
from gateway.lifecycle.terms import EvidenceKind, KindName, Resolution

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
MAX_SQL_INTEGER = 2**63 - 1  # the largest integer SQLite and PostgreSQL BIGINT columns hold


class ErrorBody(BaseModel):
    """Every error response: a stable code, a message for people, and safe detail."""

    code: str = Field(
        examples=["ACCESS_CONSENT_REQUIRED"],
        json_schema_extra={"enum": list(REGISTRY)},
        description="A stable code of gateway.infra.error_codes; its HTTP status is always the same.",
    )
    message: str
    detail: Any = None


class RecordResult(BaseModel):
    """What became of one record of a submission."""

    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    recordId: str | None = None
    code: str | None = None
    message: str | None = None
    detail: Any = None


class SubmissionResponse(BaseModel):
    """Counts and per-record results of POST /v1/records."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accepted": 1,
                    "duplicates": 0,
                    "rejected": 1,
                    "results": [
                        {"index": 0, "status": "accepted", "recordId": "0x" + "3c" * 32},
                        {
                            "index": 1,
                            "status": "rejected",
                            "code": "USCC_CHECK_CHARACTER",
                            "message": "the check character should be U, not X",
                        },
                    ],
                }
            ]
        }
    )

    accepted: int
    duplicates: int
    rejected: int
    results: list[RecordResult]


class CatalogRef(BaseModel):
    """The catalog entry a record was issued under."""

    catalogId: str
    code: str
    version: int
    class_: str = Field(alias="class")
    list: str

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class StatusView(BaseModel):
    """A record's lifecycle state on chain."""

    status: str
    repairPending: bool
    supersededBy: str | None


class AnchoringView(BaseModel):
    """Where a record stands on its way to the chain."""

    state: Literal["pending", "building", "submitted", "anchored"]
    root: str | None = None
    txHash: str | None = None
    blockNumber: int | None = None
    anchoredAt: int | None = None


class RecordView(BaseModel):
    """A record as a member sees it: metadata, status and the payload it is entitled to."""

    recordId: str
    catalog: CatalogRef
    subjectRef: str
    provider: str
    issuedAt: int
    supersedes: str
    contentHash: str
    status: StatusView
    anchoring: AnchoringView
    publicUntil: int | None = Field(description="End of the A-class publicity window (unix seconds).")
    view: Literal["full", "public"]
    subject: str | None = Field(description="The subject id, in full views only.")
    payload: dict[str, Any] | None
    accessLogSequence: int | None = Field(description="The access-log entry of this release (full views).")
    heldBy: str | None = Field(
        None,
        description="The gateway account that holds the record, when another region's gateway released it "
        "(accessLogSequence is then in that holder's log).",
    )


class SubjectRecords(BaseModel):
    """A subject's records that the requester is entitled to see."""

    subjectRef: str
    records: list[RecordView]


class PublicDisclosure(BaseModel):
    """One public (class A) record: its public fields and a proof bundle disclosing them."""

    recordId: str
    catalogCode: str
    list: str
    status: str
    disputed: bool
    issuedAt: int
    publicUntil: int | None
    fields: dict[str, Any]
    bundle: dict[str, Any] = Field(description="credit-ledger/proof@1 with the public fields disclosed.")


class PublicDisclosures(BaseModel):
    """What is public about a subject now."""

    subjectRef: str | None = Field(description="The subject's subjectRef, only when it has public records.")
    disclosures: list[PublicDisclosure]


class CatalogEntryView(BaseModel):
    """A catalog entry at its latest version, with its schema's public fields."""

    catalogId: str
    code: str
    source: str
    class_: str = Field(alias="class")
    list: str
    publicityDays: int
    minDaysBeforeRepair: int
    version: int
    active: bool
    schemaHash: str
    schema_: dict[str, Any] | None = Field(alias="schema")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class CatalogView(BaseModel):
    """The public credit information catalog (公共信用信息目录)."""

    entries: list[CatalogEntryView]


class ConsentIn(BaseModel):
    """A subject's consent for one member to query its class-B records for a purpose."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "91110108MA01C5XL6R",
                    "requester": "0x0681f98d30D2f0C5BcdA7191709a5DB12d1C3Fd0",
                    "purpose": "government-procurement-review",
                    "expiresAt": 1798761600,
                    "documentHash": "0x" + "9a" * 32,
                }
            ]
        },
    )

    subject: str = Field(min_length=15, max_length=18)
    requester: str = Field(pattern=ADDRESS)
    purpose: str = Field(min_length=1, max_length=200)
    expiresAt: int = Field(gt=0)
    documentHash: str = Field(pattern=HEX32, description="keccak256 of the signed authorization document.")


class ConsentOut(BaseModel):
    """A registered consent (the subject appears only as its subjectRef)."""

    consentId: str
    subjectRef: str
    requester: str
    purpose: str
    expiresAt: int
    documentHash: str
    createdBy: str
    createdAt: int
    revokedAt: int | None


class AccessLogPage(BaseModel):
    """Access-log entries in credit-ledger/access-log@1, with their batch proofs once anchored."""

    entries: list[dict[str, Any]]
    head: dict[str, Any] | None = Field(description="The latest entry's sequence and hash.")


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """Readiness of the database and the chain."""

    status: Literal["ready", "not-ready"]
    database: bool
    chain: bool
    chainId: int | None
    blockNumber: int | None
    gatewayRole: bool
    warnings: list[dict[str, Any]] = Field(
        default_factory=list, description="What needs an operator soon without making the gateway unready."
    )


class CalendarView(BaseModel):
    """An adopted working calendar: the document and its adoption on chain."""

    year: int
    version: int
    latestVersion: int
    documentHash: str
    adoptedAt: int
    blockNumber: int
    document: dict[str, Any]


class DeadlinePreview(BaseModel):
    """A deadline counted as the gateway would count it for a new commitment."""

    acceptedOn: dt.date
    unit: Literal["working-days", "months"]
    length: int
    dueBy: int
    dueOn: dt.date
    calendars: list[dict[str, Any]] = Field(description="year, version and documentHash of each calendar used.")


# ------------------------------------------------------------ lifecycle requests


class InstructionOnly(BaseModel):
    """A signed instruction with nothing else to say."""

    model_config = ConfigDict(extra="forbid")
    instruction: SignedInstruction


class ObjectionIn(InstructionOnly):
    """An objection (异议) filed on the subject's behalf: the reason document's hash."""

    reasonHash: str = Field(pattern=HEX32, description="keccak256 or SHA-256 of the objection's reason document.")


class ResolutionIn(InstructionOnly):
    """The provider's answer to an objection."""

    outcome: Resolution
    correctionId: str | None = Field(
        None, pattern=HEX32, description="For `corrected`: the anchored record that supersedes this one."
    )


class RevocationIn(InstructionOnly):
    """A revocation (撤销) by the provider, with the decision's hash."""

    reasonHash: str = Field(pattern=HEX32)


class RepairIn(InstructionOnly):
    """A credit repair request (信用修复申请): the evidence's kind and its documents' hash."""

    evidenceKind: EvidenceKind
    documentsHash: str = Field(pattern=HEX32)


class RepairRejectionIn(InstructionOnly):
    """The provider's rejection of a repair request, with the decision's hash."""

    reasonHash: str = Field(pattern=HEX32)


class CalendarRefIn(BaseModel):
    """One adopted calendar a deadline was counted with."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=9999)
    version: int = Field(ge=1, le=65535)


class CommitmentIn(InstructionOnly):
    """A commitment letter (信用承诺书) the department records for a subject."""

    subject: str = Field(min_length=1, max_length=64, description="Unified social credit code or resident id.")
    kind: KindName
    docHash: str = Field(pattern=HEX32, description="Hash of the signed commitment letter.")
    acceptedOn: dt.date | None = Field(None, description="Day the department accepted it (Beijing); default today.")
    workingDays: int | None = Field(
        None, ge=1, le=250, description="A term in working days; with neither this nor months, the policy's term."
    )
    months: int | None = Field(None, ge=1, le=60, description="A term in calendar months (not with workingDays).")
    dueBy: int = Field(ge=0, lt=2**64, description="The signed deadline: 23:59:59 Beijing of the term's last day.")
    calendars: list[CalendarRefIn] = Field(
        default_factory=list,
        max_length=3,
        description="The signed calendars the deadline was counted with (GET /public/v1/deadlines gives them).",
    )


class BreachIn(InstructionOnly):
    """A breach (违诺失信) with the dishonesty record it produced, signed by the department."""

    record: dict[str, Any] = Field(description="A record submission under a breach catalog entry.")
    violation: bool = Field(False, description="True for a breach before the deadline (a commitment broken outright).")


class SubjectRefsIn(BaseModel):
    """The subjects a department is about to record (up to 100), and why."""

    subjects: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=1, max_length=100)
    purpose: str = Field("record submission", min_length=1, max_length=200)
