"""Credit reports (信用报告), format `credit-ledger/report@1` (schemas/report.schema.json).

A gateway's report on one subject: the records in force with the fields the requester
may see, each carrying a proof bundle that discloses exactly those fields, plus list
membership and measures; signed by the gateway's account (`_signed_document`). Any
region verifies it without trusting the issuing gateway: offline from the file alone,
online against the chain.

Report checks: `format`, `signature`; online `chainId`, `gateway`.
Record checks: `bundle` (its `subjectTag` check included), `recordId`, `subjectRef` (the
bundle's subject opening names the report's subject), `chain`, `catalog`, `fields`;
online `status`, which fails when a record is no longer in force (the report is then
stale, though authentic). With a subjectKey, `subject` checks the identifier against
subjectRef. Lists and measures are the gateway's statement, covered by its signature.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from eth_account.signers.local import LocalAccount

from chain_client.contracts.artifacts import load_artifact
from chain_client.contracts.catalog import DisclosureClass
from chain_client.contracts.chain import Chain
from chain_client.contracts.consortium import Consortium
from chain_client.contracts.ledger import CreditLedger, RecordStatus
from chain_client.spec.content import canonical_json
from chain_client.spec.records import catalog_id, checksummed
from chain_client.spec.roles import Role
from chain_client.spec.schemas import load_schema, schema_problems
from chain_client.spec.signed_document import sign_document
from chain_client.verify.bundle import BUNDLE_FORMAT, ProofBundle
from chain_client.verify.bundles import CURRENT_STATUSES, Check, VerificationReport, verify_bundles
from chain_client.verify.signed import format_check, signature_check

REPORT_FORMAT = "credit-ledger/report@1"
REPORT_CHECKS = ("format", "signature")
ONLINE_REPORT_CHECKS = ("chainId", "gateway")
RECORD_CHECKS = ("bundle", "recordId", "subjectRef", "chain", "catalog", "fields")
ONLINE_RECORD_CHECKS = ("status",)

View = Literal["full", "public"]

SCHEMA_FILE = "report.schema.json"


@dataclass(frozen=True)
class RecordVerification:
    """The checks run on one record of a report, and its proof bundle's own report."""

    index: int
    record_id: str | None
    catalog_code: str | None
    checks: tuple[Check, ...]
    bundle: VerificationReport

    @property
    def valid(self) -> bool:
        """True when every check of this record passed."""
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if not check.passed]

    def check(self, name: str) -> Check:
        """The check with this name; KeyError when it was not run."""
        return _named(self.checks, name)

    def to_json(self) -> dict[str, Any]:
        """The record's verification for machines."""
        return {
            "index": self.index,
            "recordId": self.record_id,
            "catalogCode": self.catalog_code,
            "valid": self.valid,
            "checks": _checks_json(self.checks),
            "bundle": self.bundle.to_json(),
        }


@dataclass(frozen=True)
class ReportVerification:
    """The checks run on a credit report, and on each of its records."""

    checks: tuple[Check, ...]
    records: tuple[RecordVerification, ...] = ()
    subject: str | None = None
    gateway: str | None = None
    online: bool = False

    @property
    def valid(self) -> bool:
        """True when every check passed, the records' included."""
        return all(check.passed for check in self.checks) and all(record.valid for record in self.records)

    @property
    def failures(self) -> list[str]:
        """Where the failed checks are: `signature`, `records[1].fields`, ..."""
        names = [check.name for check in self.checks if not check.passed]
        for record in self.records:
            names.extend(f"records[{record.index}].{check.name}" for check in record.failed)
        return names

    def check(self, name: str) -> Check:
        """The report-level check with this name; KeyError when it was not run."""
        return _named(self.checks, name)

    def to_json(self) -> dict[str, Any]:
        """The verification for machines."""
        return {
            "format": REPORT_FORMAT,
            "valid": self.valid,
            "online": self.online,
            "subject": self.subject,
            "gateway": self.gateway,
            "checks": _checks_json(self.checks),
            "records": [record.to_json() for record in self.records],
        }


def verify_report(
    document: Mapping[str, Any], chain: Chain | None = None, *, subject_key: bytes | None = None
) -> ReportVerification:
    """Verify a signed credit report document: offline, and against the chain when given one.

    subject_key (the consortium's 32-byte subjectKey, which members hold) adds the
    `subject` check: that the report's identifier is the one its subjectRef stands for.
    Errors reaching the chain propagate as ChainClientError; anything wrong with the
    document itself is a failed check.
    """
    document = dict(document)
    format_check = _format_check(document)
    if not format_check.passed:
        return ReportVerification((format_check,), online=chain is not None)
    report: dict[str, Any] = document["report"]
    checks = [format_check, _signature_check(report, document["signature"])]
    if subject_key is not None:
        checks.append(_subject_check(report, subject_key))
    online = chain
    if chain is not None:
        if chain.chain_id != report["chainId"]:
            detail = f"the chain is {chain.chain_id}, the report names {report['chainId']}"
            checks.append(Check("chainId", False, detail))
            online = None
        else:
            checks.append(Check("chainId", True, str(chain.chain_id)))
            checks.append(gateway_check(report, chain))
    entries: list[dict[str, Any]] = report["records"]
    bundles = verify_bundles([entry["proof"] for entry in entries], online)
    records = tuple(
        _record_verification(i, entry, bundle, report, online=online is not None)
        for i, (entry, bundle) in enumerate(zip(entries, bundles, strict=True))
    )
    return ReportVerification(tuple(checks), records, report["subject"], report["gateway"], online=chain is not None)


