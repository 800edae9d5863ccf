"""Records: checks and intake, reads and releases, entitlement, consents, the access log,
reads across regions, the integrity audit.
"""
