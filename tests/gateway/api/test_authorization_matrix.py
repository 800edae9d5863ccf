"""The authorization matrix: each role, the subject and anonymous, against each disclosure class and each endpoint.

The table EXPECTED is the policy of docs/disclosure.md ("Who reads what") written out; every cell is
checked over HTTP against the running gateway.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account

from chain_client import RecordStatus
from credit_client.client import GatewayClient
from credit_client.subject import HEADER_CREDENTIAL, SubjectClient, credential_header
from tests.support.payloads import INSPECTION, PENALTY, SAMR, TAX, TAX_ARREARS, inspection, penalty, tax_arrears
from tests.support.served import Served
from tests.support.subject_keys import bind_subject, consent_for
from tests.support.subjects import new_uscc

PURPOSE = "matrix"
CLASSES = ("A", "B", "C")
# What each actor gets of a record of each class: a view, or the error code of a refusal.
EXPECTED: dict[str, tuple[str, str, str]] = {
    "anonymous": ("AUTH_MISSING", "AUTH_MISSING", "AUTH_MISSING"),
    "non-member": ("AUTH_NOT_MEMBER", "AUTH_NOT_MEMBER", "AUTH_NOT_MEMBER"),
    "owner": ("full", "full", "full"),
    "other-provider": ("full", "ACCESS_CONSENT_REQUIRED", "full"),
    "auditor": ("full", "ACCESS_CONSENT_REQUIRED", "full"),
    "governor": ("public", "ACCESS_CONSENT_REQUIRED", "ACCESS_ROLE_REQUIRED"),
    "gateway-peer": ("public", "ACCESS_CONSENT_REQUIRED", "ACCESS_ROLE_REQUIRED"),
    "consented-provider": ("full", "full", "full"),
    # The subject's own key, bound by a registrar: not a member, so refused at member routes;
    # it reads its records at /v1/self (test_self_routes).
    "subject": ("AUTH_NOT_MEMBER", "AUTH_NOT_MEMBER", "AUTH_NOT_MEMBER"),
}
LABELS = {
    "other-provider": "samr-tianjin",
    "auditor": "auditor-hebei",
    "governor": "governor-hebei",
    "gateway-peer": "gateway-tianjin",
    "consented-provider": "court-hebei",
}
OWNERS = {"A": SAMR, "B": TAX, "C": SAMR}
PRIVATE_FIELD = {"A": "caseOfficer", "B": "amountYuan", "C": "findings"}
AUTH_STATUS = {"AUTH_MISSING": 401}


@dataclass
class World:
    """One subject with a record of each class, and a consent for the consented provider."""

    subject: str
    records: dict[str, str]
    owner: SubjectClient


@pytest.fixture(scope="module")
def world(served: Served) -> Iterator[World]:
    subject = new_uscc()
    made = {
        "A": served.submit(SAMR, PENALTY, subject, penalty()),
        "B": served.submit(TAX, TAX_ARREARS, subject, tax_arrears()),
        "C": served.submit(SAMR, INSPECTION, subject, inspection()),
    }
    served.wait_anchored(*made.values())
    company = bind_subject(served, subject)
    with served.client(LABELS["consented-provider"]) as client:
        client.create_consent(consent_for(served, company, LABELS["consented-provider"], PURPOSE))
    with company:
        yield World(subject, {klass: record.record_id_hex for klass, record in made.items()}, company)


def client_for(served: Served, actor: str, klass: str, world: World | None = None) -> GatewayClient:
    if actor == "anonymous":
        return served.client()
    if actor == "subject":
        assert world is not None
        return GatewayClient(served.url, world.owner.key)
    if actor == "non-member":
        return GatewayClient(served.url, Account.create())
    return served.client(OWNERS[klass] if actor == "owner" else LABELS[actor])


def status_of(expected: str) -> int:
    return 200 if expected in ("full", "public") else AUTH_STATUS.get(expected, 403)


def outcome(response: httpx.Response) -> tuple[int, Any]:
    body = response.json()
    return response.status_code, body.get("code") if response.status_code >= 400 else body


CASES = [(actor, klass) for actor in EXPECTED for klass in CLASSES]


@pytest.mark.parametrize(("actor", "klass"), CASES)
def test_read_record(served: Served, world: World, actor: str, klass: str) -> None:
    """GET /v1/records/{id}: the view or refusal the table gives."""
    expected = EXPECTED[actor][CLASSES.index(klass)]
    with client_for(served, actor, klass, world) as client:
        status, body = outcome(
            client.request("GET", f"/v1/records/{world.records[klass]}", params=[("purpose", PURPOSE)])
        )
    assert status == status_of(expected)
    assert (body["view"] if status == 200 else body) == expected


@pytest.mark.parametrize(("actor", "klass"), CASES)
def test_read_proof(served: Served, world: World, actor: str, klass: str) -> None:
    """GET /v1/records/{id}/proof: any view entitles to the hash-only bundle."""
    expected = EXPECTED[actor][CLASSES.index(klass)]
    with client_for(served, actor, klass, world) as client:
        status, body = outcome(
            client.request("GET", f"/v1/records/{world.records[klass]}/proof", params=[("purpose", PURPOSE)])
        )
    assert status == status_of(expected)
    if status == 200:
        assert body["record"]["recordId"] == world.records[klass]
        assert "disclosure" not in body
    else:
        assert body == expected


@pytest.mark.parametrize(("actor", "klass"), CASES)
def test_disclose_a_private_field(served: Served, world: World, actor: str, klass: str) -> None:
    """?disclose= of a private field: full views only; public views get ACCESS_FIELD_NOT_PUBLIC."""
    expected = EXPECTED[actor][CLASSES.index(klass)]
    if expected == "public":
        expected = "ACCESS_FIELD_NOT_PUBLIC"
    params = [("purpose", PURPOSE), ("disclose", PRIVATE_FIELD[klass])]
    with client_for(served, actor, klass, world) as client:
        status, body = outcome(client.request("GET", f"/v1/records/{world.records[klass]}/proof", params=params))
    assert status == status_of(expected)
    if status == 200:
        assert list(body["disclosure"]["fields"]) == [PRIVATE_FIELD[klass]]
    else:
        assert body == expected


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_subject_records(served: Served, world: World, actor: str) -> None:
    """GET /v1/subjects/{subject}/records lists exactly the records the table grants, with their views."""
    with client_for(served, actor, "A", world) as client:
        status, body = outcome(
            client.request("GET", f"/v1/subjects/{world.subject}/records", params=[("purpose", PURPOSE)])
        )
    refusals = {e for e in EXPECTED[actor] if e.startswith("AUTH_")}
    if refusals:
        assert (status, body) == (status_of(refusals.pop()), EXPECTED[actor][0])
        return
    granted = {
        world.records[klass]: view
        for klass, view in zip(CLASSES, EXPECTED[actor], strict=True)
        if view in ("full", "public") and (actor != "owner" or OWNERS[klass] == SAMR)
    }
    assert {r["recordId"]: r["view"] for r in body["records"]} == granted


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_screening(served: Served, world: World, actor: str) -> None:
    """POST /v1/screenings is for members, as the measures are: each line is what that member's
    GET /v1/subjects/{subject}/measures answers (a class-B list record weighs for its provider only)."""
    refusals = {e for e in EXPECTED[actor] if e.startswith("AUTH_")}
    body = {"subjects": [world.subject], "purpose": PURPOSE}
    with client_for(served, actor, "A", world) as client:
        status, answer = outcome(client.request("POST", "/v1/screenings", body=body))
        if refusals:
            assert (status, answer) == (status_of(refusals.pop()), EXPECTED[actor][0])
            return
        measures = client.call("GET", f"/v1/subjects/{world.subject}/measures")["answer"]
    assert status == 200
    [line] = answer["lines"]
    assert (line["lists"], line["measures"]) == (measures["lists"], [m["code"] for m in measures["measures"]])


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_public_disclosures(served: Served, world: World, actor: str) -> None:
    """/public/v1/disclosures is the same for everyone: the class-A record only, public fields only."""
    with client_for(served, actor, "A", world) as client:
        status, body = outcome(client.request("GET", "/public/v1/disclosures", params=[("subject", world.subject)]))
    assert status == 200
    assert [d["recordId"] for d in body["disclosures"]] == [world.records["A"]]
    assert PRIVATE_FIELD["A"] not in body["disclosures"][0]["fields"]


@pytest.mark.parametrize(("actor", "klass"), CASES)
def test_submit_a_record(served: Served, world: World, actor: str, klass: str) -> None:
    """POST /v1/records: only the entry's source department submits its records."""
    entry = {"A": PENALTY, "B": TAX_ARREARS, "C": INSPECTION}[klass]
    payload = {"A": penalty, "B": tax_arrears, "C": inspection}[klass]()
    record = served.prepare(OWNERS[klass], entry, new_uscc(), payload)
    expected = {
        "anonymous": "AUTH_MISSING",
        "non-member": "AUTH_NOT_MEMBER",
        "subject": "AUTH_NOT_MEMBER",
        "owner": "accepted",
        "other-provider": "RECORD_PROVIDER_MISMATCH",
        "consented-provider": "RECORD_PROVIDER_MISMATCH",
    }.get(actor, "ACCESS_ROLE_REQUIRED")
    with client_for(served, actor, klass, world) as client:
        status, body = outcome(client.request("POST", "/v1/records", body=record.submission))
    if expected == "accepted":
        assert (status, body["results"][0]["status"]) == (200, "accepted")
    else:
        assert (status, body) == (AUTH_STATUS.get(expected, 403), expected)


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_read_access_log(served: Served, world: World, actor: str) -> None:
    """GET /v1/access-log is for auditors."""
    expected = {
        "anonymous": "AUTH_MISSING",
        "non-member": "AUTH_NOT_MEMBER",
        "subject": "AUTH_NOT_MEMBER",
        "auditor": "ok",
    }.get(actor, "ACCESS_ROLE_REQUIRED")
    with client_for(served, actor, "A", world) as client:
        status, body = outcome(client.request("GET", "/v1/access-log"))
    if expected == "ok":
        assert status == 200
        assert "entries" in body
    else:
        assert (status, body) == (AUTH_STATUS.get(expected, 403), expected)


