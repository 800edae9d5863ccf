"""`credit-ledger index rebuild`: recompute a gateway's chain-state index from the chain.

The index (gateway/infra/chain_index.py) is derived data: this clears it and follows the
chain again from the deployment's block to the last confirmed one, reading every touched
record's and commitment's state from the contracts. Running it twice gives the same index.
It takes the region's index lease, so it refuses while a gateway process follows (stop the
gateways, or run it before starting them); the database is migrated first, as the gateway does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from chain_client import Chain, ChainClientError, DeploymentMismatchError, attach_stack, load_deployment
from gateway.infra.chain_index import ChainIndex, IndexLeaseHeldError
from gateway.infra.settings import Settings
from gateway.infra.storage import connect, migrate

EXIT_ERROR = 2


@click.group("index")
def index() -> None:
    """The gateway's chain-state index."""


@index.command("rebuild")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A gateway's data directory: its SQLite database and deployment records.",
)
@click.option("--database-url", default=None, help="SQLAlchemy URL of the gateway's database (default: in --data-dir).")
@click.option("--rpc", metavar="URL", required=True, help="JSON-RPC node of the gateway's chain.")
@click.option(
    "--deployments",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Deployment records (<chainId>.json); default <data-dir>/deployments.",
)
@click.option("--confirmations", type=click.IntRange(1), default=None, help="As the gateway's setting (default 1).")
def rebuild(**options: object) -> None:
    """Clear the index and rebuild it from the chain (idempotent); print the block it reached."""
    names = {"rpc": "rpc_url", "deployments": "deployments_dir"}
    try:
        settings = Settings(**{names.get(k, k): v for k, v in options.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        _fail(f"CONFIG_INVALID: {exc.error_count()} invalid settings ({exc.errors()[0]['loc']})")
    if settings.database_url is None and settings.data_dir is None:
        _fail("CONFIG_INVALID: give --database-url or --data-dir")
    folder = settings.deployments_dir or (settings.data_dir / "deployments" if settings.data_dir else None)
    if folder is None:
        _fail("CONFIG_INVALID: give --deployments or --data-dir")
    url = settings.database_url or f"sqlite:///{Path(str(settings.data_dir)) / 'gateway.db'}"
    assert settings.rpc_url is not None
    engine = connect(url)
    try:
        chain = Chain.connect(settings.rpc_url)
        stack = attach_stack(chain, load_deployment(folder, chain.chain_id))
        migrate(engine)
        built = ChainIndex(engine, stack, confirmations=settings.confirmations, max_age_s=None)
        try:
            position = built.rebuild()
        finally:
            built.stop()
    except IndexLeaseHeldError as exc:
        _fail(str(exc))
    except (DeploymentMismatchError, FileNotFoundError) as exc:
        _fail(f"CONFIG_NO_DEPLOYMENT: {exc}")
    except ChainClientError as exc:
        _fail(f"chain error: {exc}")
    except SQLAlchemyError as exc:
        _fail(f"database error: {type(exc).__name__}")
    finally:
        engine.dispose()
    click.echo(f"index rebuilt to block {position.block}")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(EXIT_ERROR)
