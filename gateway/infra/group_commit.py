"""Group commit: the writes of concurrent requests share one transaction.

A request thread hands its member to `GroupCommit.run` and blocks. If no commit is under
way it leads: it takes every member waiting (its own included), commits them in one
transaction with the function it was given, and wakes the others. Members that arrive
while a commit is under way wait for it and then form the next group, so under load a
group holds what arrived during the previous commit, and a lone request waits for no one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar


class Member:
    """One request's part of a group; the committing function settles it."""

    def __init__(self) -> None:
        self.settled = False
        self.error: BaseException | None = None

    def settle(self, error: BaseException | None = None) -> None:
        """Mark this member's write committed (or refused with `error`)."""
        self.settled = True
        self.error = error


M = TypeVar("M", bound=Member)


class GroupCommit(Generic[M]):
    """Batches members of concurrent threads into one commit at a time (per process)."""

    def __init__(self, observe_size: Callable[[int], None] = lambda _size: None) -> None:
        self._observe_size = observe_size
        self._changed = threading.Condition()
        self._waiting: list[M] = []
        self._leading = False

    def run(self, member: M, commit: Callable[[list[M]], None]) -> None:
        """Commit `member` with the others waiting; raises its error when it was refused.

        `commit` settles every member of the group it is given, or raises: then every
        unsettled member of that group fails with that exception.
        """
        with self._changed:
            self._waiting.append(member)
            while self._leading and not member.settled:
                self._changed.wait()
            if not member.settled:
                self._leading = True
                group, self._waiting = self._waiting, []
        if not member.settled:
            self._lead(group, commit)
        if member.error is not None:
            raise member.error

    def _lead(self, group: list[M], commit: Callable[[list[M]], None]) -> None:
        self._observe_size(len(group))
        try:
            commit(group)
            for waiting in group:
                if not waiting.settled:
                    waiting.settle(RuntimeError("the group commit left a member unsettled"))
        except Exception as exc:  # noqa: BLE001 - each member of the group raises it in its own thread
            for waiting in group:
                if not waiting.settled:
                    waiting.settle(exc)
        finally:
            with self._changed:
                self._leading = False
                self._changed.notify_all()
