"""Revert data decoding, whatever shape the node reported it in."""

from __future__ import annotations

from eth_abi import encode
from eth_tester.exceptions import TransactionFailed
from eth_utils import function_signature_to_4byte_selector
from web3.exceptions import ContractCustomError, Web3RPCError

from chain_client.contracts.revert import decode_revert, revert_from_exception

NOT_GOVERNOR = function_signature_to_4byte_selector("ConsortiumNotGovernor(address)")
ACCOUNT = "0x1A6a26e84D73Dc081faAbD91aC97958CeE431787"


def _not_governor_data() -> bytes:
    return NOT_GOVERNOR + encode(["address"], [ACCOUNT])


def test_custom_error_is_decoded_by_name_with_checksummed_addresses() -> None:
    """A known custom error decodes to its name and named, checksummed arguments."""
    error = decode_revert(_not_governor_data())
    assert error.name == "ConsortiumNotGovernor"
    assert error.arguments == {"account": ACCOUNT}
    assert str(error) == f"ConsortiumNotGovernor(account='{ACCOUNT}')"


def test_revert_string_and_panic_are_decoded() -> None:
    """Error(string) and Panic(uint256) decode to Error and Panic."""
    message = function_signature_to_4byte_selector("Error(string)") + encode(["string"], ["no"])
    panic = function_signature_to_4byte_selector("Panic(uint256)") + encode(["uint256"], [0x11])
    assert (decode_revert(message).name, decode_revert(message).arguments) == ("Error", {"message": "no"})
    assert (decode_revert(panic).name, decode_revert(panic).arguments) == ("Panic", {"code": 0x11})


def test_unknown_selector_is_reported_as_unknown() -> None:
    """Data matching no known error keeps its raw bytes under the name Unknown."""
    error = decode_revert(b"\xde\xad\xbe\xef")
    assert error.name == "Unknown"
    assert error.arguments == {"data": b"\xde\xad\xbe\xef"}


def test_the_same_error_from_every_node_shape() -> None:
    """web3's ContractCustomError, a JSON-RPC error and eth-tester's message give one typed error."""
    data = _not_governor_data()
    shapes = [
        ContractCustomError("0x" + data.hex(), data="0x" + data.hex()),
        Web3RPCError(
            "reverted",
            rpc_response={"jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "x", "data": "0x" + data.hex()}},
        ),
        TransactionFailed(f"execution reverted: {data!r}"),
    ]
    for exc in shapes:
        error = revert_from_exception(exc)
        assert error is not None
        assert (error.name, error.arguments) == ("ConsortiumNotGovernor", {"account": ACCOUNT})


def test_other_exceptions_are_not_reverts() -> None:
    """An exception that carries no revert is left alone."""
    assert revert_from_exception(ValueError("boom")) is None
