"""`credit-ledger calendar` and `credit-ledger commitments check-deadline`.

The consortium adopts each year's working calendar (the State Council's holiday notice)
on chain through a k-of-n governor proposal: a governor checks the document and proposes
it (`calendar propose`), the others approve (`proposals approve`) and one executes
(`proposals execute`); anyone reads it back, checked against its adopted hash
(`calendar show`), and recounts a commitment's deadline from the chain alone
(`commitments check-deadline`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from chain_client import (
    AdoptedCalendar,
    CalendarError,
    CalendarYearNotAdoptedError,
    ChainClientError,
    ContractRevertError,
    DeadlineCheck,
    WorkingCalendar,
    beijing_date,
    check_commitment_deadline,
    parse_calendar,
)
from credit_cli.support import (
    EXIT_CHECK_FAILED,
    beijing_time,
    chain_options,
    fail,
    key_options,
    open_stack,
    refuse,
    reverted,
    signer_for,
    tx_hash,
)


@click.group()
def calendar() -> None:
    """Working calendars (工作日历) adopted on chain by the consortium's governors."""


@calendar.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check_calendar(file: Path) -> None:
    """Check a calendar document (credit-ledger/working-calendar@1) without a chain.

    Prints `OK <year>: <n> holidays, <m> adjusted working days, hash 0x…` (keccak256 of
    its RFC 8785 form, the hash a proposal adopts), or `REFUSED <CODE> <date>: <reason>`
    and exits 1. Exit 2 when the file cannot be read.
    """
    parsed = _read_calendar(file)
    click.echo(
        f"OK {parsed.year}: {len(parsed.holidays)} holidays, {len(parsed.adjusted_working_days)} adjusted working days,"
        f" hash 0x{parsed.document_hash().hex()}"
    )


@calendar.command("show")
@click.argument("year", type=click.IntRange(2000, 9999), required=False)
@chain_options
@click.option(
    "--version",
    "version",
    metavar="N",
    type=click.IntRange(min=1),
    default=None,
    help="This version (default: the latest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the adoption and the document as JSON.")
def show_calendar(year: int | None, rpc: str, deployments: Path, version: int | None, as_json: bool) -> None:
    """Show a year's adopted calendar (default: the current year in Beijing on the chain's clock).

    The document is read from its adoption event and checked against the hash the chain
    stores before it is shown. Exit 1 when the year has no adopted calendar (or not that
    version) or the document fails its check, 2 on connection errors.
    """
    stack = open_stack(rpc, deployments)
    if year is None:
        year = beijing_date(stack.chain.now()).year
    try:
        latest = stack.calendars.latest_version(year)
        if latest == 0:
            raise CalendarYearNotAdoptedError(year)
        if version is not None and version > latest:
            refuse(f"the {year} calendar has no version {version}: the latest adopted is version {latest}")
        adopted = stack.calendars.read(year, version or latest)
    except CalendarYearNotAdoptedError:
        refuse(
            f"no working calendar is adopted for {year}: governors adopt it with `credit-ledger calendar propose"
            f" --file {year}.json ...`, then `credit-ledger proposals approve ID ...` by the others and"
            " `credit-ledger proposals execute ID ...`"
        )
    except CalendarError as exc:
        refuse(f"the {year} calendar version {version or latest} fails its check: {exc}")
    except (ChainClientError, OSError) as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(_adopted_json(adopted, latest), ensure_ascii=False, indent=2))
        return
    _print_adopted(adopted, latest)


@calendar.command("propose")
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The calendar document (credit-ledger/working-calendar@1) to adopt.",
)
@chain_options
@key_options
def propose_calendar(file: Path, rpc: str, deployments: Path, key: str, password_file: Path | None) -> None:
    """Propose adopting a calendar document as its year's next version (a governor).

    The document is checked first, as `calendar check` does, and refused (exit 1) when it
    is invalid or already the year's latest adopted version. Prints the proposal id: the
    other governors then approve it with `proposals approve ID` and one executes it with
    `proposals execute ID`. A revert (the key is not a governor's, say) exits 1.
    """
    parsed = _read_calendar(file)
    stack = open_stack(rpc, deployments)
    digest = parsed.document_hash()
    try:
        latest = stack.calendars.latest_version(parsed.year)
        if latest and stack.calendars.adoption(parsed.year, latest).document_hash == digest:
            refuse(
                f"this {parsed.year} calendar (hash 0x{digest.hex()}) is already adopted as version {latest}:"
                " nothing to propose"
            )
        signer = signer_for(stack.chain, key, password_file)
        proposal_id, receipt = stack.consortium.propose(signer, stack.calendars.adopt_call(parsed))
        threshold = stack.consortium.threshold()
    except ContractRevertError as exc:
        reverted(exc)
    except ChainClientError as exc:
        fail(str(exc))
    click.echo(f"proposal {proposal_id}: adopt the {parsed.year} working calendar as version {latest + 1}")
    click.echo(f"  document hash  0x{digest.hex()}")
    click.echo(f"  notice         {parsed.title}")
    click.echo(f"  tx             {tx_hash(receipt)}  by {signer.address}  (1 of {threshold} approvals)")
    click.echo(
        f"next: the other governors run `credit-ledger proposals approve {proposal_id} --rpc {rpc}"
        f" --deployments {deployments} --key KEY`, then one runs `credit-ledger proposals execute {proposal_id} ...`"
    )


