"""Every stable error code the gateway answers with, declared once: its HTTP status and meaning.

An error raised anywhere in the gateway names one of these codes; its HTTP status comes
from here, never from the raise site, so one code always answers with one status. The
README's error code table and the OpenAPI document's `ErrorBody.code` are checked against
this registry by the tests. Adding a code means adding it here, with its meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """A stable error code: what it means and the HTTP status it answers with."""

    code: str
    status: int
    meaning: str


_CODES = (
    # ---------------------------------------------------------------- authentication
    ErrorCode("AUTH_MISSING", 401, "The request lacks the six signature headers."),
    ErrorCode("AUTH_MALFORMED", 401, "A signature header is malformed."),
    ErrorCode("AUTH_STALE", 401, "The signed timestamp lies outside the window."),
    ErrorCode("AUTH_BAD_NONCE", 401, "The nonce is malformed."),
    ErrorCode("AUTH_BAD_SIGNATURE", 401, "The signature does not verify over the request."),
    ErrorCode("AUTH_REPLAYED", 401, "The nonce was used before: a replayed request."),
    ErrorCode("AUTH_WRONG_AUDIENCE", 401, "The request is signed for another gateway or chain."),
    ErrorCode("AUTH_BODY_MISMATCH", 401, "The body is not the one whose hash was signed."),
    ErrorCode("AUTH_NOT_MEMBER", 403, "The signer is not an active member of the consortium."),
    # ----------------------------------------------------------------- entitlement
    ErrorCode("ACCESS_ROLE_REQUIRED", 403, "The member lacks the role this needs."),
    ErrorCode("ACCESS_CONSENT_REQUIRED", 403, "Class B needs the subject's consent for this member and purpose."),
    ErrorCode("ACCESS_NOT_PUBLIC", 403, "Only the public view of this record is open to the member."),
    ErrorCode(
        "ACCESS_FIELD_NOT_PUBLIC",
        403,
        "Public view: a field to disclose is not a public field (or is missing), or the record is not public now.",
    ),
    ErrorCode("ACCESS_NOT_ENTITLED", 403, "The department named in a peer request may not read this record."),
    # --------------------------------------------------------------------- requests
    ErrorCode("REQUEST_INVALID", 422, "The request's parameters or body do not validate."),
    ErrorCode("BODY_MALFORMED", 400, "The request could not be read."),
    ErrorCode("BODY_NOT_JSON", 400, "The body is not JSON."),
    ErrorCode("BODY_TOO_LARGE", 413, "The body exceeds the endpoint's limit."),
    ErrorCode("QUERY_KEY_REPEATED", 400, "A query key is given more than once."),
    ErrorCode("CONTENT_TYPE_UNSUPPORTED", 415, "The body is not sent as application/json."),
    ErrorCode("ROUTE_NOT_FOUND", 404, "No such endpoint."),
    ErrorCode("METHOD_NOT_ALLOWED", 405, "The endpoint does not take this method."),
    ErrorCode("RATE_LIMITED", 429, "Too many public lookups from this client; see Retry-After."),
    ErrorCode("INTERNAL_ERROR", 500, "The gateway failed to handle the request; nothing secret is said."),
    # -------------------------------------------------------------- subject ids
    ErrorCode("USCC_LENGTH", 422, "A unified social credit code has 18 characters."),
    ErrorCode("USCC_CHARSET", 422, "A character is outside the GB 32100 alphabet."),
    ErrorCode("USCC_DIVISION", 422, "The administrative division code is malformed."),
    ErrorCode("USCC_CHECK", 422, "The GB 32100 check character does not match."),
    ErrorCode("RID_LENGTH", 422, "A resident id has 18 characters."),
    ErrorCode("RID_CHARSET", 422, "A resident id is 17 digits and a check digit or X."),
    ErrorCode("RID_BIRTH_DATE", 422, "The resident id's birth date does not exist."),
    ErrorCode("RID_CHECK", 422, "The GB 11643 check character does not match."),
    ErrorCode("SUBJECT_ID_INVALID", 422, "Neither a valid unified social credit code nor a valid resident id."),
    # ---------------------------------------------------------------------- records
    ErrorCode("RECORD_MALFORMED", 422, "A record submission does not have the required shape."),
    ErrorCode("RECORD_ID_MALFORMED", 400, "A record id is 0x and 64 hex digits."),
    ErrorCode("RECORD_ID_MISMATCH", 422, "The recordId is not the one the leaf fields give."),
    ErrorCode("RECORD_CONTENT_HASH_MISMATCH", 422, "The contentHash is not the one the payload and seed give."),
    ErrorCode("RECORD_BAD_SIGNATURE", 422, "The provider's EIP-712 signature does not verify."),
    ErrorCode("RECORD_PROVIDER_MISMATCH", 403, "The record is signed by another member than the requester."),
    ErrorCode("RECORD_ISSUED_AT_INVALID", 422, "issuedAt lies in the future."),
    ErrorCode("RECORD_PAYLOAD_TOO_LARGE", 413, "The payload exceeds the limit."),
    ErrorCode("RECORD_SUPERSEDES_UNKNOWN", 422, "The superseded record is unknown here."),
    ErrorCode("RECORD_SUBJECT_TAG_MISMATCH", 422, "A correction must carry its original's subjectTag."),
    ErrorCode("PAYLOAD_SCHEMA_VIOLATION", 422, "The payload does not satisfy its catalog entry's JSON Schema."),
    ErrorCode("BULK_TOO_LARGE", 413, "A bulk holds more records than allowed."),
    ErrorCode("SCREENING_TOO_LARGE", 413, "A screening names more subjects than allowed (10,000)."),
    ErrorCode("BULK_REJECTED", 422, "Not stored: another record of the atomic bulk was rejected."),
    ErrorCode("CATALOG_UNKNOWN_ENTRY", 422, "The catalog has no such entry (at that version)."),
    ErrorCode("CATALOG_ENTRY_INACTIVE", 422, "The catalog entry is withdrawn."),
    ErrorCode("CATALOG_VERSION_NOT_LATEST", 422, "New records are issued under the entry's latest version."),
    ErrorCode("CATALOG_NOT_SOURCE", 403, "The provider is not the entry's source department."),
    ErrorCode("CATALOG_SCHEMA_UNAVAILABLE", 503, "This gateway does not hold the entry's JSON Schema."),
    ErrorCode("RECORD_NOT_FOUND", 404, "No record with this id here, nor at any region."),
    ErrorCode("RECORD_NOT_ANCHORED", 409, "The record's batch is not anchored yet."),
    ErrorCode("RECORD_INTEGRITY_FAILED", 500, "The stored record failed its integrity check; it is not served."),
    ErrorCode(
        "REPORT_RECORD_INTEGRITY_FAILED",
        500,
        "A record the report would include failed its integrity check; no incomplete report is signed.",
    ),
    ErrorCode("DISCLOSE_UNKNOWN_FIELD", 422, "A field to disclose is not in the payload."),
    # ----------------------------------------------------------------- consents and log
    ErrorCode("CONSENT_NOT_FOUND", 404, "No such consent."),
    ErrorCode("CONSENT_EXPIRED", 422, "The consent's expiry has passed."),
    ErrorCode("CONSENT_PURPOSE_INVALID", 422, "The purpose is empty or too long."),
    ErrorCode("CONSENT_NOT_REGISTRANT", 403, "Only the consent's grantee renounces it; its subject withdraws it."),
    ErrorCode("CONSENT_REVOKED", 409, "The consent is revoked already."),
    ErrorCode(
        "CONSENT_SIGNATURE_INVALID", 403, "The consent or withdrawal is not signed by the key its credential binds."
    ),
    ErrorCode("CONSENT_AUDIENCE_MISMATCH", 403, "The consent names another chain or consortium."),
    ErrorCode("CONSENT_TOO_LONG", 422, "The consent's expiry is more than one year away."),
    ErrorCode("CONSENT_REPLAYED", 409, "The subject used this consent's nonce before: a replayed consent."),
    ErrorCode("CONSENT_GRANTEE_NOT_MEMBER", 422, "The consent's grantee is not an active member."),
    ErrorCode("CONSENT_NOT_SUBJECT", 403, "The withdrawal's credential is of another subject than the consent's."),
    ErrorCode("SUBJECT_CREDENTIAL_MISSING", 401, "A subject's request lacks its credential header."),
    ErrorCode(
        "SUBJECT_CREDENTIAL_INVALID", 403, "The subject's credential is malformed or its signature does not verify."
    ),
    ErrorCode("SUBJECT_REGISTRAR_REQUIRED", 403, "The credential is not signed by an active REGISTRAR member."),
    ErrorCode("SUBJECT_CREDENTIAL_REVOKED", 403, "A registrar revoked the subject's credential on chain."),
    ErrorCode("SUBJECT_CREDENTIAL_EXPIRED", 403, "The subject's credential is expired or not yet valid."),
    ErrorCode("SUBJECT_KEY_MISMATCH", 403, "The request is not signed by the key the credential binds."),
    ErrorCode(
        "SUBJECT_FILING_SIGNATURE_INVALID",
        403,
        "The objection or repair request is not signed by the key the subject's credential binds.",
    ),
    ErrorCode("SUBJECT_FILING_REPLAYED", 409, "The subject used this filing's nonce before: a replayed filing."),
    ErrorCode("ACCESS_LOG_BUSY", 503, "The access log could not be appended to; nothing was released."),
    ErrorCode("LOOKUP_REGISTER_BUSY", 503, "The query could not be registered; nothing was answered."),
    ErrorCode("ACCESS_LOG_INTEGRITY_FAILED", 500, "Stored access-log entries no longer give their anchored root."),
    # ------------------------------------------------------------ reads across regions
    ErrorCode("PEER_ON_BEHALF_MALFORMED", 401, "The department's signed request carried by a peer is malformed."),
    ErrorCode("PEER_ON_BEHALF_MISMATCH", 403, "The carried request is not the one the peer asks."),
    ErrorCode("PEER_UNAVAILABLE", 503, "The holding region's gateway cannot be reached."),
    ErrorCode("RECORD_HELD_BY_PEER", 409, "Another region holds the record: sign the read again naming the holder."),
    ErrorCode("PEER_HOLDER_UNKNOWN", 422, "The holder named is not a peer gateway of the consortium."),
    ErrorCode("PEER_RESPONSE_INVALID", 502, "The holding gateway's answer does not match the chain; not served."),
    # ---------------------------------------------------------------- lifecycle steps
    ErrorCode("INSTRUCTION_BAD_SIGNATURE", 403, "The instruction's signer is not the requester."),
    ErrorCode("INSTRUCTION_EXPIRED", 422, "The instruction's deadline has passed."),
    ErrorCode("INSTRUCTION_BAD_NONCE", 409, "The instruction's nonce is not the signer's next."),
    ErrorCode("LIFECYCLE_NOT_PROVIDER", 403, "Only the record's provider may do this."),
    ErrorCode("LIFECYCLE_PROVIDER_REQUIRED", 403, "Objections and repair requests are filed by PROVIDER members."),
    ErrorCode("RECORD_STATUS_CONFLICT", 409, "The record's status does not allow this."),
    ErrorCode("RECORD_SUPERSEDED", 409, "The record was corrected: act on its successor."),
    ErrorCode("OBJECTION_NOT_OPEN", 409, "The record has no open objection."),
    ErrorCode("CORRECTION_MISSING", 409, "A corrected outcome names the correcting record."),
    ErrorCode("CORRECTION_UNEXPECTED", 409, "Only a corrected outcome names a correcting record."),
    ErrorCode("CORRECTION_MISMATCH", 422, "A correction is of the same subject, entry and provider and supersedes it."),
    ErrorCode("REPAIR_NOT_REQUESTED", 409, "No repair request is pending."),
    ErrorCode("REPAIR_TOO_EARLY", 409, "The catalog's minimum days before repair have not passed."),
    ErrorCode("CHAIN_REFUSED", 409, "The contract refused the step for another reason (named in detail)."),
    ErrorCode("CHAIN_UNAVAILABLE", 503, "The chain cannot be reached; nothing changed, retry."),
    ErrorCode("CHAIN_ERROR", 502, "The chain answered with an error."),
    # -------------------------------------------------------------------- commitments
    ErrorCode("COMMITMENT_ID_MALFORMED", 400, "A commitment id is 0x and 64 hex digits."),
    ErrorCode("COMMITMENT_NOT_FOUND", 404, "No commitment has this id."),
    ErrorCode("COMMITMENT_EXISTS", 409, "This commitment is recorded already."),
    ErrorCode("COMMITMENT_NOT_DEPARTMENT", 403, "Only the recording department may do this."),
    ErrorCode("COMMITMENT_NOT_PENDING", 409, "The commitment is no longer pending."),
    ErrorCode("COMMITMENT_NOT_DUE", 409, "The deadline has not passed: a breach before it is a violation."),
    ErrorCode("COMMITMENT_DUE_MISMATCH", 422, "dueBy or the calendars are not those of the term as counted."),
    ErrorCode("COMMITMENT_ACCEPTED_IN_FUTURE", 422, "acceptedOn lies after today (Beijing)."),
    ErrorCode("COMMITMENT_ALREADY_DUE", 422, "The commitment's deadline has passed already."),
    ErrorCode("BREACH_ENTRY_NOT_ALLOWED", 422, "A breach record is issued under a breach entry of the policy."),
    ErrorCode("BREACH_RECORD_MISMATCH", 422, "The breach record names another subject or commitment."),
    ErrorCode("BREACH_RECORD_MISSING", 422, "A breach names its dishonesty record."),
    ErrorCode("TERM_INVALID", 422, "A term is workingDays or months, within their bounds."),
    ErrorCode("WORKING_DAYS_YEAR_NOT_COVERED", 422, "No working calendar is adopted for a year the term counts in."),
    ErrorCode("CALENDAR_VERSION_UNKNOWN", 404, "No such version of that year's calendar was adopted."),
    ErrorCode("CALENDAR_INTEGRITY_FAILED", 500, "An adopted calendar read from the chain fails its check."),
    # --------------------------------------------------- configuration (at start; exit 2)
    ErrorCode("CONFIG_INVALID", 500, "A setting is invalid."),
    ErrorCode("CONFIG_SECRET_MISSING", 500, "Production mode needs a secret that is not set."),
    ErrorCode("CONFIG_DEV_SECRET_REFUSED", 500, "A development secret outside development chains and mode."),
    ErrorCode("CONFIG_CHAIN_UNREACHABLE", 500, "The chain node does not answer."),
    ErrorCode("CONFIG_CHAIN_PORT_UNAVAILABLE", 500, "The port to serve the embedded chain on is taken."),
    ErrorCode(
        "CONFIG_WORKERS_NEED_RPC_CHAIN",
        500,
        "`serve --workers` above 1 on the embedded chain: processes cannot share it; give --rpc.",
    ),
    ErrorCode(
        "CONFIG_WORKERS_NEED_POSTGRESQL",
        500,
        "`serve --workers` above 1 on SQLite: several processes need PostgreSQL (--database-url).",
    ),
    ErrorCode("CONFIG_WRONG_CHAIN", 500, "The chain does not hold the recorded deployment."),
    ErrorCode("CONFIG_NO_DEPLOYMENT", 500, "No deployment record for this chain."),
    ErrorCode("CONFIG_NO_DATABASE", 500, "No database is configured."),
    ErrorCode("CONFIG_DATABASE_UNREACHABLE", 500, "The database does not answer."),
    ErrorCode("CONFIG_KEYRING_INVALID", 500, "The keyring cannot be read."),
    ErrorCode("CONFIG_POLICY_INVALID", 500, "The credit policy file cannot be read."),
    ErrorCode("CONFIG_SCHEMA_INVALID", 500, "A catalog schema file is not a valid JSON Schema."),
    ErrorCode("CONFIG_DEV_MODE_REFUSED", 500, "Development mode on a chain outside the development set."),
    ErrorCode("CONFIG_GATEWAY_ROLE_MISSING", 500, "Production: the gateway account is not an active GATEWAY member."),
    ErrorCode("CONFIG_KEYRING_READABLE", 500, "Production: the keyring file is open to group or others."),
    ErrorCode("CONFIG_DATABASE_READABLE", 500, "Production: the SQLite database or its folder is readable by others."),
    # ------------------------------------------ sealed payloads (audit, keys commands)
    ErrorCode("ENVELOPE_ERROR", 500, "A sealed payload or keyring cannot be used."),
    ErrorCode("KEK_UNKNOWN", 500, "A row is wrapped under a key-encryption key the keyring lacks."),
    ErrorCode("KEK_ACTIVE", 500, "The active key-encryption key cannot be retired: rotate first."),
    ErrorCode("KEK_IN_USE", 500, "Rows are still wrapped under the key-encryption key to retire."),
    ErrorCode("PAYLOAD_TAMPERED", 500, "A sealed payload fails its AES-GCM tag."),
    ErrorCode("KEYRING_INVALID", 500, "The keyring is malformed."),
    ErrorCode("REPORT_FILE_INVALID", 500, "A credit report file cannot be read."),
)

REGISTRY: Mapping[str, ErrorCode] = {entry.code: entry for entry in _CODES}


def status_of(code: str) -> int:
    """The HTTP status of a declared code; KeyError for a code nobody declared."""
    return REGISTRY[code].status
