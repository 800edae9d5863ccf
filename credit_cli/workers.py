"""`credit-ledger serve --workers N`: N gateway processes serving one port.

uvicorn's supervisor binds the port and starts N worker processes (spawned: fresh
interpreters), each calling `worker_app`, which opens a gateway from the settings in the
environment (the parent puts its command-line options there) and starts it with the app.
The parent opened the gateway once before, so the deployment, keyring and schema exist
when the workers open theirs.

What the processes share, and how:
- the database: PostgreSQL only (SQLite refused: CONFIG_WORKERS_NEED_POSTGRESQL). Each
  process's writes are safe there (nonces by primary key, access-log groups under an
  advisory lock, the outbox by the worker lease).
- the chain: a JSON-RPC node (the embedded chain lives in one process:
  CONFIG_WORKERS_NEED_RPC_CHAIN).
- the anchoring worker: every process runs the loop, the lease (gateway.infra.worker_lease)
  lets exactly one anchor.
- metrics: prometheus_client's multi-process mode in a directory the parent creates and
  removes; `/metrics` of any process shows the sum (gateway.infra.metrics).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from gateway.infra.errors import ConfigurationError
from gateway.infra.metrics import MULTIPROC_DIR_ENV
from gateway.infra.settings import Settings, env_name

WORKER_APP = "credit_cli.workers:worker_app"
# uvicorn's supervisor pings each worker and kills one that does not answer in time. A
# spawned worker answers only once its interpreter has imported the gateway, which takes
# seconds on a loaded machine: uvicorn's 5 s would kill workers in a loop while they start.
WORKER_HEALTHCHECK_S = 60


def check_workers(settings: Settings) -> None:
    """Refuse more than one process where the processes could not share the chain or the database."""
    if settings.workers == 1:
        return
    if settings.rpc_url is None:
        raise ConfigurationError(
            "CONFIG_WORKERS_NEED_RPC_CHAIN",
            f"--workers {settings.workers}: the embedded chain lives inside one process and cannot be shared;"
            " serve it as a node (`credit-ledger node`) or use Hardhat or a production node, and give --rpc URL",
        )
    if settings.database_url is None or make_url(settings.database_url).get_backend_name() != "postgresql":
        raise ConfigurationError(
            "CONFIG_WORKERS_NEED_POSTGRESQL",
            f"--workers {settings.workers}: several processes need PostgreSQL (--database-url postgresql+psycopg://...);"
            " SQLite serves one process",
        )


def run_workers(settings: Settings, given: Mapping[str, object]) -> None:
    """Serve with `settings.workers` processes until SIGTERM or Ctrl-C (uvicorn's supervisor)."""
    import uvicorn

    metrics_dir = tempfile.mkdtemp(prefix="credit-ledger-metrics-")
    os.environ[MULTIPROC_DIR_ENV] = metrics_dir
    for field, value in given.items():
        os.environ[env_name(field)] = str(value)  # the workers read their settings from the environment
    try:
        uvicorn.run(
            WORKER_APP,
            factory=True,
            workers=settings.workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_app() -> FastAPI:
    """One worker process's app: its gateway opened from the environment, started and stopped with the app."""
    from credit_demo.catalog import open_gateway
    from gateway.api.main import create_app
    from gateway.infra.gc_tuning import tune_for_serving
    from gateway.infra.logs import configure_logging

    configure_logging()
    gateway = open_gateway(Settings.model_validate({}))  # every setting from the environment
    app = create_app(gateway)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        gateway.start()
        tune_for_serving()
        try:
            yield
        finally:
            gateway.stop()
            gateway.metrics.close()

    app.router.lifespan_context = lifespan
    return app