@pytest.mark.parametrize("path", ["/v1/access-log/lookups", "/v1/access-log/subject-filings"])
@pytest.mark.parametrize("actor", list(EXPECTED))
def test_auditors_registers(served: Served, world: World, actor: str, path: str) -> None:
    """The lookups register and the kept subject filings are for auditors, like the access log."""
    expected = {
        "anonymous": "AUTH_MISSING",
        "non-member": "AUTH_NOT_MEMBER",
        "subject": "AUTH_NOT_MEMBER",
        "auditor": "ok",
    }.get(actor, "ACCESS_ROLE_REQUIRED")
    with client_for(served, actor, "A", world) as client:
        status, body = outcome(client.request("GET", path))
    if expected == "ok":
        assert status == 200
    else:
        assert (status, body) == (AUTH_STATUS.get(expected, 403), expected)


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_peer_holdings(served: Served, world: World, actor: str) -> None:
    """GET /peer/v1/holdings/{id} answers PEER gateways only: no department learns where a record is held."""
    expected = {
        "anonymous": "AUTH_MISSING",
        "non-member": "AUTH_NOT_MEMBER",
        "subject": "AUTH_NOT_MEMBER",
        "gateway-peer": "ok",
    }.get(actor, "ACCESS_ROLE_REQUIRED")
    with client_for(served, actor, "C", world) as client:
        status, body = outcome(client.request("GET", f"/peer/v1/holdings/{world.records['C']}"))
    if expected == "ok":
        assert (status, body["holder"]) == (200, served.gateway.account.address)
    else:
        assert (status, body) == (AUTH_STATUS.get(expected, 403), expected)


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_peer_standings(served: Served, world: World, actor: str) -> None:
    """POST /peer/v1/standings answers PEER gateways only: no department asks another region's lists by subjectRef."""
    expected = {
        "anonymous": "AUTH_MISSING",
        "non-member": "AUTH_NOT_MEMBER",
        "subject": "AUTH_NOT_MEMBER",
        "gateway-peer": "ok",
    }.get(actor, "ACCESS_ROLE_REQUIRED")
    with client_for(served, actor, "C", world) as client:
        status, body = outcome(client.request("POST", "/peer/v1/standings", body={"subjectRefs": ["0x" + "ab" * 32]}))
    if expected == "ok":
        assert (status, body["format"], body["part"]["listed"]) == (200, "credit-ledger/standing-part@1", [])
    else:
        assert (status, body) == (AUTH_STATUS.get(expected, 403), expected)


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_self_routes(served: Served, world: World, actor: str) -> None:
    """GET /v1/self/records: the subject, signed in with its bound key, reads every class in full; nobody else."""
    if actor == "subject":
        body = world.owner.records()
        assert {r["recordId"]: r["view"] for r in body["records"]} == dict.fromkeys(world.records.values(), "full")
        return
    expected = "AUTH_MISSING" if actor == "anonymous" else "SUBJECT_CREDENTIAL_MISSING"
    with client_for(served, actor, "A", world) as client:
        status, body = outcome(client.request("GET", "/v1/self/records"))
    assert (status, body) == (401, expected)


