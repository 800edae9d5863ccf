"""The committed JSON Schemas of the formats (schemas/*.json) and what they find wrong with a document."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


def load_schema(file_name: str) -> dict[str, Any]:
    """A committed JSON Schema, e.g. "proof-bundle.schema.json"."""
    text = resources.files("chain_client").joinpath("schemas", file_name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(file_name: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(file_name))


def schema_problems(file_name: str, document: object) -> list[str]:
    """`path: message` for each thing the schema finds wrong with document, in path order (empty when valid)."""
    errors = sorted(_validator(file_name).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(document)'}: {error.message}" for error in errors]
