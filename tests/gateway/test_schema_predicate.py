"""The compiled schema predicates: never "valid" where jsonschema says invalid, and used for real payloads."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from credit_demo.catalog import demo_schemas
from gateway.infra.catalog_schemas import MAX_REPORTED_VIOLATIONS, compile_predicate
from tests.support import payloads

STORE = demo_schemas()
SCHEMAS = sorted(STORE, key=lambda s: s.name)
ANY_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)


def valid(schema: Any) -> st.SearchStrategy[Any]:
    """Values a (sub)schema of the demo catalog accepts."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 30), 30)
        if "pattern" in schema:
            longest = schema.get("maxLength", 10**6)
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda v: low <= len(v) <= longest)
        return st.text(min_size=low, max_size=high)
    if kind in ("number", "integer"):
        low, high = schema.get("minimum"), schema.get("maximum")
        numbers = st.integers(low, high)
        if kind == "integer":
            return numbers
        return st.one_of(numbers, st.floats(low, high, allow_nan=False, allow_infinity=False))
    if kind == "array":
        return st.lists(valid(schema.get("items", {})), max_size=min(schema.get("maxItems", 5), 5))
    if kind == "object":
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        return st.fixed_dictionaries(
            {name: valid(properties[name]) for name in required},
            optional={name: valid(sub) for name, sub in properties.items() if name not in required},
        )
    return ANY_JSON


def near(schema: Any) -> st.SearchStrategy[Any]:
    """Values close to what a (sub)schema accepts, often just inside or outside its rules."""
    if not isinstance(schema, dict):
        return ANY_JSON
    options: list[st.SearchStrategy[Any]] = [ANY_JSON, valid(schema)]
    if "enum" in schema:
        options.append(st.text(max_size=3))
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 30), 30)
        options.append(st.text(min_size=max(0, low - 1), max_size=high + 1))
        if "pattern" in schema:
            options.append(
                st.sampled_from(
                    ["2026-1-9", "\uff10x12", "2026-10-09\n", "\u0662\u0660\u0662\u0666-\u0661\u0660-\u0660\u0669"]
                )
            )
    if kind in ("number", "integer"):
        options.append(st.one_of(st.floats(), st.sampled_from([-1, -0.5, 0, 1.0, True, 10**30])))
    if kind == "array":
        options.append(st.lists(near(schema.get("items", {})), max_size=schema.get("maxItems", 5) + 1))
    return st.one_of(options)


def payloads_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid payloads, valid ones with one field changed, missing or added, and near misses."""
    properties = schema.get("properties", {})
    names = st.sampled_from(sorted({*properties, "extra"}))

    def change(payload: dict[str, Any], name: str, value: Any, drop: bool) -> dict[str, Any]:
        changed = dict(payload)
        if drop:
            changed.pop(name, None)
        else:
            changed[name] = value
        return changed

    changed = st.builds(
        change, valid(schema), names, names.flatmap(lambda n: near(properties.get(n, {}))), st.booleans()
    )
    return st.one_of(valid(schema), changed, near(schema))


def reference_violations(validator: Any, payload: object) -> list[dict[str, str]]:
    """What violations() said before the predicates: jsonschema alone."""
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    return [
        {"path": "/" + "/".join(str(p) for p in error.absolute_path), "rule": str(error.validator)}
        for error in errors[:MAX_REPORTED_VIOLATIONS]
    ]


def test_every_demo_schema_compiles() -> None:
    """Each schema of the demo catalog gets a predicate, so payloads take the fast path."""
    assert all(schema.accepts is not None for schema in SCHEMAS)


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("administrative-penalty.schema.json", payloads.penalty()),
        ("inspection-result.schema.json", payloads.inspection()),
        ("tax-arrears.schema.json", payloads.tax_arrears()),
        ("taxpayer-grade.schema.json", payloads.taxpayer_grade()),
    ],
)
def test_valid_payloads_are_accepted_by_the_predicate(name: str, payload: dict[str, Any]) -> None:
    """The catalog's own example payloads pass the predicate without jsonschema's help."""
    schema = STORE.by_name(name)
    assert schema.accepts is not None
    assert schema.accepts(payload)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_predicate_never_accepts_what_jsonschema_refuses(schema: Any, data: st.DataObject) -> None:
    """Whatever the payload, violations() answers as jsonschema alone would."""
    payload = data.draw(payloads_for(schema.document))
    validator = Draft202012Validator(schema.document)
    if schema.accepts(payload):
        assert validator.is_valid(payload)
    assert schema.violations(payload) == reference_violations(validator, payload)


@pytest.mark.parametrize(
    "document",
    [
        {"type": "object", "$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"type": "string", "format": "date", "const": "x"},
        {"type": "object", "patternProperties": {"^a": {}}, "additionalProperties": False},
        {"type": "array", "prefixItems": [{}], "items": {"type": "string"}},
        {"enum": [1, "a"]},
    ],
)
def test_keywords_it_does_not_cover_leave_the_schema_to_jsonschema(document: dict[str, Any]) -> None:
    """A schema with a keyword (or form) the compiler does not cover gets no predicate."""
    assert compile_predicate(document) is None
