"""Reads over HTTP: records by class, proofs with selective disclosure, subjects, public disclosures, consents."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.orm import Session

from chain_client import ProofBundle, RecordProof, verify_bundle, verify_disclosure
from credit_client.client import GatewayClientError
from gateway.infra.storage import StoredRecord
from gateway.infra.storage.leaves import batch_tree, leaf_of
from tests.support.payloads import (
    INSPECTION,
    PENALTY,
    SAMR,
    SECRET_MARK,
    TAX,
    TAX_ARREARS,
    inspection,
    penalty,
    tax_arrears,
)
from tests.support.served import Served
from tests.support.subject_keys import bind_subject, consent_for
from tests.support.subjects import new_uscc, with_wrong_check

GOVERNOR = "governor-tianjin"
AUDITOR = "auditor-hebei"
OTHER_DEPARTMENT = "samr-tianjin"
PUBLIC_FIELDS = {"subjectName", "decisionNumber", "violation", "penalty", "decidedOn", "authority"}


def test_the_provider_reads_its_record_in_full(served: Served) -> None:
    """The record's own provider gets metadata, on-chain status and the whole payload."""
    subject = new_uscc()
    record = served.submit(SAMR, PENALTY, subject, penalty())
    served.wait_anchored(record)
    with served.client(SAMR) as client:
        view = client.record(record.record_id_hex, purpose="supervision")
    assert view["view"] == "full"
    assert view["payload"] == record.submission["payload"]
    assert view["subject"] == subject
    assert view["status"] == {"status": "ACTIVE", "repairPending": False, "supersededBy": None}
    assert view["anchoring"]["state"] == "anchored"
    assert view["catalog"]["code"] == PENALTY
    assert view["catalog"]["class"] == "A"
    assert isinstance(view["accessLogSequence"], int)


def test_a_member_without_a_read_role_sees_only_public_fields_of_class_a(served: Served) -> None:
    """A governor reads a class-A record's public fields, never its private ones."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    with served.client(GOVERNOR) as client:
        view = client.record(record.record_id_hex)
    assert view["view"] == "public"
    assert set(view["payload"]) == PUBLIC_FIELDS
    assert SECRET_MARK not in str(view)
    assert view["subject"] is None
    assert view["accessLogSequence"] is None


def test_class_c_is_for_providers_and_auditors(served: Served) -> None:
    """A class-C record: full to an auditor and another department, 403 ACCESS_ROLE_REQUIRED to a governor."""
    record = served.submit(SAMR, INSPECTION, new_uscc(), inspection())
    for label in (AUDITOR, OTHER_DEPARTMENT):
        with served.client(label) as client:
            assert client.record(record.record_id_hex)["payload"] == record.submission["payload"]
    with served.client(GOVERNOR) as client, pytest.raises(GatewayClientError) as caught:
        client.record(record.record_id_hex)
    assert (caught.value.status, caught.value.code) == (403, "ACCESS_ROLE_REQUIRED")
    assert SECRET_MARK not in str(caught.value.detail)


def test_class_b_needs_a_consent_for_the_member_and_purpose(served: Served) -> None:
    """Class B: 403 without consent, full with a consent for that purpose, 403 again once revoked."""
    subject = new_uscc()
    record = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    reader = served.account(OTHER_DEPARTMENT)
    with served.client(OTHER_DEPARTMENT) as client:
        with pytest.raises(GatewayClientError) as caught:
            client.record(record.record_id_hex, purpose="procurement")
        assert (caught.value.status, caught.value.code) == (403, "ACCESS_CONSENT_REQUIRED")
        with bind_subject(served, subject) as company:
            consent = client.create_consent(consent_for(served, company, OTHER_DEPARTMENT, "procurement"))
        assert consent["requester"] == reader.address
        view = client.record(record.record_id_hex, purpose="procurement")
        assert view["payload"] == record.submission["payload"]
        with pytest.raises(GatewayClientError) as other_purpose:
            client.record(record.record_id_hex, purpose="marketing")
        assert other_purpose.value.code == "ACCESS_CONSENT_REQUIRED"
        revoked = client.revoke_consent(consent["consentId"])
        assert revoked["revokedAt"] is not None
        with pytest.raises(GatewayClientError) as after:
            client.record(record.record_id_hex, purpose="procurement")
        assert after.value.code == "ACCESS_CONSENT_REQUIRED"


def test_an_auditor_also_needs_consent_for_class_b(served: Served) -> None:
    """Class B is by consent only, auditors included."""
    record = served.submit(TAX, TAX_ARREARS, new_uscc(), tax_arrears())
    with served.client(AUDITOR) as client, pytest.raises(GatewayClientError) as caught:
        client.record(record.record_id_hex)
    assert caught.value.code == "ACCESS_CONSENT_REQUIRED"


def test_consents_are_renounced_only_by_their_grantee(served: Served) -> None:
    """A member other than the grantee, a governor included, cannot end a subject's consent."""
    with bind_subject(served, new_uscc()) as company:
        body = consent_for(served, company, OTHER_DEPARTMENT, "procurement")
    with served.client(OTHER_DEPARTMENT) as client:
        consent = client.create_consent(body)
    for label in (SAMR, GOVERNOR):
        with served.client(label) as client, pytest.raises(GatewayClientError) as caught:
            client.revoke_consent(consent["consentId"])
        assert (caught.value.status, caught.value.code) == (403, "CONSENT_NOT_REGISTRANT")


