"""`credit-ledger audit`: the integrity sweep of a gateway's database, from the command line.

It takes the gateway's own settings (options, or CREDIT_LEDGER_<NAME> environment
variables as `serve` does): `--data-dir` alone audits what `credit-ledger serve
--data-dir DIR` keeps (SQLite, development keyring, deployment record); `--rpc` adds the
chain's view of every anchored root. It only reads: the database is never migrated or
created, the keyring never generated. Exit 0 when every row passes, 1 when a row is bad,
2 for usage, configuration or connection errors.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click
from pydantic import ValidationError
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from chain_client import (
    Chain,
    ChainClientError,
    CreditLedger,
    DeploymentMismatchError,
    DeploymentRecord,
    LedgerDomain,
    attach_stack,
    load_deployment,
)
from gateway.infra.envelope import Keyring, KeyringError
from gateway.infra.errors import ConfigurationError
from gateway.infra.service import DEV_KEYRING_FILE
from gateway.infra.settings import Settings
from gateway.infra.storage import connect
from gateway.records.audit import DEFAULT_PAGE_SIZE, AuditReport
from gateway.records.audit import audit as sweep

EXIT_CHECK_FAILED = 1
EXIT_ERROR = 2
_TABLES = ("records", "anchor_batches", "access_log", "outbox")


@dataclass
class _Inputs:
    """What the sweep needs, resolved from the settings."""

    engine: Engine
    keyring: Keyring
    subject_key: bytes | None
    domain: LedgerDomain | None
    ledger: CreditLedger | None
    where: str


@click.command("audit")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A gateway's data directory: its SQLite database, development keyring and deployment records.",
)
@click.option("--database-url", default=None, help="SQLAlchemy URL of the gateway's database (default: in --data-dir).")
@click.option(
    "--keyring-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key-encryption keys (JSON); default the development keyring in --data-dir.",
)
@click.option("--rpc", metavar="URL", default=None, help="Also check every anchored root on the chain at this URL.")
@click.option(
    "--deployments",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Deployment records (<chainId>.json); default <data-dir>/deployments.",
)
@click.option(
    "--mode",
    type=click.Choice(["development", "production"]),
    default=None,
    help="production refuses development secrets, as the gateway does.",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_PAGE_SIZE,
    show_default=True,
    help="Rows read per query.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit(page_size: int, as_json: bool, **options: object) -> None:
    """Check every stored record, anchoring batch and access-log entry; name each bad row.

    Records: recordId, subjectTag, AES-GCM tags, contentHash, subjectRef, provider signature. Batches:
    state, members, root recomputed from its rows, and with --rpc the root on chain.
    Access log: the hash chain and each entryHash. One line per failed check, then a
    summary. Exit 0 when every row passes, 1 when one is bad, 2 on errors.
    """
    names = {"rpc": "rpc_url", "deployments": "deployments_dir"}
    given = {names.get(k, k): v for k, v in options.items() if v is not None}
    try:
        settings = Settings(**given)  # type: ignore[arg-type]
        inputs = _inputs(settings)
    except ValidationError as exc:
        _fail(f"CONFIG_INVALID: {exc.error_count()} invalid settings ({exc.errors()[0]['loc']})")
    except ConfigurationError as exc:
        _fail(f"{exc.code}: {exc.message}")
    started = time.monotonic()
    try:
        report = sweep(
            inputs.engine,
            inputs.keyring,
            subject_key=inputs.subject_key,
            domain=inputs.domain,
            ledger=inputs.ledger,
            page_size=page_size,
        )
    except SQLAlchemyError as exc:
        _fail(f"database error during the sweep: {type(exc).__name__}")
    except ChainClientError as exc:
        _fail(f"chain error during the sweep: {exc}")
    finally:
        inputs.engine.dispose()
    seconds = time.monotonic() - started
    if as_json:
        click.echo(json.dumps({**report.to_json(), "seconds": round(seconds, 3)}, indent=2))
    else:
        _print(report, inputs.where, seconds)
    if not report.clean:
        sys.exit(EXIT_CHECK_FAILED)


def _print(report: AuditReport, where: str, seconds: float) -> None:
    for finding in report.findings:
        click.echo(f"FAIL {finding.table} {finding.key} {finding.check.value}: {finding.reason}")
    chain = f"against chain {report.chain_id}" if report.chain_id is not None else "offline"
    click.echo(
        f"audited {where} {chain} in {seconds:.1f} s: {report.records} records, {report.batches} batches,"
        f" {report.access_log_entries} access-log entries, {report.outbox_entries} outbox entries"
    )
    for missing in report.not_checked:
        click.echo(f"  not checked: {missing}")
    if report.clean:
        click.echo("CLEAN: every row passed")
    else:
        click.echo(f"BAD: {report.bad_rows} rows failed {len(report.findings)} checks")


def _inputs(settings: Settings) -> _Inputs:
    engine, where = _database(settings)
    try:
        domain, ledger = _chain(settings)
        if domain is not None:
            settings = settings.for_chain(domain.chain_id)  # the mode as the gateway decides it
        keyring = _keyring(settings)
        subject_key = _subject_key(settings)
    except ConfigurationError:
        engine.dispose()
        raise
    return _Inputs(engine, keyring, subject_key, domain, ledger, where)


def _database(settings: Settings) -> tuple[Engine, str]:
    """An engine on an existing gateway database; never creates or migrates one."""
    if settings.database_url is not None:
        try:
            url = make_url(settings.database_url)
        except ArgumentError:
            raise ConfigurationError("CONFIG_INVALID", "--database-url is not a database URL") from None
    elif settings.data_dir is not None:
        url = make_url(f"sqlite:///{settings.data_dir / 'gateway.db'}")
    else:
        raise ConfigurationError("CONFIG_INVALID", "give --database-url or --data-dir")
    where = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        raise ConfigurationError("CONFIG_NO_DATABASE", f"no database at {where}")
    engine = connect(url.render_as_string(hide_password=False))
    try:
        tables = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ConfigurationError("CONFIG_DATABASE_UNREACHABLE", f"{where}: {type(exc).__name__}") from None
    if missing := [t for t in _TABLES if t not in tables]:
        engine.dispose()
        raise ConfigurationError("CONFIG_NO_DATABASE", f"{where} is not a gateway database (no {', '.join(missing)})")
    return engine, where


def _keyring(settings: Settings) -> Keyring:
    try:
        if settings.keyring_json is not None:
            return Keyring.from_json(settings.keyring_json.get_secret_value())
        if settings.keyring_file is not None:
            return Keyring.from_file(settings.keyring_file)
        if settings.development and settings.data_dir is not None and (settings.data_dir / DEV_KEYRING_FILE).is_file():
            return Keyring.from_file(settings.data_dir / DEV_KEYRING_FILE)
    except KeyringError as exc:
        raise ConfigurationError("CONFIG_KEYRING_INVALID", str(exc)) from None
    raise ConfigurationError(
        "CONFIG_SECRET_MISSING", "give --keyring-file (or CREDIT_LEDGER_KEYRING_JSON): payloads cannot be checked"
    )


def _subject_key(settings: Settings) -> bytes | None:
    """The subject key; None (subjectRef unchecked) when production mode has none."""
    try:
        return settings.subject_key_bytes()
    except ConfigurationError as exc:
        if exc.code == "CONFIG_SECRET_MISSING":
            return None
        raise


def _chain(settings: Settings) -> tuple[LedgerDomain | None, CreditLedger | None]:
    """The ledger on chain with --rpc; offline, the domain of the one deployment record found."""
    folder = settings.deployments_dir or (settings.data_dir / "deployments" if settings.data_dir else None)
    if settings.rpc_url is None:
        records = sorted(folder.glob("*.json")) if folder is not None and folder.is_dir() else []
        if len(records) != 1:
            return None, None
        try:
            record = DeploymentRecord.from_json(json.loads(records[0].read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError("CONFIG_INVALID", f"unreadable deployment record {records[0]}: {exc}") from None
        return LedgerDomain(record.chain_id, record.address("CreditLedger")), None
    if folder is None:
        raise ConfigurationError("CONFIG_INVALID", "--rpc needs --deployments or --data-dir")
    try:
        chain = Chain.connect(settings.rpc_url)
        stack = attach_stack(chain, load_deployment(folder, chain.chain_id))
    except DeploymentMismatchError as exc:
        raise ConfigurationError(
            "CONFIG_WRONG_CHAIN", f"the chain does not hold the recorded deployment ({exc})"
        ) from None
    except ChainClientError as exc:
        raise ConfigurationError("CONFIG_CHAIN_UNREACHABLE", str(exc)) from None
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError("CONFIG_NO_DEPLOYMENT", f"no readable deployment record in {folder}: {exc}") from None
    return stack.ledger.domain, stack.ledger


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)
