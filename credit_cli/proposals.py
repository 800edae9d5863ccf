"""`credit-ledger proposals`: list, approve and execute the consortium's k-of-n governor proposals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from eth_typing import HexStr
from web3.exceptions import Web3Exception

from chain_client import (
    ChainClientError,
    ContractRevertError,
    Role,
    Stack,
    keccak,
)
from credit_cli.support import (
    beijing_time,
    chain_options,
    fail,
    key_options,
    open_stack,
    reverted,
    signer_for,
    tx_hash,
)

_LONG_BYTES = 32  # bytes values longer than this are shortened in summaries
_LONG_TEXT = 60


@click.group()
def proposals() -> None:
    """The consortium's k-of-n governor proposals."""


@proposals.command("list")
@chain_options
@click.option("--all", "show_all", is_flag=True, help="Also list executed and expired proposals.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_proposals(rpc: str, deployments: Path, show_all: bool, as_json: bool) -> None:
    """List proposals (default: the open ones) from the consortium's ProposalCreated events.

    Each with its target contract, the decoded call (for a calendar adoption, the year
    and the document's keccak256, to compare with `calendar check`), the approvals that
    count now against the threshold, its expiry and its state: open, executed or expired.
    """
    stack = open_stack(rpc, deployments)
    try:
        rows = _proposal_rows(stack)
    except (ChainClientError, OSError, Web3Exception) as exc:
        fail(str(exc))
    shown = rows if show_all else [row for row in rows if row["state"] == "open"]
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for row in shown:
        click.echo(
            f"{row['proposalId']:>4}  {row['state']:<8}  {row['approvals']}/{row['threshold']} approvals"
            f"  expires {beijing_time(row['expiresAt'])}"
        )
        click.echo(f"      {row['targetName']}.{row['function']}({row['summary']})")
        click.echo(f"      proposed by {row['proposer']}")
    if show_all:
        click.echo(f"{len(shown)} proposals")
    else:
        click.echo(f"{len(shown)} open of {len(rows)} proposals (--all lists every one)")


@proposals.command("approve")
@click.argument("proposal_id", metavar="ID", type=click.IntRange(min=1))
@chain_options
@key_options
def approve_proposal(proposal_id: int, rpc: str, deployments: Path, key: str, password_file: Path | None) -> None:
    """Approve a proposal as a governor; prints the transaction and the approvals that count now.

    A revert (already approved, expired, executed, not a governor) prints the contract's
    error and exits 1.
    """
    stack = open_stack(rpc, deployments)
    try:
        stack.consortium.proposal(proposal_id)  # ConsortiumUnknownProposal before asking for a password
        signer = signer_for(stack.chain, key, password_file)
        receipt = stack.consortium.approve(signer, proposal_id)
        approvals = stack.consortium.approval_count(proposal_id)
        threshold = stack.consortium.threshold()
    except ContractRevertError as exc:
        reverted(exc)
    except ChainClientError as exc:
        fail(str(exc))
    click.echo(f"approved proposal {proposal_id}: tx {tx_hash(receipt)}  by {signer.address}")
    click.echo(f"  {approvals} of {threshold} approvals")
    if approvals >= threshold:
        click.echo(
            f"next: `credit-ledger proposals execute {proposal_id} --rpc {rpc} --deployments {deployments} --key KEY`"
        )


@proposals.command("execute")
@click.argument("proposal_id", metavar="ID", type=click.IntRange(min=1))
@chain_options
@key_options
def execute_proposal(proposal_id: int, rpc: str, deployments: Path, key: str, password_file: Path | None) -> None:
    """Execute an approved proposal as a governor (its calldata is read from its ProposalCreated event).

    A revert (too few approvals, expired, already executed, or the target's own error)
    prints the contract's error and exits 1.
    """
    stack = open_stack(rpc, deployments)
    try:
        stack.consortium.proposal(proposal_id)  # ConsortiumUnknownProposal, not "no event"
        signer = signer_for(stack.chain, key, password_file)
        receipt = stack.consortium.execute(signer, proposal_id)
        adopted = [e for e in stack.calendars.events(receipt) if e.name == "CalendarAdopted"]
    except ContractRevertError as exc:
        reverted(exc)
    except ChainClientError as exc:
        fail(str(exc))
    click.echo(f"executed proposal {proposal_id}: tx {tx_hash(receipt)}  by {signer.address}")
    for event in adopted:
        click.echo(
            f"  the {event.args['year']} working calendar is adopted as version {event.args['version']}"
            f" (hash 0x{bytes(event.args['documentHash']).hex()})"
        )


def _proposal_rows(stack: Stack) -> list[dict[str, Any]]:
    record = stack.record
    names = {contract.address: name for name, contract in record.contracts.items()}
    consortium = stack.chain.contract("Consortium", record.address("Consortium"))
    logs = consortium.events.ProposalCreated().get_logs(from_block=record.contracts["Consortium"].block)
    threshold = stack.consortium.threshold()
    now = stack.chain.now()
    rows: list[dict[str, Any]] = []
    for log in sorted(logs, key=lambda entry: int(entry["args"]["proposalId"])):
        args = log["args"]
        proposal_id = int(args["proposalId"])
        target = args["target"]
        target_name = names.get(target, target)
        function, arguments = _decode_call(stack, target_name, target, bytes(args["data"]))
        proposal = stack.consortium.proposal(proposal_id)
        expires_at = int(args["expiresAt"])
        state = "executed" if proposal.executed else "expired" if now > expires_at else "open"
        rows.append(
            {
                "proposalId": proposal_id,
                "state": state,
                "target": target,
                "targetName": target_name,
                "function": function,
                "arguments": arguments,
                "summary": ", ".join(f"{name}={_text(value)}" for name, value in arguments.items()),
                "approvals": stack.consortium.approval_count(proposal_id),
                "threshold": threshold,
                "approvers": list(proposal.approvers),
                "proposer": args["proposer"],
                "executed": proposal.executed,
                "expiresAt": expires_at,
                "blockNumber": int(log["blockNumber"]),
            }
        )
    return rows


def _decode_call(stack: Stack, target_name: str, target: str, data: bytes) -> tuple[str, dict[str, Any]]:
    """The function a proposal calls and its arguments, rendered for a person (JSON values)."""
    if target_name == target:
        return "?", {"data": _render(data)}
    try:
        function, arguments = stack.chain.contract(
            target_name, stack.record.address(target_name)
        ).decode_function_input(HexStr("0x" + data.hex()))
    except (ValueError, ChainClientError):
        return "?", {"data": _render(data)}
    name = str(function.fn_name)
    if target_name == "CalendarRegistry" and name == "adopt":
        return name, {"year": int(arguments["year"]), "documentHash": "0x" + keccak(bytes(arguments["document"])).hex()}
    return name, {key: _render(value) for key, value in arguments.items()}


def _render(value: Any) -> Any:
    if isinstance(value, bytes):
        if len(value) == 32:
            for role in Role:
                if role.id == value:
                    return f"{role.value}_ROLE"
        if len(value) > _LONG_BYTES:
            return f"0x{value[:8].hex()}…({len(value)} bytes)"
        return "0x" + value.hex()
    if isinstance(value, str):
        return value if len(value) <= _LONG_TEXT else value[: _LONG_TEXT - 1] + "…"
    if isinstance(value, dict):
        return {key: _render(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render(item) for item in value]
    if isinstance(value, bool | int):
        return value
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, str) and not value.startswith("0x") and not value.endswith("_ROLE"):
        return json.dumps(value, ensure_ascii=False)
    return str(value).lower() if isinstance(value, bool) else str(value)
