"""The credit policy a gateway applies: joint measures per list, breach catalog entries.

Lists themselves are on chain (a catalog entry's listKind); what being on a list entails
(联合奖惩措施) is local policy, read from a JSON file (the packaged default follows the
Beijing joint reward and punishment opinions). Measures are named by stable codes, so an
answer about a subject carries codes and booleans, never record contents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from chain_client import CommitmentKind, ListKind, Term, TermError, TermUnit
from gateway.infra.errors import ConfigurationError

POLICY_FORMAT = "credit-ledger/policy@2"
MEASURE_KINDS = ("mandatory", "recommended")


@dataclass(frozen=True)
class Measure:
    """One joint reward or punishment measure."""

    code: str
    kind: str
    title: str

    def to_json(self) -> dict[str, str]:
        """The measure as the API shows it."""
        return {"code": self.code, "kind": self.kind, "title": self.title}


@dataclass(frozen=True)
class CreditPolicy:
    """Measures by list and by catalog code, breach entries and each commitment kind's default term."""

    by_list: dict[ListKind, tuple[Measure, ...]]
    by_catalog: dict[str, tuple[Measure, ...]]
    breach_entries: frozenset[str]
    commitment_terms: dict[CommitmentKind, Term]

    def measures_for(self, lists: set[ListKind], catalog_codes: set[str]) -> list[Measure]:
        """The measures that apply to a subject on these lists through these catalog entries."""
        found: dict[str, Measure] = {}
        for list_kind in sorted(lists):
            for measure in self.by_list.get(list_kind, ()):
                found.setdefault(measure.code, measure)
        for code in sorted(catalog_codes):
            for measure in self.by_catalog.get(code, ()):
                found.setdefault(measure.code, measure)
        return sorted(found.values(), key=lambda m: (m.kind != "mandatory", m.code))


def load_policy(path: Path | None = None) -> CreditPolicy:
    """The policy in path, or the packaged default; ConfigurationError when malformed."""
    try:
        if path is None:
            text = resources.files("gateway.infra").joinpath("policy/credit-policy.json").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return _parse(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError, TermError) as exc:
        raise ConfigurationError(
            "CONFIG_POLICY_INVALID", "the credit policy file cannot be read", detail=f"{type(exc).__name__}: {exc}"
        ) from None


def _parse(document: dict[str, Any]) -> CreditPolicy:
    if document.get("format") != POLICY_FORMAT:
        raise ValueError(f"format must be {POLICY_FORMAT}")
    return CreditPolicy(
        by_list={ListKind[name]: _measures(items) for name, items in document["lists"].items()},
        by_catalog={code: _measures(items) for code, items in document.get("catalogMeasures", {}).items()},
        breach_entries=frozenset(document["breachEntries"]),
        commitment_terms={CommitmentKind[name]: _term(term) for name, term in document["commitmentTerms"].items()},
    )


def _term(term: dict[str, int]) -> Term:
    (unit, length), *rest = term.items()
    if rest or unit not in ("workingDays", "months"):
        raise ValueError('a commitment term is {"workingDays": N} or {"months": N}')
    return Term(TermUnit.WORKING_DAYS if unit == "workingDays" else TermUnit.MONTHS, int(length))


def _measures(items: list[dict[str, str]]) -> tuple[Measure, ...]:
    measures = tuple(Measure(item["code"], item["kind"], item["title"]) for item in items)
    for measure in measures:
        if measure.kind not in MEASURE_KINDS:
            raise ValueError(f"measure {measure.code}: kind must be one of {MEASURE_KINDS}")
    return measures
