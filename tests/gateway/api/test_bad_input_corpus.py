"""The bad-input corpus: every kind of input the gateway refuses, each with its documented code, nothing stored.

One table lists them all, by name: malformed subject codes and record ids, wrong check
characters, oversized payloads and bodies, wrong content types, bad signatures (of the
request and of the record), stale timestamps, replayed nonces, unknown catalog entries,
schema violations, and records from a suspended member. Some are also tested where
their feature is (test_records_api, test_auth_api); this is the one place listing them.

Each case is sent over real HTTP to this module's own gateway and chain. Refused, it
leaves no record, outbox entry, consent or access-log entry. A request that passed
authentication (signature, time window, nonce, membership) has used up its nonce, as
`gateway.api.deps.current_member` says, so the same signed bytes cannot act later: that
row is the one thing it leaves. A request refused before that leaves nothing at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain_client import Role, devnet_for
from gateway.infra.request_auth import HEADER_ADDRESS, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign_request
from gateway.infra.settings import Settings
from tests.support.corpus import nonce_used, stored_rows
from tests.support.payloads import PENALTY, SAMR, TAX, TAX_ARREARS, TJ_PENALTY, penalty, tax_arrears, tianjin_penalty
from tests.support.served import Served, serve_gateway, wait_until
from tests.support.subjects import new_resident_id, new_uscc, with_wrong_check

SAMR_TIANJIN = "samr-tianjin"  # suspended by the cases that need it: nobody else here signs as it
MAX_BODY_BYTES = 256 * 1024  # above the 64 KiB payload limit, small enough to send in a test
RECORDS = "/v1/records"

Builder = Callable[[Served], httpx.Request]
Query = tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """This module's own gateway and chain (a suspension here stays here), bodies limited to 256 KiB."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("corpus"),
        batch_interval_s=0.1,
        chain_poll_interval_s=0.2,
        max_body_bytes=MAX_BODY_BYTES,
    )
    with serve_gateway(settings) as running:
        yield running


# --------------------------------------------------------------- building requests


def as_json(document: Any) -> bytes:
    """A document as the client sends it."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signed(
    served: Served,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    account: LocalAccount | None = None,
    params: Query = (),
    content_type: str | None = "application/json",
    skew_s: int = 0,
    nonce: str | None = None,
) -> httpx.Request:
    """A request signed as a member (samr-beijing unless told), its clock skew_s seconds off."""
    account = account or served.account(SAMR)
    headers = sign_request(
        account,
        method,
        path,
        params,
        body,
        audience=served.gateway.audience,
        timestamp=int(time.time()) + skew_s,
        nonce=nonce,
    )
    if content_type is not None and body:
        headers["content-type"] = content_type
    return httpx.Request(method, served.url + path, params=list(params), content=body, headers=headers)


def with_headers(request: httpx.Request, changes: dict[str, str]) -> httpx.Request:
    """The same request with some headers replaced (each sent once)."""
    headers = dict(request.headers.items()) | {name.lower(): value for name, value in changes.items()}
    return httpx.Request(request.method, request.url, headers=headers, content=request.content)


def send(request: httpx.Request) -> httpx.Response:
    """Send one request over HTTP."""
    with httpx.Client(timeout=60) as client:
        return client.send(request)


def a_penalty(served: Served, **kwargs: Any) -> dict[str, Any]:
    """A valid penalty record of samr-beijing for a fresh subject, as submitted."""
    return served.prepare(SAMR, PENALTY, new_uscc(), penalty(), **kwargs).submission


def record_with(change: Callable[[dict[str, Any]], object]) -> Builder:
    """Submit samr-beijing's valid penalty record after one change."""

    def build(served: Served) -> httpx.Request:
        submission = a_penalty(served)
        change(submission)
        return signed(served, "POST", RECORDS, as_json(submission))

    return build


def submit(make: Callable[[Served], Any], *, label: str = SAMR, atomic: bool = False) -> Builder:
    """Submit what make builds, signed as a member."""

    def build(served: Served) -> httpx.Request:
        params = (("atomic", "true"),) if atomic else ()
        return signed(served, "POST", RECORDS, as_json(make(served)), account=served.account(label), params=params)

    return build


def good_record_sent(tamper: Callable[[Served, httpx.Request], httpx.Request]) -> Builder:
    """A valid record, signed, then changed in transit: accepted, it would be stored."""

    def build(served: Served) -> httpx.Request:
        return tamper(served, signed(served, "POST", RECORDS, as_json(a_penalty(served))))

    return build


