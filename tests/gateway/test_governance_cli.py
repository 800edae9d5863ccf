"""`credit-ledger calendar`, `proposals` and `commitments check-deadline`, against a real Hardhat node.

The calendars adopted here are TEST ONLY documents, not State Council notices, for a
year some years ahead of the chain's clock (so that their deadlines lie in its future
whatever today's date is, and no shipped calendar covers it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from eth_account import Account

from chain_client import (
    CalendarRef,
    Chain,
    CommitmentKind,
    CommitmentSpec,
    CommitmentTerm,
    Role,
    Stack,
    Term,
    TermUnit,
    beijing_date,
    count_deadline,
    deploy_demo_stack,
    devnet_for,
    parse_calendar,
    save_deployment,
)
from chain_client.dev import DevChain
from credit_cli.main import main
from tests.support.hardhat import HardhatNode

TEST_ONLY = "TEST ONLY - not a State Council notice"


@dataclass(frozen=True)
class Deployed:
    """The demo consortium on the session's Hardhat node, with its deployment record on disk."""

    url: str
    chain: Chain
    stack: Stack
    deployments: Path
    year: int  # the TEST ONLY calendar's year: no calendar is adopted for it

    @property
    def chain_args(self) -> list[str]:
        return ["--rpc", self.url, "--deployments", str(self.deployments)]


@pytest.fixture(scope="module")
def deployed_module(hardhat_node: HardhatNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """A fresh demo deployment; the shared node is put back as it was after the module."""
    chain = DevChain.connect(hardhat_node.url)
    snapshot = chain.snapshot()
    try:
        stack = deploy_demo_stack(chain)
        folder = tmp_path_factory.mktemp("deployments")
        save_deployment(stack.record, folder)
        year = beijing_date(chain.latest_timestamp()).year + 5
        assert stack.calendars.latest_version(year) == 0
        yield Deployed(hardhat_node.url, chain, stack, folder, year)
    finally:
        chain.revert_to(snapshot)


@pytest.fixture
def deployed(deployed_module: Deployed) -> Iterator[Deployed]:
    """The module's deployment; whatever a test changes is rolled back after it."""
    snapshot = deployed_module.chain.snapshot()
    yield deployed_module
    deployed_module.chain.revert_to(snapshot)


def calendar_document(year: int, *, adjusted: tuple[str, ...] = ()) -> dict[str, Any]:
    """A TEST ONLY calendar document of year: New Year's Day its one holiday."""
    return {
        "format": "credit-ledger/working-calendar@1",
        "year": year,
        "holidays": [f"{year}-01-01"],
        "adjustedWorkingDays": list(adjusted),
        "notice": {"title": TEST_ONLY},
    }


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def run(*args: object, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env={"CREDIT_LEDGER_KEY_PASSWORD": None, **(env or {})})


def proposal_id_of(result: Result) -> int:
    found = re.search(r"^proposal (\d+):", result.stdout, re.MULTILINE)
    assert found, result.output
    return int(found.group(1))


# ------------------------------------------------------------- calendar check


def test_calendar_check_accepts_a_shipped_calendar_and_prints_its_hash() -> None:
    """A shipped calendar passes and its one line names the counts and the canonical hash."""
    shipped = resources.files("chain_client").joinpath("calendars", "2026.json")
    expected = parse_calendar(shipped.read_bytes())
    with resources.as_file(shipped) as path:
        result = run("calendar", "check", path)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"OK 2026: {len(expected.holidays)} holidays, {len(expected.adjusted_working_days)} adjusted working days,"
        f" hash 0x{expected.document_hash().hex()}\n"
    )


def test_calendar_check_refuses_an_adjusted_working_day_on_a_weekday(tmp_path: Path) -> None:
    """An adjusted working day on a Monday is refused with its code and date, exit 1."""
    assert dt.date(2027, 1, 4).weekday() == 0
    path = write_json(tmp_path / "2027.json", calendar_document(2027, adjusted=("2027-01-04",)))
    result = run("calendar", "check", path)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("REFUSED CALENDAR_WORKDAY_NOT_WEEKEND 2027-01-04: ")


def test_calendar_check_of_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    """A file that cannot be read is an error (exit 2), not a refusal."""
    result = run("calendar", "check", tmp_path / "missing.json")
    assert result.exit_code == 2
    assert "cannot read" in result.output


# ----------------------------------------------------------------- governance


