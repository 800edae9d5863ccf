"""chain_client: the credit-ledger contracts from Python.

Connect to a chain (`Chain.embedded()` or `Chain.connect(url)`), deploy or attach the
contracts (`deploy_stack`, `attach_stack`), and use the typed wrappers (`Consortium`,
`CreditCatalog`, `CreditLedger`, `CalendarRegistry`, `CommitmentRegistry`). The working
calendar format and deadline counting (`parse_calendar`, `count_deadline`) and the
auditor's recount of a commitment's deadline (`check_commitment_deadline`) are here too. The hashing rules of the design
(record leaves, batch trees, per-field content commitments, EIP-712 digests) live here
too, so that anyone can recompute what the chain holds. Every error raised on purpose
derives from `ChainClientError`; a contract revert is a `ContractRevertError` with the
Solidity error's name and arguments, whichever node raised it.
"""

from chain_client._access_log import (
    ACCESS_LOG_ENCODING,
    ACCESS_LOG_FIELDS,
    ACCESS_LOG_FORMAT,
    NO_CONSENT,
    AccessLogCheck,
    AccessLogLeaf,
    access_log_tree,
    purpose_hash,
    verify_access_log_entry,
)
from chain_client._artifacts import Artifact, artifact_names, load_artifact
from chain_client._bundle import (
    BUNDLE_FORMAT,
    BatchRef,
    ChainRef,
    ProofBundle,
    SignedRecord,
    anchor_records,
    bundle_schema,
)
from chain_client._calendar import (
    BEIJING,
    CALENDAR_FORMAT,
    CalendarError,
    CalendarYearNotAdoptedError,
    Deadline,
    Term,
    TermError,
    TermUnit,
    WorkingCalendar,
    beijing_date,
    calendar_schema,
    count_deadline,
    parse_calendar,
    shipped_calendars,
)
from chain_client._calendar_registry import AdoptedCalendar, CalendarAdoption, CalendarRegistry, check_adopted_document
from chain_client._catalog import CatalogEntry, CatalogEntrySpec, CreditCatalog, DisclosureClass, ListKind
from chain_client._chain import Chain, Event
from chain_client._commitments import (
    Commitment,
    CommitmentKind,
    CommitmentRegistry,
    CommitmentSpec,
    CommitmentStatus,
)
from chain_client._consortium import Call, Consortium, Member, MemberSpec, Proposal
from chain_client._content import (
    ContentCommitment,
    DisclosedField,
    Disclosure,
    canonical_json,
    verify_disclosure,
)
from chain_client._deadline_check import DeadlineCheck, check_commitment_deadline
from chain_client._deployment import (
    DeployedContract,
    DeploymentRecord,
    check_deployment,
    load_deployment,
    save_deployment,
)
from chain_client._devnet import DEVELOPMENT_CHAIN_IDS, DevAccount, Devnet, devnet_for
from chain_client._eip712 import CommitmentDomain, LedgerDomain, recover_address, recover_signer, sign_digest
from chain_client._errors import (
    ArtifactError,
    BuildError,
    ChainClientError,
    ChainUnavailableError,
    ContractRevertError,
    DeploymentMismatchError,
    DevKeyRefusedError,
    TransactionError,
)
from chain_client._keccak import keccak
from chain_client._ledger import (
    Batch,
    BatchKind,
    CreditLedger,
    Instruction,
    ObjectionOutcome,
    RecordProof,
    RecordState,
    RecordStatus,
)
from chain_client._merkle import MultiProof, StandardMerkleTree, verify_multiproof, verify_proof
from chain_client._records import (
    LEAF_ENCODING,
    RecordLeaf,
    catalog_id,
    record_id,
    record_tree,
    subject_ref_resident,
    subject_ref_uscc,
)
from chain_client._report import REPORT_FORMAT, ReportVerification, build_report_document, verify_report
from chain_client._roles import Role
from chain_client._signed_document import document_digest, document_signer, sign_document
from chain_client._stack import Stack, attach_stack, demo_members, deploy_demo_stack, deploy_stack
from chain_client._terms import CalendarRef, CommitmentTerm
from chain_client._verify import Check, VerificationReport, verify_bundle, verify_bundles

__all__ = [
    "ACCESS_LOG_ENCODING",
    "ACCESS_LOG_FIELDS",
    "ACCESS_LOG_FORMAT",
    "BEIJING",
    "BUNDLE_FORMAT",
    "CALENDAR_FORMAT",
    "DEVELOPMENT_CHAIN_IDS",
    "LEAF_ENCODING",
    "NO_CONSENT",
    "REPORT_FORMAT",
    "AccessLogCheck",
    "AccessLogLeaf",
    "AdoptedCalendar",
    "Artifact",
    "ArtifactError",
    "Batch",
    "BatchKind",
    "BatchRef",
    "BuildError",
    "CalendarAdoption",
    "CalendarError",
    "CalendarRef",
    "CalendarRegistry",
    "CalendarYearNotAdoptedError",
    "Call",
    "CatalogEntry",
    "CatalogEntrySpec",
    "Chain",
    "ChainClientError",
    "ChainRef",
    "ChainUnavailableError",
    "Check",
    "Commitment",
    "CommitmentDomain",
    "CommitmentKind",
    "CommitmentRegistry",
    "CommitmentSpec",
    "CommitmentStatus",
    "CommitmentTerm",
    "Consortium",
    "ContentCommitment",
    "ContractRevertError",
    "CreditCatalog",
    "CreditLedger",
    "Deadline",
    "DeadlineCheck",
    "DeployedContract",
    "DeploymentMismatchError",
    "DeploymentRecord",
    "DevAccount",
    "DevKeyRefusedError",
    "Devnet",
    "DisclosedField",
    "Disclosure",
    "DisclosureClass",
    "Event",
    "Instruction",
    "LedgerDomain",
    "ListKind",
    "Member",
    "MemberSpec",
    "MultiProof",
    "ObjectionOutcome",
    "ProofBundle",
    "Proposal",
    "RecordLeaf",
    "RecordProof",
    "RecordState",
    "RecordStatus",
    "ReportVerification",
    "Role",
    "SignedRecord",
    "Stack",
    "StandardMerkleTree",
    "Term",
    "TermError",
    "TermUnit",
    "TransactionError",
    "VerificationReport",
    "WorkingCalendar",
    "access_log_tree",
    "anchor_records",
    "artifact_names",
    "attach_stack",
    "beijing_date",
    "build_report_document",
    "bundle_schema",
    "calendar_schema",
    "canonical_json",
    "catalog_id",
    "check_adopted_document",
    "check_commitment_deadline",
    "check_deployment",
    "count_deadline",
    "demo_members",
    "deploy_demo_stack",
    "deploy_stack",
    "devnet_for",
    "document_digest",
    "document_signer",
    "keccak",
    "load_artifact",
    "load_deployment",
    "parse_calendar",
    "purpose_hash",
    "record_id",
    "record_tree",
    "recover_address",
    "recover_signer",
    "save_deployment",
    "shipped_calendars",
    "sign_digest",
    "sign_document",
    "subject_ref_resident",
    "subject_ref_uscc",
    "verify_access_log_entry",
    "verify_bundle",
    "verify_bundles",
    "verify_disclosure",
    "verify_multiproof",
    "verify_proof",
    "verify_report",
]
