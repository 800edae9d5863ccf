"""Lists and measures across the consortium (京津冀联合奖惩): this region's answer combined
with every other region's signed part.

The asking gateway sends one PEER-signed, predicate-only query (`POST /peer/v1/standings`:
subjectRefs only) to each other region's gateway registered on chain, all in parallel and
within one bound (`peer_query_timeout_s`). Each part is checked before it counts: signed
by that region's gateway, for this gateway, for this very question and request (queryHash
and nonce), fresh (its time within the request window of this gateway's chain clock).
A region whose gateway is down, slow, answers an error or garbage, or signs a part that
does not check out is named `unavailable` with the reason, never silently left out; the
others still count. Lists and measures are the union of the answered parts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from chain_client import ListKind, Member, PartExpectation, Role, check_part, part_digest
from gateway.infra.logs import get_logger
from gateway.infra.request_auth import Audience, sign_request
from gateway.infra.service import Gateway
from gateway.standing.measures import Standing, measures_of
from gateway.standing.regional import own_region

PEER_STANDINGS_PATH = "/peer/v1/standings"
Scope = Literal["consortium", "region"]
log = get_logger("consortium")


@dataclass(frozen=True)
class Listed:
    """One subject as one region lists it."""

    red: bool
    black: bool
    measures: tuple[tuple[str, str], ...]  # (code, kind)


@dataclass(frozen=True)
class RegionAnswer:
    """What became of one region's part: answered (with what it lists) or unavailable (why)."""

    region: int
    name: str
    gateway: str
    status: Literal["answered", "unavailable"]
    reason: str | None = None
    part: dict[str, Any] | None = None  # a peer's signed part; None for this gateway's own region
    listed: Mapping[str, Listed] = field(default_factory=dict)  # by subjectRef (0x hex)

    def to_json(self) -> dict[str, Any]:
        """The region as the combined answer names it (its part by digest)."""
        out: dict[str, Any] = {"region": self.region, "name": self.name, "gateway": self.gateway, "status": self.status}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.part is not None:
            out["part"] = part_digest(self.part)
        return out


def own_answer(gw: Gateway, listed: Mapping[str, Listed]) -> RegionAnswer:
    """This gateway's own region, its lists computed here."""
    member = gw.view.member(gw.account.address)
    name = member.name if member else "this gateway"
    return RegionAnswer(own_region(gw), name, gw.account.address, "answered", listed=listed)


def ask_regions(gw: Gateway, subject_refs: Sequence[str]) -> list[RegionAnswer]:
    """Every other region's part for these subjectRefs (0x hex, unique), asked in parallel
    within `peer_query_timeout_s`; each region answered or named unavailable."""
    peers = other_regions(gw)
    if not gw.settings.peer_reads:
        return [_unavailable(gw, m, "not asked: this gateway does not query other regions", count=False) for m in peers]
    if not subject_refs:  # a screening of malformed ids only: nothing to ask
        return [_unavailable(gw, m, "not asked: no valid subject id", count=False) for m in peers]
    asked = [m for m in peers if m.gateway_url]
    answers = {m.account: _unavailable(gw, m, "no gateway URL on chain", count=False) for m in peers if m not in asked}
    if asked:
        bound = gw.settings.peer_query_timeout_s
        pool = ThreadPoolExecutor(max_workers=len(asked), thread_name_prefix="peer-query")
        try:
            question = _Question(tuple(subject_refs), gw.stack.chain.chain_id, gw.stack.ledger.address, gw.now())
            futures: dict[Future[RegionAnswer], Member] = {
                pool.submit(_ask, gw, member, question, bound): member for member in asked
            }
            done, _ = wait(futures, timeout=bound)
            for future, member in futures.items():
                answers[member.account] = _outcome(gw, member, future, done)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # a stuck peer's thread ends at its own timeout
    return [answers[m.account] for m in peers]


def _outcome(
    gw: Gateway, member: Member, future: Future[RegionAnswer], done: set[Future[RegionAnswer]]
) -> RegionAnswer:
    if future not in done:
        return _unavailable(gw, member, "timed out", label="timeout")
    failure = future.exception()
    if failure is not None:  # never lose a region to a surprise: name it
        return _unavailable(gw, member, f"failed: {type(failure).__name__}", label="invalid")
    return future.result()


