"""One error-code registry: every code raised is declared once, and the README and the OpenAPI document
list exactly the declared codes with their statuses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from chain_client import CALENDAR_CHECK_CODES
from gateway.api.main import create_app
from gateway.infra.error_codes import REGISTRY
from gateway.infra.errors import FixedCodeError, GatewayError
from tests.support.served import Served

ROOT = Path(__file__).resolve().parents[3]
CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
# Backticked upper-case names in the README that are not error codes.
NOT_ERRORS = {"CALENDAR_NEXT_YEAR_NOT_ADOPTED", "CALENDAR_FORMAT", "DEMO_BOOTSTRAP", "LEAF_ENCODING"}


def _code(node: ast.expr | None) -> str | None:
    value = node.value if isinstance(node, ast.Constant) else None
    return value if isinstance(value, str) and CODE.fullmatch(value) else None


def _codes_in_source() -> set[str]:
    """Codes the gateway's source names where it raises or maps an error: first arguments of *Error(...)
    calls, the middle of the contract-revert map's (class, code, message) values, and `code = ...`."""
    found: set[str | None] = set()
    for path in (ROOT / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and str(getattr(node.func, "id", getattr(node.func, "attr", ""))).endswith(
                "Error"
            ):
                found.add(_code(node.args[0] if node.args else None))
            elif isinstance(node, ast.Tuple) and len(node.elts) == 3:
                found.add(_code(node.elts[1]))
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "code" for t in node.targets):
                found.add(_code(node.value))
    return {code for code in found if code is not None}


def test_every_code_the_gateway_raises_is_declared_once() -> None:
    """The registry holds each code once, and every code the source raises or maps is in it."""
    assert len(REGISTRY) == len({entry.code for entry in REGISTRY.values()})
    undeclared = _codes_in_source() - set(REGISTRY)
    assert not undeclared, f"declare these in gateway/infra/error_codes.py: {sorted(undeclared)}"


def test_an_undeclared_code_cannot_be_raised() -> None:
    """A GatewayError takes its status from the registry, so a code nobody declared fails at once."""
    assert GatewayError("RECORD_NOT_FOUND", "no such record").status == 404
    try:
        GatewayError("NOT_A_DECLARED_CODE", "x")
    except KeyError:
        pass
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("an undeclared code was accepted")
    assert issubclass(FixedCodeError, GatewayError)


def test_the_readme_table_is_the_registry() -> None:
    """The README's error code table lists every declared code with its status and meaning, and every other
    code the README names is declared (or is a calendar document's check code)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Error codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| (\d{3}) \| (.+) \|$", table, flags=re.M)
    assert [(code, int(status), meaning) for code, status, meaning in rows] == [
        (entry.code, entry.status, entry.meaning) for entry in REGISTRY.values()
    ]
    named = {name for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", readme) if CODE.fullmatch(name)}
    others = {n for n in named if not n.startswith("CREDIT_LEDGER_")} - NOT_ERRORS - set(CALENDAR_CHECK_CODES)
    assert others <= set(REGISTRY), sorted(others - set(REGISTRY))


def test_the_openapi_document_lists_the_registry(served: Served) -> None:
    """ErrorBody.code in the OpenAPI document enumerates exactly the declared codes."""
    document = create_app(served.gateway).openapi()
    assert document["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"] == list(REGISTRY)
