"""A new user's shell: bash in a scratch directory whose `.venv` is the venv running the tests.

Nothing of the test run's own environment leaks in (no active venv on PATH, no
CREDIT_LEDGER_* variable, no PYTHONPATH), so a script runs as the README's reader runs it
in a new terminal: it activates the venv (`. .venv/bin/activate`) or it has no
`credit-ledger`. Commands run as process groups of their own, on a deadline, and are
killed with their children when the deadline passes or the test ends.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

ACTIVATE = ". .venv/bin/activate"


@dataclass(frozen=True)
class Ran:
    """A finished command: what ran, its exit status, what it printed and how long it took."""

    script: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def explain(self) -> str:
        """The script and the tail of its output, for an assertion message."""
        return f"$ {self.script}\n--- exit {self.returncode}\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


def fresh_environment() -> dict[str, str]:
    """The test run's environment without its venv, PYTHONPATH or any CREDIT_LEDGER_* variable."""
    venv_bin = Path(sys.executable).parent
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.upper().startswith("CREDIT_LEDGER_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != venv_bin)
    return env


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the process's group (it leads a session of its own) and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


class UserShell:
    """bash in `home`, where `.venv` is the venv running the tests, with a fresh environment."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        venv = home / ".venv"
        if not venv.exists():
            if (Path(sys.prefix) / "bin" / "activate").is_file():
                venv.symlink_to(Path(sys.prefix), target_is_directory=True)
            else:  # not in a venv: an activate script that puts this interpreter's bin first
                (venv / "bin").mkdir(parents=True)
                (venv / "bin" / "activate").write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
        self.env = fresh_environment()

    def _popen(self, script: str, cwd: Path | None, stdout: int | None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["bash", "-c", script],
            cwd=cwd or self.home,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE if stdout == subprocess.PIPE else None,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )

    def run(self, script: str, *, cwd: Path | None = None, timeout: float = 120.0) -> Ran:
        """Run a script to its end (killed, with its children, after timeout seconds)."""
        started = time.monotonic()
        process = self._popen(script, cwd, subprocess.PIPE)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise AssertionError(f"timed out after {timeout} s: {script}") from None
        finally:
            _kill_group(process)
        return Ran(script, process.returncode, stdout, stderr, time.monotonic() - started)

    def start(self, script: str, *, cwd: Path | None = None, log: Path) -> Background:
        """Start a long-running script (end it with `exec command` so that signals reach the command)."""
        handle = log.open("w", encoding="utf-8")
        try:
            process = subprocess.Popen(
                ["bash", "-c", script],
                cwd=cwd or self.home,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=handle,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        except BaseException:
            handle.close()
            raise
        return Background(script, process, handle, log)


class Background:
    """A running command: its stdout read line by line by a thread, stderr to a log file."""

    def __init__(self, script: str, process: subprocess.Popen[str], log: IO[str], log_path: Path) -> None:
        self.script = script
        self.process = process
        self.log_path = log_path
        self._log = log
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._started = time.monotonic()
        assert process.stdout is not None
        stream = process.stdout

        def read() -> None:
            for line in stream:
                self._queue.put(line)
            self._queue.put("")

        self._reader = threading.Thread(target=read, name="background-stdout", daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def explain(self) -> str:
        stderr = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return f"$ {self.script}\n--- exit {self.process.poll()}\n{self.output[-3000:]}\n--- stderr\n{stderr[-3000:]}"

    def wait_for_line(self, condition: Callable[[str], bool], *, timeout: float, what: str) -> str:
        """The first line printed (from now on) for which condition holds; AssertionError on exit or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{self.explain()}") from None
            if line == "":
                self._queue.put("")  # the end stays the end
                raise AssertionError(f"the command ended before {what}\n{self.explain()}")
            self.lines.append(line)
            if condition(line):
                return line

    def stop(self, sig: int = signal.SIGTERM, *, timeout: float = 60.0) -> int:
        """Send sig, wait for the exit (bounded), collect the rest of stdout; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {timeout} s after signal {sig}\n{self.explain()}") from None
        self._drain()
        return code

    def _drain(self) -> None:
        self._reader.join(timeout=10)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line == "":
                self._queue.put("")
                return
            self.lines.append(line)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started

    def close(self) -> None:
        """Kill whatever still runs of it (idempotent)."""
        _kill_group(self.process)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._log.close()

    def __enter__(self) -> Background:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def shell_variables(values: Mapping[str, object]) -> str:
    """`NAME=value` lines for a script's start, as a reader sets them from what serve printed."""
    return "".join(f"{name}={value}\n" for name, value in values.items())