def test_the_proof_bundle_verifies_against_the_chain_and_discloses_named_fields(served: Served) -> None:
    """GET .../proof gives a bundle that verifies online, disclosing exactly ?disclose= fields."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    served.wait_anchored(record)
    with served.client(SAMR) as client:
        plain = client.proof(record.record_id_hex)
        disclosed = client.proof(record.record_id_hex, disclose=["violation", "caseOfficer"])
    assert "disclosure" not in plain
    assert verify_bundle(plain, served.gateway.stack.chain).valid
    report = verify_bundle(disclosed, served.gateway.stack.chain)
    assert report.valid, report.failed
    assert report.current
    bundle = ProofBundle.from_json(disclosed)
    assert bundle.disclosure is not None
    assert {n: f.value for n, f in bundle.disclosure.fields.items()} == {
        "violation": "虚假宣传",
        "caseOfficer": SECRET_MARK,
    }
    assert verify_disclosure(bundle.leaf.content_hash, bundle.disclosure)


def test_a_public_viewer_may_disclose_only_public_fields(served: Served) -> None:
    """A governor gets public fields disclosed, and 403 for a private one or an unknown one alike."""
    record = served.submit(SAMR, PENALTY, new_uscc(), penalty())
    served.wait_anchored(record)
    with served.client(GOVERNOR) as client:
        assert verify_bundle(client.proof(record.record_id_hex, disclose=["violation"])).valid
        with pytest.raises(GatewayClientError) as private:
            client.proof(record.record_id_hex, disclose=["caseOfficer"])
        assert (private.value.status, private.value.code) == (403, "ACCESS_FIELD_NOT_PUBLIC")
        with pytest.raises(GatewayClientError) as unknown:
            client.proof(record.record_id_hex, disclose=["nope"])
        assert unknown.value.code == "ACCESS_FIELD_NOT_PUBLIC"


def test_a_proof_before_anchoring_is_409_and_an_unknown_record_404(served: Served) -> None:
    """Unknown records are 404 RECORD_NOT_FOUND; malformed ids 400."""
    with served.client(SAMR) as client:
        with pytest.raises(GatewayClientError) as missing:
            client.record("0x" + "ab" * 32)
        assert (missing.value.status, missing.value.code) == (404, "RECORD_NOT_FOUND")
        with pytest.raises(GatewayClientError) as malformed:
            client.record("0x1234")
        assert (malformed.value.status, malformed.value.code) == (400, "RECORD_ID_MALFORMED")


def test_subject_records_are_filtered_by_entitlement(served: Served) -> None:
    """GET /v1/subjects/{subject}/records lists what the member may see, by code, and nothing else."""
    subject = new_uscc()
    public = served.submit(SAMR, PENALTY, subject, penalty())
    shared = served.submit(SAMR, INSPECTION, subject, inspection())
    consented = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    served.submit(SAMR, PENALTY, new_uscc(), penalty())  # another subject
    served.wait_anchored(public, shared, consented)
    with served.client(AUDITOR) as client:
        listed = client.subject_records(subject)
    assert {r["recordId"] for r in listed["records"]} == {public.record_id_hex, shared.record_id_hex}
    with served.client(GOVERNOR) as client:
        listed = client.subject_records(subject.lower())
    assert [(r["recordId"], r["view"]) for r in listed["records"]] == [(public.record_id_hex, "public")]
    with served.client(TAX) as client:
        listed = client.subject_records(subject)
    assert {r["recordId"] for r in listed["records"]} == {
        public.record_id_hex,
        shared.record_id_hex,
        consented.record_id_hex,
    }


def test_a_malformed_subject_gets_its_code(served: Served) -> None:
    """Subject lookups validate the code's check character."""
    with served.client(SAMR) as client, pytest.raises(GatewayClientError) as caught:
        client.subject_records(with_wrong_check(new_uscc()))
    assert (caught.value.status, caught.value.code) == (422, "USCC_CHECK")


