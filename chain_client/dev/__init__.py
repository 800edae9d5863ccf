"""Development tools of chain_client: the build, gas measurement, the development JSON-RPC node,
the Hardhat launcher and the demo consortium's development chains.

Production code (the gateway's service, domain and infrastructure) does not import this
module; the command line, the demo, the benchmarks and the tests do.
"""

from chain_client.contracts.chain import EMBEDDED_CHAIN_ID, HARDHAT_CHAIN_ID
from chain_client.dev.build import (
    SOLC_VERSION,
    collect_sources,
    compile_contracts,
    diff_artifacts,
    find_compiler,
    find_repo_root,
    write_artifacts,
)
from chain_client.dev.chain import DevChain
from chain_client.dev.gas import measure_gas
from chain_client.dev.hardhat_node import HardhatNode, HardhatUnavailableError, free_port
from chain_client.dev.node import JOURNAL_FILE, ChainRpc, DevNode, NodeJournalError, NodeServer

__all__ = [
    "EMBEDDED_CHAIN_ID",
    "HARDHAT_CHAIN_ID",
    "JOURNAL_FILE",
    "SOLC_VERSION",
    "ChainRpc",
    "DevChain",
    "DevNode",
    "HardhatNode",
    "HardhatUnavailableError",
    "NodeJournalError",
    "NodeServer",
    "collect_sources",
    "compile_contracts",
    "diff_artifacts",
    "find_compiler",
    "find_repo_root",
    "free_port",
    "measure_gas",
    "write_artifacts",
]
