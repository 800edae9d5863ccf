"""A Python client for the gateway: signs every request with a member key (httpx).

    from credit_client.client import GatewayClient, prepare_record

    client = GatewayClient("http://127.0.0.1:8101", account=department_key)
    deployment = client.deployment()
    record = prepare_record(
        department_key, deployment.domain, catalog_code="BJ-XZCF-001", catalog_version=1,
        subject="91110108MA01C5XL6R", payload={...}, subject_key=consortium_subject_key,
    )
    client.submit_record(record.submission)
    client.proof(record.record_id_hex, disclose=["subjectName"])

Errors come back as GatewayClientError with the server's stable code.

Relayed EIP-712 instructions (objections, repairs, commitments ...) are described once, in
INSTRUCTIONS: where the gateway takes each, under which contract's domain it is signed,
its struct hash and its body fields. `GatewayClient.send_instruction` signs and sends any
of them; `file_objection`, `fulfil_commitment` and the others are thin wrappers over it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from eth_account.signers.local import LocalAccount

from chain_client import (
    CalendarRef,
    CommitmentDomain,
    CommitmentTerm,
    ContentCommitment,
    Eip712Domain,
    LedgerDomain,
    RecordLeaf,
    Term,
    TermUnit,
    approve_repair_struct_hash,
    beijing_date,
    breach_struct_hash,
    catalog_id,
    checksummed,
    file_objection_struct_hash,
    fulfil_struct_hash,
    record_commitment_struct_hash,
    record_struct_hash,
    reject_repair_struct_hash,
    request_repair_struct_hash,
    resolve_objection_struct_hash,
    revoke_struct_hash,
    sign_digest,
    subject_tag,
    withdraw_struct_hash,
)
from credit_client.subject_refs import resolve_subject_ref
from gateway.infra.request_auth import Audience, sign_request
from gateway.infra.subject_ids import parse_subject
from gateway.lifecycle.terms import KINDS, EvidenceKind, KindName, repair_evidence_hash

ZERO32 = bytes(32)
INSTRUCTION_LIFETIME_S = 3600


@dataclass(frozen=True)
class InstructionRoute:
    """How the gateway takes one relayed instruction.

    path: the POST path, a template of the record's or commitment's id (`{record_id}`,
    `{commitment_id}`) as the gateway's routes name it. domain: "ledger" or "commitments",
    the contract whose EIP-712 domain and nonce it is signed with (GET /v1/instructions).
    function: the contract function the gateway relays it to. struct_hash: its chain_client
    hashing rule, the signed fields first, then nonce and deadline. fields and optional:
    the body's fields besides `instruction`, those it needs and those it may carry.
    """

    path: str
    domain: Literal["ledger", "commitments"]
    function: str
    struct_hash: Callable[..., bytes]
    fields: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()


_DOMAINS: Mapping[str, type[Eip712Domain]] = {"ledger": LedgerDomain, "commitments": CommitmentDomain}

# Every instruction the gateway relays, by its EIP-712 type name (docs/formats.md).
INSTRUCTIONS: Mapping[str, InstructionRoute] = {
    "FileObjection": InstructionRoute(
        "/v1/records/{record_id}/objections",
        "ledger",
        "fileObjectionBySig",
        file_objection_struct_hash,
        ("reasonHash",),
    ),
    "ResolveObjection": InstructionRoute(
        "/v1/records/{record_id}/objections/resolution",
        "ledger",
        "resolveObjectionBySig",
        resolve_objection_struct_hash,
        ("outcome",),
        ("correctionId",),
    ),
    "Revoke": InstructionRoute(
        "/v1/records/{record_id}/revocation", "ledger", "revokeBySig", revoke_struct_hash, ("reasonHash",)
    ),
    "RequestRepair": InstructionRoute(
        "/v1/records/{record_id}/repairs",
        "ledger",
        "requestRepairBySig",
        request_repair_struct_hash,
        ("evidenceKind", "documentsHash"),
    ),
    "ApproveRepair": InstructionRoute(
        "/v1/records/{record_id}/repairs/approval", "ledger", "approveRepairBySig", approve_repair_struct_hash
    ),
    "RejectRepair": InstructionRoute(
        "/v1/records/{record_id}/repairs/rejection",
        "ledger",
        "rejectRepairBySig",
        reject_repair_struct_hash,
        ("reasonHash",),
    ),
    "RecordCommitment": InstructionRoute(
        "/v1/commitments",
        "commitments",
        "recordBySig",
        record_commitment_struct_hash,
        ("subject", "subjectSalt", "kind", "docHash", "dueBy"),
        ("acceptedOn", "workingDays", "months", "calendars"),
    ),
    "Fulfil": InstructionRoute(
        "/v1/commitments/{commitment_id}/fulfilment", "commitments", "fulfilBySig", fulfil_struct_hash
    ),
    "Withdraw": InstructionRoute(
        "/v1/commitments/{commitment_id}/withdrawal", "commitments", "withdrawBySig", withdraw_struct_hash
    ),
    "Breach": InstructionRoute(
        "/v1/commitments/{commitment_id}/breach",
        "commitments",
        "breachBySig",
        breach_struct_hash,
        ("record",),
        ("violation",),
    ),
}


class GatewayClientError(Exception):
    """The gateway answered with an error: its status, stable code, message and detail."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class PreparedRecord:
    """A record ready to submit: the JSON submission and the leaf it commits to."""

    submission: dict[str, Any]
    leaf: RecordLeaf

    @property
    def record_id_hex(self) -> str:
        """The recordId as 0x-hex."""
        return "0x" + self.leaf.record_id.hex()


