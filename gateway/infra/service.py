"""One running gateway: its settings, database, keys, chain view and background loops.

`Gateway.open(settings)` resolves everything the settings leave open: the data
directory, the chain (embedded or JSON-RPC), the mode (decided by the chain's id), the
deployment (attached from its record, or, on a development chain without one, deployed
with the demo consortium and catalog), the database (migrated), the keyring and the
gateway's chain account. It refuses to start against a chain that does not hold the
deployment it recorded; in production mode it refuses development secrets, a keyring
file open to group or others, an SQLite database readable by others and a gateway
account without the GATEWAY role.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from chain_client import (
    DEVELOPMENT_CHAIN_IDS,
    Chain,
    ChainClientError,
    ChainUnavailableError,
    DeploymentMismatchError,
    DevKeyRefusedError,
    Role,
    Stack,
    attach_stack,
    devnet_for,
    load_deployment,
    save_deployment,
)
from gateway.infra.anchoring import AnchoringConfig, AnchoringWorker
from gateway.infra.catalog_schemas import SchemaStore
from gateway.infra.chain_index import ChainIndex
from gateway.infra.chain_view import ChainView
from gateway.infra.credit_policy import CreditPolicy, load_policy
from gateway.infra.envelope import Keyring, KeyringError
from gateway.infra.errors import ConfigurationError
from gateway.infra.group_commit import GroupCommit
from gateway.infra.logs import get_logger
from gateway.infra.metrics import Metrics
from gateway.infra.nonces import NonceStore
from gateway.infra.request_auth import Audience
from gateway.infra.settings import Settings
from gateway.infra.storage import connect, migrate, own_engine
from gateway.infra.storage.leaves import BatchTrees
from gateway.infra.subject_ids import SubjectId, subject_ref
from gateway.infra.worker_lease import WorkerLease

log = get_logger("service")


@dataclass(frozen=True)
class DevelopmentBootstrap:
    """What a development gateway starts from where its settings leave it open: the catalog
    schemas, and a deployment for a development chain that has none recorded. The service
    package ships none (credit_demo's DEMO_BOOTSTRAP is the demo's); production needs none."""

    schemas: Callable[[], SchemaStore]
    deploy: Callable[[Chain, SchemaStore], Stack]
    chain: Callable[[], Chain]


DEV_KEYRING_FILE = "keyring.dev.json"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
GROUP_OR_OTHERS = 0o077  # any permission for group or others: refused on a keyring file
OTHERS_READ = 0o004  # read for others: refused on the SQLite database and its folder


@dataclass
class Gateway:
    """Everything a running gateway holds; the API reads it from `app.state.gateway`."""

    settings: Settings
    data_dir: Path
    engine: Engine
    stack: Stack
    view: ChainView
    schemas: SchemaStore
    keyring: Keyring
    account: LocalAccount
    subject_key: bytes = field(repr=False)
    nonces: NonceStore
    worker: AnchoringWorker
    metrics: Metrics
    policy: CreditPolicy
    index: ChainIndex
    access_log_group: GroupCommit[Any]  # the group commit of access-log entries (gateway.records.access_log)
    lookup_group: GroupCommit[Any]  # the group commit of query registrations (gateway.records.lookups)
    # The groups' own pool: a group's leader must never wait for a connection that request
    # threads hold while they wait for the group (under load the shared pool runs out).
    group_engine: Engine
    trees: BatchTrees = field(default_factory=BatchTrees, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _wake_worker: threading.Event = field(default_factory=threading.Event, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, settings: Settings, *, chain: Chain | None = None, bootstrap: DevelopmentBootstrap | None = None
    ) -> Gateway:
        """Resolve and check everything; start nothing yet (see `start`).

        The mode is decided by the chain (`Settings.for_chain`) before any development
        default is used: nothing of development mode is generated or trusted on a chain
        outside the development set. Production refuses secrets others can read and a
        gateway account without the GATEWAY role (docs/deployment.md).
        """
        if settings.mode == "production":
            _require_production_secrets(settings)  # before the chain is reached: say what is missing first
        data_dir = _data_dir(settings)
        schemas = _schemas(settings, bootstrap)
        policy = load_policy(settings.policy_file)
        try:
            chain = chain or _chain(settings, bootstrap)
        except ChainUnavailableError as exc:
            raise ConfigurationError("CONFIG_CHAIN_UNREACHABLE", str(exc)) from None
        settings = settings.for_chain(chain.chain_id)
        subject_key = settings.subject_key_bytes()
        keyring = _keyring(settings, data_dir)
        account = _gateway_account(settings, chain)
        stack = _stack(settings, chain, data_dir, schemas, bootstrap)
        view = ChainView(stack, max_age_s=settings.roles_max_age_s)
        _check_gateway_role(settings, view, account)
        database_url = settings.database_url or f"sqlite:///{data_dir / 'gateway.db'}"
        if not settings.development:
            _check_database_path(database_url)
        engine = connect(database_url)
        migrate(engine)
        metrics = Metrics()
        worker = AnchoringWorker(
            engine,
            stack,
            account,
            AnchoringConfig(batch_size=settings.batch_size, confirmations=settings.confirmations),
        )
        metrics.track_anchoring(worker.lag_seconds, worker.pending_count)
        gateway = cls(
            settings=settings,
            data_dir=data_dir,
            engine=engine,
            stack=stack,
            view=view,
            schemas=schemas,
            keyring=keyring,
            account=account,
            subject_key=subject_key,
            nonces=NonceStore(engine, settings.auth_window_s),
            worker=worker,
            metrics=metrics,
            policy=policy,
            index=ChainIndex(engine, stack, confirmations=settings.confirmations, max_age_s=settings.roles_max_age_s),
            access_log_group=GroupCommit(metrics.access_log_group_size.observe),
            lookup_group=GroupCommit(metrics.lookup_group_size.observe),
            group_engine=own_engine(engine),
        )
        return gateway

    # --------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Make the first chain poll, then start the anchoring worker and the chain poll in
        background threads.

        The first poll runs before the server accepts a request (the app's startup calls
        this): a process that answered before the index had a position would refuse every
        chain-dependent read with 503 CHAIN_UNAVAILABLE. A process that does not follow
        waits, at most `roles_max_age_s`, for the follower's first pass.
        """
        self.poll_chain()
        if self.index.position.block < 0 and not self.index.following:
            self.index.await_position(self.settings.roles_max_age_s, self._stop)
        loops = [("chain-poll", self._poll_loop)]
        if self.settings.start_worker:
            loops.append(("anchoring", self._worker_loop))
        for name, target in loops:
            thread = threading.Thread(target=target, name=f"credit-ledger-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the background threads and close the database."""
        self._stop.set()
        self._wake_worker.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        self.index.stop()
        self.group_engine.dispose()
        self.engine.dispose()

    @property
    def deployments_dir(self) -> Path:
        """Where the gateway's deployment record is (commands taking --deployments read it there)."""
        return _deployments_dir(self.settings, self.data_dir)

    def wake_worker(self) -> None:
        """Ask the worker to run now (a full batch is waiting)."""
        self._wake_worker.set()

    def anchor_now(self) -> None:
        """Run one worker round in the caller's thread (CLI, tests, demo)."""
        self._record_round()

    # ----------------------------------------------------------------- helpers

    def now(self) -> int:
        """The policy clock in unix seconds: the chain's clock.

        Publicity windows, consents and commitment deadlines are judged on the time the
        contracts judge repair periods and deadlines by, so the gateway never serves what
        the chain would already refuse (or the reverse) when a node's clock runs ahead.
        """
        return self.stack.chain.now()

    @property
    def audience(self) -> Audience:
        """This gateway as signed requests name it: its account on its chain (CAIP-10)."""
        return Audience(self.stack.chain.chain_id, self.account.address)

    @staticmethod
    def wall_clock() -> int:
        """Unix seconds on this machine: request signatures and nonces are judged on it."""
        return int(time.time())

    def subject_ref(self, subject: SubjectId) -> bytes:
        """The HMAC subjectRef of a validated subject id."""
        return subject_ref(self.subject_key, subject)

    # ------------------------------------------------------------------- loops

    def _worker_loop(self) -> None:
        lease = WorkerLease(self.engine)
        try:
            while not self._stop.is_set():
                held = lease.held()
                self.metrics.anchoring_lease_held.set(int(held))
                if held:
                    self._record_round()
                self._wake_worker.wait(self.settings.batch_interval_s)
                self._wake_worker.clear()
        finally:
            lease.release()
            self.metrics.anchoring_lease_held.set(0)

    def _record_round(self) -> None:
        try:
            report = self.worker.run_once()
        except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure; nothing is lost
            log.error("anchoring round failed", extra={"fields": {"error": type(exc).__name__}})
            return
        if report.anchored_batches:
            self.metrics.anchored_batches.inc(report.anchored_batches)
            self.metrics.anchored_records.inc(report.anchored_records)
            log.info(
                "anchored",
                extra={"fields": {"batches": report.anchored_batches, "records": report.anchored_records}},
            )
        if report.failed_batches:
            self.metrics.anchoring_failures.inc(report.failed_batches)
        if not report.chain_available:
            log.warning(
                "chain unavailable: records stay pending", extra={"fields": {"pending": report.pending_records}}
            )

    def _poll_loop(self) -> None:
        while not self._stop.wait(self.settings.chain_poll_interval_s):
            self.poll_chain()

    def poll_chain(self) -> None:
        """Refresh roles, catalog and calendars from chain events, follow the chain into the
        index (or read how far its follower is), and purge old nonces."""
        try:
            self.view.refresh()
            self.index.follow()
            self.stack.chain.observe_block_time()
            self.metrics.chain_available.set(1)
            missing = self.view.calendars.next_year_missing(self.now())
            self.metrics.calendar_next_year_missing.set(int(missing is not None))
        except ChainClientError as exc:
            self.metrics.chain_available.set(0)
            log.warning("chain poll failed", extra={"fields": {"error": type(exc).__name__}})
        except SQLAlchemyError as exc:  # the index's database: the next poll retries
            log.warning("index pass failed", extra={"fields": {"error": type(exc).__name__}})
        position = self.index.position
        self.metrics.track_index(self.index.following, position.block, position.age_s(time.time()))
        try:
            self.nonces.purge(self.wall_clock())
        except Exception as exc:  # noqa: BLE001 - purging is housekeeping; the next poll retries
            log.warning("nonce purge failed", extra={"fields": {"error": type(exc).__name__}})


def _data_dir(settings: Settings) -> Path:
    # A folder the gateway creates is its user's alone (it may hold the database and keyring).
    if settings.data_dir is not None:
        settings.data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        return settings.data_dir
    if settings.rpc_url is None:
        # The embedded chain lives as long as the process: a fresh folder per run (mode 0700).
        return Path(tempfile.mkdtemp(prefix="credit-ledger-"))
    path = Path("credit-ledger-data")
    path.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    return path


def _require_production_secrets(settings: Settings) -> None:
    """CONFIG_SECRET_MISSING (or CONFIG_DEV_SECRET_REFUSED) for the first secret production lacks."""
    settings.subject_key_bytes()
    if settings.keyring_json is None and settings.keyring_file is None:
        raise ConfigurationError(
            "CONFIG_SECRET_MISSING", "production mode needs CREDIT_LEDGER_KEYRING_FILE or CREDIT_LEDGER_KEYRING_JSON"
        )
    if settings.gateway_key is None:
        raise ConfigurationError("CONFIG_SECRET_MISSING", "production mode needs CREDIT_LEDGER_GATEWAY_KEY")


def _check_gateway_role(settings: Settings, view: ChainView, account: LocalAccount) -> None:
    """Production refuses an account that is not an active GATEWAY member; development warns."""
    if Role.GATEWAY in view.roles(account.address):
        return
    if not settings.development:
        raise ConfigurationError(
            "CONFIG_GATEWAY_ROLE_MISSING",
            f"the gateway account {account.address} is not an active member with the GATEWAY role:"
            " the consortium's governors admit it first",
        )
    log.warning("gateway account lacks the GATEWAY role", extra={"fields": {"account": account.address}})


def _check_private_file(path: Path, forbidden: int, code: str, what: str) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & forbidden:
        problem = "readable by others" if forbidden == OTHERS_READ else "open to group or others"
        wanted = mode & ~forbidden
        raise ConfigurationError(
            code, f"{what} {path} has mode {mode:04o}, {problem}: production refuses it (chmod {wanted:o})"
        )


def _check_database_path(url: str) -> None:
    """Production: an SQLite database and its folder must not be readable by others. A new
    database file is created here, mode 0600, so that SQLite never creates it world-readable
    (its journal and WAL files take the database file's mode)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    folder = path.parent.resolve()
    _check_private_file(folder, OTHERS_READ, "CONFIG_DATABASE_READABLE", "the database folder")
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    _check_private_file(path, OTHERS_READ, "CONFIG_DATABASE_READABLE", "the database file")


def _gateway_account(settings: Settings, chain: Chain) -> LocalAccount:
    dev_keys = {d.account.key for d in devnet_for(chain.chain_id, allow_any_chain=True).accounts}
    if settings.gateway_key is not None:
        account: LocalAccount = Account.from_key(settings.gateway_key.get_secret_value())
        if account.key in dev_keys and (not settings.development or chain.chain_id not in DEVELOPMENT_CHAIN_IDS):
            raise ConfigurationError(
                "CONFIG_DEV_SECRET_REFUSED", "a development key is public: refused outside development chains and mode"
            )
        return account
    if not settings.development:
        raise ConfigurationError("CONFIG_SECRET_MISSING", "production mode needs CREDIT_LEDGER_GATEWAY_KEY")
    try:
        return devnet_for(chain.chain_id).by_label(settings.dev_gateway_label).account
    except DevKeyRefusedError as exc:
        raise ConfigurationError("CONFIG_DEV_SECRET_REFUSED", str(exc)) from None
    except KeyError:
        raise ConfigurationError("CONFIG_INVALID", f"no development account {settings.dev_gateway_label!r}") from None


def _deployments_dir(settings: Settings, data_dir: Path) -> Path:
    return settings.deployments_dir or data_dir / "deployments"


def _chain(settings: Settings, bootstrap: DevelopmentBootstrap | None) -> Chain:
    if settings.rpc_url:
        return Chain.connect(settings.rpc_url)
    if bootstrap is None:
        raise ConfigurationError("CONFIG_INVALID", "no chain: set CREDIT_LEDGER_RPC")
    return bootstrap.chain()


def _schemas(settings: Settings, bootstrap: DevelopmentBootstrap | None) -> SchemaStore:
    if settings.schemas_dir is not None:
        return SchemaStore.from_dir(settings.schemas_dir)
    if bootstrap is None:
        raise ConfigurationError("CONFIG_INVALID", "no catalog schemas: set CREDIT_LEDGER_SCHEMAS_DIR")
    return bootstrap.schemas()


def _stack(
    settings: Settings, chain: Chain, data_dir: Path, schemas: SchemaStore, bootstrap: DevelopmentBootstrap | None
) -> Stack:
    folder = _deployments_dir(settings, data_dir)
    if (folder / f"{chain.chain_id}.json").is_file():
        try:
            return attach_stack(chain, load_deployment(folder, chain.chain_id))
        except DeploymentMismatchError as exc:
            raise ConfigurationError(
                "CONFIG_WRONG_CHAIN",
                f"refusing to start: the chain does not hold the recorded deployment ({exc})",
            ) from None
    if not settings.development or not chain.is_development or bootstrap is None:
        raise ConfigurationError("CONFIG_NO_DEPLOYMENT", f"no deployment record for chain {chain.chain_id} in {folder}")
    stack = bootstrap.deploy(chain, schemas)
    save_deployment(stack.record, folder)
    return stack


def _keyring(settings: Settings, data_dir: Path) -> Keyring:
    if settings.keyring_file is not None and settings.keyring_json is None and not settings.development:
        _check_production_keyring_file(settings.keyring_file)
    try:
        if settings.keyring_json is not None:
            return Keyring.from_json(settings.keyring_json.get_secret_value())
        if settings.keyring_file is not None:
            return Keyring.from_file(settings.keyring_file)
    except KeyringError as exc:
        raise ConfigurationError("CONFIG_KEYRING_INVALID", str(exc)) from None
    if not settings.development:
        raise ConfigurationError(
            "CONFIG_SECRET_MISSING", "production mode needs CREDIT_LEDGER_KEYRING_FILE or CREDIT_LEDGER_KEYRING_JSON"
        )
    path = data_dir / DEV_KEYRING_FILE
    if path.is_file():
        return Keyring.from_file(path)
    keyring = Keyring.generate("dev-kek-1")
    # Development only: generated next to the database, readable by this user alone.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(keyring.to_json())
    return keyring


def _check_production_keyring_file(path: Path) -> None:
    """Production: a keyring file readable (or writable) by group or others is refused, and so
    is a development keyring (the file a development gateway generates)."""
    if path.name == DEV_KEYRING_FILE:
        raise ConfigurationError(
            "CONFIG_DEV_SECRET_REFUSED", f"{path} is a development keyring: production mode refuses it"
        )
    try:
        _check_private_file(path, GROUP_OR_OTHERS, "CONFIG_KEYRING_READABLE", "the keyring file")
    except FileNotFoundError:
        raise ConfigurationError("CONFIG_KEYRING_INVALID", f"cannot read keyring {path}: no such file") from None
