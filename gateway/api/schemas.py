"""Response and request bodies of the HTTP API.

Input and output models are separate, and no output model has a field for ciphertext,
keys, salts or seeds: what a response may carry is fixed here, not by what a handler
happens to hold.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chain_client import SignedCredential, SubjectConsent, SubjectDocumentError, parse_signature
from gateway.infra.error_codes import REGISTRY
from gateway.infra.errors import InputError
from gateway.infra.storage import Consent
from gateway.lifecycle.relaying import SignedInstruction
from gateway.lifecycle.terms import EvidenceKind, KindName, Resolution
from gateway.records.consents import SignedConsent

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


_AS_OF_BLOCK = (
    "The block the chain-state index is complete to: statuses are as of it, and steps this gateway relayed"
    " are shown at once (docs/architecture.md, 'The chain-state index')."
)


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
    subjectTag: str = Field(description="The leaf's subject, blinded per record (docs/formats.md, Subject tags).")
    provider: str
    issuedAt: int
    supersedes: str
    contentHash: str
    status: StatusView
    anchoring: AnchoringView
    asOfBlock: int = Field(description=_AS_OF_BLOCK)
    publicUntil: int | None = Field(description="End of the A-class publicity window (unix seconds).")
    view: Literal["full", "public"]
    subject: str | None = Field(description="The subject id, in full views only.")
    subjectRef: str | None = Field(description="The subject's stable reference, in full views only.")
    subjectSalt: str | None = Field(
        description="With subjectRef, opens subjectTag (full views only; a correction reuses it)."
    )
    payload: dict[str, Any] | None
    accessLogSequence: int | None = Field(description="The access-log entry of this release (full views).")
    heldBy: str | None = Field(
        None,
        description="The gateway account that holds the record, when another region's gateway released it "
        "(accessLogSequence is then in that holder's log).",
    )


class IntegrityFailure(BaseModel):
    """A record that failed its integrity check: never served, listed with metadata only."""

    recordId: str
    catalogCode: str | None = Field(description="Null when the row's catalog fields no longer name an entry.")
    integrity: Literal["failed"]


_FAILURES = "Records that failed their integrity check: listed, never served (docs/disclosure.md)."


class SubjectRecords(BaseModel):
    """A subject's records that the requester is entitled to see."""

    subjectRef: str
    asOfBlock: int = Field(description=_AS_OF_BLOCK)
    records: list[RecordView]
    integrityFailures: list[IntegrityFailure] = Field(default_factory=list, description=_FAILURES)


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
    bundle: dict[str, Any] = Field(description="credit-ledger/proof@2 with the public fields disclosed.")


class PublicDisclosures(BaseModel):
    """What is public about a subject now."""

    subjectRef: str | None = Field(description="The subject's subjectRef, only when it has public records.")
    asOfBlock: int = Field(description=_AS_OF_BLOCK)
    disclosures: list[PublicDisclosure]
    integrityFailures: list[IntegrityFailure] = Field(default_factory=list, description=_FAILURES)


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


SIGNATURE = r"^0x[0-9a-fA-F]{130}$"
MAX_UINT64 = 2**64 - 1


class SubjectCredentialIn(BaseModel):
    """A registrar's credential binding a subject's key (SubjectCredential, docs/formats.md)."""

    model_config = ConfigDict(extra="forbid")

    subjectRef: str = Field(pattern=HEX32)
    subjectKey: str = Field(pattern=ADDRESS)
    registrar: str = Field(pattern=ADDRESS)
    issuedAt: int = Field(ge=0, le=MAX_UINT64)
    expiresAt: int = Field(ge=0, le=MAX_UINT64)


class SignedCredentialIn(BaseModel):
    """A credit-ledger/subject-credential@1 document: the credential and its registrar's signature."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["credit-ledger/subject-credential@1"]
    credential: SubjectCredentialIn
    signature: str = Field(pattern=SIGNATURE)


class SubjectConsentIn(BaseModel):
    """The consent the subject signs (SubjectConsent, docs/formats.md)."""

    model_config = ConfigDict(extra="forbid")

    credential: str = Field(pattern=HEX32, description="The EIP-712 digest of the credential binding the key.")
    grantee: str = Field(pattern=ADDRESS)
    purpose: str = Field(min_length=1, max_length=200)
    expiresAt: int = Field(gt=0, le=MAX_UINT64, description="At most one year away.")
    chainId: int = Field(gt=0, le=MAX_SQL_INTEGER)
    consortium: str = Field(pattern=ADDRESS)
    nonce: str = Field(pattern=HEX32)


class ConsentIn(BaseModel):
    """A subject's signed consent for one member to query its class-B records for a purpose."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "consent": {
                        "credential": "0x" + "c1" * 32,
                        "grantee": "0x0681f98d30D2f0C5BcdA7191709a5DB12d1C3Fd0",
                        "purpose": "government-procurement-review",
                        "expiresAt": 1798761600,
                        "chainId": 31337,
                        "consortium": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                        "nonce": "0x" + "9a" * 32,
                    },
                    "signature": "0x" + "11" * 65,
                    "credential": {
                        "format": "credit-ledger/subject-credential@1",
                        "credential": {
                            "subjectRef": "0x" + "5e" * 32,
                            "subjectKey": "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
                            "registrar": "0x917A6C517e2940FA51575f7E7BE9B3445cc69492",
                            "issuedAt": 1767225600,
                            "expiresAt": 1893456000,
                        },
                        "signature": "0x" + "22" * 65,
                    },
                }
            ]
        },
    )

    consent: SubjectConsentIn
    signature: str = Field(pattern=SIGNATURE, description="The subject key's EIP-712 signature of the consent.")
    credential: SignedCredentialIn

    def signed(self) -> SignedConsent:
        """The domain's view of the submission."""
        try:
            return SignedConsent(
                SubjectConsent.from_json(self.consent.model_dump()),
                parse_signature(self.signature),
                SignedCredential.from_json(self.credential.model_dump()),
            )
        except SubjectDocumentError as exc:
            raise InputError("REQUEST_INVALID", str(exc)) from None


