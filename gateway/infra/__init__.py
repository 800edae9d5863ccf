"""Infrastructure: the running gateway (service, settings), storage and its leaf encoding,
keys and envelopes, the chain view and calendars, the anchoring worker and its lease,
the check pool, metrics, logs, request signatures, nonces, errors.
"""
