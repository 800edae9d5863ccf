"""The README walkthrough without rough edges: labels, defaults, variable names, and the chain commands.

`dev-headers` names its labels; `serve --help` shows each option's variable and default,
read from the Settings model; every serve option `--some-name` is the variable
CREDIT_LEDGER_SOME_NAME, the old names still working with a deprecation warning; and
`credit-ledger serve` on the embedded chain serves that chain over JSON-RPC on 127.0.0.1,
so the README's chain commands run against the walkthrough's own server.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import click
import httpx
import pytest
from click.testing import CliRunner

from chain_client import devnet_for
from chain_client.contracts.chain import EMBEDDED_CHAIN_ID
from chain_client.dev.hardhat_node import free_port
from credit_cli.main import DEV_LABELS, main, serve
from credit_client import GatewayClient
from gateway.infra.request_auth import sign_request
from gateway.infra.settings import DEPRECATED_ENV, ENV_PREFIX, Settings, env_name, field_of_option
from tests.support.served import wait_until

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
START_TIMEOUT_S = 120.0
SERVE_OPTIONS = [p for p in serve.params if isinstance(p, click.Option) and p.name != "help"]


def bash_blocks() -> list[str]:
    """The README's bash code blocks."""
    return re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.fixture
def no_credit_ledger_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CREDIT_LEDGER_* variable from the machine running the tests."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`serve` under CliRunner points the gateway's log handler at CliRunner's stream: put the handlers back."""
    logger = logging.getLogger("credit_ledger")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    yield
    logger.handlers[:] = handlers
    logger.propagate, logger.level = propagate, level


# ------------------------------------------------------------------ dev-headers


def test_dev_headers_help_lists_the_demo_labels() -> None:
    """`dev-headers --help` names every member of the demo consortium one may sign as."""
    result = CliRunner().invoke(main, ["dev-headers", "--help"])
    assert result.exit_code == 0, result.output
    listed = re.findall(r"^ {2,}([a-z]+-[a-z]+) ", result.output, flags=re.MULTILINE)
    assert listed == [label for label in DEV_LABELS]
    assert {"samr-beijing", "auditor-hebei", "governor-beijing"} <= set(listed)


def test_dev_headers_refuses_an_unknown_label_naming_the_known_ones() -> None:
    """An unknown --as label exits 2 with the labels one could have meant, and prints no headers."""
    result = CliRunner().invoke(main, ["dev-headers", "--as", "samr-shanghai", "GET", "/v1/access-log"])
    assert result.exit_code == 2
    assert f"unknown label samr-shanghai; known labels: {', '.join(DEV_LABELS)}" in result.stderr
    assert "X-CL-Signature" not in result.output


# ------------------------------------------------------------- serve's options


def test_serve_help_shows_each_option_default_and_variable() -> None:
    """`serve --help` shows --confirmations' default from the Settings model; every option its variable and default."""
    result = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    confirmations = Settings.model_fields["confirmations"].default
    assert f"[env var: CREDIT_LEDGER_CONFIRMATIONS; default: {confirmations}]" in text
    for field in ("port", "batch_size", "batch_interval_s", "chain_port", "host"):
        assert f"[env var: {env_name(field)}; default: {Settings.model_fields[field].default}]" in text, field
    assert "[env var: CREDIT_LEDGER_MODE; default: development on a development chain, production on any other]" in text
    for option in SERVE_OPTIONS:
        record = option.get_help_record(click.Context(serve))
        assert record is not None
        assert re.search(r"\[env var: CREDIT_LEDGER_[A-Z_]+; default: [^]]+\]", record[1]), record


def test_every_serve_option_is_its_variable_by_one_rule() -> None:
    """`--some-name` is CREDIT_LEDGER_SOME_NAME for every serve option, and names a Settings field."""
    for option in SERVE_OPTIONS:
        (flag,) = option.opts
        variable = "CREDIT_LEDGER_" + flag.removeprefix("--").replace("-", "_").upper()
        assert env_name(field_of_option(flag)) == variable, flag
    renamed = {flag: env_name(field_of_option(flag)) for flag in ("--rpc", "--deployments", "--batch-interval")}
    assert renamed == {
        "--rpc": "CREDIT_LEDGER_RPC",
        "--deployments": "CREDIT_LEDGER_DEPLOYMENTS",
        "--batch-interval": "CREDIT_LEDGER_BATCH_INTERVAL",
    }