@pytest.mark.hardhat
def test_governors_adopt_a_calendar_by_propose_approve_execute(deployed: Deployed, tmp_path: Path) -> None:
    """A TEST ONLY calendar goes from not adopted, through a 2-of-3 proposal, to adopted version 1."""
    year, chain_args = deployed.year, deployed.chain_args
    document = calendar_document(year)
    path = write_json(tmp_path / f"{year}.json", document)

    before = run("calendar", "show", year, *chain_args)
    assert before.exit_code == 1
    assert f"no working calendar is adopted for {year}" in before.output
    assert "credit-ledger calendar propose" in before.output

    proposed = run("calendar", "propose", "--file", path, *chain_args, "--key", "dev:governor-beijing")
    assert proposed.exit_code == 0, proposed.output
    proposal_id = proposal_id_of(proposed)
    assert f"credit-ledger proposals approve {proposal_id}" in proposed.stdout

    listed = run("proposals", "list", *chain_args)
    assert listed.exit_code == 0, listed.output
    assert "1/2 approvals" in listed.stdout
    assert f"CalendarRegistry.adopt(year={year}, documentHash=0x" in listed.stdout
    rows = json.loads(run("proposals", "list", *chain_args, "--json").stdout)
    (row,) = rows  # the shipped calendars' proposals are executed, so not listed by default
    digest = "0x" + parse_calendar(document).document_hash().hex()
    assert (row["proposalId"], row["state"], row["approvals"], row["threshold"]) == (proposal_id, "open", 1, 2)
    assert (row["targetName"], row["function"], row["arguments"]) == (
        "CalendarRegistry",
        "adopt",
        {"year": year, "documentHash": digest},
    )
    every = json.loads(run("proposals", "list", *chain_args, "--all", "--json").stdout)
    assert [r["state"] for r in every] == ["executed", "executed", "executed", "open"]

    too_early = run("proposals", "execute", proposal_id, *chain_args, "--key", "dev:governor-beijing")
    assert too_early.exit_code == 1
    assert f"ConsortiumInsufficientApprovals(proposalId={proposal_id}, approvals=1, threshold=2)" in too_early.output

    unknown = run("proposals", "approve", proposal_id + 1, *chain_args, "--key", "dev:governor-tianjin")
    assert unknown.exit_code == 1
    assert f"ConsortiumUnknownProposal(proposalId={proposal_id + 1})" in unknown.output

    approved = run("proposals", "approve", proposal_id, *chain_args, "--key", "dev:governor-tianjin")
    assert approved.exit_code == 0, approved.output
    assert "2 of 2 approvals" in approved.stdout
    executed = run("proposals", "execute", proposal_id, *chain_args, "--key", "dev:governor-hebei")
    assert executed.exit_code == 0, executed.output
    assert f"the {year} working calendar is adopted as version 1" in executed.stdout

    shown = run("calendar", "show", year, *chain_args, "--json")
    assert shown.exit_code == 0, shown.output
    adopted = json.loads(shown.stdout)
    assert (adopted["year"], adopted["version"], adopted["latestVersion"]) == (year, 1, 1)
    assert (adopted["documentHash"], adopted["document"]) == (digest, document)
    text = run("calendar", "show", year, *chain_args)
    assert text.exit_code == 0, text.output
    assert TEST_ONLY in text.stdout
    assert f"{year}-01-01" in text.stdout

    again = run("calendar", "propose", "--file", path, *chain_args, "--key", "dev:governor-hebei")
    assert again.exit_code == 1
    assert "already adopted as version 1" in again.output
    assert deployed.stack.consortium.proposal_count() == proposal_id


@pytest.mark.hardhat
def test_a_keystore_key_proposes_and_a_wrong_password_exits_2(deployed: Deployed, tmp_path: Path) -> None:
    """A governor's encrypted keystore signs with the password from --password-file; a wrong one exits 2."""
    governor = devnet_for(deployed.chain.chain_id).by_label("governor-hebei").account
    keystore = write_json(tmp_path / "governor.json", Account.encrypt(governor.key, "pw", iterations=2**14))
    good = tmp_path / "password"
    good.write_text("pw\n", encoding="utf-8")
    bad = tmp_path / "wrong"
    bad.write_text("not the password\n", encoding="utf-8")
    path = write_json(tmp_path / "calendar.json", calendar_document(deployed.year))
    propose = ("calendar", "propose", "--file", path, *deployed.chain_args, "--key", keystore)

    wrong = run(*propose, "--password-file", bad)
    assert wrong.exit_code == 2
    assert "cannot decrypt the keystore" in wrong.output
    assert deployed.stack.consortium.proposal_count() == 3  # the shipped calendars' only

    proposed = run(*propose, "--password-file", good)
    assert proposed.exit_code == 0, proposed.output
    proposal = deployed.stack.consortium.proposal(proposal_id_of(proposed))
    assert proposal.approvers == (governor.address,)
    assert "pw" not in proposed.output.split()
    assert governor.key.hex() not in proposed.output

    from_env = run(*propose, env={"CREDIT_LEDGER_KEY_PASSWORD": "pw"})
    assert from_env.exit_code == 0, from_env.output


