"""The README, run as its reader runs it: the first commands, the walkthrough, and every command it shows.

One scenario (a module-scoped fixture) starts `credit-ledger serve` in a new user's shell
(bash, a scratch directory whose `.venv` is the venv running the tests, nothing else of the
test run's environment), runs the walkthrough's blocks against it as written (only the
URLs and the data directory replaced by what serve printed), then every other command of
the README with the arguments the README gives, or the smallest real ones where it shows
placeholders; long-running commands (`serve`, `node`, `demo --keep-running`) are started,
used and stopped. The tests below check each command's exit status and that its output
says what the README says it does.

`readme_commands` extracts every command the README shows; a test asserts that they are
exactly the commands this scenario ran plus `NOT_RUN`, so a command added to the README
and not run here fails that test.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from chain_client import devnet_for, keccak
from chain_client.dev import EMBEDDED_CHAIN_ID, free_port
from credit_client import GatewayClient
from credit_client.client import GatewayClientError
from gateway.infra.service import DEV_KEYRING_FILE
from gateway.infra.settings import DEV_SUBJECT_KEY
from tests.support.hardhat import HARDHAT_LOCAL, in_ci
from tests.support.served import wait_until
from tests.support.user_shell import ACTIVATE, Background, Ran, UserShell, shell_variables

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
TEST_COMMAND = 'pip install -e ".[test]" && scripts/install-hardhat-local && scripts/lint-contracts --install && pytest'
SUBJECT = "91110108MA01C5XL6R"  # the walkthrough's company
TEST_YEAR = 2099  # the test-only calendar's year: far from any deadline a real commitment counts with
START_TIMEOUT_S = 120.0
STORY_TIMEOUT_S = 300.0
DEMO_GATEWAY = r"^\s+(\w+) \S+\s+gateway 0x[0-9a-fA-F]+\s+(http://127\.0\.0\.1:\d+)$"  # region, URL

# The whole scenario runs in the first test's setup: a few minutes on 2 cores.
pytestmark = pytest.mark.timeout(1200)


# ---------------------------------------------------------------- what the README shows

GROUPS = frozenset({"calendar", "proposals", "commitments", "keys"})  # commands whose subcommand counts
# A flag that makes another command of one: the README shows both forms, each is run on its own.
MODES = {"credit-ledger bench": "--quick", "credit-ledger demo": "--keep-running"}

# Every command the README shows that this module does not run, and why.
NOT_RUN = {
    # The full benchmark: about 17 minutes on both chains, and figures rather than checks.
    # `credit-ledger bench --quick` below runs every part of it on little data.
    "credit-ledger bench": "the full benchmark (about 17 minutes)",
    # The README's test command runs this module; it is not run from inside it. Its other
    # steps: hardhat-local's npm install (which `build --check` and `bench_tree.py` below use),
    # and slither, which tests/test_static_analysis.py runs in the same suite.
    "pytest": "the README's test command",
    "scripts/install-hardhat-local": "the README's test command (its hardhat-local install)",
    "scripts/lint-contracts": "the README's test command (slither; tests/test_static_analysis.py runs it)",
}

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"`([^`\n]+)`")
_CLI = re.compile(r"(?<![\w/.-])credit-ledger[ \t]+([a-z][a-z-]*)([^\n]*)")
_SUBCOMMANDS = re.compile(r"[ \t]+([a-z][a-z-]*(?:(?:[ \t]+[A-Z][A-Z_]*)?\|[a-z][a-z-]*)*)")
_END = re.compile(r"&&|\|\||;|>| \| | #")
_SCRIPT = re.compile(r"(?<![\w/.-])(?:python3?[ \t]+)?scripts/([\w.-]+)")
_PYTEST = re.compile(r"(?:^|&&)[ \t]*pytest\b", flags=re.MULTILINE)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def commands_in(code: str, *, block: bool = True) -> set[str]:
    """The commands a piece of code shows: `credit-ledger <command>` (with the subcommand for
    the groups, and the mode for MODES; `a|b` alternatives and `[--flag]` options count each
    form), `python scripts/<name>.py` and `scripts/<name>`, and in a code block `pytest`."""
    found: set[str] = set()
    for match in _CLI.finditer(code):
        command, rest = f"credit-ledger {match.group(1)}", _END.split(match.group(2), maxsplit=1)[0]
        if match.group(1) in GROUPS:
            alternatives = _SUBCOMMANDS.match(rest)
            subcommands = re.findall(r"[a-z][a-z-]*", alternatives.group(1)) if alternatives else []
            found |= {f"{command} {sub}" for sub in subcommands} or {command}
        elif command in MODES:
            flag = re.escape(MODES[command])
            if re.search(rf"\[{flag}\]", rest):
                found |= {command, f"{command} {MODES[command]}"}
            elif re.search(rf"(?<![\w-]){flag}(?![\w-])", rest):
                found.add(f"{command} {MODES[command]}")
            else:
                found.add(command)
        else:
            found.add(command)
    for match in _SCRIPT.finditer(code):
        name = match.group(1)
        found.add(f"python scripts/{name}" if name.endswith(".py") else f"scripts/{name}")
    if block and _PYTEST.search(code):
        found.add("pytest")
    return found


def readme_commands(markdown: str) -> set[str]:
    """Every command the README shows: in its code blocks, and in inline code (the Command line
    table's synopses, the runbook, the prose), table escapes `\\|` read as `|`."""
    found: set[str] = set()
    for block in _FENCE.findall(markdown):
        found |= commands_in(block)
    for span in _SPAN.findall(_FENCE.sub("", markdown)):
        found |= commands_in(span.replace("\\|", "|"), block=False)
    return found


def test_the_extraction_reads_synopses_alternatives_and_modes() -> None:
    """Subcommands of a group, `a|b` alternatives, bracketed and bare mode flags, scripts, the test command."""
    table = (
        "| `credit-ledger proposals list\\|approve ID\\|execute ID --rpc URL [--key KEY]` | x |\n"
        "| `credit-ledger bench [--quick] [--json FILE]` | y |\n"
        "| `credit-ledger serve [--mode development\\|production]` | z |\n"
        "| `python scripts/bench_tree.py [--records N]` | w |\n"
    )
    assert readme_commands(table) == {
        "credit-ledger proposals list",
        "credit-ledger proposals approve",
        "credit-ledger proposals execute",
        "credit-ledger bench",
        "credit-ledger bench --quick",
        "credit-ledger serve",
        "python scripts/bench_tree.py",
    }
    assert readme_commands("run `credit-ledger bench --json FILE`, not `credit-ledger/proof@2`") == {
        "credit-ledger bench"
    }
    assert readme_commands("```bash\nexec credit-ledger demo --keep-running > out.txt\n```\n") == {
        "credit-ledger demo --keep-running"
    }
    assert readme_commands(f"```bash\n{TEST_COMMAND}\n```\n") == {
        "pytest",
        "scripts/install-hardhat-local",
        "scripts/lint-contracts",
    }


def test_the_readme_shows_the_commands_one_expects() -> None:
    """A floor for the extraction on the README itself: the table's commands are all found."""
    shown = readme_commands(README.read_text(encoding="utf-8"))
    assert {
        "credit-ledger serve",
        "credit-ledger demo",
        "credit-ledger demo --keep-running",
        "credit-ledger calendar check",
        "credit-ledger calendar show",
        "credit-ledger calendar propose",
        "credit-ledger proposals list",
        "credit-ledger proposals approve",
        "credit-ledger proposals execute",
        "credit-ledger commitments overdue",
        "credit-ledger commitments check-deadline",
        "credit-ledger keys rotate",
        "credit-ledger keys retire",
        "credit-ledger bench --quick",
        "python scripts/bench_verify.py",
    } <= shown
    assert set(NOT_RUN) <= shown, "an exclusion the README no longer shows: drop it from NOT_RUN"


# ---------------------------------------------------------------- the first block and CI


def test_readme_starts_with_the_run_and_test_commands() -> None:
    """The first code block holds the two commands: install-and-run, install-and-test."""
    first = _blocks("bash")[0]
    assert "pip install . && credit-ledger serve" in first
    assert TEST_COMMAND in first


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends with the README's test command."""
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in ci


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's Python example runs as written and prints what its comment says."""
    (example,) = [block for block in _blocks("python") if "DevChain.embedded()" in block]
    exec(compile(example, str(README), "exec"), {})
    assert capsys.readouterr().out.strip() == "ConsortiumUnknownProposal {'proposalId': 99}"


# ---------------------------------------------------------------- the scenario


@dataclass
class Scenario:
    """What the scenario ran: each step's result by name, the README commands it covered, facts it read."""

    shell: UserShell
    scratch: Path
    ran: dict[str, Ran] = field(default_factory=dict)
    covered: set[str] = field(default_factory=set)
    facts: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, object] = field(default_factory=dict)

    def run(self, step: str, script: str, *, cwd: Path | None = None, timeout: float = 120.0) -> Ran:
        """Run a script in the user's shell (the venv activated, the walkthrough's variables set)."""
        prelude = f". {self.shell.home / '.venv/bin/activate'}\n{shell_variables(self.variables)}"
        return self.record(step, self.shell.run(prelude + script, cwd=cwd, timeout=timeout), script)

    def run_as_written(self, step: str, script: str, *, timeout: float = 120.0) -> Ran:
        """Run a README block in the user's shell with nothing added (it activates the venv itself)."""
        return self.record(step, self.shell.run(script, timeout=timeout), script)

    def record(self, step: str, ran: Ran, script: str) -> Ran:
        assert step not in self.ran, step
        self.ran[step] = ran
        self.covered |= commands_in(script)
        return ran

    def start(self, step: str, script: str) -> Background:
        """Start a long-running command (`exec`: the signals reach it) in the user's shell."""
        self.covered |= commands_in(script)
        activate = f". {self.shell.home / '.venv/bin/activate'}\n{shell_variables(self.variables)}"
        return self.shell.start(activate + script, log=self.scratch / f"{step}.log")

    def stopped(self, step: str, process: Background, sig: int, *, timeout: float = 60.0) -> Ran:
        """Stop a started command with sig; its run, recorded under step."""
        code = process.stop(sig, timeout=timeout)
        stderr = process.log_path.read_text(encoding="utf-8", errors="replace")
        self.ran[step] = Ran(process.script, code, process.output, stderr, process.seconds)
        return self.ran[step]

    def output(self, step: str) -> str:
        """A step's stdout, asserting it exited 0."""
        ran = self.ran[step]
        assert ran.returncode == 0, ran.explain()
        return ran.stdout


