"""Reading records held by another region's gateway (京津冀 sharing).

A department asks its own gateway for a record that another region holds. Its gateway
forwards the question with a PEER-signed request that carries the department's own
signed request (header X-CL-On-Behalf), so the holder decides and logs the release
for the department, not for the peer. The holder answers with the payload, the record
seed and the proof bundle; the asking gateway checks them against the chain (bundle
verified online, contentHash recomputed from payload and seed, subjectRef recomputed)
before serving, keeps nothing, and refuses what does not check out.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from chain_client import ContentCommitment, ProofBundle, Role, verify_bundle
from gateway.infra.error_codes import REGISTRY
from gateway.infra.errors import AuthError, GatewayError, NotFoundError, UnavailableError
from gateway.infra.logs import get_logger
from gateway.infra.request_auth import (
    HEADER_ADDRESS,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    RequestAuthError,
    sign_request,
    verify_request,
)
from gateway.infra.service import Gateway
from gateway.infra.subject_ids import parse_subject, subject_ref
from gateway.records.entitlement import Requester

HEADER_ON_BEHALF = "X-CL-On-Behalf"
PEER_PATH = "/peer/v1/records/{record_id}"
PEER_TIMEOUT_S = 10.0
log = get_logger("peers")


class PeerError(GatewayError):
    """A peer gateway answered with something that does not check out against the chain."""


@dataclass(frozen=True)
class OriginalRequest:
    """The department's signed request as its own gateway received it."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]

    def encode(self) -> str:
        """The X-CL-On-Behalf header value: base64url of the request's JSON."""
        document = {"method": self.method, "path": self.path, "query": list(self.query), "headers": self.headers}
        return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()

    @classmethod
    def decode(cls, value: str) -> OriginalRequest:
        """The request in an X-CL-On-Behalf header; AuthError when it is malformed."""
        try:
            document = json.loads(base64.urlsafe_b64decode(value.encode()))
            return cls(
                method=str(document["method"]),
                path=str(document["path"]),
                query=tuple((str(k), str(v)) for k, v in document["query"]),
                headers={str(k): str(v) for k, v in document["headers"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AuthError("PEER_ON_BEHALF_MALFORMED", "X-CL-On-Behalf is not a forwarded signed request") from None

    @classmethod
    def of(
        cls, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> OriginalRequest:
        """The signature headers of an incoming request, kept for forwarding."""
        lowered = {k.lower(): v for k, v in headers.items()}
        names = (HEADER_ADDRESS, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
        return cls(method, path, tuple(query), {name: lowered.get(name.lower(), "") for name in names})


def department_of(gw: Gateway, original: OriginalRequest, record_id: str) -> Requester:
    """The department a peer acts for: its signature over the original request, its roles on chain."""
    if original.method != "GET" or original.path != f"/v1/records/{record_id}":
        raise AuthError("PEER_ON_BEHALF_MISMATCH", "the forwarded request is not a read of this record")
    try:
        signed = verify_request(
            original.headers,
            original.method,
            original.path,
            original.query,
            b"",
            now=gw.wall_clock(),
            window_s=gw.settings.auth_window_s,
        )
    except RequestAuthError as exc:
        raise AuthError(exc.code, f"forwarded request: {exc}") from None
    roles = gw.view.roles(signed.address)
    if not roles:
        raise AuthError("AUTH_NOT_MEMBER", "the department is not an active member")
    gw.nonces.use(signed.address, signed.nonce, signed.timestamp)
    return Requester(signed.address, roles)


def peer_urls(gw: Gateway) -> list[tuple[str, str]]:
    """(address, URL) of the other gateways registered on chain with the PEER role."""
    return [
        (member.account, member.gateway_url.rstrip("/"))
        for member in gw.view.members()
        if member.gateway_url and member.account != gw.account.address and Role.PEER in member.roles and member.active
    ]


def fetch_from_peers(gw: Gateway, record_id: str, original: OriginalRequest, purpose: str) -> dict[str, Any]:
    """The department's view of a record held by a peer, checked against the chain.

    404 RECORD_NOT_FOUND when no peer holds it; 503 PEER_UNAVAILABLE when a peer that
    may hold it cannot be reached; 502 PEER_RESPONSE_INVALID when a peer's answer does
    not match the chain. The holder's own refusals (403, 409) come back with their codes.
    """
    unreachable: list[str] = []
    path = PEER_PATH.format(record_id=record_id)
    params: list[tuple[str, str | int | float | bool | None]] = [("purpose", purpose)]
    for address, url in peer_urls(gw):
        headers = sign_request(gw.account, "GET", path, [("purpose", purpose)], b"", timestamp=gw.wall_clock())
        headers[HEADER_ON_BEHALF] = original.encode()
        try:
            response = httpx.get(url + path, params=params, headers=headers, timeout=PEER_TIMEOUT_S)
        except httpx.HTTPError:
            unreachable.append(address)
            continue
        if response.status_code == 404:
            continue
        if response.status_code >= 400:
            raise _relayed_error(response)
        return checked_answer(gw, record_id, response.json(), holder=address)
    if unreachable:
        gw.metrics.peer_failures.labels("unreachable").inc()
        raise UnavailableError(
            "PEER_UNAVAILABLE",
            "a region's gateway that may hold this record cannot be reached; nothing is served from elsewhere",
            detail={"unreachable": unreachable},
        )
    raise NotFoundError("RECORD_NOT_FOUND", "no gateway of the consortium holds a record with this id")


def checked_answer(gw: Gateway, record_id: str, answer: dict[str, Any], *, holder: str) -> dict[str, Any]:
    """A peer's answer once its bundle verifies on chain and its payload gives the anchored hash."""
    try:
        bundle = ProofBundle.from_json(answer["bundle"])
        seed = bytes.fromhex(str(answer["recordSeed"])[2:])
        payload = answer["view"]["payload"]
        subject = parse_subject(str(answer["view"]["subject"]))
        report = verify_bundle(bundle, gw.stack.chain)
        problems = [c.name for c in report.checks if not c.passed]
        if "0x" + bundle.leaf.record_id.hex() != record_id:
            problems.append("recordId")
        if ContentCommitment(payload, seed).content_hash != bundle.leaf.content_hash:
            problems.append("contentHash")
        if subject_ref(gw.subject_key, subject) != bundle.leaf.subject_ref:
            problems.append("subjectRef")
    except (KeyError, TypeError, ValueError) as exc:
        problems = [f"malformed: {type(exc).__name__}"]
    if problems:
        gw.metrics.peer_failures.labels("invalid").inc()
        log.error(
            "a peer gateway's answer failed its checks",
            extra={"fields": {"peer": holder, "recordId": record_id, "failed": problems}},
        )
        raise PeerError(
            "PEER_RESPONSE_INVALID",
            "the holding gateway's answer does not match the chain; it is not served",
            detail={"peer": holder, "failed": problems},
        )
    view: dict[str, Any] = answer["view"]
    return view


def _relayed_error(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
        if body["code"] not in REGISTRY:  # a holder answering a code nobody declared
            return PeerError("PEER_RESPONSE_INVALID", "the holding gateway answered with an unknown error code")
        return GatewayError(body["code"], body["message"], detail=body.get("detail"))
    except (ValueError, KeyError, TypeError):
        return PeerError("PEER_RESPONSE_INVALID", "the holding gateway answered without an error code")