@pytest.mark.parametrize("actor", [a for a in EXPECTED if a != "subject"])
@pytest.mark.parametrize("route", ["objections", "repairs"])
def test_only_the_subject_files_at_its_self_routes(served: Served, world: World, actor: str, route: str) -> None:
    """POST /v1/self/records/{id}/objections|repairs: no member files there, even with the subject's
    signed filing in hand and its credential in the header; nothing reaches the chain."""
    record_id = world.records["A"]
    if route == "objections":
        body = world.owner.sign_objection(record_id, b"\x01" * 32)
    else:
        body = world.owner.sign_repair_request(record_id, "training", b"\x02" * 32)
    path = f"/v1/self/records/{record_id}/{route}"
    expected = "AUTH_MISSING" if actor == "anonymous" else "SUBJECT_CREDENTIAL_MISSING"
    with client_for(served, actor, "A", world) as client:
        assert outcome(client.request("POST", path, body=body)) == (401, expected)
        if actor != "anonymous":
            headers = {HEADER_CREDENTIAL: credential_header(world.owner.credential)}
            assert outcome(client.request("POST", path, body=body, headers=headers)) == (403, "SUBJECT_KEY_MISMATCH")
    state = served.gateway.stack.ledger.state(bytes.fromhex(record_id[2:]))
    assert (state.status, state.repair_pending) == (RecordStatus.ACTIVE, False)


def test_a_member_holding_the_subject_s_credential_is_not_the_subject(served: Served, world: World) -> None:
    """A member that presents the subject's credential with its own key is refused SUBJECT_KEY_MISMATCH."""
    with served.client(LABELS["governor"]) as governor:
        headers = {HEADER_CREDENTIAL: credential_header(world.owner.credential)}
        status, body = outcome(governor.request("GET", "/v1/self/records", headers=headers))
    assert (status, body) == (403, "SUBJECT_KEY_MISMATCH")
