"""The catalog's JSON Schemas, found by the schemaHash each entry carries on chain.

schemaHash = keccak256(RFC 8785 canonical JSON of the schema document), so the
consortium's vote on an entry fixes its schema byte for byte, and any gateway that holds
the same file finds it. A schema names the fields served publicly for class A in its
top-level `x-public-fields` list (a keyword JSON Schema validators ignore).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from chain_client import canonical_json, keccak
from gateway.errors import ConfigurationError

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

    def violations(self, payload: object) -> list[dict[str, str]]:
        """Where a payload breaks the schema: path and rule only, never the values."""
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
    def from_dir(cls, folder: Path | None = None) -> SchemaStore:
        """Every `*.json` in folder (default: the packaged demo schemas)."""
        files = _demo_schema_files() if folder is None else _folder_files(folder)
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
            digest = schema_hash(document)
            schemas[digest] = CatalogSchema(name, document, digest, frozenset(public), Draft202012Validator(document))
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


def _demo_schema_files() -> list[tuple[str, str]]:
    folder = resources.files("gateway").joinpath("demo", "schemas")
    return sorted((f.name, f.read_text("utf-8")) for f in folder.iterdir() if f.name.endswith(".json"))


def _folder_files(folder: Path) -> list[tuple[str, str]]:
    if not folder.is_dir():
        raise ConfigurationError("CONFIG_INVALID", f"schemas folder {folder} does not exist")
    return [(p.name, p.read_text("utf-8")) for p in sorted(folder.glob("*.json"))]
