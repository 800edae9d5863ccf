"""The `credit-ledger` command line."""