def own_listed(gw: Gateway, ref: str, standing: Standing) -> dict[str, Listed]:
    """This region's standing of one subject as the combination reads it (nothing when on no list)."""
    if not standing.lists:
        return {}
    measures = tuple((m.code, m.kind) for m in measures_of(gw, standing))
    return {ref: Listed(ListKind.RED in standing.lists, ListKind.BLACK in standing.lists, measures)}


def other_regions(gw: Gateway) -> list[Member]:
    """The other active PEER gateways of the consortium, by region: every one is asked or named."""
    members = [m for m in gw.view.members() if m.active and Role.PEER in m.roles and m.account != gw.account.address]
    return sorted(members, key=lambda m: (m.region, m.account))


@dataclass(frozen=True)
class _Question:
    """What every region is asked, and the chain and clock its parts are judged on (read
    once, before the requests go out: the asking threads do not touch the chain)."""

    subject_refs: tuple[str, ...]
    chain_id: int
    ledger: str
    now: int


def _ask(gw: Gateway, member: Member, question: _Question, bound: float) -> RegionAnswer:
    body = json.dumps({"subjectRefs": list(question.subject_refs)}, separators=(",", ":")).encode()
    nonce = secrets.token_urlsafe(24)
    audience = Audience(question.chain_id, member.account)
    headers = sign_request(
        gw.account, "POST", PEER_STANDINGS_PATH, [], body, audience=audience, timestamp=gw.wall_clock(), nonce=nonce
    )
    headers["content-type"] = "application/json"
    assert member.gateway_url is not None
    try:
        response = httpx.post(
            member.gateway_url.rstrip("/") + PEER_STANDINGS_PATH, content=body, headers=headers, timeout=bound
        )
    except httpx.TimeoutException:
        return _unavailable(gw, member, "timed out", label="timeout")
    except httpx.HTTPError as exc:
        return _unavailable(gw, member, f"unreachable: {type(exc).__name__}", label="unreachable")
    if response.status_code != 200:
        return _unavailable(gw, member, f"answered HTTP {response.status_code}", label="invalid")
    try:
        document = response.json()
    except ValueError:
        return _unavailable(gw, member, "answered something that is not JSON", label="invalid")
    expected = PartExpectation(
        question.subject_refs, member.account, gw.account.address, question.chain_id, question.ledger, nonce
    )
    problem = _part_problem(gw, member, document, expected, question.now)
    if problem:
        return _unavailable(gw, member, f"part refused: {problem}", label="invalid")
    listed = {
        entry["subjectRef"]: Listed(
            bool(entry["lists"]["red"]),
            bool(entry["lists"]["black"]),
            tuple((m["code"], m["kind"]) for m in entry["measures"]),
        )
        for entry in document["part"]["listed"]
    }
    return RegionAnswer(member.region, member.name, member.account, "answered", part=document, listed=listed)


def _part_problem(gw: Gateway, member: Member, document: Any, expected: PartExpectation, now: int) -> str | None:
    checked = check_part(document, expected)
    if not checked.passed:
        return checked.detail
    body = document["part"]
    if body["region"] != member.region:
        return f"the part says region {body['region']}, the consortium says {member.region}"
    if abs(body["generatedAt"] - now) > gw.settings.auth_window_s:
        return f"the part is of {body['generatedAt']}, not fresh at {now}"
    return None


def _unavailable(
    gw: Gateway, member: Member, reason: str, *, label: str = "unreachable", count: bool = True
) -> RegionAnswer:
    if count:
        gw.metrics.peer_failures.labels(label).inc()
        log.warning("a region's part is missing", extra={"fields": {"peer": member.account, "reason": reason}})
    return RegionAnswer(member.region, member.name, member.account, "unavailable", reason=reason)


def combined(ref: str, answers: Sequence[RegionAnswer]) -> tuple[dict[str, bool], list[tuple[str, str]], list[int]]:
    """One subject across the answered regions: the lists (union), the measures as (code,
    kind), mandatory when any region says so, mandatory first then by code, and the regions
    that list it."""
    red = black = False
    kinds: dict[str, str] = {}
    regions: set[int] = set()
    for answer in answers:
        entry = answer.listed.get(ref)
        if entry is None:
            continue
        red, black = red or entry.red, black or entry.black
        regions.add(answer.region)
        for code, kind in entry.measures:
            if kinds.get(code) != "mandatory":
                kinds[code] = kind
    measures = sorted(kinds.items(), key=lambda m: (m[1] != "mandatory", m[0]))
    return {"red": red, "black": black}, measures, sorted(regions)