def _commitment_id(_ctx: click.Context, _param: click.Parameter, value: str) -> bytes:
    text = value.lower()
    if len(text) != 66 or not text.startswith("0x"):
        raise click.BadParameter(f"{value!r} is not a commitment id (0x and 64 hex digits)")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a commitment id (0x and 64 hex digits)") from None


@click.command("check-deadline")
@click.argument("commitment_id", metavar="COMMITMENT_ID", callback=_commitment_id)
@chain_options
@click.option("--json", "as_json", is_flag=True, help="Print the check as JSON.")
def check_deadline(commitment_id: bytes, rpc: str, deployments: Path, as_json: bool) -> None:
    """Recount a commitment's deadline from the chain alone (an auditor's check).

    The term recorded with the commitment (acceptance day, length, the calendar versions
    it names) is counted again over those adopted calendars, each checked against its
    hash; the result must be the deadline the registry stores. Prints PASS, or one FAIL
    line per difference. Exit 0 valid, 1 invalid, 2 on connection or usage errors.
    """
    stack = open_stack(rpc, deployments)
    try:
        check = check_commitment_deadline(stack.commitments, stack.calendars, commitment_id)
    except ChainClientError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(check.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_deadline_check(check)
    if not check.valid:
        sys.exit(EXIT_CHECK_FAILED)


def _print_deadline_check(check: DeadlineCheck) -> None:
    click.echo(f"commitment 0x{check.commitment_id.hex()}")
    if check.term is not None:
        term = check.term.to_json()
        refs = ", ".join(f"{r['year']}@{r['version']}" for r in term["calendars"]) or "none"
        click.echo(f"  term       accepted on {term['acceptedOn']}, {term['length']} {term['unit']}, calendars {refs}")
    if check.recorded_due_by is not None:
        click.echo(f"  recorded   dueBy {check.recorded_due_by} ({beijing_time(check.recorded_due_by)})")
    if check.recounted is not None:
        click.echo(f"  recounted  dueBy {check.recounted.due_by} ({beijing_time(check.recounted.due_by)})")
    if check.valid:
        click.echo("PASS the recount over the adopted calendars gives the recorded deadline")
    for problem in check.problems:
        click.echo(f"FAIL {problem}")


def _read_calendar(file: Path) -> WorkingCalendar:
    """The checked calendar in file; REFUSED and exit 1 when invalid, exit 2 when unreadable."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        return parse_calendar(content)
    except CalendarError as exc:
        reason = str(exc).removeprefix(f"{exc.code}: ")
        click.echo(f"REFUSED {exc.code} {exc.date or '-'}: {reason}")
        sys.exit(EXIT_CHECK_FAILED)


def _adopted_json(adopted: AdoptedCalendar, latest: int) -> dict[str, Any]:
    adoption = adopted.adoption
    return {
        "year": adoption.year,
        "version": adoption.version,
        "latestVersion": latest,
        "documentHash": "0x" + adoption.document_hash.hex(),
        "adoptedAt": adoption.adopted_at,
        "blockNumber": adoption.block_number,
        "document": json.loads(adopted.document),
    }


def _print_adopted(adopted: AdoptedCalendar, latest: int) -> None:
    adoption, parsed = adopted.adoption, adopted.calendar
    click.echo(f"{adoption.year} working calendar, version {adoption.version} (latest {latest})")
    click.echo(f"  document hash  0x{adoption.document_hash.hex()}")
    click.echo(f"  adopted        block {adoption.block_number}, {beijing_time(adoption.adopted_at)}")
    notice = parsed.title
    if parsed.number:
        notice += f" ({parsed.number})"
    if parsed.published_on:
        notice += f", published {parsed.published_on.isoformat()}"
    click.echo(f"  notice         {notice}")
    click.echo(f"  holidays ({len(parsed.holidays)})")
    for first, last in _runs(sorted(parsed.holidays)):
        days = (last - first).days + 1
        span = _day(first) if days == 1 else f"{_day(first)} to {_day(last)}  ({days} days)"
        click.echo(f"    {span}")
    click.echo(f"  adjusted working days ({len(parsed.adjusted_working_days)})")
    for day in sorted(parsed.adjusted_working_days):
        click.echo(f"    {_day(day)}")


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _day(day: dt.date) -> str:
    return f"{day.isoformat()} {day.strftime('%a')}"