def good_record_signed(**kwargs: Any) -> Builder:
    """A valid record whose request is signed with these options (clock skew, nonce, content type)."""

    def build(served: Served) -> httpx.Request:
        return signed(served, "POST", RECORDS, as_json(a_penalty(served)), **kwargs)

    return build


def body(raw: bytes) -> Builder:
    """A signed POST /v1/records with exactly this JSON body."""
    return lambda served: signed(served, "POST", RECORDS, raw)


def read(path: Callable[[], str], *, params: Callable[[], Query] = tuple, sign: bool = True) -> Builder:
    """A GET of a path (and query), signed as samr-beijing or anonymous."""

    def build(served: Served) -> httpx.Request:
        if sign:
            return signed(served, "GET", path(), params=params())
        return httpx.Request("GET", served.url + path(), params=list(params()))

    return build


def replayed(first: Builder) -> Builder:
    """Send a request once (it succeeds), then the same bytes and headers again."""

    def build(served: Served) -> httpx.Request:
        request = first(served)
        assert send(request).status_code == 200
        return httpx.Request(request.method, request.url, headers=request.headers, content=request.content)

    return build


def chunked(request: httpx.Request) -> httpx.Request:
    """The same request sent chunked, without a Content-Length."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return httpx.Request(request.method, request.url, headers=headers, content=iter([request.content]))


def suspend(served: Served, label: str) -> LocalAccount:
    """Suspend a member through governance (once) and wait until the gateway has seen it."""
    account = served.account(label)
    view = served.gateway.view
    if view.roles(account.address):
        stack = served.gateway.stack
        governors = [d.account for d in devnet_for(stack.chain.chain_id).with_role(Role.GOVERNOR)]
        stack.consortium.govern(governors[:2], stack.consortium.suspend_call(account.address))
        poll = served.gateway.settings.chain_poll_interval_s
        wait_until(lambda: not view.roles(account.address), timeout=poll * 5 + 5, what=f"{label} suspended")
    return account


def suspended_submits(served: Served) -> httpx.Request:
    """samr-tianjin, suspended, submits a valid record of its own entry."""
    account = suspend(served, SAMR_TIANJIN)
    record = served.prepare(SAMR_TIANJIN, TJ_PENALTY, new_uscc("120101"), tianjin_penalty())
    return signed(served, "POST", RECORDS, as_json(record.submission), account=account)


def suspended_reads(served: Served) -> httpx.Request:
    """samr-tianjin, suspended, reads a subject's records."""
    return signed(served, "GET", f"/v1/subjects/{new_uscc()}/records", account=suspend(served, SAMR_TIANJIN))


def forged_by_another_key(served: Served, request: httpx.Request) -> httpx.Request:
    """Signed by a stranger's key, claiming samr-beijing's address."""
    forged = sign_request(
        Account.create(),
        "POST",
        RECORDS,
        [],
        request.content,
        audience=served.gateway.audience,
        timestamp=int(time.time()),
    )
    return with_headers(request, {HEADER_SIGNATURE: forged[HEADER_SIGNATURE], HEADER_NONCE: forged[HEADER_NONCE]})


def header_is(name: str, value: str) -> Callable[[Served, httpx.Request], httpx.Request]:
    """One signed header replaced in transit."""
    return lambda _served, request: with_headers(request, {name: value})


def body_swapped(served: Served, request: httpx.Request) -> httpx.Request:
    """The signed headers of one record, the body of another."""
    other = as_json(a_penalty(served))
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return httpx.Request("POST", request.url, headers=headers, content=other)


def query_added(served: Served, request: httpx.Request) -> httpx.Request:
    """?atomic=true added after signing."""
    return httpx.Request(
        "POST", request.url.copy_add_param("atomic", "true"), headers=request.headers, content=request.content
    )


def subject_is(subject: str | Callable[[], str]) -> Builder:
    """samr-beijing's valid penalty record, for another subject."""
    return record_with(lambda s: s.update(subject=subject() if callable(subject) else subject))


def fields_are(**fields: Any) -> Builder:
    """samr-beijing's valid penalty record with some fields replaced."""
    return record_with(lambda s: s.update(fields))


def payload_with(**fields: Any) -> Builder:
    """samr-beijing's valid penalty record with payload fields replaced or added after signing."""
    return record_with(lambda s: s["payload"].update(fields))


def payload_without(name: str) -> Builder:
    """samr-beijing's valid penalty record with a payload field taken out after signing."""
    return record_with(lambda s: s["payload"].pop(name))


