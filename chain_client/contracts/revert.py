"""Turn revert data, however a node reported it, into ContractRevertError."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3.exceptions import ContractLogicError, Web3RPCError

from chain_client._errors import ContractRevertError
from chain_client.contracts.artifacts import artifact_names, load_artifact

_ERROR_STRING = function_signature_to_4byte_selector("Error(string)")
_PANIC = function_signature_to_4byte_selector("Panic(uint256)")
_TESTER_PREFIX = "execution reverted: "


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]


def decode_revert(data: bytes) -> ContractRevertError:
    """The typed error for raw revert data, looked up in every contract's ABI."""
    selector, payload = data[:4], data[4:]
    known = _known_errors()
    try:
        if selector == _ERROR_STRING:
            return ContractRevertError("Error", {"message": decode(["string"], payload)[0]}, data)
        if selector == _PANIC:
            return ContractRevertError("Panic", {"code": decode(["uint256"], payload)[0]}, data)
        if selector in known:
            spec = known[selector]
            values = [
                to_checksum_address(v) if t == "address" else v
                for t, v in zip(spec.types, decode(list(spec.types), payload), strict=True)
            ]
            return ContractRevertError(spec.name, dict(zip(spec.names, values, strict=True)), data)
    except DecodingError:
        pass
    return ContractRevertError("Unknown", {"data": data}, data)


def revert_from_exception(exc: BaseException) -> ContractRevertError | None:
    """The revert carried by a web3 (JSON-RPC) or eth-tester (py-evm) exception, if any."""
    if isinstance(exc, ContractLogicError):
        data = exc.data
        if isinstance(data, str) and data.startswith("0x"):
            return decode_revert(bytes.fromhex(data[2:]))
        return ContractRevertError("Error", {"message": exc.message or ""}, b"")
    if isinstance(exc, Web3RPCError):
        # Some nodes (Hardhat's EDR in automine mode) reject a reverting raw transaction
        # with a JSON-RPC error that carries the revert data.
        error = (exc.rpc_response or {}).get("error")
        data = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            return decode_revert(bytes.fromhex(data[2:]))
        return None
    if type(exc).__name__ == "TransactionFailed" and exc.args and isinstance(exc.args[0], str):
        return _from_tester_message(exc.args[0])
    return None


def _from_tester_message(message: str) -> ContractRevertError:
    # eth-tester reports raw revert bytes as their Python repr inside the message, and a
    # revert string as the string itself.
    reason = message.removeprefix(_TESTER_PREFIX)
    if reason.startswith(("b'", 'b"')):
        try:
            raw = ast.literal_eval(reason)
        except (ValueError, SyntaxError):
            raw = None
        if isinstance(raw, bytes):
            return decode_revert(raw)
    return ContractRevertError("Error", {"message": reason}, b"")


@cache
def _known_errors() -> dict[bytes, _ErrorAbi]:
    known: dict[bytes, _ErrorAbi] = {}
    for name in artifact_names():
        for entry in load_artifact(name).abi:
            if entry.get("type") != "error":
                continue
            types = tuple(abi_type(i) for i in entry["inputs"])
            selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
            known[selector] = _ErrorAbi(entry["name"], tuple(i["name"] for i in entry["inputs"]), types)
    return known


def abi_type(param: dict[str, Any]) -> str:
    """The canonical type string of an ABI parameter, tuples expanded."""
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){kind.removeprefix('tuple')}"
    return kind