@pytest.mark.usefixtures("no_credit_ledger_environment")
def test_the_new_variable_names_configure_the_gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """CREDIT_LEDGER_RPC, _DEPLOYMENTS, _BATCH_INTERVAL and _CHAIN_PORT set their settings, without a warning."""
    monkeypatch.setenv("CREDIT_LEDGER_RPC", "http://127.0.0.1:9")
    monkeypatch.setenv("CREDIT_LEDGER_DEPLOYMENTS", str(tmp_path))
    monkeypatch.setenv("CREDIT_LEDGER_BATCH_INTERVAL", "0.25")
    monkeypatch.setenv("CREDIT_LEDGER_CHAIN_PORT", "0")
    monkeypatch.setenv("CREDIT_LEDGER_CONFIRMATIONS", "3")
    settings = Settings()  # filterwarnings = error: a warning would fail here
    assert (settings.rpc_url, settings.deployments_dir) == ("http://127.0.0.1:9", tmp_path)
    assert (settings.batch_interval_s, settings.chain_port, settings.confirmations) == (0.25, 0, 3)
    assert Settings(rpc_url=None, batch_interval_s=1.5).batch_interval_s == 1.5  # keywords keep the field names


@pytest.mark.usefixtures("no_credit_ledger_environment")
@pytest.mark.parametrize(
    ("old", "new", "field", "value", "expected"),
    [
        ("CREDIT_LEDGER_RPC_URL", "CREDIT_LEDGER_RPC", "rpc_url", "http://127.0.0.1:9", "http://127.0.0.1:9"),
        ("CREDIT_LEDGER_DEPLOYMENTS_DIR", "CREDIT_LEDGER_DEPLOYMENTS", "deployments_dir", "/srv/d", Path("/srv/d")),
        ("CREDIT_LEDGER_BATCH_INTERVAL_S", "CREDIT_LEDGER_BATCH_INTERVAL", "batch_interval_s", "0.5", 0.5),
    ],
)
def test_the_old_variable_names_still_work_and_warn(
    monkeypatch: pytest.MonkeyPatch, old: str, new: str, field: str, value: str, expected: object
) -> None:
    """An old name still sets its setting, with a DeprecationWarning naming the new variable."""
    assert DEPRECATED_ENV[old] == new
    monkeypatch.setenv(old, value)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; set {new} instead"):
        settings = Settings()
    assert getattr(settings, field) == expected


@pytest.mark.usefixtures("no_credit_ledger_environment")
def test_an_old_name_beside_the_new_one_is_ignored_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """With both names set the new one wins, and the warning says the old one is ignored."""
    monkeypatch.setenv("CREDIT_LEDGER_BATCH_INTERVAL_S", "9")
    monkeypatch.setenv("CREDIT_LEDGER_BATCH_INTERVAL", "0.5")
    with pytest.warns(DeprecationWarning, match="CREDIT_LEDGER_BATCH_INTERVAL_S is deprecated and ignored"):
        assert Settings().batch_interval_s == 0.5


