"""The `credit-ledger` command line.

Exit codes: 0 success; 1 a check found a difference or a failure; 2 usage, connection
or configuration errors (click's own usage errors are 2 as well).
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click

from chain_client import (
    BuildError,
    Chain,
    ChainClientError,
    DeploymentMismatchError,
    Member,
    Stack,
    VerificationReport,
    attach_stack,
    checksummed,
    deploy_demo_stack,
    devnet_for,
    load_deployment,
    save_deployment,
)
from chain_client.dev import EMBEDDED_CHAIN_ID, DevChain
from credit_cli.audit import audit
from credit_cli.bench import bench
from credit_cli.calendar import calendar, check_deadline
from credit_cli.index import index
from credit_cli.node import node
from credit_cli.proposals import proposals
from gateway.infra.gc_tuning import tune_for_serving
from gateway.infra.settings import Settings, env_name, field_of_option
from gateway.lifecycle.commitments import commitment_json, overdue_commitments

EXIT_CHECK_FAILED = 1
EXIT_ERROR = 2
DEV_MEMBERS = devnet_for(EMBEDDED_CHAIN_ID).accounts
DEV_LABELS = tuple(member.label for member in DEV_MEMBERS)
F = TypeVar("F", bound=Callable[..., Any])


@click.group()
@click.version_option(package_name="credit-ledger")
def main() -> None:
    """credit-ledger: a permissioned ledger for public credit information."""


main.add_command(audit)
main.add_command(bench)
main.add_command(node)
main.add_command(calendar)
main.add_command(index)
main.add_command(proposals)


@main.command()
@click.option("--check", is_flag=True, help="Recompile and fail if the committed artifacts differ.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Repository checkout (default: found upward from the current directory).",
)
def build(check: bool, root: Path | None) -> None:
    """Compile contracts/ into chain_client/artifacts/ (pinned solc, native or solc-js)."""
    from chain_client.dev import compile_contracts, diff_artifacts, find_repo_root, write_artifacts

    try:
        repo = find_repo_root(root)
        result = compile_contracts(repo)
    except ChainClientError as exc:
        _fail(str(exc))
    click.echo(f"compiled with solc {result.compiler.version} ({result.compiler.kind}: {result.compiler.path})")
    if check:
        problems = diff_artifacts(repo, result)
        for problem in problems:
            click.echo(f"DIFF {problem}")
        if problems:
            click.echo("committed artifacts are stale: run `credit-ledger build` and commit them", err=True)
            sys.exit(EXIT_CHECK_FAILED)
        click.echo(f"OK {len(result.files)} artifacts match the sources")
        return
    for name in write_artifacts(repo, result):
        click.echo(f"wrote chain_client/artifacts/{name}")


@main.command()
@click.option("--rpc", metavar="URL", default=None, help="JSON-RPC node (default: the embedded py-evm chain).")
@click.option(
    "--deployments",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of deployment records (<chainId>.json): reuse the recorded deployment, or record a new one.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the deployment record and members as JSON.")
def deploy(rpc: str | None, deployments: Path | None, as_json: bool) -> None:
    """Deploy the demo consortium on a development chain and print its members.

    With --deployments, a chain that already has a record must still hold that
    deployment: a chain that does not (say, a restarted Hardhat node) is refused.
    """
    try:
        chain = DevChain.connect(rpc) if rpc else DevChain.embedded()
        stack = _attach_or_deploy(chain, deployments)
        members = stack.consortium.members()
    except DeploymentMismatchError as exc:
        _fail(f"refusing this chain: {exc}")
    except ChainClientError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(
            json.dumps(
                {"deployment": stack.record.to_json(), "members": [_member_json(m) for m in members]},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    where = rpc or "the embedded py-evm chain"
    click.echo(f"Deployed on chain {chain.chain_id} ({where}):")
    for name, contract in stack.record.contracts.items():
        click.echo(f"  {name:<19} {contract.address}  block {contract.block}")
    click.echo(f"threshold {stack.consortium.threshold()} of {stack.consortium.active_governor_count()} governors")
    for m in members:
        roles = ",".join(sorted(r.value for r in m.roles))
        state = "active" if m.active else "suspended"
        url = f"  {m.gateway_url}" if m.gateway_url else ""
        click.echo(f"  {m.account}  {m.region}  {roles:<12} {state:<9} {m.name}{url}")


@main.command()
@click.option("--rpc", metavar="URL", default=None, help="A development JSON-RPC node (default: embedded chain).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object of operation name to gas used.")
def gas(rpc: str | None, as_json: bool) -> None:
    """Measure the gas each contract operation uses, on a fresh deployment."""
    from chain_client.dev import measure_gas

    try:
        chain = DevChain.connect(rpc) if rpc else DevChain.embedded()
        measured = measure_gas(chain)
    except ChainClientError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(measured, indent=2))
        return
    width = max(len(name) for name in measured)
    for name, used in measured.items():
        click.echo(f"{name:<{width}}  {used:>10,}")


@main.command()
@click.argument("bundles", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rpc", metavar="URL", default=None, help="Also check against the chain at this JSON-RPC URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def verify(bundles: tuple[Path, ...], rpc: str | None, as_json: bool) -> None:
    """Verify proof bundles (credit-ledger/proof@2): offline, and against the chain with --rpc.

    One line per check, PASS or FAIL with the reason. Exit 0 when every bundle is
    valid, 1 when one is not, 2 for unreadable files or an unreachable chain.
    """
    from chain_client import verify_bundles

    documents: list[object] = []
    for path in bundles:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot read {path}: {exc.strerror}")
        try:
            documents.append(json.loads(text))
        except json.JSONDecodeError as exc:
            documents.append({"unparseable": f"{exc.msg} at line {exc.lineno}"})
    try:
        chain = Chain.connect(rpc) if rpc else None
        reports = verify_bundles(documents, chain)  # type: ignore[arg-type]
    except ChainClientError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(
            json.dumps([{"file": str(p), **r.to_json()} for p, r in zip(bundles, reports, strict=True)], indent=2)
        )
    else:
        for path, report in zip(bundles, reports, strict=True):
            click.echo(f"{path}  record {report.record_id or '?'}")
            for check in report.checks:
                click.echo(f"  {'PASS' if check.passed else 'FAIL'} {check.name:<11} {check.detail}")
            click.echo("  " + _verdict(report))
    if not all(report.valid for report in reports):
        sys.exit(EXIT_CHECK_FAILED)


@main.command("verify-report")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rpc", metavar="URL", default=None, help="Also check against the chain at this JSON-RPC URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the verification as JSON.")
def verify_report_file(file: Path, rpc: str | None, as_json: bool) -> None:
    """Verify a signed credit report (credit-ledger/report@1), as JSON or as its HTML page.

    One line per check, PASS or FAIL with the reason, then each record's checks. Exit 0
    when every check passes, 1 when one fails, 2 for an unreadable file or an unreachable chain.
    """
    from chain_client import verify_report
    from gateway.standing.report_html import ReportFileError, extract_report

    try:
        document = extract_report(file.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror}")
    except (UnicodeDecodeError, ReportFileError) as exc:
        _fail(f"{file}: {exc}")
    try:
        chain = Chain.connect(rpc) if rpc else None
        result = verify_report(document, chain)
    except ChainClientError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps({"file": str(file), **result.to_json()}, indent=2, ensure_ascii=False))
    else:
        about = f"  credit report of {result.subject} by gateway {result.gateway}" if result.subject else ""
        click.echo(f"{file}{about}")
        for check in result.checks:
            click.echo(f"  {'PASS' if check.passed else 'FAIL'} {check.name:<10} {check.detail}")
        for record in result.records:
            click.echo(f"  record {record.index} {record.record_id} {record.catalog_code}")
            for check in record.checks:
                click.echo(f"    {'PASS' if check.passed else 'FAIL'} {check.name:<10} {check.detail}")
        if not result.valid:
            click.echo("  INVALID: " + ", ".join(result.failures))
        elif result.online:
            click.echo("  VALID against the chain: authentic, every record still in force")
        else:
            click.echo("  VALID offline (give --rpc to check the chain)")
    if not result.valid:
        sys.exit(EXIT_CHECK_FAILED)


@main.command("verify-screening")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rpc", metavar="URL", default=None, help="Also check against the chain at this JSON-RPC URL.")
@click.option(
    "--line", "line", type=click.IntRange(min=0), default=None, help="Check only line N, by its Merkle proof."
)
@click.option("--json", "as_json", is_flag=True, help="Print the verification as JSON.")
def verify_screening_file(file: Path, rpc: str | None, line: int | None, as_json: bool) -> None:
    """Verify a signed list screening (credit-ledger/screening@2, or @1) or one line of it (screening-line@2).

    The gateway's signature, then the root over every line, or with --line one line's
    proof against the signed root (the line is shown); for a whole consortium-wide
    screening also the regions' signed parts (each signed by its region's gateway for this
    screening, and carried by the lines). The regions and their status are shown. --rpc
    adds that the gateway was an active GATEWAY at the screening's block. Exit 0 when every check passes, 1 when one
    fails, 2 for an unreadable file, a line the screening does not have or an unreachable chain.
    """
    from chain_client import line_proof, verify_screening

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror}")
    except (UnicodeDecodeError, ValueError) as exc:
        _fail(f"{file}: not JSON: {exc}")
    if line is not None:
        if not isinstance(document, dict) or "lines" not in document:
            _fail(f"{file}: --line needs a whole screening, with its lines")
        try:
            document = line_proof(document, line)
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            _fail(f"{file}: {exc}")
    if not isinstance(document, dict):
        _fail(f"{file}: not a JSON object")
    try:
        chain = Chain.connect(rpc) if rpc else None
        result = verify_screening(document, chain)
    except ChainClientError as exc:
        _fail(str(exc))
    if as_json:
        shown = {"document": document} if line is not None else {}
        click.echo(json.dumps({"file": str(file), **result.to_json(), **shown}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{file}  list screening of {result.count} subjects by gateway {result.gateway}")
        for region in _screening_regions(document):
            reason = f" ({region['reason']})" if "reason" in region else ""
            click.echo(f"  region {region.get('region')} {region.get('name')}: {region.get('status')}{reason}")
        if line is not None:
            click.echo("  line " + json.dumps(document["line"], ensure_ascii=False))
        for check in result.checks:
            click.echo(f"  {'PASS' if check.passed else 'FAIL'} {check.name:<10} {check.detail}")
        if not result.valid:
            click.echo("  INVALID: " + ", ".join(result.failures))
        elif result.online:
            click.echo("  VALID against the chain")
        else:
            click.echo("  VALID offline (give --rpc to check the chain)")
    if not result.valid:
        sys.exit(EXIT_CHECK_FAILED)


def _screening_regions(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The regions a consortium-wide screening names (none for a one-region @1 screening)."""
    header = document.get("screening")
    regions = header.get("regions") if isinstance(header, dict) else None
    return [r for r in regions if isinstance(r, dict)] if isinstance(regions, list) else []


