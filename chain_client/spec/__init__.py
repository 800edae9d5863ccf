"""The hashing specification: identifiers, record leaves, batch trees, content commitments,
EIP-712 types, commitment terms, working calendars and signed documents (docs/formats.md).

Private to chain_client: other packages import from `chain_client` (and `chain_client.dev`).
"""
