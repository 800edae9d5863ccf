"""List screenings (名单筛查), formats `credit-ledger/screening@2` and `credit-ledger/screening-line@2`
(schemas/screening.schema.json; the one-region @1 formats are still read).

A gateway's answer for many subjects at once: one line per subject asked for, with its
lists as booleans and the measures' codes (or the stable code of a malformed id), never
record contents. Each line is a leaf of an OpenZeppelin StandardMerkleTree,

    leaf = keccak256(keccak256(RFC 8785 canonical JSON of the line)),

and the header `screening` (chain, ledger, gateway, requester, purpose, generatedAt,
asOfBlock, scope, regions, root, count) is signed by the gateway's account as a credit report is
(chain_client.spec.signed_document). So one line can be shown on its own, with its proof
against the signed root (`line_proof`), without the other subjects of the screening.

A consortium-wide screening combines the regions' signed parts
(chain_client.verify.standing_part): each line's lists and measures are the union of every
answering region's, `listedBy` names the regions that listed the subject, the header names
every region with its status (a region that did not answer is named, never left out) and
each answered part by its digest, and the parts travel beside the lines.

Checks: `format`, `signature`, then `root` (a whole screening: the tree over its lines
gives the signed root and count, each line at its index) or `line` (one line: its proof
leads to the signed root); for a whole @2 screening `parts` (each part named in the header
is there, signed by that region's gateway for this screening's gateway and question, and
the lines carry everything it lists); online `chainId` and `gateway` (an active GATEWAY at
asOfBlock, as for a credit report), and `partGateways` (the same of each part's signer at
the part's block) when there are parts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from chain_client.contracts.chain import Chain
from chain_client.spec.content import canonical_json
from chain_client.spec.keccak import keccak
from chain_client.spec.merkle import StandardMerkleTree, process_proof
from chain_client.spec.schemas import load_schema, schema_problems
from chain_client.spec.signed_document import sign_document
from chain_client.verify.bundles import Check
from chain_client.verify.report import gateway_check
from chain_client.verify.signed import format_check, signature_check
from chain_client.verify.standing_part import PartExpectation, check_part, part_digest

SCREENING_FORMAT = "credit-ledger/screening@2"
SCREENING_LINE_FORMAT = "credit-ledger/screening-line@2"
SCREENING_V1_FORMATS = ("credit-ledger/screening@1", "credit-ledger/screening-line@1")  # one region, still read
WHOLE_FORMATS = (SCREENING_FORMAT, "credit-ledger/screening@1")
SCHEMA_FILE = "screening.schema.json"
PLACEHOLDER_SIGNATURE = "0x" + "00" * 65


def screening_leaf(line: Mapping[str, Any]) -> bytes:
    """A line's leaf: keccak256(keccak256(RFC 8785 canonical JSON of the line))."""
    return keccak(keccak(canonical_json(line)))


