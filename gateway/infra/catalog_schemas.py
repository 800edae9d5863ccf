"""The catalog's JSON Schemas, found by the schemaHash each entry carries on chain.

schemaHash = keccak256(RFC 8785 canonical JSON of the schema document), so the
consortium's vote on an entry fixes its schema byte for byte, and any gateway that holds
the same file finds it. A schema names the fields served publicly for class A in its
top-level `x-public-fields` list (a keyword JSON Schema validators ignore).

Every payload of every record is validated, so each schema is also compiled into a
plain Python predicate for the keywords the catalog uses (type, enum of strings,
required, properties, additionalProperties, items, min/max length and items, minimum,
maximum, pattern). The predicate only ever answers "valid" for payloads the jsonschema
validator finds valid, and is stricter where that is simpler (a float where an integer
is asked, say); whenever it says no, the jsonschema validator decides and reports. A
schema with any other keyword is left to the jsonschema validator alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from chain_client import canonical_json, keccak
from gateway.infra.errors import ConfigurationError

PUBLIC_FIELDS_KEYWORD = "x-public-fields"
MAX_REPORTED_VIOLATIONS = 20


def schema_hash(schema: Mapping[str, Any]) -> bytes:
    """keccak256 of the schema's RFC 8785 canonical JSON."""
    return keccak(canonical_json(schema))


@dataclass(frozen=True)
class CatalogSchema:
    """One schema, its hash, its validator and the fields it makes public."""

    name: str
    document: dict[str, Any]
    hash: bytes
    public_fields: frozenset[str]
    validator: Any
    accepts: Predicate | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, name: str, document: dict[str, Any]) -> CatalogSchema:
        """The schema of a document checked already (Draft 2020-12, x-public-fields a list of names)."""
        public = frozenset(document.get(PUBLIC_FIELDS_KEYWORD, []))
        validator = Draft202012Validator(document)
        return cls(name, document, schema_hash(document), public, validator, compile_predicate(document))

    def violations(self, payload: object) -> list[dict[str, str]]:
        """Where a payload breaks the schema: path and rule only, never the values."""
        if self.accepts is not None and self.accepts(payload):
            return []
        errors = sorted(self.validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        return [
            {"path": "/" + "/".join(str(p) for p in error.absolute_path), "rule": str(error.validator)}
            for error in errors[:MAX_REPORTED_VIOLATIONS]
        ]


class SchemaStore:
    """Schemas by hash, loaded from a folder of `*.json` files."""

    def __init__(self, schemas: Mapping[bytes, CatalogSchema]) -> None:
        self._schemas = dict(schemas)

    @classmethod
    def from_dir(cls, folder: Path) -> SchemaStore:
        """Every `*.json` in folder."""
        return cls.from_files(_folder_files(folder))

    @classmethod
    def from_files(cls, files: list[tuple[str, str]]) -> SchemaStore:
        """Schemas from (file name, JSON text) pairs; ConfigurationError for one that is not a valid schema."""
        schemas: dict[bytes, CatalogSchema] = {}
        for name, text in files:
            try:
                document = json.loads(text)
                Draft202012Validator.check_schema(document)
            except (ValueError, SchemaError) as exc:
                raise ConfigurationError(
                    "CONFIG_SCHEMA_INVALID", f"schema {name} is not a valid JSON Schema: {exc}"
                ) from None
            public = document.get(PUBLIC_FIELDS_KEYWORD, [])
            if not isinstance(public, list) or not all(isinstance(f, str) for f in public):
                raise ConfigurationError("CONFIG_SCHEMA_INVALID", f"{name}: {PUBLIC_FIELDS_KEYWORD} must list names")
            schema = CatalogSchema.of(name, document)
            schemas[schema.hash] = schema
        return cls(schemas)

    def get(self, digest: bytes) -> CatalogSchema | None:
        """The schema with this hash, if this gateway holds it."""
        return self._schemas.get(digest)

    def by_name(self, name: str) -> CatalogSchema:
        """The schema loaded from a file name; KeyError otherwise."""
        for schema in self._schemas.values():
            if schema.name == name:
                return schema
        raise KeyError(name)

    def __iter__(self) -> Iterator[CatalogSchema]:
        return iter(self._schemas.values())


Predicate = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples", "default", "format"})
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))
_TYPE_TESTS: dict[str, Predicate] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}


