"""Reading records held by another region's gateway (京津冀 sharing).

A department asks its own gateway for a record that another region holds. The read goes
in two signed steps, so that the department's signed request only ever reaches the holder:

1. Its gateway finds the holder with a PEER-signed question that carries nothing of the
   department's (`GET /peer/v1/holdings/{id}`), and answers 409 `RECORD_HELD_BY_PEER`
   naming it. A department that knows the holder (from a bundle, a list) skips this.
2. The department signs the read again for its own gateway (the audience) with
   `holder=<the holder's account>`. Its gateway forwards that signed request, inside a
   PEER-signed request of its own (header X-CL-On-Behalf), to that holder alone.

The holder accepts the department's request only when it is signed for the gateway whose
PEER signature carries it and names the holder itself; it decides entitlement with the
purpose the department signed and logs the release for the department. A front that
receives a forwarded request cannot use it anywhere: it is signed for another audience
and names another holder.

The holder answers with the payload, the record seed and the proof bundle. The asking
gateway verifies the bundle against the chain, recomputes contentHash and the subjectTag's opening,
and takes everything else it serves (catalog entry, list, status, supersession,
publicity, anchoring) from the chain and the verified bundle, never from the holder's
answer. It keeps nothing, and refuses what does not check out.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from eth_utils.address import to_checksum_address

from chain_client import ContentCommitment, Member, ProofBundle, Role, verify_bundle
from gateway.infra.error_codes import REGISTRY
from gateway.infra.errors import AuthError, ConflictError, GatewayError, InputError, NotFoundError, UnavailableError
from gateway.infra.logs import get_logger
from gateway.infra.request_auth import SIGNATURE_HEADERS, Audience, RequestAuthError, sign_request, verify_request
from gateway.infra.service import Gateway
from gateway.infra.subject_ids import parse_subject, subject_ref
from gateway.records.entitlement import Requester
from gateway.records.releases import leaf_metadata

HEADER_ON_BEHALF = "X-CL-On-Behalf"
PEER_RECORD_PATH = "/peer/v1/records/{record_id}"
PEER_HOLDINGS_PATH = "/peer/v1/holdings/{record_id}"
HOLDER_PARAMETER = "holder"
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
        return cls(method, path, tuple(query), {name: lowered.get(name.lower(), "") for name in SIGNATURE_HEADERS})

    def parameter(self, name: str) -> str | None:
        """A query parameter of the signed request (keys are unique: repeated keys do not verify)."""
        return next((v for k, v in self.query if k == name), None)


@dataclass(frozen=True)
class OnBehalf:
    """A department as a holder sees it: who, and the purpose it signed."""

    department: Requester
    purpose: str


def department_of(gw: Gateway, original: OriginalRequest, record_id: str, *, peer: str) -> OnBehalf:
    """The department a peer acts for: its signature over the original request, its roles on chain.

    The department's request must be a read of this record, signed for the gateway that
    carries it (`peer`, the outer PEER signer), and name this gateway as the holder.
    """
    if original.method != "GET" or original.path != f"/v1/records/{record_id}":
        raise AuthError("PEER_ON_BEHALF_MISMATCH", "the forwarded request is not a read of this record")
    if original.parameter(HOLDER_PARAMETER) != gw.account.address:
        raise AuthError("PEER_ON_BEHALF_MISMATCH", "the forwarded request does not name this gateway as the holder")
    try:
        signed = verify_request(
            original.headers,
            original.method,
            original.path,
            original.query,
            b"",
            audience=Audience(gw.stack.chain.chain_id, to_checksum_address(peer)),
            now=gw.wall_clock(),
            window_s=gw.settings.auth_window_s,
        )
    except RequestAuthError as exc:
        raise AuthError(exc.code, f"forwarded request: {exc}", detail=exc.detail) from None
    roles = gw.view.roles(signed.address)
    if not roles:
        raise AuthError("AUTH_NOT_MEMBER", "the department is not an active member")
    gw.nonces.use(signed.address, signed.nonce, signed.timestamp)
    return OnBehalf(Requester(signed.address, roles), original.parameter("purpose") or "unspecified")


def peer_gateways(gw: Gateway) -> list[Member]:
    """The other gateways registered on chain with the PEER role and a URL."""
    return [
        member
        for member in gw.view.members()
        if member.gateway_url and member.account != gw.account.address and Role.PEER in member.roles and member.active
    ]


def find_holder(gw: Gateway, record_id: str) -> str:
    """The account of the peer gateway that holds a record, asked with PEER-signed questions only.

    404 RECORD_NOT_FOUND when no peer holds it; 503 PEER_UNAVAILABLE when one that may
    hold it cannot be reached.
    """
    unreachable: list[str] = []
    path = PEER_HOLDINGS_PATH.format(record_id=record_id)
    for member in peer_gateways(gw):
        try:
            response = _peer_get(gw, member, path, {})
        except httpx.HTTPError:
            unreachable.append(member.account)
            continue
        if response.status_code == 200:
            return member.account
        if response.status_code != 404:
            raise _relayed_error(response)
    if unreachable:
        raise _unavailable(gw, unreachable)
    raise NotFoundError("RECORD_NOT_FOUND", "no gateway of the consortium holds a record with this id")


def held_elsewhere(gw: Gateway, record_id: str) -> ConflictError:
    """409 RECORD_HELD_BY_PEER naming the holder: the department signs its read again naming it."""
    holder = find_holder(gw, record_id)
    return ConflictError(
        "RECORD_HELD_BY_PEER",
        "another region's gateway holds this record: sign the read again with holder=<its account>",
        detail={"holder": holder},
    )


def fetch_from_holder(gw: Gateway, record_id: str, original: OriginalRequest, holder: str) -> dict[str, Any]:
    """The department's view of a record held by the gateway it named, checked against the chain.

    422 PEER_HOLDER_UNKNOWN when the named account is no peer gateway; 503 PEER_UNAVAILABLE
    when it cannot be reached; 502 PEER_RESPONSE_INVALID when its answer does not match the
    chain. The holder's own refusals (403, 404, 409) come back with their codes.
    """
    member = next((m for m in peer_gateways(gw) if m.account == holder), None)
    if member is None:
        raise InputError("PEER_HOLDER_UNKNOWN", "the holder named is not a peer gateway of the consortium")
    try:
        response = _peer_get(
            gw, member, PEER_RECORD_PATH.format(record_id=record_id), {HEADER_ON_BEHALF: original.encode()}
        )
    except httpx.HTTPError:
        raise _unavailable(gw, [member.account]) from None
    if response.status_code >= 400:
        raise _relayed_error(response)
    return checked_answer(gw, record_id, response.json(), holder=member.account)


def checked_answer(gw: Gateway, record_id: str, answer: dict[str, Any], *, holder: str) -> dict[str, Any]:
    """The view to serve from a peer's answer: payload and subject checked against the verified
    bundle, everything else taken from the chain and the bundle (nothing from the holder)."""
    try:
        bundle = ProofBundle.from_json(answer["bundle"])
        seed = bytes.fromhex(str(answer["recordSeed"])[2:])
        payload = answer["view"]["payload"]
        subject = parse_subject(str(answer["view"]["subject"]))
        problems = [c.name for c in verify_bundle(bundle, gw.stack.chain).checks if not c.passed]
        if (bundle.chain.chain_id, bundle.chain.ledger) != (gw.stack.chain.chain_id, gw.stack.ledger.address):
            problems.append("chain")
        if "0x" + bundle.leaf.record_id.hex() != record_id:
            problems.append("recordId")
        if not isinstance(payload, dict) or ContentCommitment(payload, seed).content_hash != bundle.leaf.content_hash:
            problems.append("contentHash")
        # verify_bundle checked that the opening gives the leaf's subjectTag.
        if bundle.subject is None or subject_ref(gw.subject_key, subject) != bundle.subject.subject_ref:
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
    return _view_from_chain(gw, bundle, payload, subject.value, holder, answer["view"].get("accessLogSequence"))


def _view_from_chain(
    gw: Gateway, bundle: ProofBundle, payload: dict[str, Any], subject: str, holder: str, sequence: Any
) -> dict[str, Any]:
    leaf = bundle.leaf
    anchoring = {
        "state": "anchored",
        "root": "0x" + bundle.batch.root.hex(),
        "txHash": "0x" + bundle.batch.tx_hash.hex(),
        "blockNumber": bundle.batch.block_number,
        "anchoredAt": bundle.batch.anchored_at,
    }
    with gw.engine.connect() as connection:
        state = gw.index.record_state(connection, leaf.record_id)
    entry = gw.view.entry_at(leaf.catalog_id, leaf.catalog_version)
    view = leaf_metadata(entry, leaf, state, anchoring, gw.index.position.block)
    assert bundle.subject is not None  # checked_answer refused a bundle without it
    view.update(
        view="full",
        subject=subject,
        subjectRef="0x" + bundle.subject.subject_ref.hex(),
        subjectSalt="0x" + bundle.subject.subject_salt.hex(),
        payload=payload,
        accessLogSequence=sequence if isinstance(sequence, int) else None,  # the holder's log
        heldBy=holder,
    )
    return view


def _peer_get(gw: Gateway, member: Member, path: str, extra_headers: Mapping[str, str]) -> httpx.Response:
    """A GET signed by this gateway's PEER account for the peer's audience."""
    audience = Audience(gw.stack.chain.chain_id, member.account)
    headers = sign_request(gw.account, "GET", path, [], b"", audience=audience, timestamp=gw.wall_clock())
    headers.update(extra_headers)
    assert member.gateway_url is not None
    return httpx.get(member.gateway_url.rstrip("/") + path, headers=headers, timeout=PEER_TIMEOUT_S)


def _unavailable(gw: Gateway, unreachable: list[str]) -> UnavailableError:
    gw.metrics.peer_failures.labels("unreachable").inc()
    return UnavailableError(
        "PEER_UNAVAILABLE",
        "a region's gateway that may hold this record cannot be reached; nothing is served from elsewhere",
        detail={"unreachable": unreachable},
    )


def _relayed_error(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
        if body["code"] not in REGISTRY:  # a holder answering a code nobody declared
            return PeerError("PEER_RESPONSE_INVALID", "the holding gateway answered with an unknown error code")
        return GatewayError(body["code"], body["message"], detail=body.get("detail"))
    except (ValueError, KeyError, TypeError):
        return PeerError("PEER_RESPONSE_INVALID", "the holding gateway answered without an error code")
