"""The subject as an actor (issue 16, point 1): consents come from the subject, over real HTTP.

A registrar-bound key signs the subject's consents; no member, governors included,
creates one without it. A revoked credential stops its consents at once. The subject
signed in with its key reads its own records in full and sees who read them.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from eth_account import Account

from chain_client import checksummed
from credit_client.client import GatewayClientError, GatewayDeployment
from credit_client.subject import SubjectClient, credential_header, sign_consent_body, subject_domain
from tests.support.payloads import INSPECTION, PENALTY, SAMR, TAX, TAX_ARREARS, inspection, penalty, tax_arrears
from tests.support.served import Served
from tests.support.subject_keys import bind_subject, consent_for
from tests.support.subjects import new_resident_id, new_uscc

READER = "court-hebei"
PURPOSE = "government-procurement-review"
TEN_YEARS_S = 10 * 365 * 86_400


def _class_b(served: Served) -> tuple[str, str]:
    """A fresh company with an anchored class-B record; (subject, recordId)."""
    subject = new_uscc()
    record = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    return subject, record.record_id_hex


def _read_code(served: Served, label: str, record_id: str, purpose: str = PURPOSE) -> str:
    with served.client(label) as client:
        try:
            return str(client.record(record_id, purpose=purpose)["view"])
        except GatewayClientError as exc:
            return exc.code


def _refused(action: object) -> tuple[int, str]:
    with pytest.raises(GatewayClientError) as caught:
        action()  # type: ignore[operator]
    return caught.value.status, caught.value.code


@pytest.mark.parametrize("label", ["governor-beijing", "samr-tianjin", "auditor-hebei"])
def test_a_member_cannot_grant_itself_class_b_consent(served: Served, label: str) -> None:
    """Finding 1: a member's self-registered consent (zero documentHash, ten years) is refused; class B stays closed."""
    subject, record_id = _class_b(served)
    assert _read_code(served, label, record_id) == "ACCESS_CONSENT_REQUIRED"
    old_style = {
        "subject": subject,
        "requester": served.account(label).address,
        "purpose": PURPOSE,
        "expiresAt": served.gateway.now() + TEN_YEARS_S,
        "documentHash": "0x" + "00" * 32,
    }
    with served.client(label) as client:
        assert _refused(lambda: client.call("POST", "/v1/consents", body=old_style)) == (422, "REQUEST_INVALID")
    # Signing the consent itself, with a credential it issued to its own key, does not help either.
    with bind_subject(served, subject, registrar=label, key=served.account(label)) as forged:
        body = consent_for(served, forged, label, PURPOSE)
    with served.client(label) as client:
        assert _refused(lambda: client.create_consent(body)) == (403, "SUBJECT_REGISTRAR_REQUIRED")
    assert _read_code(served, label, record_id) == "ACCESS_CONSENT_REQUIRED"


def test_a_governor_cannot_register_a_consent_for_another_member(served: Served) -> None:
    """A governor naming another member, with the subject's credential but its own signature, is refused."""
    subject, record_id = _class_b(served)
    with bind_subject(served, subject) as company:
        body = consent_for(served, company, READER, PURPOSE)
    governor = served.account("governor-beijing")
    forged = sign_consent_body(
        governor,
        company.credential,
        company.deployment(),
        grantee=served.account(READER).address,
        purpose=PURPOSE,
        expires_at=body["consent"]["expiresAt"],
    )
    with served.client("governor-beijing") as client:
        assert _refused(lambda: client.create_consent(forged)) == (403, "CONSENT_SIGNATURE_INVALID")
    assert _read_code(served, READER, record_id) == "ACCESS_CONSENT_REQUIRED"