def _setting(option: str, text: str, *, default: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """A `serve` option setting the Settings field of the same name by the one rule
    (gateway.settings): its help ends, as every serve option's does, with its environment
    variable and the field's default (said in words where the field's is None)."""
    field = field_of_option(option)
    shown = default if default is not None else Settings.model_fields[field].default
    return click.option(option, default=None, help=f"{text}  [env var: {env_name(field)}; default: {shown}]", **kwargs)


@main.command()
@_setting("--rpc", "JSON-RPC node of the consortium chain.", default="the embedded py-evm chain", metavar="URL")
@_setting(
    "--data-dir",
    "Database, keyring, deployment records.",
    default="a new temporary directory (embedded chain), ./credit-ledger-data (--rpc)",
    type=click.Path(file_okay=False, path_type=Path),
)
@_setting("--database-url", "SQLAlchemy URL, e.g. postgresql+psycopg://...", default="SQLite in the data directory")
@_setting(
    "--deployments",
    "Deployment records (<chainId>.json) to attach to, or to record a new deployment in.",
    default="<data-dir>/deployments",
    type=click.Path(file_okay=False, path_type=Path),
)
@_setting(
    "--keyring-file",
    "Key-encryption keys (JSON).",
    default="a development keyring generated in the data directory (development mode only)",
    type=click.Path(dir_okay=False, path_type=Path),
)
@_setting(
    "--mode",
    "development (development chains only) or production, which refuses development secrets, secrets others "
    "can read and a gateway account without the GATEWAY role.",
    default="development on a development chain, production on any other",
    type=click.Choice(["development", "production"]),
)
@_setting("--host", "Interface the API listens on.")
@_setting("--port", "Port of the API.", type=click.IntRange(0, 65535))
@_setting(
    "--chain-port",
    "On the embedded chain, also serve that chain over JSON-RPC on 127.0.0.1 at this port, for the --rpc of "
    "the chain commands (0 picks a free port). Not with --rpc: that node serves its chain already.",
    type=click.IntRange(0, 65535),
)
@_setting(
    "--workers",
    "Gateway processes serving the port; above 1 needs --rpc and a PostgreSQL --database-url, and one process, "
    "elected, anchors (docs/deployment.md).",
    type=click.IntRange(1, 64),
)
@_setting("--batch-size", "Records per anchored batch at most.", type=int)
@_setting("--batch-interval", "Seconds between anchoring rounds.", type=float)
@_setting("--confirmations", "Blocks to wait before a batch counts as anchored.", type=int)
def serve(**options: object) -> None:
    """Run the gateway (FastAPI on uvicorn) with its anchoring worker.

    With no options: the embedded py-evm chain, the demo consortium and catalog deployed
    at start, SQLite in a new data directory, and that chain served over JSON-RPC on
    127.0.0.1 (--chain-port) for the chain commands' --rpc. Every option --some-name can
    also be set as the environment variable CREDIT_LEDGER_SOME_NAME (--rpc: CREDIT_LEDGER_RPC).
    """
    import uvicorn
    from pydantic import ValidationError

    from credit_cli.chain_server import ChainServer, serve_chain_in_thread
    from credit_cli.workers import check_workers, run_workers
    from credit_demo.catalog import open_gateway
    from gateway.api.main import create_app
    from gateway.infra.errors import ConfigurationError
    from gateway.infra.logs import configure_logging
    from gateway.infra.settings import deprecated_environment, deprecation_message

    for old, new in deprecated_environment():
        click.echo(f"warning: {deprecation_message(old, new)}", err=True)
    given = {field_of_option(name): value for name, value in options.items() if value is not None}
    configure_logging()
    try:
        settings = Settings(**given)  # type: ignore[arg-type]
        if settings.rpc_url is not None and "chain_port" in settings.model_fields_set:
            raise ConfigurationError(
                "CONFIG_INVALID",
                f"--chain-port ({env_name('chain_port')}) serves the embedded chain; the --rpc node serves its own",
            )
        check_workers(settings)
        gateway = open_gateway(settings)
    except ValidationError as exc:
        problem = exc.errors()[0]
        _fail(f"CONFIG_INVALID: {'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}")
    except ConfigurationError as exc:
        _fail(f"{exc.code}: {exc.message}")
    except ChainClientError as exc:
        _fail(str(exc))
    chain_server: ChainServer | None = None
    if settings.rpc_url is None:
        try:
            chain_server = serve_chain_in_thread(gateway.stack.chain, port=settings.chain_port)
        except OSError as exc:
            gateway.stop()
            _fail(
                f"CONFIG_CHAIN_PORT_UNAVAILABLE: cannot serve the embedded chain on 127.0.0.1:{settings.chain_port}"
                f" ({exc.strerror}); give --chain-port 0 for a free port"
            )
    url = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"credit-ledger gateway ({gateway.settings.mode}) on chain {gateway.stack.chain.chain_id}"
        f" ({settings.rpc_url or 'embedded py-evm'})"
    )
    click.echo(f"  data directory  {gateway.data_dir}")
    click.echo(f"  deployments     {gateway.deployments_dir}")
    click.echo(f"  ledger          {gateway.stack.ledger.address}")
    click.echo(f"  gateway account {gateway.account.address}")
    if chain_server is not None:
        click.echo(f"  chain JSON-RPC  {chain_server.url}  (this development chain, on 127.0.0.1 only)")
        click.echo(
            f"  chain commands  credit-ledger commitments overdue --rpc {chain_server.url}"
            f" --deployments {gateway.deployments_dir}"
        )
    click.echo(f"  API             {url}/docs   public catalog {url}/public/v1/catalog")
    if settings.workers > 1:
        click.echo(f"  workers         {settings.workers} processes; one, elected, anchors")
        gateway.stop()  # opened once to check, deploy or attach; each worker opens its own
        run_workers(settings, given)
        return
    gateway.start()
    tune_for_serving()
    # uvicorn shuts down gracefully, then re-raises SIGTERM to the handler it found: make
    # that a normal exit, so the worker is stopped in `finally` and the exit status is 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(create_app(gateway), host=settings.host, port=settings.port, log_level="warning", access_log=False)
    finally:
        if chain_server is not None:
            chain_server.stop()
        gateway.stop()