def changed_without_hashes(submission: dict[str, Any]) -> None:
    """The payload changed after signing, with no contentHash or recordId to give it away before the signature."""
    del submission["contentHash"], submission["recordId"]
    submission["payload"]["violation"] = "无"


def tax_record_by_samr(served: Served) -> dict[str, Any]:
    """tax-beijing's record, which samr-beijing then submits."""
    return served.prepare(TAX, TAX_ARREARS, new_uscc(), tax_arrears()).submission


def penalty_by_tax(served: Served) -> dict[str, Any]:
    """A penalty record signed by tax-beijing, which is not the entry's source."""
    return served.prepare(TAX, PENALTY, new_uscc(), penalty()).submission


def issued_in_an_hour(served: Served) -> dict[str, Any]:
    """A record issued an hour from now on the chain's clock."""
    return a_penalty(served, issued_at=served.gateway.now() + 3600)


def bulk_of_bad_records(served: Served) -> dict[str, Any]:
    """A bulk whose every record is bad: a wrong check character and a schema violation."""
    wrong_check = a_penalty(served)
    wrong_check["subject"] = with_wrong_check(wrong_check["subject"])
    flogging = served.prepare(SAMR, PENALTY, new_uscc(), penalty(penalty={"kind": "flogging"})).submission
    return {"records": [wrong_check, flogging]}


def atomic_bulk_one_forged(served: Served) -> dict[str, Any]:
    """A good record and one carrying the other's signature."""
    good, forged = a_penalty(served), a_penalty(served)
    forged["signature"] = good["signature"]
    return {"records": [good, forged]}


def unsigned_record(served: Served) -> httpx.Request:
    """A valid record sent without the X-CL-* headers."""
    content = as_json(a_penalty(served))
    return httpx.Request("POST", served.url + RECORDS, content=content, headers={"content-type": "application/json"})


def by_a_stranger(served: Served) -> httpx.Request:
    """A valid record in a request signed by a key that is no member."""
    return signed(served, "POST", RECORDS, as_json(a_penalty(served)), account=Account.create())


def oversized_chunked(served: Served) -> httpx.Request:
    """A signed body over the limit, sent chunked: no Content-Length for the middleware to refuse."""
    return chunked(payload_with(caseOfficer="x" * MAX_BODY_BYTES)(served))


def public_disclosures(subject: Callable[[], str]) -> Builder:
    """An anonymous GET /public/v1/disclosures?subject=."""
    return read(lambda: "/public/v1/disclosures", params=lambda: (("subject", subject()),), sign=False)


# ------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class BadInput:
    """One kind of bad input: how to send it, and the refusal it gets."""

    name: str
    build: Builder
    status: int
    codes: tuple[str, ...]  # the error's code; for a bulk, each record's code
    authenticated: bool  # passed authentication, so its nonce is used up


def authenticated(name: str, build: Builder, refusal: str) -> BadInput:
    """A request that passes authentication and is refused after: "STATUS CODE [CODE...]"."""
    status, *codes = refusal.split()
    return BadInput(name, build, int(status), tuple(codes), authenticated=True)


def unauthenticated(name: str, build: Builder, refusal: str) -> BadInput:
    """A request refused before or at authentication: "STATUS CODE"."""
    status, *codes = refusal.split()
    return BadInput(name, build, int(status), tuple(codes), authenticated=False)


