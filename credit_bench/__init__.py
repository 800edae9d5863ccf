"""`credit-ledger bench`: benchmarks, not tests."""