def build_report_document(report: Mapping[str, Any], account: LocalAccount) -> dict[str, Any]:
    """Sign a report with the gateway's account and wrap it as a credit-ledger/report@1 document.

    ValueError when the report is malformed or names another gateway than the signer:
    a gateway never signs what a verifier would reject.
    """
    body = copy.deepcopy(dict(report))
    gateway = body.get("gateway")
    if not isinstance(gateway, str) or gateway.lower() != account.address.lower():
        raise ValueError(f"the report names gateway {gateway}, but {account.address} would sign it")
    unsigned = {"format": REPORT_FORMAT, "report": body, "signature": "0x" + "00" * 65}
    problems = report_schema_problems(unsigned)
    if problems:
        raise ValueError(f"not a valid {REPORT_FORMAT} report: {problems[0]}")
    return {"format": REPORT_FORMAT, "report": body, "signature": sign_document(account, body)}


def report_record(
    bundle: ProofBundle,
    *,
    catalog_code: str,
    disclosure_class: DisclosureClass,
    status: RecordStatus,
    view: View,
) -> dict[str, Any]:
    """A report's entry for one record: its fields are those the bundle discloses.

    ValueError for a status no longer in force: a report lists only current records.
    """
    if status not in CURRENT_STATUSES:
        raise ValueError(f"a {status.name.capitalize()} record is not in force and has no place in a report")
    fields = {} if bundle.disclosure is None else {name: f.value for name, f in bundle.disclosure.fields.items()}
    return {
        "recordId": "0x" + bundle.leaf.record_id.hex(),
        "catalogCode": catalog_code,
        "catalogVersion": bundle.leaf.catalog_version,
        "class": disclosure_class.name,
        "status": status.name.capitalize(),
        "view": view,
        "fields": copy.deepcopy(fields),
        "proof": bundle.to_json(),
    }


def report_schema_problems(document: object) -> list[str]:
    """What the committed JSON Schema finds wrong with a report document (empty when valid)."""
    return schema_problems(SCHEMA_FILE, document)


def report_schema() -> dict[str, Any]:
    """The committed JSON Schema of credit-ledger/report@1."""
    return load_schema(SCHEMA_FILE)


# --------------------------------------------------------------- report checks


def _format_check(document: dict[str, Any]) -> Check:
    def summary() -> str:
        count = len(document["report"]["records"])
        return f"{REPORT_FORMAT}, {count} record{'' if count == 1 else 's'}"

    return format_check(report_schema_problems(document), document, summary)


def _signature_check(report: dict[str, Any], signature: str) -> Check:
    return signature_check(report, signature, "report")


def _subject_check(report: dict[str, Any], subject_key: bytes) -> Check:
    subject = report["subject"]
    for kind in ("USCC", "RID"):
        ref = hmac.new(subject_key, f"{kind}:{subject}".encode(), hashlib.sha256).digest()
        if "0x" + ref.hex() == report["subjectRef"].lower():
            return Check("subject", True, f"subjectRef is the HMAC of {kind}:{subject}")
    return Check("subject", False, f"subjectRef is not the HMAC of {subject} under this subjectKey")


def gateway_check(report: Mapping[str, Any], chain: Chain) -> Check:
    """`gateway`: the signed document's gateway was an active GATEWAY of its ledger's consortium
    at its asOfBlock (a credit report's, a screening's)."""
    ledger_address = checksummed(report["ledger"])
    if not load_artifact("CreditLedger").matches_runtime_code(chain.code(ledger_address)):
        return Check("gateway", False, f"the code at {ledger_address} is not the CreditLedger contract")
    consortium = Consortium(chain, CreditLedger(chain, ledger_address).bound_contracts()[0])
    gateway = checksummed(report["gateway"])
    as_of, head = int(report["asOfBlock"]), chain.block_number()
    if as_of > head:
        return Check("gateway", False, f"the report is as of block {as_of}, beyond the chain's head {head}")
    try:
        is_gateway = consortium.has_role(Role.GATEWAY, gateway, block=as_of)
        when = f"at block {as_of}"
    except Exception:  # noqa: BLE001 - a node without history: judge by the current roles
        is_gateway = consortium.has_role(Role.GATEWAY, gateway)
        when = "now (the node keeps no state of the report's block)"
    if not is_gateway:
        return Check("gateway", False, f"{gateway} was not an active member with the GATEWAY role {when}")
    member = consortium.member(gateway)
    return Check("gateway", True, f"{gateway} ({member.name}, region {member.region}) an active GATEWAY {when}")


# --------------------------------------------------------------- record checks