class _UnsupportedError(Exception):
    """The schema uses a keyword (or a form of one) the predicate compiler does not cover."""


def compile_predicate(schema: object) -> Predicate | None:
    """A fast predicate that accepts only values the schema accepts; None for a schema it
    cannot compile (the jsonschema validator then does all the work)."""
    try:
        return _compile(schema)
    except _UnsupportedError:
        return None


def _compile(schema: object) -> Predicate:
    if schema is True:
        return lambda _v: True
    if not isinstance(schema, dict):
        raise _UnsupportedError
    checks = [
        _keyword(keyword, value, schema)
        for keyword, value in schema.items()
        if keyword not in _ANNOTATIONS and not keyword.startswith("x-")
    ]
    return lambda v: all(check(v) for check in checks)


def _keyword(keyword: str, value: Any, schema: dict[str, Any]) -> Predicate:
    """One keyword's check. Outside the exact JSON types the answer is False, so the
    jsonschema validator decides; a keyword that does not apply to a JSON type passes."""
    if keyword == "type":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(n in _TYPE_TESTS for n in names):
            raise _UnsupportedError
        tests = [_TYPE_TESTS[n] for n in names]
        return lambda v: any(test(v) for test in tests)
    if keyword == "enum":
        if not isinstance(value, list) or not all(type(item) is str for item in value):
            raise _UnsupportedError
        allowed = frozenset(value)
        return lambda v: type(v) is str and v in allowed
    applies_to, check = _typed_keyword(keyword, value, schema)

    def keyword_check(v: Any) -> bool:
        kind = type(v)
        if kind in applies_to:
            return check(v)
        return kind in _JSON_TYPES

    return keyword_check


def _typed_keyword(keyword: str, value: Any, schema: dict[str, Any]) -> tuple[tuple[type, ...], Predicate]:
    if keyword == "properties" and isinstance(value, dict):
        subs = [(name, _compile(sub)) for name, sub in value.items()]
        return (dict,), lambda v: all(name not in v or sub(v[name]) for name, sub in subs)
    if keyword == "required" and isinstance(value, list) and all(type(n) is str for n in value):
        names = tuple(value)
        return (dict,), lambda v: all(name in v for name in names)
    if keyword == "additionalProperties" and "patternProperties" not in schema:
        known = frozenset(schema.get("properties", {}))
        if value is False:
            return (dict,), lambda v: known.issuperset(v)
        extra = _compile(value)
        return (dict,), lambda v: all(k in known or extra(item) for k, item in v.items())
    if keyword == "items" and "prefixItems" not in schema:
        item_check = _compile(value)
        return (list,), lambda v: all(item_check(item) for item in v)
    if keyword in ("minimum", "maximum") and type(value) in (int, float):
        bound = value
        if keyword == "minimum":
            return (int, float), lambda v: bool(v >= bound)
        return (int, float), lambda v: bool(v <= bound)
    if keyword in ("minItems", "maxItems", "minLength", "maxLength") and type(value) is int:
        kind: type = list if keyword.endswith("Items") else str
        limit = value
        if keyword.startswith("min"):
            return (kind,), lambda v: len(v) >= limit
        return (kind,), lambda v: len(v) <= limit
    if keyword == "pattern" and isinstance(value, str):
        search = re.compile(value).search
        return (str,), lambda v: search(v) is not None
    raise _UnsupportedError


def _folder_files(folder: Path) -> list[tuple[str, str]]:
    if not folder.is_dir():
        raise ConfigurationError("CONFIG_INVALID", f"schemas folder {folder} does not exist")
    return [(p.name, p.read_text("utf-8")) for p in sorted(folder.glob("*.json"))]
