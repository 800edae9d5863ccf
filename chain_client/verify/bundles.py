"""Verify proof bundles: offline from the bundle alone, online against the chain.

Offline checks: `schema`, `recordId`, `batchProof`, `signature`, `disclosure`.
Online checks (given a chain): `chainId`, `contracts`, `anchored`, `provider`,
`catalog`, and `status`, which never fails: a revoked, corrected or repaired record
is authentic but not current, and the report says so and names its successor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chain_client._errors import ContractRevertError
from chain_client.contracts.artifacts import load_artifact
from chain_client.contracts.catalog import CreditCatalog
from chain_client.contracts.chain import Chain
from chain_client.contracts.consortium import Consortium
from chain_client.contracts.ledger import BatchKind, CreditLedger, RecordStatus
from chain_client.spec.content import verify_disclosure
from chain_client.spec.eip712 import LedgerDomain, record_struct_hash, recover_address, recover_signer
from chain_client.spec.merkle import process_proof
from chain_client.spec.records import address_bytes
from chain_client.spec.roles import Role
from chain_client.verify.bundle import BUNDLE_FORMAT, ProofBundle, schema_problems

OFFLINE_CHECKS = ("schema", "recordId", "batchProof", "subjectTag", "signature", "disclosure")
ONLINE_CHECKS = ("chainId", "contracts", "anchored", "provider", "catalog", "status")
CURRENT_STATUSES = frozenset({RecordStatus.ACTIVE, RecordStatus.DISPUTED})


@dataclass(frozen=True)
class Check:
    """One named check: passed or not, and why."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class VerificationReport:
    """The checks run on one bundle, and what the chain says of the record now."""

    record_id: str | None
    checks: tuple[Check, ...]
    status: RecordStatus | None = None
    superseded_by: str | None = None

    @property
    def valid(self) -> bool:
        """True when every check passed: the record is authentic."""
        return all(check.passed for check in self.checks)

    @property
    def current(self) -> bool | None:
        """Whether the record is still in force (None without an online check)."""
        return None if self.status is None else self.status in CURRENT_STATUSES

    def check(self, name: str) -> Check:
        """The check with this name; KeyError when it was not run."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    @property
    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if not check.passed]

    def to_json(self) -> dict[str, Any]:
        """The report for machines."""
        return {
            "recordId": self.record_id,
            "valid": self.valid,
            "current": self.current,
            "status": self.status.name if self.status is not None else None,
            "supersededBy": self.superseded_by,
            "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks],
        }


def verify_bundle(bundle: ProofBundle | dict[str, Any], chain: Chain | None = None) -> VerificationReport:
    """Verify one bundle (a ProofBundle or its JSON document), online when given a chain."""
    return verify_bundles([bundle], chain)[0]


def verify_bundles(
    bundles: Iterable[ProofBundle | dict[str, Any]], chain: Chain | None = None
) -> list[VerificationReport]:
    """Verify many bundles; lookups shared between bundles (domains, batches, catalog) are made once."""
    online = _Online(chain) if chain is not None else None
    domains: dict[tuple[int, str], LedgerDomain] = {}
    reports: list[VerificationReport] = []
    for item in bundles:
        checks: list[Check] = []
        if isinstance(item, dict):
            problems = schema_problems(item)
            if problems:
                record = item.get("record")
                record_id = record.get("recordId") if isinstance(record, dict) else None
                reports.append(VerificationReport(record_id, (Check("schema", False, problems[0]),)))
                continue
            checks.append(Check("schema", True, BUNDLE_FORMAT))
            item = ProofBundle.from_json(item, validate=False)
        bundle = item
        key = (bundle.chain.chain_id, bundle.chain.ledger)
        domain = domains.get(key) or domains.setdefault(key, LedgerDomain(*key))
        checks.extend(_offline_checks(bundle, domain))
        status = superseded = None
        if online is not None:
            online_checks, status, superseded = online.checks(bundle)
            checks.extend(online_checks)
        reports.append(VerificationReport("0x" + bundle.leaf.record_id.hex(), tuple(checks), status, superseded))
    return reports


def _offline_checks(bundle: ProofBundle, domain: LedgerDomain) -> list[Check]:
    leaf = bundle.leaf
    checks = []
    computed = leaf.computed_record_id()
    checks.append(
        Check("recordId", True, "keccak256 of the leaf fields")
        if computed == leaf.record_id
        else Check("recordId", False, f"the leaf fields hash to 0x{computed.hex()}, not the recordId given")
    )
    reached = process_proof(leaf.leaf_hash(), bundle.batch.proof)
    checks.append(
        Check("batchProof", True, f"leaf under root 0x{bundle.batch.root.hex()} ({len(bundle.batch.proof)} siblings)")
        if reached == bundle.batch.root
        else Check("batchProof", False, f"the proof leads to 0x{reached.hex()}, not the batch root")
    )
    if bundle.subject is not None:
        checks.append(
            Check("subjectTag", True, "subjectRef and subjectSalt give the leaf's subjectTag")
            if bundle.subject.tag() == leaf.subject_tag
            else Check("subjectTag", False, "subjectRef and subjectSalt do not give the leaf's subjectTag")
        )
    digest = domain.digest(record_struct_hash(leaf))
    if recover_address(digest, bundle.signature) == address_bytes(leaf.provider):
        checks.append(Check("signature", True, f"EIP-712 CreditRecord signed by the provider {leaf.provider}"))
    else:
        signer = recover_signer(digest, bundle.signature) or "no valid key"
        checks.append(Check("signature", False, f"signed by {signer}, not by the provider {leaf.provider}"))
    if bundle.disclosure is not None:
        names = ", ".join(bundle.disclosure.fields)
        checks.append(
            Check("disclosure", True, f"fields committed in contentHash: {names}")
            if verify_disclosure(leaf.content_hash, bundle.disclosure)
            else Check("disclosure", False, f"the disclosed fields ({names}) are not committed in contentHash")
        )
    return checks


@dataclass
class _Online:
    """Online checks against one chain, with the lookups several bundles share."""

    chain: Chain
    _contracts: dict[tuple[str, str, str], Check] = field(default_factory=dict)
    _batches: dict[tuple[str, bytes], Any] = field(default_factory=dict)

    def checks(self, bundle: ProofBundle) -> tuple[list[Check], RecordStatus | None, str | None]:
        ref = bundle.chain
        if self.chain.chain_id != ref.chain_id:
            detail = f"the chain is {self.chain.chain_id}, the bundle names {ref.chain_id}"
            return [Check("chainId", False, detail)], None, None
        checks = [Check("chainId", True, str(ref.chain_id))]
        contracts = self._contract_check(bundle)
        checks.append(contracts)
        if not contracts.passed:
            return checks, None, None
        ledger = CreditLedger(self.chain, ref.ledger)
        checks.append(self._anchored(bundle, ledger))
        checks.append(self._provider(bundle))
        checks.append(self._catalog(bundle))
        state = ledger.state(bundle.leaf.record_id)
        superseded = "0x" + state.superseded_by.hex() if state.superseded_by else None
        detail = state.status.name.capitalize()
        if state.status == RecordStatus.DISPUTED:
            detail += ": an objection is pending"
        elif state.status not in CURRENT_STATUSES:
            detail += ": authentic but no longer in force" + (f", superseded by {superseded}" if superseded else "")
        checks.append(Check("status", True, detail))
        return checks, state.status, superseded

    def _contract_check(self, bundle: ProofBundle) -> Check:
        ref = bundle.chain
        key = (ref.consortium, ref.catalog, ref.ledger)
        if key not in self._contracts:
            self._contracts[key] = self._check_contracts(ref.consortium, ref.catalog, ref.ledger)
        return self._contracts[key]

    def _check_contracts(self, consortium: str, catalog: str, ledger: str) -> Check:
        for name, address in (("Consortium", consortium), ("CreditCatalog", catalog), ("CreditLedger", ledger)):
            if not load_artifact(name).matches_runtime_code(self.chain.code(address)):  # type: ignore[arg-type]
                return Check("contracts", False, f"the code at {address} is not the {name} contract")
        wired = CreditLedger(self.chain, ledger).bound_contracts()  # type: ignore[arg-type]
        if wired != (consortium, catalog):
            return Check("contracts", False, f"the ledger is bound to {wired[0]} and {wired[1]}, not the bundle's")
        return Check("contracts", True, "Consortium, CreditCatalog and CreditLedger code as built, bound together")

    def _anchored(self, bundle: ProofBundle, ledger: CreditLedger) -> Check:
        """The bundle's transaction anchored its root, and that gateway's batch is the bundle's.

        Batches are keyed by (gateway, root): the anchoring transaction's BatchAnchored event
        names the gateway, so another gateway anchoring the same root (of either kind, before
        or after) neither passes for this batch nor spoils it.
        """
        batch = ledger.anchored_by_transaction(bundle.batch.tx_hash, bundle.batch.root)
        if batch is None:
            return Check(
                "anchored",
                False,
                f"transaction 0x{bundle.batch.tx_hash.hex()} anchored no root 0x{bundle.batch.root.hex()} "
                f"in ledger {ledger.address}",
            )
        if batch.kind != BatchKind.RECORDS:
            return Check("anchored", False, "the root is an access-log batch, not a record batch")
        if (batch.block_number, batch.anchored_at) != (bundle.batch.block_number, bundle.batch.anchored_at):
            return Check(
                "anchored",
                False,
                f"anchored in block {batch.block_number} at {batch.anchored_at}, the bundle says "
                f"block {bundle.batch.block_number} at {bundle.batch.anchored_at}",
            )
        return Check("anchored", True, f"by GATEWAY {batch.gateway} in block {batch.block_number}")

    def _provider(self, bundle: ProofBundle) -> Check:
        consortium = Consortium(self.chain, bundle.chain.consortium)
        provider = bundle.leaf.provider
        try:
            at_block = consortium.has_role(Role.PROVIDER, provider, block=bundle.batch.block_number)
            when = f"at block {bundle.batch.block_number}"
        except Exception:  # noqa: BLE001 - a node without history: judge by the current roles
            at_block = consortium.has_role(Role.PROVIDER, provider)
            when = "now (the node keeps no state of the anchoring block)"
        if not at_block:
            return Check("provider", False, f"{provider} was not an active PROVIDER {when}")
        return Check("provider", True, f"{provider} an active PROVIDER {when}")

    def _catalog(self, bundle: ProofBundle) -> Check:
        leaf = bundle.leaf
        catalog = CreditCatalog(self.chain, bundle.chain.catalog)
        try:
            entry = catalog.entry_at(leaf.catalog_id, leaf.catalog_version)
        except ContractRevertError as exc:
            return Check("catalog", False, f"no catalog entry version: {exc.name}")
        if entry.source != leaf.provider:
            return Check("catalog", False, f"{entry.code} v{entry.version} is sourced by {entry.source}")
        return Check("catalog", True, f"{entry.code} v{entry.version}, sourced by the provider")