def _printed(lines: list[str], label: str) -> str:
    """The value serve printed on its `label` line."""
    for line in lines:
        if line.strip().startswith(label):
            return line.strip().removeprefix(label).split()[0]
    raise AssertionError(f"serve printed no {label!r} line: {''.join(lines)}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _test_calendar() -> dict[str, Any]:
    """A TEST-ONLY working calendar of a far future year: one holiday, one adjusted Saturday."""
    return {
        "format": "credit-ledger/working-calendar@1",
        "year": TEST_YEAR,
        "holidays": [f"{TEST_YEAR}-01-01", f"{TEST_YEAR}-01-02"],
        "adjustedWorkingDays": [f"{TEST_YEAR}-01-03"],  # a Saturday
        "notice": {"title": f"TEST ONLY: no State Council notice, {TEST_YEAR} (tests/test_readme.py)"},
    }


def _solc_available() -> bool:
    return bool(shutil.which("solc")) or (HARDHAT_LOCAL / "node_modules" / "solc").is_dir()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Everything the README shows, run once, in order; each step's result kept for the tests below."""
    scratch = tmp_path_factory.mktemp("readme")
    run = Scenario(UserShell(scratch / "home"), scratch)
    _serve_and_walk_through(run)
    _standalone_commands(run)
    return run


def _serve_and_walk_through(run: Scenario) -> None:
    """`serve` on free ports; the walkthrough's blocks and the chain commands against it; SIGTERM."""
    data = run.scratch / "serve-data"
    port = free_port()
    serve = run.start("serve", f"exec credit-ledger serve --port {port} --chain-port 0 --data-dir {data}\n")
    try:
        serve.wait_for_line(lambda line: line.strip().startswith("API"), timeout=START_TIMEOUT_S, what="serve's API")
        api = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert serve.process.poll() is None, serve.explain()
            return _answers(api + "/readyz")

        wait_until(ready, timeout=START_TIMEOUT_S, what="credit-ledger serve to be ready")
        run.facts["serve.printed"] = serve.output
        run.variables = {
            "URL": api,
            "CHAIN": _printed(serve.lines, "chain JSON-RPC"),
            "DATA": _printed(serve.lines, "data directory"),
        }
        _walkthrough(run)
        _chain_commands(run)
    finally:
        try:
            run.stopped("serve", serve, signal.SIGTERM)
        finally:
            serve.close()
    _rotate_keys_on_a_copy(run, Path(str(run.variables["DATA"])))


def _walkthrough(run: Scenario) -> None:
    """The walkthrough's Python block, then its curl block and the chain block in one terminal, as written."""
    api, chain, data = (str(run.variables[name]) for name in ("URL", "CHAIN", "DATA"))
    (python,) = [block for block in _blocks("python") if "wait_for_proof" in block]
    python = _replaced(python, 'URL = "http://127.0.0.1:8101"', f'URL = "{api}"')
    (run.shell.home / "walkthrough.py").write_text(python, encoding="utf-8")
    run.run_as_written("walkthrough python", f"{ACTIVATE}\npython3 walkthrough.py\n")

    (curl,) = [block for block in _blocks("bash") if "dev-headers" in block]
    (chain_block,) = [block for block in _blocks("bash") if "commitments overdue --rpc" in block]
    curl = _replaced(curl, "URL=http://127.0.0.1:8101", f"URL={api}")
    chain_block = _replaced(chain_block, "CHAIN=http://127.0.0.1:8545", f"CHAIN={chain}")
    chain_block = _replaced(chain_block, "DATA=/tmp/credit-ledger-…", f"DATA={data}")
    run.run_as_written("walkthrough curl and chain blocks", "set -eu\n" + curl + chain_block)


def _replaced(text: str, old: str, new: str) -> str:
    """text with its one occurrence of old replaced (the README shows it exactly once)."""
    assert text.count(old) == 1, f"the README's block no longer shows {old!r} once"
    return text.replace(old, new)


def _chain_commands(run: Scenario) -> None:
    """The Command line table's other commands against the served gateway and its chain."""
    home, where = run.shell.home, "--rpc $CHAIN --deployments $DATA/deployments"
    run.run("dev-headers --help", "credit-ledger dev-headers --help\n")

    # A commitment through the Python client, recounted from the chain alone.
    regulator = devnet_for(EMBEDDED_CHAIN_ID).by_label("samr-beijing").account
    letter = keccak(b"a commitment letter (tests/test_readme.py)")
    with GatewayClient(str(run.variables["URL"]), regulator) as client:
        try:  # the README's example term
            answer = client.record_commitment(
                subject=SUBJECT,
                kind="incomplete-acceptance",
                doc_hash=letter,
                subject_key=DEV_SUBJECT_KEY,
                working_days=7,
            )
        except GatewayClientError as exc:
            # The shipped calendars end with 2026: from late December 2026 seven working days reach
            # a year no notice was adopted for, and the term is counted in months instead.
            if exc.code != "WORKING_DAYS_YEAR_NOT_COVERED":
                raise
            answer = client.record_commitment(
                subject=SUBJECT, kind="incomplete-acceptance", doc_hash=letter, subject_key=DEV_SUBJECT_KEY, months=1
            )
    run.facts["commitment"] = answer
    commitment_id = answer["commitmentId"]
    run.run("commitments check-deadline", f"credit-ledger commitments check-deadline {commitment_id} {where}\n")

    # The credit report from the gateway's report endpoint, checked against the chain.
    report = f"/v1/subjects/{SUBJECT}/report?format=html"
    run.run(
        "verify-report --rpc",
        f'credit-ledger dev-headers --url $URL --as samr-beijing GET "{report}" > report-headers.txt\n'
        f'curl -s -f -H @report-headers.txt "$URL{report}" > report.html\n'
        "credit-ledger verify-report report.html --rpc $CHAIN\n",
        cwd=home,
    )

    # A list screening through the Python client, saved and checked whole and line by line against the chain.
    with GatewayClient(str(run.variables["URL"]), regulator) as client:
        screening = client.screening([SUBJECT, "91110108MA01C5XL6X"], purpose="tender screening")
    (home / "screening.json").write_text(json.dumps(screening, ensure_ascii=False), encoding="utf-8")
    run.run(
        "verify-screening --rpc",
        "credit-ledger verify-screening screening.json --rpc $CHAIN\n"
        "credit-ledger verify-screening screening.json --line 1\n",
        cwd=home,
    )

    # The runbook with a TEST-ONLY calendar of a far future year: check, propose, list, approve,
    # execute (other governor), show, and the gateway serving it.
    calendar_file = f"{TEST_YEAR}-test-only.json"
    (home / calendar_file).write_text(json.dumps(_test_calendar(), ensure_ascii=False, indent=2), encoding="utf-8")
    run.run("calendar check", f"credit-ledger calendar check {calendar_file}\n", cwd=home)
    proposed = run.run(
        "calendar propose",
        f"credit-ledger calendar propose --file {calendar_file} {where} --key dev:governor-beijing\n",
        cwd=home,
    )
    found = re.search(r"^proposal (\d+):", proposed.stdout, flags=re.MULTILINE)
    assert found, proposed.explain()
    proposal = found.group(1)
    run.facts["proposal"] = proposal
    run.run("proposals list", f"credit-ledger proposals list {where}\n")
    run.run("proposals approve", f"credit-ledger proposals approve {proposal} {where} --key dev:governor-tianjin\n")
    run.run("proposals execute", f"credit-ledger proposals execute {proposal} {where} --key dev:governor-tianjin\n")
    run.run("calendar show", f"credit-ledger calendar show {TEST_YEAR} {where}\n")
    calendar_url = f"{run.variables['URL']}/public/v1/calendars/{TEST_YEAR}"
    wait_until(lambda: _answers(calendar_url), timeout=60, what="the gateway to pick up the adopted calendar")
    run.run("curl calendar", f"curl -s -f $URL/public/v1/calendars/{TEST_YEAR}\n")

    # The runbook's first step on a year chinese-calendar carries (it refuses 2027: not published).
    generated = run.scratch / "generated-calendars"
    run.run("generate_calendars", f"python scripts/generate_calendars.py --out {generated} 2026\n", cwd=REPO)


def _rotate_keys_on_a_copy(run: Scenario, data: Path) -> None:
    """`keys rotate` on a copy of serve's (stopped) data directory, then `audit` of the copy."""
    copy = run.scratch / "rotated-data"
    shutil.copytree(data, copy)
    run.facts["keyring before"] = json.loads((copy / DEV_KEYRING_FILE).read_text(encoding="utf-8"))
    run.run(
        "keys rotate",
        f"credit-ledger keys rotate --keyring-file {copy / DEV_KEYRING_FILE} --database-url sqlite:///{copy}/gateway.db\n",
    )
    run.facts["keyring after"] = json.loads((copy / DEV_KEYRING_FILE).read_text(encoding="utf-8"))
    old_id = run.facts["keyring before"]["active"]
    run.run(
        "keys retire",
        f"credit-ledger keys retire {old_id} --keyring-file {copy / DEV_KEYRING_FILE}"
        f" --database-url sqlite:///{copy}/gateway.db\n",
    )
    run.facts["keyring retired"] = json.loads((copy / DEV_KEYRING_FILE).read_text(encoding="utf-8"))
    run.run("audit of the rotated copy", f"credit-ledger audit --data-dir {copy}\n")


def _standalone_commands(run: Scenario) -> None:
    """The commands that need no gateway: node and deploy, build, gas, demo, bench and the scripts."""
    run.facts["serve variables"], run.variables = run.variables, {}
    node_dir = run.scratch / "node-data"
    node = run.start("node", f"exec credit-ledger node --data-dir {node_dir} --port 0\n")
    try:
        line = node.wait_for_line(lambda text: text.startswith("credit-ledger node on "), timeout=60, what="node URL")
        node_url = line.removeprefix("credit-ledger node on ").strip()
        answer = httpx.post(node_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=30).json()
        run.facts["node chainId"] = int(answer["result"], 16)
        run.facts["node url"] = node_url
        deployments = run.scratch / "node-deployments"
        run.run("deploy", f"credit-ledger deploy --rpc {node_url} --deployments {deployments}\n")
        run.run("deploy again --json", f"credit-ledger deploy --rpc {node_url} --deployments {deployments} --json\n")
        run.stopped("node", node, signal.SIGTERM)
    finally:
        node.close()

    run.run("build --check", "credit-ledger build --check\n", cwd=REPO)
    run.run("gas --json", "credit-ledger gas --json\n", timeout=300)

    out = run.scratch / "demo-out"
    run.run("demo --out", f"credit-ledger demo --out {out}\n", timeout=STORY_TIMEOUT_S)
    run.run("verify demo bundles", f"credit-ledger verify {out}/bundles/*.json\n")
    run.run("verify-report demo report", f"credit-ledger verify-report {out}/reports/*.html\n")

    demo = run.start("demo --keep-running", "exec credit-ledger demo --keep-running\n")
    try:
        demo.wait_for_line(
            lambda text: "The gateways keep running; Ctrl-C stops them." in text,
            timeout=STORY_TIMEOUT_S,
            what="the demo to keep its gateways running",
        )
        gateways = dict(re.findall(DEMO_GATEWAY, demo.output, flags=re.MULTILINE))
        run.facts["demo gateways"] = gateways
        run.facts["demo gateways answering"] = {name: _answers(url + "/readyz") for name, url in gateways.items()}
        run.stopped("demo --keep-running", demo, signal.SIGINT)  # Ctrl-C
        run.facts["demo gateways after Ctrl-C"] = {name: _answers(url + "/healthz") for name, url in gateways.items()}
    finally:
        demo.close()

    run.run("bench --quick", f"credit-ledger bench --quick --json {run.scratch / 'bench.json'}\n", timeout=300)
    run.run("bench_verify.py", "python scripts/bench_verify.py --bundles 200\n", cwd=REPO)
    run.run("bench_tree.py", "python scripts/bench_tree.py --records 1000\n", cwd=REPO)
    run.run(
        "bench_unauthenticated_upload.py",
        "python scripts/bench_unauthenticated_upload.py --uploads 2 --mib 16\n",
        cwd=REPO,
    )


# ---------------------------------------------------------------- what the scenario shows


def test_every_command_the_readme_shows_is_run_here_or_excluded(scenario: Scenario) -> None:
    """The README's commands are exactly those the scenario ran plus NOT_RUN: a new one must be run here."""
    shown = readme_commands(README.read_text(encoding="utf-8"))
    assert not set(NOT_RUN) & scenario.covered, "a command both run and excluded"
    assert sorted(shown - set(NOT_RUN) - scenario.covered) == [], "README commands this module does not run"
    assert sorted(scenario.covered - shown) == [], "commands run here that the README does not show"


def test_serve_prints_where_it_keeps_its_data_and_serves_its_chain(scenario: Scenario) -> None:
    """serve prints its data directory, the deployments folder in it and the chain URL; SIGTERM ends it with 0."""
    printed, data = scenario.facts["serve.printed"], scenario.facts["serve variables"]
    assert f"deployments     {data['DATA']}/deployments" in printed
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", str(data["CHAIN"]))
    assert f"API             {data['URL']}/docs" in printed
    ran = scenario.ran["serve"]
    assert ran.returncode == 0, ran.explain()


def test_the_walkthroughs_python_prints_what_its_comments_say(scenario: Scenario) -> None:
    """accepted, True (the bundle verifies offline), and the public disclosure's violation."""
    assert scenario.output("walkthrough python").split() == ["accepted", "True", "虚假宣传"]


def test_the_walkthroughs_curl_and_chain_blocks_answer(scenario: Scenario) -> None:
    """In a new terminal: the venv activated, public and signed reads, then every chain command exits 0."""
    out = scenario.output("walkthrough curl and chain blocks")
    assert '"code": "BJ-XZCF-001"' in out  # the catalog
    assert '"violation": "虚假宣传"' in out  # the public disclosure, then the full record
    assert '"format": "credit-ledger/access-log@1"' in out  # the auditor's signed read
    assert '"status":"ready"' in out.replace(" ", "")  # /readyz
    assert re.search(r"(?<!\d)0 overdue$", out, flags=re.MULTILINE)  # commitments overdue (after /readyz's line)
    assert "2026 working calendar, version 1" in out  # calendar show 2026
    assert re.search(r"^0 open of \d+ proposals", out, flags=re.MULTILINE)  # proposals list
    assert "VALID and current" in out  # verify --rpc: the bundle against the served chain
    assert "CLEAN: every row passed" in out  # audit --rpc


def test_dev_headers_help_lists_the_labels(scenario: Scenario) -> None:
    """`credit-ledger dev-headers --help` lists the labels one may sign as."""
    out = scenario.output("dev-headers --help")
    for label in ("samr-beijing", "auditor-hebei", "governor-beijing", "governor-tianjin"):
        assert re.search(rf"^\s+{label}\s", out, flags=re.MULTILINE), label


def test_check_deadline_recounts_the_clients_commitment(scenario: Scenario) -> None:
    """The term, the recorded and recounted deadlines, then PASS."""
    out = scenario.output("commitments check-deadline")
    commitment = scenario.facts["commitment"]
    assert out.startswith(f"commitment {commitment['commitmentId']}")
    assert re.search(r"^  term {7}accepted on \d{4}-\d\d-\d\d, (7 working-days|1 months)", out, flags=re.MULTILINE)
    assert f"recorded   dueBy {commitment['dueBy']}" in out
    assert f"recounted  dueBy {commitment['dueBy']}" in out
    assert out.rstrip().endswith("PASS the recount over the adopted calendars gives the recorded deadline")


def test_verify_report_checks_the_gateways_report_against_the_chain(scenario: Scenario) -> None:
    """The report endpoint's HTML page, fetched with curl and dev-headers, verifies with --rpc."""
    out = scenario.output("verify-report --rpc")
    assert f"credit report of {SUBJECT}" in out
    assert "FAIL" not in out
    assert out.rstrip().endswith("VALID against the chain: authentic, every record still in force")


def test_verify_screening_checks_a_screening_whole_and_one_line(scenario: Scenario) -> None:
    """A screening of a valid and a mistyped id verifies against the chain, and its second line on its own."""
    out = scenario.output("verify-screening --rpc")
    assert "FAIL" not in out
    assert "INVALID" not in out
    assert "VALID against the chain" in out
    assert "VALID offline (give --rpc to check the chain)" in out


def test_the_calendar_runbook_adopts_a_test_only_calendar(scenario: Scenario) -> None:
    """check, propose (governor-beijing), list, approve and execute (governor-tianjin), show, and the gateway."""
    checked = scenario.output("calendar check").strip()
    found = re.fullmatch(rf"OK {TEST_YEAR}: 2 holidays, 1 adjusted working days, hash (0x[0-9a-f]{{64}})", checked)
    assert found, checked
    digest = found.group(1)
    proposal = scenario.facts["proposal"]
    proposed = scenario.output("calendar propose")
    assert f"proposal {proposal}: adopt the {TEST_YEAR} working calendar as version 1" in proposed
    assert f"document hash  {digest}" in proposed
    assert "(1 of 2 approvals)" in proposed
    listed = scenario.output("proposals list")
    assert f"CalendarRegistry.adopt(year={TEST_YEAR}, documentHash={digest})" in listed
    assert re.search(rf"^\s+{proposal}  open\s+1/2 approvals", listed, flags=re.MULTILINE), listed
    approved = scenario.output("proposals approve")
    assert f"approved proposal {proposal}" in approved
    assert "2 of 2 approvals" in approved
    executed = scenario.output("proposals execute")
    assert f"the {TEST_YEAR} working calendar is adopted as version 1 (hash {digest})" in executed
    shown = scenario.output("calendar show")
    assert shown.startswith(f"{TEST_YEAR} working calendar, version 1 (latest 1)")
    assert f"document hash  {digest}" in shown
    assert "TEST ONLY" in shown
    served = json.loads(scenario.output("curl calendar"))
    assert (served["document"]["year"], served["version"]) == (TEST_YEAR, 1), served


def test_generate_calendars_reproduces_the_shipped_document(scenario: Scenario) -> None:
    """The runbook's generator writes 2026.json byte for byte as shipped (it refuses years not yet published)."""
    scenario.output("generate_calendars")
    generated = (scenario.scratch / "generated-calendars" / "2026.json").read_bytes()
    assert generated == (REPO / "chain_client" / "calendars" / "2026.json").read_bytes()


def test_keys_rotate_rewraps_the_data_keys_of_a_copy(scenario: Scenario) -> None:
    """A fresh KEK made active, every data key re-wrapped; the copy's audit is still clean with the new keyring."""
    out = scenario.output("keys rotate")
    found = re.fullmatch(r"active key (\S+): re-wrapped (\d+) data keys", out.strip())
    assert found, out
    new_id, rewrapped = found.group(1), int(found.group(2))
    assert rewrapped >= 1  # the walkthrough's penalty at least
    before, after = scenario.facts["keyring before"], scenario.facts["keyring after"]
    assert new_id not in json.dumps(before)
    assert new_id in json.dumps(after)
    assert "CLEAN: every row passed" in scenario.output("audit of the rotated copy")


def test_keys_retire_removes_the_old_kek_once_rotated(scenario: Scenario) -> None:
    """After the rotation no row uses the old KEK: `keys retire` removes it, and the audit above ran clean
    with the keyring that lacks it."""
    old_id, new_id = scenario.facts["keyring before"]["active"], scenario.facts["keyring after"]["active"]
    out = scenario.output("keys retire")
    assert out.strip() == f"retired key {old_id}: no row used it; keys left {new_id}", out
    assert sorted(scenario.facts["keyring retired"]["keys"]) == [new_id]
    assert "CLEAN: every row passed" in scenario.output("audit of the rotated copy")


def test_node_serves_a_chain_that_deploy_attaches_to(scenario: Scenario) -> None:
    """node answers eth_chainId and stops with 0 on SIGTERM; deploy prints the members, a second run reattaches."""
    assert scenario.facts["node chainId"] == EMBEDDED_CHAIN_ID
    node = scenario.ran["node"]
    assert node.returncode == 0, node.explain()
    assert node.stdout.startswith(f"credit-ledger node on {scenario.facts['node url']}")
    deployed = scenario.output("deploy")
    assert f"Deployed on chain {EMBEDDED_CHAIN_ID} ({scenario.facts['node url']}):" in deployed
    assert "threshold 2 of 3 governors" in deployed
    again = json.loads(scenario.output("deploy again --json"))
    ledger = re.search(r"^\s+CreditLedger\s+(0x[0-9a-fA-F]{40})", deployed, flags=re.MULTILINE)
    assert ledger, deployed
    assert again["deployment"]["contracts"]["CreditLedger"]["address"] == ledger.group(1)  # the recorded one
    assert {"governor", "provider", "auditor", "gateway"} <= {r.lower() for m in again["members"] for r in m["roles"]}


def test_build_check_finds_the_artifacts_current(scenario: Scenario) -> None:
    """build --check recompiles with the pinned solc and finds the committed artifacts unchanged."""
    ran = scenario.ran["build --check"]
    if ran.returncode == 2 and not _solc_available() and not in_ci():
        pytest.skip("no solc: neither a native solc nor hardhat-local's solc-js is installed")
    out = scenario.output("build --check")
    assert "compiled with solc 0.8.28" in out
    assert re.search(r"^OK \d+ artifacts match the sources$", out, flags=re.MULTILINE)


def test_gas_prints_each_operations_gas_as_json(scenario: Scenario) -> None:
    """anchorBatch at 1 and 100,000 records (56.0k whatever the size), depth-17 lifecycle calls, governance."""
    gas = json.loads(scenario.output("gas --json"))
    for name in ("anchorBatch_1", "anchorBatch_100000", "approveRepair_depth17"):
        assert isinstance(gas[name], int), name
    # The root is random, so its calldata costs vary by a few dozen gas (zero bytes are cheaper).
    assert abs(gas["anchorBatch_1"] - gas["anchorBatch_100000"]) < 200
    assert 55_500 < gas["anchorBatch_1"] < 56_500
    assert {name.split("_")[0] for name in gas if name.split("_")[0] in {"propose", "approve", "execute"}} == {
        "propose",
        "approve",
        "execute",
    }


def test_demo_tells_the_story_and_writes_what_verify_checks_again(scenario: Scenario) -> None:
    """Every check passes (as many as the README says), and what --out wrote verifies offline."""
    out = scenario.output("demo --out")
    passed = re.search(r"^All (\d+) verifications passed\.$", out, flags=re.MULTILINE)
    assert passed, out[-2000:]
    assert int(passed.group(1)) == out.count("[PASS]")
    today = re.search(r"\((\d+) today;", README.read_text(encoding="utf-8"))
    assert today, "the README no longer says how many checks the demo makes"
    assert int(today.group(1)) == int(passed.group(1)), "the README's count of the demo's checks"
    verified = scenario.output("verify demo bundles")
    assert "FAIL" not in verified
    assert verified.count("VALID offline") == len(list((scenario.scratch / "demo-out" / "bundles").glob("*.json")))
    assert (
        scenario.output("verify-report demo report").rstrip().endswith("VALID offline (give --rpc to check the chain)")
    )


def test_demo_keep_running_keeps_the_gateways_until_ctrl_c(scenario: Scenario) -> None:
    """After the story the gateways still up answer; Ctrl-C stops them all and the demo exits 0."""
    gateways = scenario.facts["demo gateways"]
    assert set(gateways) == {"Beijing", "Tianjin", "Hebei"}, gateways
    # Beijing's gateway was stopped by the story's last step (Tianjin then answers 503): the others stay up.
    assert scenario.facts["demo gateways answering"] == {"Beijing": False, "Tianjin": True, "Hebei": True}
    ran = scenario.ran["demo --keep-running"]
    assert ran.returncode == 0, ran.explain()
    assert not any(scenario.facts["demo gateways after Ctrl-C"].values())


def test_bench_quick_runs_every_part(scenario: Scenario) -> None:
    """bench --quick prints the table and writes the figures the README names to --json."""
    out = scenario.output("bench --quick")
    for row in ("ingest, HTTP to anchored (records/s)", "baseline, 1 tx per record", "offline verifications/s"):
        assert row in out, row
    figures = json.loads((scenario.scratch / "bench.json").read_text(encoding="utf-8"))
    assert figures["quick"] is True
    for name in (
        "ingest_records_per_s",
        "baseline_records_per_s",
        "ratio",
        "gas_per_record",
        "verify_per_s",
        "read_p50_ms",
        "read_p99_ms",
        "peak_rss_mb",
        "machine",
        "load_avg",
        "versions",
    ):
        assert figures.get(name) is not None, name


def test_the_benchmark_scripts_print_their_figures(scenario: Scenario) -> None:
    """bench_verify.py against its generic baseline; bench_tree.py (and npm's tree when hardhat-local is there)."""
    verify = scenario.output("bench_verify.py")
    assert "verify_bundles (parsed bundles)" in verify
    assert "baseline: generic eth-abi/eth-account" in verify
    tree = scenario.output("bench_tree.py")
    assert re.search(r"^records\s+1,000$", tree, flags=re.MULTILINE)
    assert "python total" in tree
    if (HARDHAT_LOCAL / "node_modules" / ".bin" / "node").exists():
        assert "(same leaves, same root)" in tree


def test_bench_unauthenticated_upload_refuses_strangers_before_their_bodies(scenario: Scenario) -> None:
    """bench_unauthenticated_upload.py: each stranger's upload is 401 and the gateway's memory stays near its rest."""
    out = scenario.output("bench_unauthenticated_upload.py")
    assert out.count("401 AUTH_BAD_SIGNATURE") == 2, out
    rest = re.search(r"at rest: VmRSS (\d+) MiB", out)
    peak = re.search(r"after: +VmRSS \d+ MiB, VmHWM (\d+) MiB", out)
    assert rest is not None, out
    assert peak is not None, out
    assert int(peak.group(1)) - int(rest.group(1)) < 16, out  # less than one upload's size was ever held
