"""Which of a region's gateway processes runs the anchoring worker.

Several gateway processes may serve one region from one database (docs/deployment.md, "Gateways").
Their outboxes are the same rows, so exactly one of them may anchor at a time: the one
holding the lease. On PostgreSQL the lease is a session advisory lock on a connection
kept for it, so a process that dies (even by SIGKILL) frees it when the server closes
the session, and another process takes over at its next round. On SQLite (one machine)
it is an exclusive lock on a file next to the database, freed by the kernel the same way.

The same mechanism elects the chain-state index's follower (gateway.infra.chain_index):
each lease has its own name, advisory lock key and lock file, so the anchoring worker and
the index follower may be held by different processes.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from gateway.infra.logs import get_logger

# pg advisory lock keys are bigints; one per lease, with the suffix of its SQLite lock file.
ADVISORY_LOCK_KEY = 0x63_6C_61_6E_63_68_6F_72  # b"clanchor": the anchoring worker
LEASES: dict[str, tuple[int, str]] = {
    "anchoring": (ADVISORY_LOCK_KEY, ".worker-lease"),
    "index": (0x63_6C_69_6E_64_65_78_66, ".index-lease"),  # b"clindexf": the chain-state index's follower
}
log = get_logger("worker-lease")


class WorkerLease:
    """Try to hold one of the region's leases (`LEASES`, the anchoring worker's by default);
    `held()` is checked before each round."""

    def __init__(self, engine: Engine, name: str = "anchoring") -> None:
        self.name = name
        self._key, self._suffix = LEASES[name]
        self._engine = engine
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None

    def held(self) -> bool:
        """True when this process holds the lease (taking it if it is free)."""
        if self._engine.dialect.name == "postgresql":
            return self._held_on_postgresql()
        return self._held_on_file()

    def release(self) -> None:
        """Give the lease up (at shutdown)."""
        if self._connection is not None:
            # Closing the DBAPI connection ends the session and with it the advisory lock;
            # returning it to the pool would keep the lock held by an idle connection.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None

    def _held_on_postgresql(self) -> bool:
        if self._connection is not None:
            try:
                # Still our session? A server restart or a dropped connection ends the lock.
                self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("lease lost with its database session", extra={"fields": {"lease": self.name}})
                self.release()
        try:
            connection = self._engine.connect()
        except DBAPIError:
            return False  # the database is down: nobody anchors until it is back
        try:
            taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar())
            connection.commit()
        except DBAPIError:
            connection.close()
            return False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        log.info("lease taken: this process holds it", extra={"fields": {"lease": self.name}})
        return True

    def _held_on_file(self) -> bool:
        if self._file is not None:
            return True
        database = self._engine.url.database
        if not database or database == ":memory:":
            return True  # an in-memory database belongs to this process alone
        handle = Path(f"{database}{self._suffix}").open("ab")  # noqa: SIM115 - held while the lease is
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        os.set_inheritable(handle.fileno(), False)
        self._file = handle
        return True