class WithdrawalIn(BaseModel):
    """A subject's EIP-712 signature of WithdrawConsent(consentId, credential)."""

    model_config = ConfigDict(extra="forbid")

    signature: str = Field(pattern=SIGNATURE)


class SubjectObjectionIn(BaseModel):
    """A subject's own objection (异议): the reason document's hash, and its EIP-712 SubjectObjection signature."""

    model_config = ConfigDict(extra="forbid")

    reasonHash: str = Field(pattern=HEX32, description="keccak256 or SHA-256 of the objection's reason document.")
    nonce: str = Field(pattern=HEX32, description="The subject's fresh 32-byte nonce: a filing is taken once.")
    signature: str = Field(
        pattern=SIGNATURE,
        description="The subject's signature of SubjectObjection(recordId, reasonHash, credential, nonce).",
    )


class SubjectRepairIn(BaseModel):
    """A subject's own repair request (信用修复申请), signed as EIP-712 SubjectRepairRequest over its evidenceHash."""

    model_config = ConfigDict(extra="forbid")

    evidenceKind: EvidenceKind
    documentsHash: str = Field(pattern=HEX32)
    nonce: str = Field(pattern=HEX32, description="The subject's fresh 32-byte nonce: a filing is taken once.")
    signature: str = Field(
        pattern=SIGNATURE,
        description="The subject's signature of SubjectRepairRequest(recordId, evidenceHash, credential, nonce).",
    )


class ConsentOut(BaseModel):
    """A registered consent (the subject appears only as its subjectRef)."""

    consentId: str = Field(description="The consent's EIP-712 digest.")
    subjectRef: str
    requester: str = Field(description="The grantee.")
    purpose: str
    expiresAt: int
    documentHash: str = Field(description="The digest the subject signed (the consent id).")
    subjectKey: str | None
    credential: str | None = Field(description="The digest of the credential the consent rests on.")
    registrar: str | None
    createdBy: str = Field(description="Who submitted it: a member, or the subject's key.")
    createdAt: int
    revokedAt: int | None

    @classmethod
    def of(cls, consent: Consent) -> dict[str, Any]:
        """A stored consent as this model's JSON."""
        return {
            "consentId": _hex(consent.consent_id),
            "subjectRef": _hex(consent.subject_ref),
            "requester": consent.requester,
            "purpose": consent.purpose,
            "expiresAt": consent.expires_at,
            "documentHash": _hex(consent.document_hash),
            "subjectKey": consent.subject_key,
            "credential": _hex(consent.credential_hash) if consent.credential_hash is not None else None,
            "registrar": consent.registrar,
            "createdBy": consent.created_by,
            "createdAt": consent.created_at,
            "revokedAt": consent.revoked_at,
        }


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


class ConsentList(BaseModel):
    """A subject's consents, newest first."""

    consents: list[ConsentOut]


class SelfRecords(BaseModel):
    """A subject's own records (自查), each in full."""

    subjectRef: str
    asOfBlock: int = Field(description=_AS_OF_BLOCK)
    records: list[RecordView]
    integrityFailures: list[IntegrityFailure] = Field(default_factory=list, description=_FAILURES)


class SelfAccessEntry(BaseModel):
    """One release of one of the subject's records: who, when, why."""

    sequence: int
    recordId: str
    requester: str
    requesterName: str | None
    purpose: str
    consentId: str | None
    releasedAt: int


class SelfAccessLog(BaseModel):
    """The access-log entries that name the subject's records, newest first."""

    subjectRef: str
    entries: list[SelfAccessEntry]


class AccessLogPage(BaseModel):
    """Access-log entries in credit-ledger/access-log@1, with their batch proofs once anchored."""

    entries: list[dict[str, Any]]
    head: dict[str, Any] | None = Field(description="The latest entry's sequence and hash.")


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class IndexFreshness(BaseModel):
    """How far the chain-state index is complete (docs/architecture.md, "The chain-state index")."""

    block: int = Field(description="The block every answer's chain state is read as of (-1 before the first pass).")
    ageSeconds: float | None = Field(description="Seconds since the index follower's last pass; null before it.")
    follower: bool = Field(description="Whether this process is the region's index follower.")


class Readiness(BaseModel):
    """Readiness of the database and the chain."""

    status: Literal["ready", "not-ready"]
    database: bool
    chain: bool
    chainId: int | None
    blockNumber: int | None
    gatewayRole: bool
    index: IndexFreshness | None = Field(None, description="The chain-state index; null when the database is down.")
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
    subjectSalt: str = Field(
        pattern=HEX32,
        description="32 secret random bytes: the commitment's subjectTag = keccak256(abi.encode(subjectRef, "
        "subjectSalt)); its breach record reuses them.",
    )
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


class PeerStandingsIn(BaseModel):
    """Another region's gateway's question: these subjects' lists here (subjectRefs only, up to 10,000)."""

    model_config = ConfigDict(extra="forbid")

    subjectRefs: list[Annotated[str, Field(pattern="^0x[0-9a-f]{64}$")]] = Field(min_length=1)


class ScreeningIn(BaseModel):
    """The subjects to screen against the red and black lists (up to 10,000), and why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"subjects": ["91110108MA01C5XL6R"], "purpose": "procurement screening"}]},
    )

    subjects: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1)
    purpose: str = Field(min_length=1, max_length=200)
