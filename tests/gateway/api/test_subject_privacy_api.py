"""Subject references that do not reveal subjects (issue 16, finding 6 and point 4), over HTTP.

A chain reader used to see the stable subjectRef in record leaves and in objection, repair
and commitment events, so one subject's events linked to each other and, through a public
(class A) record, to the subject. Leaves and events now carry a subjectTag blinded per
record, which a test below looks for in every transaction and log of the chain. The public
disclosure lookup used to answer the subjectRef of any valid id, unlimited: a resident id
behind an on-chain objection fell to a few hundred guesses. Now the public lookup answers a
subjectRef only with public records and is rate-limited per client; departments ask their
gateway for subjectRefs (registered) instead of holding the subject key; and members'
queries by subject id are registered for auditors.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chain_client import catalog_id, subject_tag
from credit_client.client import GatewayClientError, prepare_record
from gateway.infra.settings import Settings
from gateway.infra.subject_ids import parse_subject
from tests.support.payloads import PENALTY, SAMR, TAX, TAX_ARREARS, penalty, tax_arrears
from tests.support.served import Served, serve_gateway
from tests.support.subjects import new_resident_id, new_uscc

LIMIT = 6
AUDITOR = "auditor-hebei"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway whose public lookups are limited to LIMIT a minute per client."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("privacy"),
        batch_interval_s=0.1,
        chain_poll_interval_s=0.2,
        public_lookups_per_minute=LIMIT,
    )
    with serve_gateway(settings) as running:
        yield running


def test_the_subject_behind_an_on_chain_objection_cannot_be_guessed_through_the_public_api(served: Served) -> None:
    """The 418-guess attack: the objection event's subjectRef is on chain; the public lookup answers no subjectRef
    for an id without public records, so the right guess looks like every wrong one; and guessing is limited."""
    subject = new_uscc()
    record = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())  # class B: nothing public
    served.wait_anchored(record)
    with served.client(TAX) as provider:
        provider.file_objection(record.record_id_hex, b"\x0b" * 32)
    ledger = served.gateway.stack.chain.contract("CreditLedger", served.gateway.stack.ledger.address)
    (event,) = [
        e
        for e in ledger.events.ObjectionFiled().get_logs(from_block=0)
        if e["args"]["recordId"] == record.leaf.record_id
    ]
    on_chain = "0x" + bytes(event["args"]["subjectTag"]).hex()

    guesses = [new_uscc() for _ in range(LIMIT - 1)] + [subject]
    with served.client() as public:
        answers = [public.disclosures(guess) for guess in guesses]
        # asOfBlock is the index's block, the same whatever the subject asked about.
        assert all(answer.pop("asOfBlock") >= 0 for answer in answers)
        assert all(answer == {"subjectRef": None, "disclosures": [], "integrityFailures": []} for answer in answers)
        assert on_chain not in str(answers)
        with pytest.raises(GatewayClientError) as limited:
            public.disclosures(new_uscc())
    assert (limited.value.status, limited.value.code) == (429, "RATE_LIMITED")
    assert limited.value.detail["retryAfter"] >= 1


def test_a_department_prepares_records_without_the_subject_key_and_every_lookup_is_registered(
    served: Served,
) -> None:
    """POST /v1/subject-refs answers a PROVIDER the subjectRef to sign with; the record it signs is accepted; the
    lookup, and a member's query of the subject's records, are registered for auditors; others get no refs."""
    subject = new_uscc()
    department = served.account(SAMR)
    with served.client(SAMR) as client:
        answer = client.call("POST", "/v1/subject-refs", body={"subjects": [subject, "91110108MA01C5XL6X"]})
        good, bad = answer["subjects"]
        assert (good["subject"], bad["subjectRef"], bad["code"]) == (subject, None, "USCC_CHECK")
        record = prepare_record(
            department,
            served.gateway.stack.ledger.domain,
            catalog_code=PENALTY,
            catalog_version=served.gateway.view.entry(catalog_id(PENALTY)).version,
            subject=subject,
            payload=penalty(),
            subject_ref=client.subject_ref(subject),
            issued_at=served.gateway.now(),
        )
        salt = bytes.fromhex(record.submission["subjectSalt"][2:])
        assert record.leaf.subject_tag == subject_tag(bytes.fromhex(good["subjectRef"][2:]), salt)
        assert client.submit_record(record.submission)["accepted"] == 1
        client.subject_records(subject, purpose="supervision")
    with served.client(AUDITOR) as auditor:
        registered = auditor.call("GET", "/v1/access-log/lookups", params=[("subject", subject)])["lookups"]
        with pytest.raises(GatewayClientError) as refused:
            auditor.call("POST", "/v1/subject-refs", body={"subjects": [subject]})
    assert refused.value.code == "ACCESS_ROLE_REQUIRED"
    assert [(r["requester"], r["kind"]) for r in registered] == [
        (department.address, "subject-ref"),
        (department.address, "subject-ref"),
        (department.address, "records"),
    ]
    assert registered[-1]["purpose"] == "supervision"


def test_a_registrar_binds_a_person_without_the_subject_key(served: Served) -> None:
    """The public-security REGISTRAR (no PROVIDER role) asks for the subjectRef it binds a key to; registered."""
    person = new_resident_id()
    with served.client("psb-beijing") as registrar:
        ref = registrar.subject_ref(person, purpose="key binding")
    assert ref == served.gateway.subject_ref(parse_subject(person))
    with served.client(AUDITOR) as auditor:
        (registered,) = auditor.call("GET", "/v1/access-log/lookups", params=[("subject", person)])["lookups"]
    assert (registered["requester"], registered["kind"], registered["purpose"]) == (
        served.account("psb-beijing").address,
        "subject-ref",
        "key binding",
    )


def test_nothing_on_chain_links_a_public_subject_to_its_other_records_and_events(served: Served) -> None:
    """Point 4, on chain: a company with a public penalty (its subjectRef shown by the public lookup), a class-B
    record it objects to and a commitment. No transaction or log holds its subjectRef, and the three records'
    and the commitment's subjectTags differ, so a chain reader cannot tell they are one subject's."""
    subject = new_uscc()
    public = served.submit(SAMR, PENALTY, subject, penalty())
    hidden = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    again = served.submit(TAX, TAX_ARREARS, subject, tax_arrears())
    served.wait_anchored(public, hidden, again)
    with served.client(TAX) as provider:
        provider.file_objection(hidden.record_id_hex, b"\x0c" * 32)
        commitment = provider.record_commitment(
            subject=subject, kind="notification", doc_hash=b"\x0d" * 32, working_days=20
        )
    subject_ref = served.gateway.subject_ref(parse_subject(subject))  # what the public lookup shows of it ...

    chain = served.gateway.stack.chain
    on_chain = bytearray()
    for number in range(chain.block_number() + 1):
        block = chain.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            on_chain += bytes(tx.get("input") or tx["data"])  # type: ignore[union-attr, index]
            for log in chain.w3.eth.get_transaction_receipt(tx["hash"])["logs"]:  # type: ignore[index]
                on_chain += b"".join(bytes(topic) for topic in log["topics"]) + bytes(log["data"])
    assert subject_ref not in on_chain  # ... and nothing on chain holds it
    tags = {
        hidden.leaf.subject_tag,
        again.leaf.subject_tag,
        public.leaf.subject_tag,
        bytes.fromhex(str(commitment["subjectTag"])[2:]),
    }
    assert len(tags) == 4
    # The objection and the commitment are on chain, each under a tag of its own.
    assert hidden.leaf.subject_tag in on_chain
    assert bytes.fromhex(str(commitment["subjectTag"])[2:]) in on_chain