@dataclass(frozen=True)
class GatewayDeployment:
    """The chain and contracts a gateway serves."""

    chain_id: int
    contracts: dict[str, str]

    @property
    def domain(self) -> LedgerDomain:
        """The EIP-712 domain records are signed under."""
        return LedgerDomain(chain_id=self.chain_id, verifying_contract=checksummed(self.contracts["CreditLedger"]))


def prepare_record(
    provider: LocalAccount,
    domain: LedgerDomain,
    *,
    catalog_code: str,
    catalog_version: int,
    subject: str,
    payload: Mapping[str, Any],
    subject_ref: bytes | None = None,
    subject_key: bytes | None = None,
    issued_at: int | None = None,
    supersedes: bytes = ZERO32,
    record_seed: bytes | None = None,
    subject_salt: bytes | None = None,
) -> PreparedRecord:
    """Commit to a payload, build the record leaf and sign it as the provider (EIP-712).

    The leaf names the subject by its subjectTag, keccak256(abi.encode(subjectRef,
    subjectSalt)): a department asks its gateway for the subjectRef
    (`GatewayClient.subject_ref`, registered as a lookup) and never holds the consortium's
    subject key; development tools that hold the key pass `subject_key` instead. The salt
    is drawn fresh unless given: a correction passes its original's (its full view's
    `subjectSalt`), a breach record its commitment's (`GatewayClient.commitment`'s `subject`).
    """
    subject_ref = resolve_subject_ref(subject, subject_ref=subject_ref, subject_key=subject_key)
    seed = record_seed or os.urandom(32)
    salt = subject_salt or os.urandom(32)
    leaf = RecordLeaf.create(
        catalog_id=catalog_id(catalog_code),
        catalog_version=catalog_version,
        subject_tag=subject_tag(subject_ref, salt),
        content_hash=ContentCommitment(payload, seed).content_hash,
        provider=provider.address,
        issued_at=int(time.time()) if issued_at is None else issued_at,
        supersedes=supersedes,
    )
    signature = sign_digest(provider, domain.digest(record_struct_hash(leaf)))
    submission = {
        "catalogCode": catalog_code,
        "catalogVersion": catalog_version,
        "subject": parse_subject(subject).value,
        "payload": dict(payload),
        "recordSeed": "0x" + seed.hex(),
        "subjectSalt": "0x" + salt.hex(),
        "issuedAt": leaf.issued_at,
        "supersedes": "0x" + supersedes.hex(),
        "provider": provider.address,
        "signature": "0x" + signature.hex(),
        "contentHash": "0x" + leaf.content_hash.hex(),
        "recordId": "0x" + leaf.record_id.hex(),
    }
    return PreparedRecord(submission, leaf)