def _record_verification(
    index: int, entry: dict[str, Any], bundle: VerificationReport, report: dict[str, Any], *, online: bool
) -> RecordVerification:
    proof = entry["proof"]
    checks = [_bundle_check(bundle, online=online)]
    if any(check.name == "schema" and not check.passed for check in bundle.checks):
        return RecordVerification(index, entry["recordId"], entry["catalogCode"], tuple(checks), bundle)
    record, chain_ref = proof["record"], proof["chain"]
    checks.append(_equal_check("recordId", entry["recordId"], record["recordId"], "the bundle proves record {theirs}"))
    checks.append(_subject_ref_check(report, proof.get("subject")))
    checks.append(_chain_check(report, chain_ref))
    checks.append(_catalog_check(entry, record))
    checks.append(_fields_check(entry["fields"], proof.get("disclosure")))
    if online:
        checks.append(_status_check(entry["status"], bundle))
    return RecordVerification(index, entry["recordId"], entry["catalogCode"], tuple(checks), bundle)


def _bundle_check(bundle: VerificationReport, *, online: bool) -> Check:
    if bundle.valid:
        where = "offline and against the chain" if online else "offline"
        return Check("bundle", True, f"{BUNDLE_FORMAT} bundle valid {where}")
    failed = "; ".join(f"{check.name}: {check.detail}" for check in bundle.failed)
    return Check("bundle", False, f"the proof bundle fails {failed}")


def _subject_ref_check(report: dict[str, Any], opening: dict[str, Any] | None) -> Check:
    # The bundle's own `subjectTag` check proves the opening gives the leaf's tag.
    if opening is None:
        return Check("subjectRef", False, "the bundle does not open its subjectTag, so its subject is unknown")
    return _equal_check(
        "subjectRef",
        report["subjectRef"],
        opening["subjectRef"],
        "the bundle is a record of another subject, subjectRef {theirs}",
    )


def _equal_check(name: str, ours: str, theirs: str, mismatch: str) -> Check:
    if ours.lower() == theirs.lower():
        return Check(name, True, f"the bundle's {name} is the report's")
    return Check(name, False, mismatch.format(theirs=theirs))


def _chain_check(report: dict[str, Any], chain_ref: dict[str, Any]) -> Check:
    ours = (report["chainId"], report["ledger"].lower())
    theirs = (chain_ref["chainId"], chain_ref["ledger"].lower())
    if ours == theirs:
        return Check("chain", True, f"chain {ours[0]}, ledger {checksummed(ours[1])}")
    return Check(
        "chain",
        False,
        f"the bundle is of chain {theirs[0]}, ledger {checksummed(theirs[1])}; "
        f"the report of chain {ours[0]}, ledger {checksummed(ours[1])}",
    )


def _catalog_check(entry: dict[str, Any], record: dict[str, Any]) -> Check:
    code, version = entry["catalogCode"], entry["catalogVersion"]
    if "0x" + catalog_id(code).hex() != record["catalogId"].lower():
        return Check("catalog", False, f"the bundle's catalogId {record['catalogId']} is not that of {code}")
    if version != record["catalogVersion"]:
        detail = f"the bundle is of {code} v{record['catalogVersion']}, the report says v{version}"
        return Check("catalog", False, detail)
    return Check("catalog", True, f"{code} v{version}")


def _fields_check(fields: dict[str, Any], disclosure: dict[str, Any] | None) -> Check:
    disclosed = {} if disclosure is None else {name: f["value"] for name, f in disclosure["fields"].items()}
    missing = sorted(set(fields) - set(disclosed))
    extra = sorted(set(disclosed) - set(fields))
    differing = sorted(
        name for name in set(fields) & set(disclosed) if canonical_json(fields[name]) != canonical_json(disclosed[name])
    )
    problems = []
    if missing:
        problems.append("not disclosed by the bundle: " + ", ".join(missing))
    if extra:
        problems.append("disclosed but not shown: " + ", ".join(extra))
    if differing:
        problems.append("shown with other values than disclosed: " + ", ".join(differing))
    if problems:
        return Check("fields", False, "; ".join(problems))
    if not fields:
        return Check("fields", True, "no fields shown, none disclosed")
    return Check("fields", True, "exactly the disclosed fields: " + ", ".join(sorted(fields)))


def _status_check(reported: str, bundle: VerificationReport) -> Check:
    if bundle.status is None:
        return Check("status", False, "unknown: the bundle did not verify against the chain")
    now = bundle.status.name.capitalize()
    if bundle.status in CURRENT_STATUSES:
        return Check("status", True, now if now == reported else f"{now} now; the report says {reported}")
    successor = f", superseded by {bundle.superseded_by}" if bundle.superseded_by else ""
    return Check("status", False, f"{now} now, no longer in force{successor}; the report says {reported}")


def _named(checks: tuple[Check, ...], name: str) -> Check:
    for check in checks:
        if check.name == name:
            return check
    raise KeyError(name)


def _checks_json(checks: tuple[Check, ...]) -> list[dict[str, Any]]:
    return [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in checks]
