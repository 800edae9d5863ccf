"""`credit-ledger demo`: the Beijing, Tianjin and Hebei story, told by three running gateways.

Every step is a real call: departments sign records and instructions with the demo
consortium's development keys and send them over HTTP to their region's gateway; the
gateways anchor batches and relay lifecycle steps on the one chain; the verifications at
the end of each step use the chain alone (`chain_client`), never a gateway's word. The
demo exits 0 only when every verification passed.

On the embedded chain the story's clock starts on Monday 2 November 2026, 09:30 Beijing
time, so that its working-day deadlines fall in years the holiday calendar covers; the
chain's clock is then moved forward as the story needs (a commitment's deadline, the
90 days before a penalty may be repaired). On Hardhat the clock starts at the node's now.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account import Account

from chain_client import (
    BEIJING,
    beijing_date,
    catalog_id,
    devnet_for,
    keccak,
    verify_access_log_entry,
    verify_bundle,
    verify_report,
)
from chain_client.dev import DevChain, HardhatNode
from credit_client.client import GatewayClient, GatewayClientError, PreparedRecord, prepare_record, subject_salt_of
from credit_client.subject import SubjectClient, issue_credential
from credit_demo.regions import Region, Regions, run_regions
from gateway.infra.request_auth import sign_request
from gateway.infra.subject_ids import uscc_check_character
from gateway.records.peers import HEADER_ON_BEHALF, OriginalRequest, PeerError, checked_answer

START = dt.datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING)
DAY = 86_400
WAIT_S = 60.0
T = TypeVar("T")

# The story's company and its records' payloads (they satisfy gateway/demo/schemas).
COMPANY = "北京星河示例科技有限公司"
PENALTY = "BJ-XZCF-001"
INSPECTION = "BJ-JCJG-001"
TAX_ARREARS = "BJ-QSXX-001"
BREACH = "BJ-WNSX-001"
TIANJIN_PENALTY = "TJ-XZCF-001"


def uscc(first17: str) -> str:
    """A unified social credit code with its GB 32100 check character."""
    return first17 + uscc_check_character(first17)


SUBJECT = uscc("91110108MA01C7KX2")
TIANJIN_SUBJECT = uscc("91120116MA05T3RN8")


def penalty_payload(amount: int, number: str) -> dict[str, Any]:
    """An administrative penalty (class A, black list): public fields, and a private case officer."""
    return {
        "subjectName": COMPANY,
        "decisionNumber": number,
        "violation": "虚假宣传",
        "penalty": {"kind": "fine", "amountYuan": amount},
        "decidedOn": "2026-10-30",
        "authority": "北京市市场监督管理局",
        "caseOfficer": "张某 (not public)",
    }


@dataclass
class Narrator:
    """Prints the story and counts verifications; writes what it produced under out."""

    out: Path | None
    echo: Callable[[str], None] = click.echo
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    _step: int = 0

    def step(self, title: str) -> None:
        """Start a numbered step."""
        self._step += 1
        self.echo(f"\n== {self._step}. {title}")

    def say(self, text: str) -> None:
        """A line of narrative."""
        self.echo(f"   {text}")

    def url(self, what: str, url: str) -> None:
        """A URL to look at while the demo runs (or with --keep-running)."""
        self.echo(f"   → {what}: {url}")

    def check(self, what: str, passed: bool, detail: str = "") -> bool:
        """One verification: PASS or FAIL, counted."""
        mark = "PASS" if passed else "FAIL"
        self.echo(f"   [{mark}] {what}" + (f" ({detail})" if detail else ""))
        if passed:
            self.passed += 1
        else:
            self.failed.append(what)
        return passed

    def write(self, name: str, document: Any) -> None:
        """Save a bundle, report or entry under out (JSON, or text for .html)."""
        if self.out is None:
            return
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False, indent=2)
        path.write_text(text + "\n", encoding="utf-8")
        self.written.append(path)


def run_demo(*, out: Path | None, hardhat_root: Path | None, keep_running: bool = False) -> int:
    """Tell the whole story; 0 when every verification passed, 1 otherwise."""
    narrator = Narrator(out)
    with (
        tempfile.TemporaryDirectory(prefix="credit-ledger-demo-") as scratch,
        _chain(hardhat_root, Path(scratch)) as (
            chain,
            rpc_url,
        ),
    ):
        narrator.echo(f"credit-ledger demo: three regional gateways on {rpc_url or 'the embedded py-evm chain'}")
        with run_regions(Path(scratch), rpc_url=rpc_url, chain=None if rpc_url else chain) as regions:
            # The auditor's own connection: on a node it trusts the node, not a gateway.
            auditor_chain = DevChain.connect(rpc_url) if rpc_url else chain
            Story(regions, auditor_chain, narrator).tell()
            _summary(narrator)
            if keep_running:
                if rpc_url:
                    narrator.echo(f"\nThe node at {rpc_url} answers --rpc for `credit-ledger verify`.")
                narrator.echo("\nThe gateways keep running; Ctrl-C stops them.")
                _wait_for_interrupt()
    return 0 if not narrator.failed else 1


@dataclass
class Story:
    """The steps, in order, sharing what earlier steps produced."""

    regions: Regions
    chain: DevChain
    n: Narrator
    records: dict[str, PreparedRecord] = field(default_factory=dict)
    bundles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tell(self) -> None:
        """Run every step."""
        for step in (
            self.consortium,
            self.catalog,
            self.beijing_records,
            self.cross_region_read,
            self.tampered_answer,
            self.objection_and_correction,
            self.breached_commitment,
            self.repair,
            self.hebei_audit,
            self.beijing_down,
        ):
            step()

    # ------------------------------------------------------------------ steps

    def consortium(self) -> None:
        self.n.step("The consortium: three regions, one chain")
        for region in self.regions:
            self.n.say(f"{region.name:12} gateway {region.gateway.account.address}  {region.url}")
        self.n.say("Each gateway has its own database and key-encryption key; the governors of the three")
        self.n.say("regions (2-of-3) registered each gateway's URL on chain, which is how peers find each other.")
        beijing = self.regions.beijing.gateway
        self.n.say(f"Ledger {beijing.stack.ledger.address} on chain {self.chain.chain_id}")
        self.n.url("interactive API docs of the Beijing gateway", f"{self.regions.beijing.url}/docs")
        for region in self.regions:
            member = beijing.view.member(region.gateway.account.address)
            self.n.check(
                f"{region.name} URL on chain", member is not None and member.gateway_url == region.url, region.url
            )

    def catalog(self) -> None:
        self.n.step("The public credit information catalog (公共信用信息目录)")
        with GatewayClient(self.regions.beijing.url) as anonymous:
            entries = anonymous.catalog()["entries"]
        labels = {d.account.address: d.label for d in devnet_for(self.chain.chain_id).accounts}
        for entry in entries:
            source = labels.get(entry["source"], entry["source"])
            self.n.say(f"{entry['code']:14} class {entry['class']}  list {entry['list']:5}  source {source}")
        self.n.say("Class A is public, B needs the subject's consent, C is shared between departments only.")
        self.n.url("the catalog", f"{self.regions.beijing.url}/public/v1/catalog")
        self.n.check("catalog read from chain", len(entries) >= 6, f"{len(entries)} entries")

    def beijing_records(self) -> None:
        self.n.step(f"Beijing departments record credit information on {SUBJECT} ({COMPANY})")
        bj = self.regions.beijing
        self.records["penalty"] = self._submit(
            bj, "samr-beijing", PENALTY, penalty_payload(200_000, "京市监罚〔2026〕88号")
        )
        self.records["inspection"] = self._submit(
            bj,
            "samr-beijing",
            INSPECTION,
            {
                "subjectName": COMPANY,
                "inspectedOn": "2026-10-20",
                "result": "rectification-required",
                "findings": ["消防通道堵塞"],
            },
        )
        self.records["arrears"] = self._submit(
            bj,
            "tax-beijing",
            TAX_ARREARS,
            {"subjectName": COMPANY, "taxKind": "增值税", "amountYuan": 120000.5, "since": "2026-03-31"},
        )
        self.n.say("Penalty (class A), inspection result (class C) by the market regulator; tax arrears (class B).")
        self.n.say("Payloads are sealed with AES-256-GCM in Beijing's database; only hashes go on chain.")
        for name, label in (("penalty", "samr-beijing"), ("inspection", "samr-beijing"), ("arrears", "tax-beijing")):
            bundle = self._bundle(bj, label, name, disclose=["violation", "penalty"] if name == "penalty" else [])
            self._verify_bundle(f"{name} proof bundle", bundle)
        with GatewayClient(bj.url) as anonymous:
            public = anonymous.disclosures(SUBJECT)["disclosures"]
        self.n.url("public disclosures (信用信息公示)", f"{bj.url}/public/v1/disclosures?subject={SUBJECT}")
        self.n.check("only the class-A penalty is public", [d["recordId"] for d in public] == [self._id("penalty")])

    def cross_region_read(self) -> None:
        self.n.step("A Tianjin department reads Beijing's records through the Tianjin gateway")
        tj, bj = self.regions.tianjin, self.regions.beijing
        department = self.regions.account("samr-tianjin")
        with GatewayClient(tj.url, department) as client:
            view = client.record(self._id("inspection"), purpose="joint supervision")
            self.n.say("Tianjin forwards the department's signed request to Beijing with a PEER-signed request;")
            self.n.say("Beijing checks the department's role, logs the release for it, and answers; Tianjin")
            self.n.say("verifies the answer against the chain before serving it, and keeps nothing.")
            self.n.check("class C released in full to a PROVIDER of another region", view["view"] == "full")
            try:
                client.record(self._id("arrears"), purpose="credit-review")
                refused = ""
            except GatewayClientError as exc:
                refused = exc.code
            self.n.check("class B refused without the subject's consent", refused == "ACCESS_CONSENT_REQUIRED", refused)
            registrar = self.regions.account("samr-beijing")
            company_key = Account.from_key(keccak(b"credit-ledger demo company key: " + SUBJECT.encode()))
            with GatewayClient(bj.url, registrar) as at_beijing:
                deployment = at_beijing.deployment()
                company_ref = at_beijing.subject_ref(SUBJECT, purpose="key binding")  # registered; no subject key
            credential = issue_credential(
                registrar,
                deployment,
                subject=SUBJECT,
                subject_ref=company_ref,
                key_address=company_key.address,
                issued_at=bj.gateway.now(),
            )
            self.n.say("The market regulator (REGISTRAR) binds the company's own key to it with a signed credential;")
            self.n.say("only the credential's hash would ever go on chain, if it were revoked.")
            with SubjectClient(bj.url, company_key, credential) as company:
                signed = company.sign_consent(
                    grantee=department.address, purpose="credit-review", expires_at=bj.gateway.now() + 30 * DAY
                )
                with GatewayClient(bj.url, self.regions.account("governor-beijing")) as governor:
                    try:
                        governor.call("POST", "/v1/consents", body={**signed, "signature": "0x" + "11" * 65})
                        forged = ""
                    except GatewayClientError as exc:
                        forged = exc.code
                self.n.check("a governor cannot register a consent the company did not sign", forged != "", forged)
                with GatewayClient(bj.url, department) as at_beijing:
                    at_beijing.create_consent(signed)
                self.n.say("The company signs its consent (授权查询, EIP-712) for the Tianjin department to read its")
                self.n.say("tax arrears for 30 days; the department registers it at Beijing.")
                own = company.records()["records"]
                self.n.check("the company reads all its own records in full (自查)", len(own) >= 3, str(len(own)))
            view = client.record(self._id("arrears"), purpose="credit-review")
            self.n.check("class B released with consent", view["view"] == "full")
            with SubjectClient(bj.url, company_key, credential) as company:
                readers = {(e["requester"], e["purpose"]) for e in company.access_log()["entries"]}
            self.n.check(
                "the company sees who read its arrears, and why", (department.address, "credit-review") in readers
            )
        with GatewayClient(self.regions.hebei.url, self.regions.account("governor-hebei")) as governor:
            try:
                governor.record(self._id("inspection"))
                refused = ""
            except GatewayClientError as exc:
                refused = exc.code
        self.n.check("class C refused to a governor (no PROVIDER or AUDITOR role)", refused == "ACCESS_ROLE_REQUIRED")

    def tampered_answer(self) -> None:
        self.n.step("A holder that returns a tampered payload is detected and refused")
        tj, bj = self.regions.tianjin, self.regions.beijing
        department = self.regions.account("samr-tianjin")
        path = f"/v1/records/{self._id('inspection')}"
        query = [("holder", bj.gateway.account.address)]  # signed for Tianjin, naming Beijing as the holder
        headers = sign_request(
            department, "GET", path, query, b"", audience=tj.gateway.audience, timestamp=int(time.time())
        )
        original = OriginalRequest.of("GET", path, query, headers)
        with GatewayClient(bj.url, tj.gateway.account) as peer:
            response = peer.request(
                "GET", f"/peer/v1/records/{self._id('inspection')}", headers={HEADER_ON_BEHALF: original.encode()}
            )
        answer = response.json()
        answer["view"]["payload"]["result"] = "passed"
        self.n.say("Beijing's answer to Tianjin, with the inspection result changed to 'passed' on the way:")
        try:
            checked_answer(tj.gateway, self._id("inspection"), answer, holder=bj.gateway.account.address)
            self.n.check("tampered answer refused", False)
        except PeerError as exc:
            self.n.check(
                "tampered answer refused", exc.code == "PEER_RESPONSE_INVALID", f"failed: {exc.detail['failed']}"
            )
        self.n.say("Tianjin logs the failure, counts it and answers the department 502 PEER_RESPONSE_INVALID.")
        self.n.url("Tianjin's metrics (peer_failures)", f"{tj.url}/metrics")

    def objection_and_correction(self) -> None:
        self.n.step("An objection (异议) upheld: the penalty is corrected")
        bj = self.regions.beijing
        with GatewayClient(bj.url, self.regions.account("tax-beijing")) as department:
            department.file_objection(self._id("penalty"), bytes.fromhex("0b" * 32))
        self.n.say(
            "The company objects on paper at a department (a PROVIDER files it); the record is Disputed"
            " and publicity says so."
        )
        with GatewayClient(bj.url) as anonymous:
            public = {d["recordId"]: d for d in anonymous.disclosures(SUBJECT)["disclosures"]}
        self.n.check("publicity shows the penalty as disputed", public[self._id("penalty")]["disputed"] is True)
        original = self.records["penalty"]
        self.records["correction"] = self._submit(
            bj,
            "samr-beijing",
            PENALTY,
            penalty_payload(20_000, "京市监罚〔2026〕88号-更正"),
            supersedes=original.leaf.record_id,
            subject_salt=subject_salt_of(original.submission),  # a correction carries its original's subjectTag
        )
        correction = self._bundle(bj, "samr-beijing", "correction", ["penalty"])
        with GatewayClient(bj.url, self.regions.account("samr-beijing")) as regulator:
            regulator.resolve_objection(self._id("penalty"), "corrected", self._id("correction"))
        self.n.say("The regulator anchors a corrected record (fine 200,000 → 20,000 yuan) and resolves the")
        self.n.say("objection as corrected: the chain links the old record to its successor.")
        report = verify_bundle(self.bundles["penalty"], self.chain)
        self.n.check(
            "the old bundle still verifies, as not current",
            report.valid and report.current is False and report.superseded_by == self._id("correction"),
            f"status {report.status.name if report.status is not None else None}, superseded by {report.superseded_by}",
        )
        self._verify_bundle("correction proof bundle", correction)

    def breached_commitment(self) -> None:
        self.n.step("A credit commitment (信用承诺) breached becomes a dishonesty record")
        bj = self.regions.beijing
        with GatewayClient(bj.url, self.regions.account("samr-beijing")) as regulator:
            commitment = regulator.record_commitment(
                subject=SUBJECT,
                kind="incomplete-acceptance",
                doc_hash=bytes.fromhex("c1" * 32),
                subject_key=bj.gateway.subject_key,
                working_days=7,
            )
        cid = commitment["commitmentId"]
        self.n.say(
            f"容缺受理 accepted on {commitment['term']['acceptedOn']}: documents due in 7 working days, "
            f"by the end of {commitment['dueOn']} (Beijing time)."
        )
        self._travel_to(int(commitment["dueBy"]) + 9 * 3600)
        self.n.say(f"The chain's clock moves to {_beijing(self.chain.now())}; the documents never came.")
        record = self._prepare(
            bj,
            "samr-beijing",
            BREACH,
            {
                "subjectName": COMPANY,
                "commitmentKind": "incomplete-acceptance",
                "commitmentId": cid,
                "deadline": commitment["dueOn"],
                "breachedOn": beijing_date(self.chain.now()).isoformat(),
                "authority": "北京市市场监督管理局",
                "missingDocuments": ["消防安全检查合格证明"],
            },
            subject_salt=subject_salt_of(commitment),  # the breach record carries the commitment's subjectTag
        )
        with GatewayClient(bj.url, self.regions.account("samr-beijing")) as regulator:
            overdue = [c["commitmentId"] for c in regulator.overdue_commitments()["commitments"]]
            self.n.check("the commitment is overdue", cid in overdue)
            result = regulator.breach_commitment(cid, record)
        self.records["breach"] = record
        self.n.check(
            "the chain links the commitment to its dishonesty record",
            result["status"] == "BREACHED" and result["breachRecordId"] == record.record_id_hex,
        )
        self._verify_bundle("breach record proof bundle", self._bundle(bj, "samr-beijing", "breach", ["commitmentId"]))
        with GatewayClient(bj.url, self.regions.account("governor-tianjin")) as governor:
            answer = governor.measures(SUBJECT)
        self.n.write("measures/after-breach.json", answer)
        codes = [m["code"] for m in answer["answer"]["measures"]]
        self.n.say(f"Joint punishment measures now apply: {', '.join(codes)}")
        self.n.url("lists and measures (signed)", f"{bj.url}/v1/subjects/{SUBJECT}/measures")
        self.n.check("on the black list with measures", answer["answer"]["lists"]["black"] is True and bool(codes))
        with GatewayClient(self.regions.hebei.url, self.regions.account("governor-hebei")) as governor:
            hebei = governor.measures(SUBJECT)["answer"]
        answered = [r["name"] for r in hebei["regions"] if r["status"] == "answered"]
        self.n.check(
            "Hebei's gateway answers Beijing's black list too (京津冀联合奖惩: every region's signed part)",
            hebei["lists"]["black"] is True and len(answered) == len(hebei["regions"]),
            ", ".join(answered),
        )

    def repair(self) -> None:
        self.n.step("Credit repair (信用修复) ends the corrected penalty's publicity")
        bj = self.regions.beijing
        correction = self._id("correction")
        with GatewayClient(bj.url, self.regions.account("tax-beijing")) as department:
            department.request_repair(correction, "penalty-fulfilled", bytes.fromhex("5e" * 32))
        with GatewayClient(bj.url, self.regions.account("samr-beijing")) as regulator:
            try:
                regulator.approve_repair(correction)
                early = ""
            except GatewayClientError as exc:
                early = exc.code
            self.n.check("approval refused before the catalog's 90 days", early == "REPAIR_TOO_EARLY", early)
            anchored_at = int(regulator.record(correction)["anchoring"]["anchoredAt"])
            self._travel_to(anchored_at + 91 * DAY)
            self.n.say(f"The fine is paid; the chain's clock moves to {_beijing(self.chain.now())}.")
            result = regulator.approve_repair(correction)
        self.n.check("repair approved", result["status"] == "REPAIRED")
        with GatewayClient(bj.url) as anonymous:
            public = [d["recordId"] for d in anonymous.disclosures(SUBJECT)["disclosures"]]
        self.n.check("the repaired penalty is no longer public", correction not in public)
        with GatewayClient(bj.url, self.regions.account("governor-tianjin")) as governor:
            report = governor.report(SUBJECT)
            html = governor.report_html(SUBJECT)
        self.n.write(f"reports/{SUBJECT}.json", report)
        self.n.write(f"reports/{SUBJECT}.html", html)
        verification = verify_report(report, self.chain)
        self.n.url("the credit report (HTML)", f"{bj.url}/v1/subjects/{SUBJECT}/report?format=html")
        self.n.check("credit report verifies against the chain", verification.valid, "; ".join(verification.failures))

    def hebei_audit(self) -> None:
        self.n.step("A Hebei auditor verifies Beijing and Tianjin proofs using only the chain")
        tj = self.regions.tianjin
        self.records["tianjin"] = self._submit(
            tj,
            "samr-tianjin",
            TIANJIN_PENALTY,
            {**penalty_payload(30_000, "津市监罚〔2026〕12号"), "authority": "天津市市场监督管理局"},
            subject=TIANJIN_SUBJECT,
        )
        self.bundles["tianjin"] = self._bundle(tj, "samr-tianjin", "tianjin", ["violation"])
        self.n.say("Bundles are portable files: the auditor holds them and a chain connection, nothing else.")
        for name in ("inspection", "arrears", "breach", "tianjin"):
            self._verify_bundle(f"{name} bundle", self.bundles[name])
        auditor = self.regions.account("auditor-hebei")
        department = self.regions.account("samr-tianjin").address
        with GatewayClient(self.regions.beijing.url, auditor) as client:
            entry = _poll(
                lambda: _anchored_release(client.access_log(record=self._id("inspection"))["entries"], department),
                what="the Beijing access-log entry of the Tianjin release to be anchored",
            )
        self.n.write("access-log/beijing-release-to-tianjin.json", entry)
        check = verify_access_log_entry(entry, self.chain)
        self.n.check(
            "Beijing's access-log entry of the release to the Tianjin department",
            check.valid and entry["entry"]["requester"] == department,
            "; ".join(check.problems) or f"requester {department}",
        )
        altered = json.loads(json.dumps(entry))
        altered["entry"]["requester"] = auditor.address
        self.n.check("an altered entry fails", not verify_access_log_entry(altered, self.chain).valid)

    def beijing_down(self) -> None:
        self.n.step("Beijing's gateway goes down: Tianjin answers 503, never stale data")
        self.regions.beijing.server.stop()
        with GatewayClient(self.regions.tianjin.url, self.regions.account("samr-tianjin")) as client:
            try:
                client.record(self._id("inspection"))
                code = ""
            except GatewayClientError as exc:
                code = f"{exc.status} {exc.code}"
        self.n.check("503 PEER_UNAVAILABLE", code == "503 PEER_UNAVAILABLE", code)
        with GatewayClient(self.regions.tianjin.url, self.regions.account("governor-tianjin")) as governor:
            regions = governor.measures(SUBJECT)["answer"]["regions"]
        down = [r["name"] for r in regions if r["status"] == "unavailable"]
        self.n.check(
            "Tianjin's measures answer names Beijing unavailable, never leaves it out", down == ["Beijing gateway"]
        )

    # ---------------------------------------------------------------- helpers

    def _id(self, name: str) -> str:
        return self.records[name].record_id_hex

    def _prepare(self, region: Region, label: str, code: str, payload: dict[str, Any], **kwargs: Any) -> PreparedRecord:
        gateway = region.gateway
        return prepare_record(
            self.regions.account(label),
            gateway.stack.ledger.domain,
            catalog_code=code,
            catalog_version=gateway.view.entry(catalog_id(code)).version,
            subject=kwargs.pop("subject", SUBJECT),
            payload=payload,
            subject_key=gateway.subject_key,
            issued_at=gateway.now(),
            **kwargs,
        )

    def _submit(self, region: Region, label: str, code: str, payload: dict[str, Any], **kwargs: Any) -> PreparedRecord:
        record = self._prepare(region, label, code, payload, **kwargs)
        with GatewayClient(region.url, self.regions.account(label)) as client:
            result = client.submit_record(record.submission)
        self.n.check(f"{code} record accepted by {region.name}", result["results"][0]["status"] == "accepted")
        return record

    def _bundle(self, region: Region, label: str, name: str, disclose: list[str]) -> dict[str, Any]:
        """The record's proof bundle from its provider, once anchored; saved under bundles/."""
        with GatewayClient(region.url, self.regions.account(label)) as client:
            bundle: dict[str, Any] = _poll(
                lambda: _unless_not_anchored(lambda: client.proof(self._id(name), disclose=disclose)),
                what=f"{name} to be anchored",
            )
        self.bundles[name] = bundle
        self.n.write(f"bundles/{region.key}-{name}.json", bundle)
        return bundle

    def _verify_bundle(self, what: str, bundle: dict[str, Any]) -> None:
        report = verify_bundle(bundle, self.chain)
        status = report.status.name if report.status is not None else "unknown"
        detail = (
            f"{len(report.checks)} checks, status {status}"
            if report.valid
            else "; ".join(f"{c.name}: {c.detail}" for c in report.failed)
        )
        self.n.check(f"{what} verifies against the chain", report.valid, detail)

    def _travel_to(self, moment: int) -> None:
        """Move the chain's clock forward (development chains), and wait until every gateway sees it."""
        self.chain.increase_time(max(0, moment - self.chain.now()))
        for region in self.regions:
            _poll(lambda r=region: r.gateway.now() >= moment or None, what=f"{region.name} to see the new time")  # type: ignore[misc]


