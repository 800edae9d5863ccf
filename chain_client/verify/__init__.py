"""The verifiers: proof bundles, access-log entries, credit reports and commitment deadlines,
checked against the chain alone.

Private to chain_client: other packages import from `chain_client` (and `chain_client.dev`).
"""