def subject_salt_of(answer: Mapping[str, Any]) -> bytes:
    """The subjectSalt a follow-up record reuses: of a commitment as its department is shown it
    (`subject.subjectSalt`, for the breach record), or of a full record view (`subjectSalt`, for a
    correction). KeyError when the answer does not open its subjectTag."""
    opening = answer.get("subject")
    salt = opening["subjectSalt"] if isinstance(opening, Mapping) else answer["subjectSalt"]
    if not isinstance(salt, str):
        raise KeyError("subjectSalt")
    return bytes.fromhex(salt.removeprefix("0x"))


class GatewayClient:
    """Signed requests to one gateway; public endpoints work without an account."""

    def __init__(
        self,
        base_url: str,
        account: LocalAccount | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        audience: Audience | str | None = None,
    ) -> None:
        self.account = account
        self._clock = clock
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self._audience = Audience.parse(audience) if isinstance(audience, str) else audience

    @property
    def audience(self) -> Audience:
        """The gateway this client's requests are signed for (`eip155:<chainId>:<gateway>`).

        Given to the constructor, or else asked once of `/public/v1/gateway`. A department's
        production client pins it: a request signed for one gateway is refused at every other.
        """
        if self._audience is None:
            self._audience = Audience.parse(str(self.call("GET", "/public/v1/gateway", signed=False)["audience"]))
        return self._audience

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- requests

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        signed: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request, signed when the client has an account; the raw response."""
        content = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        all_headers = dict(headers or {})
        if body is not None:
            all_headers.setdefault("content-type", "application/json")
        if signed and self.account is not None:
            all_headers.update(
                sign_request(
                    self.account, method, path, params, content, audience=self.audience, timestamp=int(self._clock())
                )
            )
        return self._http.request(method, path, params=list(params), content=content, headers=all_headers)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its JSON; GatewayClientError on an error status."""
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error_of(response)
        return response.json()

    # ------------------------------------------------------------------- API

    def deployment(self) -> GatewayDeployment:
        """The chain and contracts this gateway serves (public)."""
        document = self.call("GET", "/public/v1/deployment", signed=False)
        contracts = {name: c["address"] for name, c in document["contracts"].items()}
        return GatewayDeployment(int(document["chainId"]), contracts)

    def catalog(self) -> Any:
        """The public catalog."""
        return self.call("GET", "/public/v1/catalog", signed=False)

    def submit_record(self, submission: Mapping[str, Any]) -> Any:
        """Submit one record (GatewayClientError with the record's code if rejected)."""
        return self.call("POST", "/v1/records", body=dict(submission))

    def submit_records(self, submissions: Iterable[Mapping[str, Any]], *, atomic: bool = False) -> Any:
        """Submit a bulk; per-record results."""
        params = [("atomic", "true")] if atomic else []
        return self.call("POST", "/v1/records", params=params, body={"records": [dict(s) for s in submissions]})

    def subject_refs(self, subjects: Sequence[str], *, purpose: str = "record submission") -> dict[str, bytes]:
        """The subjectRef of each subject id (a PROVIDER's lookup, registered by the gateway)."""
        answer = self.call("POST", "/v1/subject-refs", body={"subjects": list(subjects), "purpose": purpose})
        refs: dict[str, bytes] = {}
        for line in answer["subjects"]:
            if line["code"] is not None:
                raise GatewayClientError(422, line["code"], f"subject id {line['subject']!r} is not valid")
            refs[line["subject"]] = bytes.fromhex(line["subjectRef"][2:])
        return refs

    def subject_ref(self, subject: str, *, purpose: str = "record submission") -> bytes:
        """The subjectRef of one subject id, to prepare a record or a commitment."""
        return next(iter(self.subject_refs([subject], purpose=purpose).values()))

    def record(self, record_id: str, *, purpose: str | None = None, holder: str | None = None) -> Any:
        """A record as this member may see it.

        A record another region holds is read in two signed steps: this gateway names the
        holder (409 `RECORD_HELD_BY_PEER`), and the read is signed again naming it, so the
        signed request goes to that holder alone.
        """
        params = _purpose(purpose) + ([("holder", holder)] if holder else [])
        try:
            return self.call("GET", f"/v1/records/{record_id}", params=params)
        except GatewayClientError as exc:
            if exc.code != "RECORD_HELD_BY_PEER" or holder is not None:
                raise
            return self.record(record_id, purpose=purpose, holder=str(exc.detail["holder"]))

    def proof(self, record_id: str, *, disclose: Iterable[str] = (), purpose: str | None = None) -> Any:
        """A record's proof bundle, disclosing some fields."""
        params = _purpose(purpose)
        names = ",".join(disclose)
        if names:
            params.append(("disclose", names))
        return self.call("GET", f"/v1/records/{record_id}/proof", params=params)

    def wait_for_proof(
        self, record_id: str, *, disclose: Iterable[str] = (), timeout: float = 60.0, interval: float = 0.5
    ) -> Any:
        """The proof bundle once the record is anchored (the worker anchors every few seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.proof(record_id, disclose=disclose)
            except GatewayClientError as exc:
                if exc.code != "RECORD_NOT_ANCHORED" or time.monotonic() > deadline:
                    raise
            time.sleep(interval)

    def subject_records(self, subject: str, *, purpose: str | None = None) -> Any:
        """A subject's records this member may see."""
        return self.call("GET", f"/v1/subjects/{subject}/records", params=_purpose(purpose))

    def disclosures(self, subject: str) -> Any:
        """A subject's public disclosures (no signature)."""
        return self.call("GET", "/public/v1/disclosures", params=[("subject", subject)], signed=False)

    def create_consent(self, signed_consent: Mapping[str, Any]) -> Any:
        """Register a consent its subject signed (credit_client.subject.sign_consent_body gives one)."""
        return self.call("POST", "/v1/consents", body=dict(signed_consent))

    def revoke_consent(self, consent_id: str) -> Any:
        """Renounce a consent this member holds (its subject withdraws it with credit_client.subject)."""
        return self.call("DELETE", f"/v1/consents/{consent_id}")

    def access_log(
        self, *, record: str | None = None, requester: str | None = None, after: int = 0, limit: int = 100
    ) -> Any:
        """Access-log entries with their proofs (auditors)."""
        params = [("after", str(after)), ("limit", str(limit))]
        if record:
            params.append(("record", record))
        if requester:
            params.append(("requester", requester))
        return self.call("GET", "/v1/access-log", params=params)

    # ---------------------------------------------------------- instructions
    # Each call fetches the requester's next nonce and the domains (GET /v1/instructions),
    # signs the EIP-712 instruction with the client's account and sends it to be relayed.

    def send_instruction(
        self,
        name: str,
        signed: Sequence[object],
        body: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
        **ids: str,
    ) -> Any:
        """Sign the instruction INSTRUCTIONS[name] and send it to be relayed; the gateway's answer.

        signed: the instruction's typed fields before nonce and deadline, as its struct hash
        takes them. body: the request's other fields. ids: the path's ids (record_id=...,
        commitment_id=...). context: GET /v1/instructions, when the caller has fetched it.
        The instruction carries the requester's next nonce on the contract and a deadline
        INSTRUCTION_LIFETIME_S after the gateway's clock.
        """
        if self.account is None:
            raise ValueError("signing an instruction needs the client's account")
        route = INSTRUCTIONS[name]
        missing, unknown = set(route.fields) - set(body), set(body) - set(route.fields) - set(route.optional)
        if missing or unknown:
            raise ValueError(f"{name} takes fields {route.fields} and {route.optional}, not {sorted(body)}")
        if context is None:
            context = self.call("GET", "/v1/instructions")
        domain_json = context[route.domain]["domain"]
        domain = _DOMAINS[route.domain](
            chain_id=int(domain_json["chainId"]), verifying_contract=checksummed(domain_json["verifyingContract"])
        )
        nonce, deadline = int(context[route.domain]["nonce"]), int(context["now"]) + INSTRUCTION_LIFETIME_S
        signature = sign_digest(self.account, domain.digest(route.struct_hash(*signed, nonce, deadline)))
        instruction = {"nonce": nonce, "deadline": deadline, "signature": _hex(signature)}
        return self.call("POST", route.path.format(**ids), body={**body, "instruction": instruction})

    def file_objection(self, record_id: str, reason_hash: bytes) -> Any:
        """File an objection on the subject's behalf."""
        body = {"reasonHash": _hex(reason_hash)}
        return self.send_instruction("FileObjection", (_b32(record_id), reason_hash), body, record_id=record_id)

    def resolve_objection(self, record_id: str, outcome: str, correction_id: str | None = None) -> Any:
        """Resolve an objection as the provider: rejected, revoked or corrected."""
        code = {"rejected": 0, "revoked": 1, "corrected": 2}[outcome]
        signed = (_b32(record_id), code, _b32(correction_id) if correction_id else ZERO32)
        body: dict[str, Any] = {"outcome": outcome}
        if correction_id:
            body["correctionId"] = correction_id
        return self.send_instruction("ResolveObjection", signed, body, record_id=record_id)

    def revoke(self, record_id: str, reason_hash: bytes) -> Any:
        """Revoke a record as its provider."""
        body = {"reasonHash": _hex(reason_hash)}
        return self.send_instruction("Revoke", (_b32(record_id), reason_hash), body, record_id=record_id)

    def request_repair(self, record_id: str, evidence_kind: str, documents_hash: bytes) -> Any:
        """Request credit repair on the subject's behalf."""
        evidence = repair_evidence_hash(EvidenceKind(evidence_kind), documents_hash)
        body = {"evidenceKind": evidence_kind, "documentsHash": _hex(documents_hash)}
        return self.send_instruction("RequestRepair", (_b32(record_id), evidence), body, record_id=record_id)

    def approve_repair(self, record_id: str) -> Any:
        """Approve the pending repair as the provider."""
        return self.send_instruction("ApproveRepair", (_b32(record_id),), {}, record_id=record_id)

    def reject_repair(self, record_id: str, reason_hash: bytes) -> Any:
        """Reject the pending repair as the provider."""
        body = {"reasonHash": _hex(reason_hash)}
        return self.send_instruction("RejectRepair", (_b32(record_id), reason_hash), body, record_id=record_id)

    def record_commitment(
        self,
        *,
        subject: str,
        kind: str,
        doc_hash: bytes,
        subject_key: bytes | None = None,
        accepted_on: str | None = None,
        working_days: int | None = None,
        months: int | None = None,
        subject_salt: bytes | None = None,
    ) -> Any:
        """Record a commitment; its deadline counted from accepted_on in working days or months.

        The deadline and the calendars it is counted with come from the gateway's public
        preview (the consortium's adopted calendars), and are signed with the term. The
        subject is signed as its subjectTag under a fresh salt (unless given), which the
        gateway keeps and shows the department (`commitment(id)["subject"]`)."""
        context = self.call("GET", "/v1/instructions")
        accepted = accepted_on or beijing_date(int(context["now"])).isoformat()
        preview = self.deadline_preview(accepted_on=accepted, working_days=working_days, months=months, kind=kind)
        term = CommitmentTerm(
            dt.date.fromisoformat(preview["acceptedOn"]),
            Term(TermUnit.WORKING_DAYS if preview["unit"] == "working-days" else TermUnit.MONTHS, preview["length"]),
            tuple(CalendarRef(c["year"], c["version"]) for c in preview["calendars"]),
        )
        due = int(preview["dueBy"])
        ref = (
            resolve_subject_ref(subject, subject_ref=None, subject_key=subject_key)
            if subject_key is not None
            else self.subject_ref(subject)
        )
        salt = subject_salt or os.urandom(32)
        chain_kind = int(KINDS[KindName(kind)])
        length_field = "workingDays" if term.term.unit == TermUnit.WORKING_DAYS else "months"
        body = {
            "subject": subject,
            "subjectSalt": _hex(salt),
            "kind": kind,
            "docHash": _hex(doc_hash),
            "acceptedOn": term.accepted_on.isoformat(),
            length_field: term.term.length,
            "dueBy": due,
            "calendars": [ref.to_json() for ref in term.calendars],
        }
        signed = (subject_tag(ref, salt), chain_kind, doc_hash, term, due)
        return self.send_instruction("RecordCommitment", signed, body, context=context)

    def deadline_preview(
        self,
        *,
        accepted_on: str | None = None,
        working_days: int | None = None,
        months: int | None = None,
        kind: str | None = None,
    ) -> Any:
        """The deadline the gateway counts for a new commitment, with the calendars used (public)."""
        params = [
            (name, str(value))
            for name, value in (
                ("acceptedOn", accepted_on),
                ("workingDays", working_days),
                ("months", months),
                ("kind", kind),
            )
            if value is not None
        ]
        return self.call("GET", "/public/v1/deadlines", params=params, signed=False)

    def calendar(self, year: int, version: int | None = None) -> Any:
        """A year's adopted working calendar (public)."""
        params = [("version", str(version))] if version else []
        return self.call("GET", f"/public/v1/calendars/{year}", params=params, signed=False)

    def commitment(self, commitment_id: str) -> Any:
        """A commitment as the chain holds it."""
        return self.call("GET", f"/v1/commitments/{commitment_id}")

    def overdue_commitments(self, department: str | None = None) -> Any:
        """Pending commitments past their deadline: `{asOfBlock, commitments}`."""
        params = [("department", department)] if department else []
        return self.call("GET", "/v1/commitments/overdue", params=params)

    def fulfil_commitment(self, commitment_id: str) -> Any:
        """Mark a commitment fulfilled as its department."""
        return self.send_instruction("Fulfil", (_b32(commitment_id),), {}, commitment_id=commitment_id)

    def withdraw_commitment(self, commitment_id: str) -> Any:
        """Withdraw a commitment as its department."""
        return self.send_instruction("Withdraw", (_b32(commitment_id),), {}, commitment_id=commitment_id)

    def breach_commitment(self, commitment_id: str, record: PreparedRecord, *, violation: bool = False) -> Any:
        """Record a breach with the dishonesty record it produced (prepared under a breach entry)."""
        signed = (_b32(commitment_id), record.leaf.record_id, violation)
        body = {"record": record.submission, "violation": violation}
        return self.send_instruction("Breach", signed, body, commitment_id=commitment_id)

    def measures(self, subject: str, *, scope: str | None = None) -> Any:
        """The signed answer: lists the subject is on and the measures that apply, across the
        consortium unless scope="region" (this gateway's records only)."""
        return self.call("GET", f"/v1/subjects/{subject}/measures", params=_scope(scope))

    def screening(self, subjects: Sequence[str], purpose: str, *, scope: str | None = None) -> Any:
        """The signed list screening (credit-ledger/screening@2) of up to 10,000 subjects,
        across the consortium unless scope="region"."""
        body = {"subjects": list(subjects), "purpose": purpose}
        return self.call("POST", "/v1/screenings", params=_scope(scope), body=body)

    def measure_proofs(self, subject: str) -> Any:
        """The answer with the proof bundles behind it (auditors)."""
        return self.call("GET", f"/v1/subjects/{subject}/measures/proofs")

    def report(self, subject: str, *, purpose: str | None = None) -> Any:
        """The subject's signed credit report (JSON)."""
        return self.call("GET", f"/v1/subjects/{subject}/report", params=_purpose(purpose))

    def report_html(self, subject: str, *, purpose: str | None = None) -> str:
        """The subject's credit report as a readable HTML page (the signed JSON embedded)."""
        response = self.request(
            "GET", f"/v1/subjects/{subject}/report", params=[*_purpose(purpose), ("format", "html")]
        )
        if response.status_code >= 400:
            raise _error_of(response)
        return response.text


def _b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _scope(scope: str | None) -> list[tuple[str, str]]:
    return [] if scope is None else [("scope", scope)]


def _purpose(purpose: str | None) -> list[tuple[str, str]]:
    return [("purpose", purpose)] if purpose else []


def _error_of(response: httpx.Response) -> GatewayClientError:
    try:
        body = response.json()
        return GatewayClientError(response.status_code, body["code"], body["message"], body.get("detail"))
    except (ValueError, KeyError, TypeError):
        return GatewayClientError(response.status_code, "HTTP_ERROR", response.text[:200])
