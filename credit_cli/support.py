"""What the governance commands share: chain and key options, the attached deployment, the signer, exits.

Exit codes as everywhere in credit-ledger: 0 success; 1 a check failed, a document was
refused or the contract reverted; 2 usage, configuration or connection errors.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain_client import (
    BEIJING,
    Chain,
    ChainClientError,
    ContractRevertError,
    DeploymentMismatchError,
    DevKeyRefusedError,
    Stack,
    attach_stack,
    devnet_for,
    load_deployment,
)

EXIT_CHECK_FAILED = 1
EXIT_ERROR = 2
PASSWORD_ENV = "CREDIT_LEDGER_KEY_PASSWORD"

F = TypeVar("F", bound=Callable[..., Any])


def chain_options(function: F) -> F:
    """--rpc and --deployments: the chain and its deployment record."""
    function = click.option(
        "--deployments",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help="Folder of deployment records (<chainId>.json), e.g. a gateway's <data-dir>/deployments.",
    )(function)
    return click.option("--rpc", metavar="URL", required=True, help="The consortium chain's JSON-RPC node.")(function)


def key_options(function: F) -> F:
    """--key and --password-file: the governor who signs."""
    function = click.option(
        "--password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"File holding the keystore's password (else ${PASSWORD_ENV}, else a hidden prompt).",
    )(function)
    return click.option(
        "--key",
        metavar="KEY",
        required=True,
        help="The governor's key: an encrypted keystore file, or dev:LABEL for a demo consortium "
        "development account (development chains only), e.g. dev:governor-beijing.",
    )(function)


def open_stack(rpc: str, deployments: Path) -> Stack:
    """The deployment recorded for the chain at rpc, checked; exit 2 otherwise."""
    try:
        chain = Chain.connect(rpc)
        if not (deployments / f"{chain.chain_id}.json").is_file():
            fail(f"no deployment record for chain {chain.chain_id} in {deployments} (expected {chain.chain_id}.json)")
        stack = attach_stack(chain, load_deployment(deployments, chain.chain_id))
        chain.observe_block_time()  # a development node moved ahead keeps its lead
    except DeploymentMismatchError as exc:
        fail(f"refusing this chain: {exc}")
    except KeyError as exc:
        fail(f"the deployment record in {deployments} names no {exc.args[0]} contract")
    except (ChainClientError, OSError, ValueError) as exc:
        fail(str(exc))
    return stack


def signer_for(chain: Chain, key: str, password_file: Path | None) -> LocalAccount:
    """The account KEY names: dev:LABEL (development chains only) or an encrypted keystore file."""
    if key.startswith("dev:"):
        label = key.removeprefix("dev:")
        try:
            devnet = devnet_for(chain.chain_id)
        except DevKeyRefusedError as exc:
            fail(f"refusing the development key {key}: {exc}")
        try:
            return devnet.by_label(label).account
        except KeyError:
            known = ", ".join(entry.label for entry in devnet.accounts)
            fail(f"no development account labelled {label!r}; known labels: {known}")
    path = Path(key)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"--key {key}: neither dev:LABEL nor a readable keystore file ({exc.strerror})")
    try:
        keystore = json.loads(text)
    except ValueError:
        fail(f"{path} is not a keystore file (not JSON)")
    password = _password(path, password_file)
    try:
        private_key = Account.decrypt(keystore, password)
    except (ValueError, KeyError, TypeError):
        fail(f"cannot decrypt the keystore {path}: wrong password, or not a keystore file")
    account: LocalAccount = Account.from_key(private_key)
    return account


def _password(keystore: Path, password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the password file {password_file}: {getattr(exc, 'strerror', None) or exc}")
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    password: str = click.prompt(f"password of the keystore {keystore}", hide_input=True, err=True)
    return password


def beijing_time(unix_time: int) -> str:
    return dt.datetime.fromtimestamp(unix_time, tz=BEIJING).strftime("%Y-%m-%d %H:%M:%S Beijing")


def tx_hash(receipt: Any) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()


def reverted(exc: ContractRevertError) -> NoReturn:
    click.echo(f"reverted: {exc}", err=True)
    sys.exit(EXIT_CHECK_FAILED)


def refuse(message: str) -> NoReturn:
    click.echo(f"refused: {message}", err=True)
    sys.exit(EXIT_CHECK_FAILED)


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)
