"""The contracts from Python: the chain connection, revert decoding, typed wrappers,
deployment records and the deployed stack.

Private to chain_client: other packages import from `chain_client` (and `chain_client.dev`).
"""