def test_public_disclosures_show_public_fields_of_public_records_only(served: Served) -> None:
    """The public endpoint serves class-A records in their window, public fields only, with proofs."""
    subject = new_uscc()
    current = served.submit(SAMR, PENALTY, subject, penalty())
    expired = served.submit(SAMR, PENALTY, subject, penalty(), issued_at=int(time.time()) - 1100 * 86_400)
    served.submit(SAMR, INSPECTION, subject, inspection())
    served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    served.wait_anchored(current, expired)
    with served.client() as anonymous:
        result = anonymous.disclosures(subject)
    assert [d["recordId"] for d in result["disclosures"]] == [current.record_id_hex]
    disclosure = result["disclosures"][0]
    assert set(disclosure["fields"]) == PUBLIC_FIELDS
    assert SECRET_MARK not in str(result)
    assert disclosure["status"] == "ACTIVE"
    report = verify_bundle(disclosure["bundle"], served.gateway.stack.chain)
    assert report.valid, report.failed
    bundle = ProofBundle.from_json(disclosure["bundle"])
    assert bundle.disclosure is not None
    assert set(bundle.disclosure.fields) == PUBLIC_FIELDS


def test_a_revoked_record_leaves_publicity_at_the_next_poll(served: Served) -> None:
    """After the provider revokes a record on chain itself (not through a gateway), the public
    endpoint no longer serves it once the index follower has passed the revocation's block."""
    subject = new_uscc()
    record = served.submit(SAMR, PENALTY, subject, penalty())
    served.wait_anchored(record)
    with served.client() as anonymous:
        assert len(anonymous.disclosures(subject)["disclosures"]) == 1
        with Session(served.gateway.engine) as session:
            row = session.get_one(StoredRecord, record.leaf.record_id)
            assert row.batch_id is not None
            assert row.leaf_index is not None
            tree, rows = batch_tree(session, row.batch_id)
            proof = RecordProof.from_tree(
                tree, [leaf_of(r) for r in rows], row.leaf_index, gateway=served.gateway.account.address
            )
        receipt = served.gateway.stack.ledger.revoke(served.account(SAMR), proof, b"\x05" * 32)
        served.gateway.poll_chain()  # the next poll, now rather than within chain_poll_interval_s
        assert served.gateway.index.position.block >= receipt["blockNumber"]
        assert anonymous.disclosures(subject)["disclosures"] == []
    with served.client(SAMR) as client:
        assert client.record(record.record_id_hex)["status"]["status"] == "REVOKED"


def test_the_public_catalog_lists_entries_with_their_schemas(served: Served) -> None:
    """GET /public/v1/catalog needs no signature and shows each entry's class, list and schema."""
    with served.client() as anonymous:
        catalog = anonymous.catalog()
    by_code = {e["code"]: e for e in catalog["entries"]}
    assert by_code[PENALTY]["class"] == "A"
    assert by_code[PENALTY]["list"] == "BLACK"
    assert by_code[TAX_ARREARS]["class"] == "B"
    assert by_code[INSPECTION]["class"] == "C"
    assert by_code[PENALTY]["schema"]["x-public-fields"]