@main.command()
@click.option("--hardhat", is_flag=True, help="Run on a Hardhat node started from hardhat-local (needs npm ci there).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write every proof bundle, report and access-log entry the demo produced here.",
)
@click.option("--keep-running", is_flag=True, help="Keep the three gateways serving after the story, until Ctrl-C.")
def demo(hardhat: bool, out: Path | None, keep_running: bool) -> None:
    """Three regional gateways (Beijing, Tianjin, Hebei) on one chain, walked through the whole story.

    The catalog, Beijing's records, a cross-region read in Tianjin, an objection and its
    correction, a breached commitment, credit repair and the Hebei audit, each step
    verified against the chain. Exit 0 only if every verification passed. With no
    options it needs no node and no npm: the embedded chain.
    """
    from chain_client.dev import HardhatUnavailableError, find_repo_root
    from credit_demo.story import run_demo

    root = None
    if hardhat:
        try:
            root = find_repo_root(Path(__file__).resolve().parent)
        except BuildError:
            try:
                root = find_repo_root()
            except BuildError as exc:
                _fail(f"--hardhat needs a credit-ledger checkout with hardhat-local installed: {exc}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    try:
        sys.exit(run_demo(out=out, hardhat_root=root, keep_running=keep_running))
    except (HardhatUnavailableError, ChainClientError) as exc:
        _fail(str(exc))


def _dev_label(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if value not in DEV_LABELS:
        raise click.BadParameter(f"unknown label {value}; known labels: {', '.join(DEV_LABELS)}")
    return value


# \b keeps click from re-wrapping the list (and from breaking a label at its hyphen).
_LABELS_EPILOG = "\b\nLABEL, a member of the demo consortium (chain_client/devnet.json):\n" + "\n".join(
    f"  {member.label:<17} {', '.join(role.value for role in member.roles)}" for member in DEV_MEMBERS
)


@main.command("dev-headers", epilog=_LABELS_EPILOG)
@click.option(
    "--as",
    "label",
    required=True,
    metavar="LABEL",
    callback=_dev_label,
    help="The demo consortium member to sign as (development keys): one of the labels below.",
)
@click.option("--body", type=click.File("rb"), default=None, help="The request body, to sign its SHA-256.")
@click.option(
    "--url",
    default="http://127.0.0.1:8101",
    show_default=True,
    help="The gateway the request is for: its audience is asked of its /public/v1/gateway.",
)
@click.option("--audience", default=None, help="The audience, eip155:<chainId>:<gateway account>, instead of --url.")
@click.argument("method")
@click.argument("path_and_query")
def dev_headers(
    label: str, body: IO[bytes] | None, url: str, audience: str | None, method: str, path_and_query: str
) -> None:
    """Signature headers for one request, for curl -H @FILE (development keys only).

    Signs METHOD PATH[?QUERY] for one gateway (the audience) as a member of the demo
    consortium, whose keys are public and which production gateways refuse. Valid at that
    gateway only, for its window (5 minutes) and once (the nonce).
    """
    import time
    from urllib.parse import parse_qsl, urlsplit

    from credit_client import GatewayClient
    from gateway.infra.request_auth import Audience, sign_request

    if audience is None:
        with GatewayClient(url) as public:
            signed_for = public.audience
    else:
        try:
            signed_for = Audience.parse(audience)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--audience") from None
    account = devnet_for(signed_for.chain_id).by_label(label).account
    parts = urlsplit(path_and_query)
    content = body.read() if body is not None else b""
    headers = sign_request(
        account,
        method.upper(),
        parts.path,
        parse_qsl(parts.query),
        content,
        audience=signed_for,
        timestamp=int(time.time()),
    )
    click.echo(f"# development key of {label}, for {signed_for}: never use outside development", err=True)
    for name, value in headers.items():
        click.echo(f"{name}: {value}")


@main.group()
def keys() -> None:
    """Key-encryption keys of a gateway's payload store."""


@keys.command("rotate")
@click.option(
    "--keyring-file", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The keyring to extend."
)
@click.option("--database-url", required=True, help="The gateway's database.")
@click.option("--new-id", default=None, help="Id of the new key (default kek-<n>); an active id resumes a rotation.")
def rotate_keys(keyring_file: Path, database_url: str, new_id: str | None) -> None:
    """Make a fresh KEK active and re-wrap every data key with it (payloads are not re-encrypted)."""
    from gateway.infra.envelope import EnvelopeError
    from gateway.infra.keys import rotate
    from gateway.infra.storage import connect

    engine = connect(database_url)
    try:
        report = rotate(engine, keyring_file, new_id)
    except EnvelopeError as exc:
        _fail(f"{exc.code}: {exc}")
    finally:
        engine.dispose()
    click.echo(f"active key {report.active_id}: re-wrapped {report.rewrapped} data keys")
    for record in report.failed:
        click.echo(f"FAIL {record}: its wrapped data key does not open (tampered or unknown key)")
    if report.failed:
        sys.exit(EXIT_CHECK_FAILED)


@keys.command("retire")
@click.argument("kek_id", metavar="ID")
@click.option(
    "--keyring-file", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The keyring to shrink."
)
@click.option("--database-url", required=True, help="The gateway's database.")
def retire_key(kek_id: str, keyring_file: Path, database_url: str) -> None:
    """Remove an old KEK from the keyring once no row is wrapped under it (after `keys rotate`).

    Refused (exit 2) while rows still use it (KEK_IN_USE), for the active key (KEK_ACTIVE) and
    for a key the keyring lacks (KEK_UNKNOWN). The file is rewritten atomically, mode 0600.
    """
    from gateway.infra.envelope import EnvelopeError
    from gateway.infra.keys import retire
    from gateway.infra.storage import connect

    engine = connect(database_url)
    try:
        report = retire(engine, keyring_file, kek_id)
    except EnvelopeError as exc:
        _fail(f"{exc.code}: {exc}")
    finally:
        engine.dispose()
    click.echo(f"retired key {report.retired}: no row used it; keys left {', '.join(report.remaining)}")


@main.group()
def commitments() -> None:
    """Credit commitments on chain."""


commitments.add_command(check_deadline)


@commitments.command("overdue")
@click.option("--rpc", metavar="URL", required=True, help="The consortium chain's JSON-RPC node.")
@click.option(
    "--deployments",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder of deployment records (<chainId>.json), e.g. a gateway's <data-dir>/deployments.",
)
@click.option("--department", metavar="ADDRESS", default=None, help="Only this department's commitments.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def overdue(rpc: str, deployments: Path, department: str | None, as_json: bool) -> None:
    """List pending commitments past their deadline (read from the chain alone).

    Exit 0 when none is overdue, 1 when some are (for a scheduled check), 2 on errors.
    """
    try:
        chain = Chain.connect(rpc)
        stack = attach_stack(chain, load_deployment(deployments, chain.chain_id))
        chain.observe_block_time()  # a development node moved ahead keeps its lead
        found = overdue_commitments(stack, chain.now(), checksummed(department) if department else None)
    except (ChainClientError, OSError, ValueError) as exc:
        _fail(str(exc))
    now = chain.now()
    rows = [commitment_json(c, now) for c in found]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            click.echo(f"{row['commitmentId']}  {row['kind']:<22} due {row['dueOn']}  department {row['department']}")
        click.echo(f"{len(rows)} overdue")
    sys.exit(1 if rows else 0)


def _verdict(report: VerificationReport) -> str:
    if not report.valid:
        return "INVALID: " + ", ".join(check.name for check in report.failed)
    if report.current is None:
        return "VALID offline (give --rpc to check the chain)"
    if report.current:
        return "VALID and current"
    return f"VALID but not current: {report.status.name if report.status else '?'}"


def _attach_or_deploy(chain: Chain, deployments: Path | None) -> Stack:
    if deployments is not None and (deployments / f"{chain.chain_id}.json").is_file():
        return attach_stack(chain, load_deployment(deployments, chain.chain_id))
    stack = deploy_demo_stack(chain)
    if deployments is not None:
        save_deployment(stack.record, deployments)
    return stack


def _member_json(member: Member) -> dict[str, object]:
    return {
        "account": member.account,
        "region": member.region,
        "name": member.name,
        "roles": sorted(r.value for r in member.roles),
        "active": member.active,
        "gatewayUrl": member.gateway_url,
    }


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