def build_screening_document(
    header: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    account: LocalAccount,
    parts: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The signed credit-ledger/screening@2 document: the header given (chainId, ledger,
    gateway, requester, purpose, generatedAt, asOfBlock, scope, regions) completed with the
    lines' root and count, signed by the gateway's account, the regions' parts beside it.

    ValueError when there are no lines, a line is not at its index, or the header names
    another gateway than the signer: a gateway never signs what a verifier would reject.
    The lines are not checked against the schema here (10,000 of them would cost more than
    answering them); the verifier does.
    """
    gateway = header.get("gateway")
    if not isinstance(gateway, str) or gateway.lower() != account.address.lower():
        raise ValueError(f"the screening names gateway {gateway}, but {account.address} would sign it")
    if not lines:
        raise ValueError("a screening has at least one line")
    for position, line in enumerate(lines):
        if line.get("index") != position:
            raise ValueError(f"line {position} says it is at index {line.get('index')}")
    tree = StandardMerkleTree([screening_leaf(line) for line in lines])
    body = {**copy.deepcopy(dict(header)), "root": "0x" + tree.root.hex(), "count": len(lines)}
    return {
        "format": SCREENING_FORMAT,
        "screening": body,
        "signature": sign_document(account, body),
        "lines": [dict(line) for line in lines],
        "parts": [copy.deepcopy(dict(part)) for part in parts],
    }


def line_proof(document: Mapping[str, Any], index: int) -> dict[str, Any]:
    """One line of a screening with its Merkle proof: a credit-ledger/screening-line@1
    document carrying the signed header, checked on its own by `verify_screening`.

    IndexError for an index outside the screening.
    """
    lines: list[dict[str, Any]] = document["lines"]
    if not 0 <= index < len(lines):
        raise IndexError(f"the screening has lines 0 to {len(lines) - 1}, not {index}")
    tree = StandardMerkleTree([screening_leaf(line) for line in lines])
    line_format = SCREENING_LINE_FORMAT if document["format"] == SCREENING_FORMAT else SCREENING_V1_FORMATS[1]
    return {
        "format": line_format,
        "screening": copy.deepcopy(document["screening"]),
        "signature": document["signature"],
        "line": copy.deepcopy(lines[index]),
        "proof": ["0x" + sibling.hex() for sibling in tree.proof(index)],
    }


@dataclass(frozen=True)
class ScreeningVerification:
    """The checks run on a screening, or on one line of it."""

    checks: tuple[Check, ...]
    gateway: str | None = None
    count: int | None = None
    line: int | None = None
    online: bool = False

    @property
    def valid(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[str]:
        """The names of the failed checks."""
        return [check.name for check in self.checks if not check.passed]

    def check(self, name: str) -> Check:
        """The check with this name; KeyError when it was not run."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """The verification for machines."""
        return {
            "format": SCREENING_FORMAT,
            "valid": self.valid,
            "online": self.online,
            "gateway": self.gateway,
            "count": self.count,
            "line": self.line,
            "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks],
        }


def verify_screening(document: Mapping[str, Any], chain: Chain | None = None) -> ScreeningVerification:
    """Verify a screening (every line) or one line with its proof: offline, and against
    the chain when given one. Errors reaching the chain propagate as ChainClientError;
    anything wrong with the document itself is a failed check."""
    document = dict(document)
    format_check = _format_check(document)
    if not format_check.passed:
        return ScreeningVerification((format_check,), online=chain is not None)
    header: dict[str, Any] = document["screening"]
    checks = [format_check, _signature_check(header, document["signature"])]
    index: int | None = None
    if document["format"] in WHOLE_FORMATS:
        checks.append(_root_check(header, document["lines"]))
        if document["format"] == SCREENING_FORMAT:
            checks.append(_parts_check(header, document["lines"], document["parts"]))
    else:
        index = document["line"]["index"]
        checks.append(_line_check(header, document["line"], document["proof"]))
    if chain is not None:
        if chain.chain_id != header["chainId"]:
            detail = f"the chain is {chain.chain_id}, the screening names {header['chainId']}"
            checks.append(Check("chainId", False, detail))
        else:
            checks.append(Check("chainId", True, str(chain.chain_id)))
            checks.append(gateway_check(header, chain))
            if document["format"] == SCREENING_FORMAT and document["parts"]:
                checks.append(_part_gateways_check(document["parts"], chain))
    return ScreeningVerification(tuple(checks), header["gateway"], header["count"], index, online=chain is not None)


def screening_schema_problems(document: object) -> list[str]:
    """What the committed JSON Schema finds wrong with a screening or line document (empty when valid)."""
    return schema_problems(SCHEMA_FILE, document)


def screening_schema() -> dict[str, Any]:
    """The committed JSON Schema of credit-ledger/screening@1 and screening-line@1."""
    return load_schema(SCHEMA_FILE)


def _format_check(document: dict[str, Any]) -> Check:
    def summary() -> str:
        count = document["screening"]["count"]
        if document["format"] in WHOLE_FORMATS:
            return f"{document['format']}, {count} line{'' if count == 1 else 's'}"
        return f"{document['format']}, line {document['line']['index']} of {count}"

    return format_check(screening_schema_problems(document), document, summary)


def _signature_check(header: dict[str, Any], signature: str) -> Check:
    return signature_check(header, signature, "screening")


def _root_check(header: dict[str, Any], lines: list[dict[str, Any]]) -> Check:
    misplaced = [position for position, line in enumerate(lines) if line["index"] != position]
    if misplaced:
        return Check("root", False, f"line {misplaced[0]} says it is at index {lines[misplaced[0]]['index']}")
    if len(lines) != header["count"]:
        return Check("root", False, f"{len(lines)} lines, the signed count is {header['count']}")
    root = "0x" + StandardMerkleTree([screening_leaf(line) for line in lines]).root.hex()
    if root != header["root"].lower():
        return Check("root", False, f"the lines give root {root}, not the signed {header['root']}")
    return Check("root", True, f"the {len(lines)} lines give the signed root")


def _line_check(header: dict[str, Any], line: dict[str, Any], proof: list[str]) -> Check:
    if line["index"] >= header["count"]:
        return Check("line", False, f"line {line['index']} is beyond the signed count {header['count']}")
    root = "0x" + process_proof(screening_leaf(line), [bytes.fromhex(p[2:]) for p in proof]).hex()
    if root != header["root"].lower():
        return Check("line", False, f"the line and its proof give root {root}, not the signed {header['root']}")
    return Check("line", True, f"line {line['index']} of {header['count']} is under the signed root")


def _parts_check(header: dict[str, Any], lines: list[dict[str, Any]], parts: list[dict[str, Any]]) -> Check:
    """`parts`: every part the header names is carried and checks out for this screening,
    and the lines carry all it lists (the lines may hold more: the gateway's own records)."""
    by_digest: dict[str, dict[str, Any]] = {}
    for part in parts:
        try:
            by_digest[part_digest(part)] = part
        except (KeyError, TypeError, ValueError):
            return Check("parts", False, "a part is not a signed part document")
    named = [region for region in header["regions"] if "part" in region]
    if len(named) != len(parts) or {r["part"].lower() for r in named} != set(by_digest):
        return Check("parts", False, f"the header names {len(named)} parts, the screening carries {len(parts)} others")
    line_of = {line["subjectRef"].lower(): line for line in reversed(lines) if "subjectRef" in line}
    refs = tuple(dict.fromkeys(line["subjectRef"].lower() for line in lines if "subjectRef" in line))
    for region in named:
        part = by_digest[region["part"].lower()]
        expected = PartExpectation(
            tuple(refs), region["gateway"], header["gateway"], header["chainId"], header["ledger"]
        )
        checked = check_part(part, expected)
        if not checked.passed:
            return Check("parts", False, f"region {region['region']}: {checked.detail}")
        if part["part"]["region"] != region["region"]:
            return Check("parts", False, f"region {region['region']}: the part says region {part['part']['region']}")
        for entry in part["part"]["listed"]:
            problem = _carried(line_of[entry["subjectRef"]], entry, region["region"])
            if problem:
                return Check("parts", False, f"region {region['region']}: {problem}")
    return Check("parts", True, f"{len(parts)} regional part{'' if len(parts) == 1 else 's'} signed for this screening")


def _part_gateways_check(parts: list[dict[str, Any]], chain: Chain) -> Check:
    """`partGateways` (online): each part's signer was an active GATEWAY at the part's block."""
    for part in parts:
        try:
            checked = gateway_check(part["part"], chain)
        except (KeyError, TypeError, ValueError):
            return Check("partGateways", False, "a part is not a signed part document")
        if not checked.passed:
            return Check("partGateways", False, checked.detail)
    return Check("partGateways", True, f"each of the {len(parts)} parts was signed by an active GATEWAY")


def _carried(line: dict[str, Any], entry: dict[str, Any], region: int) -> str | None:
    missing_list = [kind for kind, on in entry["lists"].items() if on and not line["lists"][kind]]
    missing = {m["code"] for m in entry["measures"]} - set(line["measures"])
    if missing_list or missing or region not in line["listedBy"]:
        return f"line {line['index']} leaves out what the part lists"
    return None
