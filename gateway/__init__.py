"""gateway: the credit-ledger service and its command line (`credit-ledger`)."""

__all__: list[str] = []