CORPUS = [
    # Malformed subject codes and record ids.
    authenticated("uscc-too-short", subject_is("91110108MA01C5XL6"), "422 USCC_LENGTH"),
    authenticated("uscc-letter-i", subject_is("9111010IMA01C5XL6R"), "422 USCC_CHARSET"),
    authenticated("uscc-division-not-digits", subject_is("91A10108MA01C5XL6R"), "422 USCC_DIVISION"),
    # 17 digits and a check character may be either kind: without a real birth date, one
    # valid as neither is SUBJECT_ID_INVALID, the reason under each standard in its detail.
    authenticated("resident-id-no-such-date", subject_is("11010519900230001X"), "422 SUBJECT_ID_INVALID"),
    authenticated("resident-id-letter", subject_is("11010519900307001A"), "422 SUBJECT_ID_INVALID"),
    authenticated(
        "subject-in-path-malformed", read(lambda: "/v1/subjects/9111010IMA01C5XL6R/records"), "422 USCC_CHARSET"
    ),
    unauthenticated("public-subject-too-short", public_disclosures(lambda: "9111"), "422 REQUEST_INVALID"),
    authenticated("record-id-malformed", read(lambda: "/v1/records/0x1234"), "400 RECORD_ID_MALFORMED"),
    authenticated("record-id-unknown", read(lambda: "/v1/records/0x" + "ab" * 32), "404 RECORD_NOT_FOUND"),
    # Wrong check characters.
    authenticated("uscc-wrong-check", subject_is(lambda: with_wrong_check(new_uscc())), "422 USCC_CHECK"),
    authenticated("resident-id-wrong-check", subject_is(lambda: with_wrong_check(new_resident_id())), "422 RID_CHECK"),
    authenticated(
        "subject-in-path-wrong-check",
        read(lambda: f"/v1/subjects/{with_wrong_check(new_uscc())}/measures"),
        "422 USCC_CHECK",
    ),
    unauthenticated(
        "public-subject-wrong-check", public_disclosures(lambda: with_wrong_check(new_uscc())), "422 USCC_CHECK"
    ),
    authenticated("uscc-all-digits-wrong-check", subject_is("914403001922038217"), "422 SUBJECT_ID_INVALID"),
    unauthenticated(
        "public-subject-all-digits-wrong-check",
        public_disclosures(lambda: "914403001922038217"),
        "422 SUBJECT_ID_INVALID",
    ),
    # Oversized payloads and bodies.
    authenticated("payload-over-64-kib", payload_with(caseOfficer="x" * 70_000), "413 RECORD_PAYLOAD_TOO_LARGE"),
    unauthenticated("body-over-limit", payload_with(caseOfficer="x" * MAX_BODY_BYTES), "413 BODY_TOO_LARGE"),
    # Counted as it arrives, once the signer checked out from the headers (its nonce is used).
    authenticated("body-over-limit-chunked", oversized_chunked, "413 BODY_TOO_LARGE"),
    authenticated("bulk-over-10000", body(as_json({"records": [{}] * 10_001})), "413 BULK_TOO_LARGE"),
    # Wrong content types, and bodies that are not records.
    unauthenticated("content-type-text", good_record_signed(content_type="text/plain"), "415 CONTENT_TYPE_UNSUPPORTED"),
    unauthenticated(
        "content-type-form",
        good_record_signed(content_type="application/x-www-form-urlencoded"),
        "415 CONTENT_TYPE_UNSUPPORTED",
    ),
    unauthenticated("content-type-missing", good_record_signed(content_type=None), "415 CONTENT_TYPE_UNSUPPORTED"),
    authenticated("body-not-json", body(b"{not json"), "400 BODY_NOT_JSON"),
    authenticated("body-not-utf8", body(b"\xff\xfe{}"), "400 BODY_NOT_JSON"),
    authenticated("body-json-array", body(b"[1, 2]"), "422 REQUEST_INVALID"),
    authenticated("bulk-empty", body(b'{"records": []}'), "422 REQUEST_INVALID"),
    # Bad signatures: of the request, and of the record.
    unauthenticated("request-unsigned", unsigned_record, "401 AUTH_MISSING"),
    unauthenticated("request-signed-by-another-key", good_record_sent(forged_by_another_key), "401 AUTH_BAD_SIGNATURE"),
    # The signer checks out from the headers (its nonce is used); the body then is not the one signed.
    authenticated("request-body-changed", good_record_sent(body_swapped), "401 AUTH_BODY_MISMATCH"),
    unauthenticated("request-query-changed", good_record_sent(query_added), "401 AUTH_BAD_SIGNATURE"),
    unauthenticated(
        "request-signature-not-hex", good_record_sent(header_is(HEADER_SIGNATURE, "0x1234")), "401 AUTH_MALFORMED"
    ),
    unauthenticated(
        "request-address-malformed", good_record_sent(header_is(HEADER_ADDRESS, SAMR)), "401 AUTH_MALFORMED"
    ),
    unauthenticated("request-nonce-malformed", good_record_signed(nonce="short"), "401 AUTH_BAD_NONCE"),
    unauthenticated("request-by-a-stranger", by_a_stranger, "403 AUTH_NOT_MEMBER"),
    authenticated("record-signature-wrong", fields_are(signature="0x" + "44" * 65), "422 RECORD_BAD_SIGNATURE"),
    authenticated("record-of-another-provider", submit(tax_record_by_samr), "403 RECORD_PROVIDER_MISMATCH"),
    authenticated(
        "record-content-hash-wrong", fields_are(contentHash="0x" + "11" * 32), "422 RECORD_CONTENT_HASH_MISMATCH"
    ),
    authenticated("record-payload-changed", payload_with(violation="无"), "422 RECORD_CONTENT_HASH_MISMATCH"),
    authenticated("record-payload-changed-no-hashes", record_with(changed_without_hashes), "422 RECORD_BAD_SIGNATURE"),
    authenticated("record-id-wrong", fields_are(recordId="0x" + "22" * 32), "422 RECORD_ID_MISMATCH"),
    authenticated(
        "record-supersedes-unknown", fields_are(supersedes="0x" + "33" * 32), "422 RECORD_SUPERSEDES_UNKNOWN"
    ),
    # Stale timestamps.
    unauthenticated("request-an-hour-old", good_record_signed(skew_s=-3600), "401 AUTH_STALE"),
    unauthenticated("request-an-hour-ahead", good_record_signed(skew_s=3600), "401 AUTH_STALE"),
    unauthenticated(
        "request-timestamp-not-a-number", good_record_sent(header_is(HEADER_TIMESTAMP, "soon")), "401 AUTH_MALFORMED"
    ),
    authenticated("record-issued-in-an-hour", submit(issued_in_an_hour), "422 RECORD_ISSUED_AT_INVALID"),
    # Replayed nonces.
    unauthenticated("replayed-read", replayed(read(lambda: f"/v1/subjects/{new_uscc()}/records")), "401 AUTH_REPLAYED"),
    unauthenticated("replayed-submission", replayed(good_record_signed()), "401 AUTH_REPLAYED"),
    # Unknown catalog entries.
    authenticated("catalog-code-unknown", fields_are(catalogCode="BJ-NOPE-404"), "422 CATALOG_UNKNOWN_ENTRY"),
    authenticated("catalog-version-not-latest", fields_are(catalogVersion=2), "422 CATALOG_VERSION_NOT_LATEST"),
    authenticated("catalog-entry-of-another-source", submit(penalty_by_tax, label=TAX), "403 CATALOG_NOT_SOURCE"),
    # Schema violations: the payload against its entry's JSON Schema, the record against the API.
    authenticated("payload-field-missing", payload_without("decisionNumber"), "422 PAYLOAD_SCHEMA_VIOLATION"),
    authenticated("payload-field-extra", payload_with(extra="x"), "422 PAYLOAD_SCHEMA_VIOLATION"),
    authenticated(
        "payload-value-not-allowed", payload_with(penalty={"kind": "flogging"}), "422 PAYLOAD_SCHEMA_VIOLATION"
    ),
    authenticated("record-signature-missing", record_with(lambda s: s.pop("signature")), "422 RECORD_MALFORMED"),
    authenticated("record-seed-short", fields_are(recordSeed="0x1234"), "422 RECORD_MALFORMED"),
    authenticated("record-field-unknown", fields_are(note="x"), "422 RECORD_MALFORMED"),
    authenticated("record-version-not-a-number", fields_are(catalogVersion="one"), "422 RECORD_MALFORMED"),
    authenticated("bulk-of-bad-records", submit(bulk_of_bad_records), "200 USCC_CHECK PAYLOAD_SCHEMA_VIOLATION"),
    authenticated(
        "atomic-bulk-one-forged", submit(atomic_bulk_one_forged, atomic=True), "200 BULK_REJECTED RECORD_BAD_SIGNATURE"
    ),
    # Records from a suspended member.
    unauthenticated("suspended-member-submits", suspended_submits, "403 AUTH_NOT_MEMBER"),
    unauthenticated("suspended-member-reads", suspended_reads, "403 AUTH_NOT_MEMBER"),
]


def codes_of(response: httpx.Response) -> tuple[str, ...]:
    """An error's code, or each record's code of a bulk's answer."""
    document = response.json()
    if response.status_code >= 400:
        assert set(document) == {"code", "message", "detail"}, document
        assert isinstance(document["message"], str), document
        return (document["code"],)
    assert document["accepted"] == document["duplicates"] == 0, document
    assert [r["status"] for r in document["results"]] == ["rejected"] * len(document["results"]), document
    return tuple(r["code"] for r in document["results"])


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_bad_input_is_refused_with_its_code_and_nothing_is_stored(served: Served, case: BadInput) -> None:
    """Each bad input gets its documented status and code, stores nothing, and uses up a nonce only if authenticated."""
    engine = served.gateway.engine
    request = case.build(served)
    before = stored_rows(engine, now=int(time.time()))
    response = send(request)
    after = stored_rows(engine, now=int(time.time()))
    assert (response.status_code, codes_of(response)) == (case.status, case.codes), response.text[:500]
    expected = dict(before, request_nonces=before["request_nonces"] + int(case.authenticated))
    assert after == expected
    if case.authenticated:
        assert nonce_used(engine, request.headers[HEADER_ADDRESS], request.headers[HEADER_NONCE])