def test_a_registrar_bound_key_grants_class_b_to_the_grantee_only(served: Served) -> None:
    """The subject's signed consent opens class B to its grantee for its purpose, and to no one else."""
    subject, record_id = _class_b(served)
    with bind_subject(served, subject) as company, served.client(READER) as reader:
        consent = reader.create_consent(consent_for(served, company, READER, PURPOSE))
        assert reader.record(record_id, purpose=PURPOSE)["view"] == "full"
    assert consent["subjectKey"] == company.key.address
    assert consent["registrar"] == served.account(SAMR).address
    assert consent["createdBy"] == served.account(READER).address
    assert _read_code(served, READER, record_id, purpose="marketing") == "ACCESS_CONSENT_REQUIRED"
    assert _read_code(served, "samr-tianjin", record_id) == "ACCESS_CONSENT_REQUIRED"


def test_a_person_binds_its_key_through_the_public_security_registrar(served: Served) -> None:
    """A resident's key, bound by the public-security bureau, gives a consent the subject registers itself."""
    with bind_subject(served, new_resident_id(), registrar="psb-beijing") as person:
        consent = person.give_consent(
            grantee=served.account(READER).address, purpose=PURPOSE, expires_at=served.gateway.now() + 3600
        )
        assert consent["createdBy"] == person.key.address
        assert [c["consentId"] for c in person.consents()["consents"]] == [consent["consentId"]]


def test_a_credential_from_a_non_registrar_or_with_a_forged_signature_is_refused(served: Served) -> None:
    """A department without the REGISTRAR role cannot bind keys, nor can anyone sign in a registrar's name."""
    subject = new_uscc()
    with bind_subject(served, subject, registrar=TAX) as company, served.client(READER) as reader:
        body = consent_for(served, company, READER, PURPOSE)
        assert _refused(lambda: reader.create_consent(body)) == (403, "SUBJECT_REGISTRAR_REQUIRED")
        assert _refused(company.records) == (403, "SUBJECT_REGISTRAR_REQUIRED")
    with bind_subject(served, subject, registrar=TAX) as company:
        forged = replace(
            company.credential,
            credential=replace(company.credential.credential, registrar=checksummed(served.account(SAMR).address)),
        )
        impostor = SubjectClient(served.url, company.key, forged)
    with impostor, served.client(READER) as reader:
        body = consent_for(served, impostor, READER, PURPOSE)
        assert _refused(lambda: reader.create_consent(body)) == (403, "SUBJECT_CREDENTIAL_INVALID")
        assert _refused(impostor.records) == (403, "SUBJECT_CREDENTIAL_INVALID")


def test_a_revoked_credential_stops_its_consents_at_once(served: Served) -> None:
    """Once the registrar revokes the credential on chain, the next read is refused; a new key re-binds."""
    subject, record_id = _class_b(served)
    with bind_subject(served, subject) as company, served.client(READER) as reader:
        reader.create_consent(consent_for(served, company, READER, PURPOSE))
        assert reader.record(record_id, purpose=PURPOSE)["view"] == "full"
        digest = company.credential.credential.digest(subject_domain(company.deployment()))
        served.gateway.stack.subject_keys.revoke(served.account(SAMR), digest)
        assert _refused(lambda: reader.record(record_id, purpose=PURPOSE)) == (403, "ACCESS_CONSENT_REQUIRED")
        late = consent_for(served, company, READER, "loan-review")
        assert _refused(lambda: reader.create_consent(late)) == (403, "SUBJECT_CREDENTIAL_REVOKED")
        assert _refused(company.records) == (403, "SUBJECT_CREDENTIAL_REVOKED")
    with bind_subject(served, subject) as rebound, served.client(READER) as reader:
        reader.create_consent(consent_for(served, rebound, READER, PURPOSE))
        assert reader.record(record_id, purpose=PURPOSE)["view"] == "full"