def _anchored_release(entries: list[dict[str, Any]], requester: str) -> dict[str, Any] | None:
    for entry in entries:
        if entry["entry"]["requester"] == requester and entry.get("batch"):
            return entry
    return None


def _unless_not_anchored(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except GatewayClientError as exc:
        if exc.code == "RECORD_NOT_ANCHORED":
            return None
        raise


def _poll(attempt: Callable[[], T | None], *, what: str) -> T:
    deadline = time.monotonic() + WAIT_S
    while (result := attempt()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {WAIT_S} s waiting for {what}")
        time.sleep(0.1)
    return result


def _beijing(unix_time: int) -> str:
    return dt.datetime.fromtimestamp(unix_time, BEIJING).strftime("%Y-%m-%d %H:%M Beijing")


def _summary(n: Narrator) -> None:
    n.echo("")
    if n.out is not None:
        n.echo(f"Wrote {len(n.written)} files (proof bundles, reports, access-log entry, measures) to {n.out}")
        n.echo(f"   check them offline: credit-ledger verify {n.out}/bundles/*.json")
        n.echo(f"   and the report:     credit-ledger verify-report {n.out}/reports/{SUBJECT}.html")
    if n.failed:
        n.echo(f"{len(n.failed)} of {n.passed + len(n.failed)} verifications FAILED: " + "; ".join(n.failed))
    else:
        n.echo(f"All {n.passed} verifications passed.")


@contextmanager
def _chain(hardhat_root: Path | None, scratch: Path) -> Iterator[tuple[DevChain, str | None]]:
    """The embedded chain, or a Hardhat node started for the demo, both from the story's start.

    A fixed start keeps every deadline of the story inside the shipped calendars (2024 to 2026)
    whatever today's date is; the gateways' clocks follow the chain's.
    """
    if hardhat_root is None:
        yield DevChain.embedded(start_time=int(START.timestamp())), None
        return
    node = HardhatNode(hardhat_root, scratch / "hardhat-node.log", start_time=int(START.timestamp()))
    try:
        yield DevChain.connect(node.url), node.url
    finally:
        node.stop()


def _wait_for_interrupt() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return