@pytest.mark.hardhat
def test_an_unknown_dev_label_exits_2_listing_the_labels(deployed: Deployed, tmp_path: Path) -> None:
    """A dev: key with a label the demo consortium lacks is refused, naming the labels it has."""
    path = write_json(tmp_path / "calendar.json", calendar_document(deployed.year))
    result = run("calendar", "propose", "--file", path, *deployed.chain_args, "--key", "dev:governor-shanghai")
    assert result.exit_code == 2
    assert "'governor-shanghai'" in result.output
    for label in ("governor-beijing", "governor-tianjin", "governor-hebei", "samr-beijing"):
        assert label in result.output


# -------------------------------------------------------------- check-deadline


def record_test_commitment(deployed: Deployed, *, days_off: int) -> tuple[bytes, dt.date]:
    """Adopt the TEST ONLY calendar, then record a 7-working-day commitment as samr-beijing (a PROVIDER),
    its deadline moved days_off days from the count; its id and the counted last day."""
    stack, year = deployed.stack, deployed.year
    devnet = devnet_for(deployed.chain.chain_id)
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][: devnet.threshold]
    working_calendar = parse_calendar(calendar_document(year))
    stack.consortium.govern(governors, stack.calendars.adopt_call(working_calendar))
    term = CommitmentTerm(dt.date(year, 3, 1), Term(TermUnit.WORKING_DAYS, 7), (CalendarRef(year, 1),))
    deadline = count_deadline(term.accepted_on, term.term, lambda _: working_calendar)
    assert deadline.due_by > deployed.chain.latest_timestamp()
    spec = CommitmentSpec(
        os.urandom(32), CommitmentKind.INCOMPLETE_ACCEPTANCE, os.urandom(32), deadline.due_by + days_off * 86400, term
    )
    department = devnet.by_label("samr-beijing").account
    commitment_id, _ = stack.commitments.record(department, spec)
    return commitment_id, deadline.last_day


@pytest.mark.hardhat
def test_check_deadline_passes_for_a_deadline_counted_over_the_adopted_calendar(deployed: Deployed) -> None:
    """A deadline counted over the adopted calendar recounts the same: PASS, exit 0, the date printed."""
    commitment_id, last_day = record_test_commitment(deployed, days_off=0)
    result = run("commitments", "check-deadline", "0x" + commitment_id.hex(), *deployed.chain_args)
    assert result.exit_code == 0, result.output
    assert f"accepted on {deployed.year}-03-01, 7 working-days, calendars {deployed.year}@1" in result.stdout
    assert f"recounted  dueBy {deployed.stack.commitments.commitment(commitment_id).deadline}" in result.stdout
    assert f"({last_day.isoformat()} 23:59:59 Beijing)" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("PASS")

    as_json = json.loads(
        run("commitments", "check-deadline", "0x" + commitment_id.hex(), *deployed.chain_args, "--json").stdout
    )
    assert (as_json["valid"], as_json["recountedDueOn"]) == (True, last_day.isoformat())


@pytest.mark.hardhat
def test_check_deadline_fails_for_a_deadline_one_day_off(deployed: Deployed) -> None:
    """A department recording a deadline one day after the count gets a FAIL naming both dates, exit 1."""
    commitment_id, last_day = record_test_commitment(deployed, days_off=1)
    result = run("commitments", "check-deadline", "0x" + commitment_id.hex(), *deployed.chain_args)
    assert result.exit_code == 1, result.output
    (fail,) = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert (last_day + dt.timedelta(days=1)).isoformat() in fail
    assert last_day.isoformat() in fail
    assert "PASS" not in result.stdout


def test_check_deadline_refuses_a_malformed_id_with_exit_2(tmp_path: Path) -> None:
    """An id that is not 0x and 64 hex digits is a usage error, refused before any connection."""
    result = run("commitments", "check-deadline", "0x12", "--rpc", "http://127.0.0.1:9", "--deployments", tmp_path)
    assert result.exit_code == 2
    assert "not a commitment id" in result.output