@pytest.mark.usefixtures("no_credit_ledger_environment", "restore_logging")
def test_serve_says_on_stderr_which_variable_replaces_an_old_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`serve` started with an old name prints one warning line naming the new variable (here it then stops at once)."""
    monkeypatch.setenv("CREDIT_LEDGER_RPC_URL", "http://127.0.0.1:9")
    with pytest.warns(DeprecationWarning, match="CREDIT_LEDGER_RPC_URL is deprecated"):
        result = CliRunner().invoke(main, ["serve", "--mode", "production", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2  # production mode without its secrets: refused before any chain is reached
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "warning: CREDIT_LEDGER_RPC_URL is deprecated; set CREDIT_LEDGER_RPC instead"
        " (variables follow the serve options: --some-name is CREDIT_LEDGER_SOME_NAME)"
    )
    assert "CONFIG_SECRET_MISSING" in result.stderr


@pytest.mark.usefixtures("no_credit_ledger_environment", "restore_logging")
def test_serve_refuses_a_chain_port_for_a_json_rpc_chain(tmp_path: Path) -> None:
    """--chain-port serves the embedded chain: with --rpc it is a configuration error (exit 2), nothing starts."""
    result = CliRunner().invoke(
        main, ["serve", "--rpc", "http://127.0.0.1:9", "--chain-port", "0", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "CONFIG_INVALID: --chain-port (CREDIT_LEDGER_CHAIN_PORT) serves the embedded chain" in result.stderr


@pytest.mark.usefixtures("no_credit_ledger_environment", "restore_logging")
def test_serve_exits_2_when_the_chain_port_is_taken(tmp_path: Path) -> None:
    """A chain port in use is refused with exit 2 and the way out (--chain-port 0), before the API starts."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main, ["serve", "--chain-port", str(port), "--port", str(free_port()), "--data-dir", str(tmp_path)]
        )
    assert result.exit_code == 2, result.output
    assert f"CONFIG_CHAIN_PORT_UNAVAILABLE: cannot serve the embedded chain on 127.0.0.1:{port}" in result.stderr
    assert "give --chain-port 0 for a free port" in result.stderr


# ------------------------------------------------------- the walkthrough's server


@dataclass
class Walkthrough:
    """`credit-ledger serve` as the README starts it (embedded chain), and what it printed."""

    process: subprocess.Popen[str]
    api_url: str
    chain_url: str
    data_dir: Path
    deployments: Path
    printed: str