def test_a_consent_longer_than_a_year_is_refused(served: Served) -> None:
    """The finding's ten-year expiry, and any beyond one year, is refused even when the subject signed it."""
    with bind_subject(served, new_uscc()) as company, served.client(READER) as reader:
        for lifetime in (TEN_YEARS_S, 367 * 86_400):
            body = consent_for(served, company, READER, PURPOSE, lifetime_s=lifetime)
            assert _refused(lambda b=body: reader.create_consent(b)) == (422, "CONSENT_TOO_LONG")
        assert reader.create_consent(consent_for(served, company, READER, PURPOSE, lifetime_s=365 * 86_400))


def test_a_replayed_consent_is_refused(served: Served) -> None:
    """A signed consent registers once; another consent reusing its nonce is refused too."""
    with bind_subject(served, new_uscc()) as company, served.client(READER) as reader:
        nonce = os.urandom(32)
        body = consent_for(served, company, READER, PURPOSE, nonce=nonce)
        reader.create_consent(body)
        assert _refused(lambda: reader.create_consent(body)) == (409, "CONSENT_REPLAYED")
        again = consent_for(served, company, READER, "loan-review", nonce=nonce)
        assert _refused(lambda: reader.create_consent(again)) == (409, "CONSENT_REPLAYED")


@pytest.mark.parametrize("audience", ["chain", "consortium"])
def test_a_consent_for_another_audience_is_refused(served: Served, audience: str) -> None:
    """A consent naming another chain id or another consortium is refused."""
    with bind_subject(served, new_uscc()) as company, served.client(READER) as reader:
        deployment = company.deployment()
        if audience == "chain":
            elsewhere = GatewayDeployment(deployment.chain_id + 1, deployment.contracts)
        else:
            elsewhere = GatewayDeployment(
                deployment.chain_id, {**deployment.contracts, "Consortium": Account.create().address}
            )
        body = sign_consent_body(
            company.key,
            company.credential,
            elsewhere,
            grantee=served.account(READER).address,
            purpose=PURPOSE,
            expires_at=served.gateway.now() + 3600,
        )
        assert _refused(lambda: reader.create_consent(body)) == (403, "CONSENT_AUDIENCE_MISMATCH")


def test_the_subject_withdraws_its_consent_and_only_it_can(served: Served) -> None:
    """The subject's signed withdrawal ends the grantee's reads; another subject's key cannot withdraw it."""
    subject, record_id = _class_b(served)
    with bind_subject(served, subject) as company, served.client(READER) as reader:
        consent = reader.create_consent(consent_for(served, company, READER, PURPOSE))
        with bind_subject(served, new_uscc()) as stranger:
            assert _refused(lambda: stranger.withdraw_consent(consent["consentId"])) == (403, "CONSENT_NOT_SUBJECT")
        assert reader.record(record_id, purpose=PURPOSE)["view"] == "full"
        assert company.withdraw_consent(consent["consentId"])["revokedAt"] is not None
        assert _refused(lambda: reader.record(record_id, purpose=PURPOSE)) == (403, "ACCESS_CONSENT_REQUIRED")


def test_the_subject_reads_its_own_records_in_full_and_who_read_them(served: Served) -> None:
    """自查: every class in full, and the access log naming the reader, the time and the purpose."""
    subject = new_uscc()
    made = {
        "A": served.submit(SAMR, PENALTY, subject, penalty()),
        "B": served.submit(TAX, TAX_ARREARS, subject, tax_arrears()),
        "C": served.submit(SAMR, INSPECTION, subject, inspection()),
    }
    with bind_subject(served, subject) as company, served.client(READER) as reader:
        consent = reader.create_consent(consent_for(served, company, READER, PURPOSE))
        reader.record(made["B"].record_id_hex, purpose=PURPOSE)
        mine = company.records()
        log = company.access_log()
    assert {r["recordId"]: (r["view"], r["payload"]) for r in mine["records"]} == {
        m.record_id_hex: ("full", m.submission["payload"]) for m in made.values()
    }
    assert all(r["subject"] == subject for r in mine["records"])
    court_reads = [e for e in log["entries"] if e["requester"] == served.account(READER).address]
    assert [(e["recordId"], e["purpose"], e["consentId"]) for e in court_reads] == [
        (made["B"].record_id_hex, PURPOSE, consent["consentId"])
    ]
    assert court_reads[0]["requesterName"] == "河北省高级人民法院 (Hebei high court)"
    assert court_reads[0]["releasedAt"] > 0
    assert {e["recordId"] for e in log["entries"]} <= {m.record_id_hex for m in made.values()}


