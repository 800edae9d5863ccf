"""Schemathesis against the served gateway's own OpenAPI document: no 5xx, and every error carries a code.

Every operation of `/openapi.json` gets requests that schemathesis generates from it,
valid and invalid by the schema, sent over loopback HTTP to a real gateway (embedded
chain, SQLite, worker on). Signed runs sign each `/v1` and `/peer` request as a member
holding the role its route asks for (EIP-191 over the exact bytes sent, as
`gateway.request_auth` says), so generated input reaches the handlers instead of
stopping at 401; the unsigned run checks what an anonymous caller gets.

schemathesis's own pytest loader (`schemathesis.pytest.from_fixture`) does not run
under pytest 9.2 (it sets `Function._nodeid`, which pytest 9.2 no longer has), so each
operation's schemathesis strategy is driven by Hypothesis here, one subtest per operation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
import schemathesis
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Err, Ok

from gateway.infra.errors import InputError
from gateway.infra.request_auth import Audience, sign_request
from tests.support.payloads import SAMR
from tests.support.served import Served

EXAMPLES_PER_OPERATION = 25
AUDITOR = "auditor-hebei"
PEER = "gateway-tianjin"
# A request correctly signed by a member is never refused with these.
AUTHENTICATION_FAILURES = {"AUTH_MISSING", "AUTH_MALFORMED", "AUTH_BAD_NONCE", "AUTH_STALE", "AUTH_BAD_SIGNATURE"}
# A parameter schema with nothing but these keys and type string accepts any value.
BARE_STRING_KEYS = {"type", "title", "description", "default", "examples"}


class SignedAs(requests.auth.AuthBase):
    """Signs each prepared request as a member: method, decoded path, decoded query, exact body bytes."""

    def __init__(self, account: LocalAccount, audience: Audience) -> None:
        self.account = account
        self.audience = audience

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(str(request.url))
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        assert isinstance(body, bytes), f"cannot sign a streamed body: {type(body)}"
        query = parse_qsl(url.query, keep_blank_values=True)
        path = unquote(url.path)
        try:
            headers = sign_request(
                self.account, str(request.method), path, query, body, audience=self.audience, timestamp=int(time.time())
            )
        except InputError:  # a query key generated twice cannot be signed: sent unsigned, refused all the same
            return request
        request.headers.update(headers)
        return request


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    """The OpenAPI document the gateway serves."""
    return schemathesis.openapi.from_url(served.url + "/openapi.json")


def signer_for(served: Served, path: str) -> SignedAs | None:
    """The member a request is signed as: one with the role its route asks for; none for public routes."""
    if path.startswith("/v1/access-log"):
        return SignedAs(served.account(AUDITOR), served.gateway.audience)
    if path.startswith("/peer/"):
        return SignedAs(served.account(PEER), served.gateway.audience)
    if path.startswith("/v1/"):
        return SignedAs(served.account(SAMR), served.gateway.audience)
    return None


def can_be_broken(operation: schemathesis.APIOperation) -> bool:
    """Whether some request breaks the operation's schema: it has a body, a required query or header, or a constraint.

    A bare string path parameter matches anything, so an operation with only those has
    no invalid input to generate (Hypothesis would end with Unsatisfiable).
    """
    raw = operation.definition.raw
    if "requestBody" in raw:
        return True
    for parameter in raw.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] != "path" and parameter.get("required"):
            return True
        if set(schema) - BARE_STRING_KEYS or schema.get("type") != "string":
            return True
    return False


def check_response(case: schemathesis.Case, served: Served, signer: SignedAs | None) -> None:
    """Send one generated request: no 5xx, every error a JSON object with a non-empty string code."""
    response = case.call(base_url=served.url, auth=signer, timeout=60)
    sent = response.request
    body = sent.body if isinstance(sent.body, bytes) else str(sent.body or "").encode()
    where = (
        f"{sent.method} {sent.url} body={body[:300]!r} content-type={sent.headers.get('content-type')!r}"
        f" signed={signer is not None} -> {response.status_code} {response.content[:300]!r}"
    )
    assert response.status_code < 500, where
    if response.status_code < 400:
        return
    try:
        error = json.loads(response.content)
    except ValueError:
        pytest.fail(f"the error is not JSON: {where}")
    assert isinstance(error, dict), where
    assert isinstance(error.get("code"), str), where
    assert error["code"], where
    if signer is not None:
        assert error["code"] not in AUTHENTICATION_FAILURES, (
            f"a correctly signed request failed authentication: {where}"
        )


def fuzz(
    operation: schemathesis.APIOperation, mode: GenerationMode, check: Callable[[schemathesis.Case], None]
) -> None:
    """Run check on up to EXAMPLES_PER_OPERATION requests generated for one operation."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as sent, in bounded time
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=operation.as_strategy(mode))
    def run(case: schemathesis.Case) -> None:
        check(case)

    run()


@pytest.mark.parametrize(
    ("mode", "signed"),
    [(GenerationMode.POSITIVE, True), (GenerationMode.NEGATIVE, True), (GenerationMode.NEGATIVE, False)],
    ids=["valid-signed", "invalid-signed", "invalid-unsigned"],
)
def test_no_operation_answers_5xx_or_an_error_without_a_code(
    api_schema: schemathesis.BaseSchema, served: Served, subtests: pytest.Subtests, mode: GenerationMode, signed: bool
) -> None:
    """Generated requests, valid or not by the schema, never get a 5xx, and every error is JSON with a stable code."""
    results = list(api_schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), [r.err() for r in results if isinstance(r, Err)]
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert {"/v1/records", "/public/v1/disclosures", "/public/v1/catalog"} <= {o.path for o in operations}
    for operation in operations:
        if mode == GenerationMode.NEGATIVE and not can_be_broken(operation):
            continue
        signer = signer_for(served, operation.path) if signed else None
        with subtests.test(msg=operation.label):
            fuzz(operation, mode, lambda case, signer=signer: check_response(case, served, signer))