def _lines_of(stream: IO[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """The stream's lines as they come, read by a daemon thread ("" at its end), and that thread."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put("")

    reader = threading.Thread(target=read, name="serve-stdout", daemon=True)
    reader.start()
    return lines, reader


def _printed(lines: list[str], label: str) -> str:
    return next(line.split()[len(label.split())] for line in lines if line.strip().startswith(label))


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkthrough]:
    """`credit-ledger serve --chain-port 0` as a child process on free loopback ports, stopped with SIGTERM."""
    data_dir = tmp_path_factory.mktemp("walkthrough") / "data"
    port = free_port()
    command = [sys.executable, "-m", "credit_cli.main", "serve", "--data-dir", str(data_dir), "--port", str(port)]
    command += ["--chain-port", "0", "--batch-interval", "0.2"]
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith(ENV_PREFIX)}
    log = (data_dir.parent / "serve.log").open("w")
    process = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    reader: threading.Thread | None = None
    try:
        lines: list[str] = []
        printed, reader = _lines_of(process.stdout)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(line.strip().startswith("API") for line in lines):
            try:
                line = printed.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            assert line, f"serve printed no API line: {lines}, exit {process.poll()}"
            lines.append(line)
        api_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(api_url + "/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                assert process.poll() is None, "serve exited"
                return False

        wait_until(ready, timeout=START_TIMEOUT_S, what="credit-ledger serve to be ready")
        yield Walkthrough(
            process,
            api_url,
            chain_url=_printed(lines, "chain JSON-RPC"),
            data_dir=Path(_printed(lines, "data directory")),
            deployments=Path(_printed(lines, "deployments")),
            printed="".join(lines),
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
            if reader is not None:
                reader.join(timeout=10)
            process.stdout.close()
            log.close()
    assert process.returncode == 0


def test_serve_prints_the_chain_url_and_the_deployments_folder(walkthrough: Walkthrough) -> None:
    """The embedded chain is served on 127.0.0.1 at the URL printed; the deployments folder holds its record."""
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", walkthrough.chain_url)
    assert walkthrough.deployments == walkthrough.data_dir / "deployments"
    assert (walkthrough.deployments / f"{EMBEDDED_CHAIN_ID}.json").is_file()
    chain_id = httpx.post(walkthrough.chain_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).json()
    assert int(chain_id["result"], 16) == EMBEDDED_CHAIN_ID
    assert f"--rpc {walkthrough.chain_url} --deployments {walkthrough.deployments}" in walkthrough.printed


def test_the_served_chain_refuses_to_take_back_what_was_anchored(walkthrough: Walkthrough) -> None:
    """evm_snapshot, evm_revert and a set next timestamp are refused: the gateway's database relies on the chain."""
    for method, params in [("evm_snapshot", []), ("evm_revert", ["0x1"]), ("evm_setNextBlockTimestamp", [2**40])]:
        answer = httpx.post(
            walkthrough.chain_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        ).json()
        assert answer["error"]["code"] == -32601, (method, answer)


def test_the_chain_commands_run_against_the_walkthroughs_server(walkthrough: Walkthrough) -> None:
    """`commitments overdue` and `calendar show 2026` with --rpc and --deployments read the served chain."""
    where = ["--rpc", walkthrough.chain_url, "--deployments", str(walkthrough.deployments)]
    overdue = CliRunner().invoke(main, ["commitments", "overdue", *where])
    assert overdue.exit_code == 0, overdue.output
    assert overdue.output.strip().endswith("0 overdue")
    calendar = CliRunner().invoke(main, ["calendar", "show", "2026", *where])
    assert calendar.exit_code == 0, calendar.output
    assert calendar.output.startswith("2026 working calendar, version 1")


def test_the_readmes_chain_block_runs_after_its_python_walkthrough(
    walkthrough: Walkthrough, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The walkthrough's Python records the penalty; then every command of the README's chain block exits 0."""
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)]
    (python,) = [b for b in blocks if "wait_for_proof" in b]
    exec(compile(python.replace("http://127.0.0.1:8101", walkthrough.api_url), str(README), "exec"), {})
    assert capsys.readouterr().out.split() == ["accepted", "True", "虚假宣传"]

    (chain_block,) = [b for b in bash_blocks() if "commitments overdue --rpc" in b]
    assert "CHAIN=http://127.0.0.1:8545" in chain_block
    script = re.sub(r"(?m)^DATA=.*$", f"DATA={walkthrough.data_dir}", chain_block)
    script = script.replace("CHAIN=http://127.0.0.1:8545", f"CHAIN={walkthrough.chain_url}")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(ENV_PREFIX)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["bash", "-c", f"set -eu\nURL={walkthrough.api_url}\n{script}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 overdue" in result.stdout
    assert "2026 working calendar" in result.stdout
    assert "VALID and current" in result.stdout  # verify --rpc: the bundle against the served chain
    assert "CLEAN: every row passed" in result.stdout  # audit --rpc


MISTYPED_CODE = "914403001922038217"  # a published all-digit code, its check character 6 mistyped as 7


@pytest.mark.parametrize("signed", [False, True], ids=["public", "member"])
def test_a_mistyped_all_digit_code_is_refused_with_both_reasons_over_http(
    walkthrough: Walkthrough, signed: bool
) -> None:
    """422 SUBJECT_ID_INVALID: the message and detail give the reason under GB 32100 and under GB 11643."""
    if signed:
        path = f"/v1/subjects/{MISTYPED_CODE}/records"
        account = devnet_for(EMBEDDED_CHAIN_ID).by_label("samr-beijing").account
        with GatewayClient(walkthrough.api_url) as public:
            audience = public.audience
        headers = sign_request(account, "GET", path, [], b"", audience=audience, timestamp=int(time.time()))
        response = httpx.get(walkthrough.api_url + path, headers=headers, timeout=30)
    else:
        response = httpx.get(
            walkthrough.api_url + "/public/v1/disclosures", params={"subject": MISTYPED_CODE}, timeout=30
        )
    assert response.status_code == 422
    document = response.json()
    assert document["code"] == "SUBJECT_ID_INVALID"
    assert document["detail"] == {
        "uscc": {"code": "USCC_CHECK", "reason": "the check character does not match (GB 32100)"},
        "residentId": {"code": "RID_BIRTH_DATE", "reason": "characters 7 to 14 are not a valid birth date"},
    }
    assert document["message"].startswith("neither a valid unified social credit code (GB 32100) nor a valid")
    for reason in document["detail"].values():
        assert reason["reason"] in document["message"]


def test_the_readmes_curl_block_activates_the_venv_first() -> None:
    """The curl block runs in another terminal: its first line activates the venv that has credit-ledger."""
    (curl,) = [b for b in bash_blocks() if "dev-headers" in b]
    assert curl.splitlines()[0] == ". .venv/bin/activate"
