"""The curated public surface of chain_client."""

from __future__ import annotations

import chain_client


def test_public_names_are_exactly_the_curated_ones() -> None:
    """__all__ lists what users import, and every name in it exists."""
    assert set(chain_client.__all__) == {
        # subjects as actors: registrar credentials, consents, the revocation registry
        "MAX_CONSENT_LIFETIME_S",
        "SUBJECT_CREDENTIAL_FORMAT",
        "ConsentWithdrawal",
        "SignedCredential",
        "SubjectConsent",
        "SubjectCredential",
        "SubjectFiling",
        "SubjectDocumentError",
        "SubjectDomain",
        "SubjectKeys",
        "parse_signature",
        "sign_consent",
        "sign_credential",
        "sign_filing",
        "sign_withdrawal",
        "ACCESS_LOG_ENCODING",
        "ACCESS_LOG_FIELDS",
        "ACCESS_LOG_FORMAT",
        "NO_CONSENT",
        "AccessLogCheck",
        "AccessLogLeaf",
        "access_log_tree",
        "purpose_hash",
        "verify_access_log_entry",
        # connection, deployment and errors
        "Chain",
        "Event",
        "Stack",
        "deploy_stack",
        "deploy_demo_stack",
        "attach_stack",
        "demo_members",
        "DeployedContract",
        "DeploymentRecord",
        "check_deployment",
        "load_deployment",
        "save_deployment",
        "Artifact",
        "artifact_names",
        "load_artifact",
        "DEVELOPMENT_CHAIN_IDS",
        "DevAccount",
        "Devnet",
        "devnet_for",
        "ChainClientError",
        "ArtifactError",
        "BuildError",
        "ChainUnavailableError",
        "ContractRevertError",
        "DeploymentMismatchError",
        "DevKeyRefusedError",
        "TransactionError",
        # contract wrappers and their types
        "Consortium",
        "Call",
        "Member",
        "MemberSpec",
        "Proposal",
        "Role",
        "CreditCatalog",
        "CatalogEntry",
        "CatalogEntrySpec",
        "DisclosureClass",
        "ListKind",
        "CreditLedger",
        "Batch",
        "BatchKind",
        "Instruction",
        "ObjectionOutcome",
        "RecordProof",
        "RecordState",
        "RecordStatus",
        "LedgerDomain",
        "recover_signer",
        "CommitmentRegistry",
        "Commitment",
        "CommitmentDomain",
        "CommitmentKind",
        "CommitmentSpec",
        "CommitmentStatus",
        # hashing rules
        "LEAF_ENCODING",
        "RecordLeaf",
        "catalog_id",
        "record_id",
        "record_tree",
        "subject_ref_resident",
        "subject_ref_uscc",
        "subject_tag",
        "StandardMerkleTree",
        "MultiProof",
        "verify_proof",
        "verify_multiproof",
        "ContentCommitment",
        "DisclosedField",
        "Disclosure",
        "canonical_json",
        "verify_disclosure",
        # proof bundles and verification
        "BUNDLE_FORMAT",
        "BatchRef",
        "ChainRef",
        "ProofBundle",
        "SignedRecord",
        "SubjectOpening",
        "anchor_records",
        "bundle_schema",
        "Check",
        "VerificationReport",
        "verify_bundle",
        "verify_bundles",
        # working calendars, commitment terms and the deadline recount
        "BEIJING",
        "CALENDAR_CHECK_CODES",
        "CALENDAR_FORMAT",
        "CalendarError",
        "CalendarYearNotAdoptedError",
        "WorkingCalendar",
        "calendar_schema",
        "parse_calendar",
        "shipped_calendars",
        "Term",
        "TermError",
        "TermUnit",
        "Deadline",
        "count_deadline",
        "beijing_date",
        "CalendarRegistry",
        "CalendarAdoption",
        "AdoptedCalendar",
        "check_adopted_document",
        "CalendarRef",
        "CommitmentTerm",
        "DeadlineCheck",
        "check_commitment_deadline",
        # EIP-712 struct hashes, report and address helpers the gateway and clients share
        "chain_ref",
        "Eip712Domain",
        "approve_repair_struct_hash",
        "breach_struct_hash",
        "file_objection_struct_hash",
        "fulfil_struct_hash",
        "record_commitment_struct_hash",
        "record_struct_hash",
        "reject_repair_struct_hash",
        "request_repair_struct_hash",
        "resolve_objection_struct_hash",
        "revoke_struct_hash",
        "withdraw_struct_hash",
        "report_record",
        "report_schema",
        "report_schema_problems",
        "address_bytes",
        "checksummed",
        # credit reports and gateway-signed documents
        "REPORT_FORMAT",
        "ReportVerification",
        "build_report_document",
        "verify_report",
        "document_digest",
        "document_signer",
        "sign_document",
        # list screenings: many subjects' lists in one signed Merkle root, a line checked on its own
        "SCREENING_FORMAT",
        "SCREENING_LINE_FORMAT",
        "ScreeningVerification",
        "build_screening_document",
        "line_proof",
        "screening_leaf",
        "screening_schema",
        "screening_schema_problems",
        "verify_screening",
        # regional parts of a consortium-wide answer, signed by each holder for the asking gateway
        "STANDING_PART_FORMAT",
        "PartExpectation",
        "build_part_document",
        "check_part",
        "part_digest",
        "query_hash",
        # primitives the gateway shares
        "keccak",
        "recover_address",
        "sign_digest",
    }
    for name in chain_client.__all__:
        assert hasattr(chain_client, name), name


def test_every_error_derives_from_the_root() -> None:
    """Every exception class chain_client exports is a ChainClientError."""
    errors = [getattr(chain_client, n) for n in chain_client.__all__ if n.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, chain_client.ChainClientError), error


def test_artifacts_say_what_generated_them() -> None:
    """Each committed artifact names its generator and the pinned compiler."""
    assert "Consortium" in chain_client.artifact_names()
    artifact = chain_client.load_artifact("Consortium")
    assert artifact.compiler_version.startswith("0.8.28+")
    assert artifact.bytecode
    assert artifact.deployed_bytecode


def test_the_development_tools_are_their_own_public_module() -> None:
    """chain_client.dev lists the build, gas, node and Hardhat tools, and every name in it exists."""
    import chain_client.dev

    assert set(chain_client.dev.__all__) == {
        "EMBEDDED_CHAIN_ID",
        "HARDHAT_CHAIN_ID",
        "JOURNAL_FILE",
        "SOLC_VERSION",
        "ChainRpc",
        "DevChain",
        "DevNode",
        "HardhatNode",
        "HardhatUnavailableError",
        "NodeJournalError",
        "NodeServer",
        "collect_sources",
        "compile_contracts",
        "diff_artifacts",
        "find_compiler",
        "find_repo_root",
        "free_port",
        "measure_gas",
        "write_artifacts",
    }
    for name in chain_client.dev.__all__:
        assert hasattr(chain_client.dev, name), name
    assert issubclass(chain_client.dev.HardhatUnavailableError, chain_client.ChainClientError)