def test_a_subject_cannot_read_another_subject_s_records(served: Served) -> None:
    """A subject's key sees only its own records: not with another's credential, nor through member routes."""
    other = new_uscc()
    theirs = served.submit(SAMR, INSPECTION, other, inspection())
    with bind_subject(served, new_uscc()) as company, bind_subject(served, other) as owner:
        assert company.records()["records"] == []
        assert company.access_log()["entries"] == []
        stolen = SubjectClient(served.url, company.key, owner.credential)
        with stolen:
            assert _refused(stolen.records) == (403, "SUBJECT_KEY_MISMATCH")
        member_route = company._client.request("GET", f"/v1/subjects/{other}/records")
        assert (member_route.status_code, member_route.json()["code"]) == (403, "AUTH_NOT_MEMBER")
        direct = company._client.request(
            "GET",
            f"/v1/records/{theirs.record_id_hex}",
            headers={"X-CL-Subject-Credential": credential_header(company.credential)},
        )
        assert (direct.status_code, direct.json()["code"]) == (403, "AUTH_NOT_MEMBER")


def test_self_routes_need_the_credential(served: Served) -> None:
    """A signed request without X-CL-Subject-Credential, a member's included, is refused at /v1/self."""
    with served.client(SAMR) as member:
        response = member.request("GET", "/v1/self/records")
    assert (response.status_code, response.json()["code"]) == (401, "SUBJECT_CREDENTIAL_MISSING")


def test_an_expired_credential_binds_nothing(served: Served) -> None:
    """A credential past its expiresAt is refused at sign-in and for new consents."""
    now = served.gateway.now()
    with bind_subject(served, new_uscc(), issued_at=now - 7200, lifetime_s=3600) as company:
        assert _refused(company.records) == (403, "SUBJECT_CREDENTIAL_EXPIRED")
        body = consent_for(served, company, READER, PURPOSE)
    with served.client(READER) as reader:
        assert _refused(lambda: reader.create_consent(body)) == (403, "SUBJECT_CREDENTIAL_EXPIRED")


def test_a_malformed_credential_header_is_refused(served: Served) -> None:
    """A credential header that is not a subject-credential@1 document is refused before anything is read."""
    with bind_subject(served, new_uscc()) as company:
        for value in ("not base64 at all!", credential_header(company.credential)[:-8], "e30"):
            response = company._client.request("GET", "/v1/self/records", headers={"X-CL-Subject-Credential": value})
            assert (response.status_code, response.json()["code"]) == (403, "SUBJECT_CREDENTIAL_INVALID")


def test_a_withdrawal_must_carry_the_subject_s_signature(served: Served) -> None:
    """A withdrawal signed by another key, even sent with the subject's own request, leaves the consent in force."""
    subject, record_id = _class_b(served)
    with bind_subject(served, subject) as company, served.client(READER) as reader:
        consent = reader.create_consent(consent_for(served, company, READER, PURPOSE))
        path = f"/v1/self/consents/{consent['consentId']}/withdrawal"
        forged = {
            "signature": "0x" + Account.create().unsafe_sign_hash(os.urandom(32)).signature.hex().removeprefix("0x")
        }
        assert _refused(lambda: company.call("POST", path, body=forged)) == (403, "CONSENT_SIGNATURE_INVALID")
        assert reader.record(record_id, purpose=PURPOSE)["view"] == "full"
