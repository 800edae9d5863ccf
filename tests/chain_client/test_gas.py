"""Gas targets of the contracts, measured on every backend (gas is deterministic, not timing)."""

from __future__ import annotations

from chain_client import Chain
from chain_client.dev.gas import measure_gas

LIFECYCLE = (
    "fileObjection",
    "fileSubjectObjection",
    "resolveObjection",
    "revoke",
    "requestRepair",
    "requestSubjectRepair",
    "approveRepair",
    "rejectRepair",
)


def test_gas_targets_hold(chain: Chain) -> None:
    """anchorBatch stays under 60k gas whatever the count; lifecycle calls at depth 17, relayed ones and a
    subject's own filings too, and a further objection or repair request on a record that has one open, under
    120k; a registrar's credential revocation (SubjectKeys) is measured and stays under 60k."""
    gas = measure_gas(chain)
    assert gas["anchorBatch_1"] <= 60_000
    assert gas["anchorBatch_100000"] <= 60_000
    assert abs(gas["anchorBatch_100000"] - gas["anchorBatch_1"]) <= 100  # calldata bytes only
    assert gas["anchorBatch_100000"] / 100_000 < 1  # under one gas per record
    lifecycle = {k: v for k, v in gas.items() if k.startswith(LIFECYCLE) and k.endswith("_depth17")}
    assert len(lifecycle) >= 14, sorted(lifecycle)
    assert {
        "fileObjectionBySig_depth17",
        "requestRepairBySig_depth17",
        "fileObjection_disputed_depth17",
        "requestRepair_pending_depth17",
        "fileSubjectObjection_depth17",
        "requestSubjectRepair_depth17",
    } <= set(lifecycle)
    assert max(lifecycle.values()) <= 120_000, lifecycle
    assert gas["deploySubjectKeys"] > 0
    assert 0 < gas["revokeSubjectCredential"] <= 60_000
