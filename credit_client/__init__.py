"""The department client library: signed requests, records and instructions for a credit-ledger gateway.

    from credit_client import GatewayClient, prepare_record
    from credit_client import SubjectClient, issue_credential   # subjects and their registrars

Every error the client raises on purpose is a `GatewayClientError` carrying the
gateway's status, stable code, message and detail.
"""

from credit_client.client import (
    GatewayClient,
    GatewayClientError,
    GatewayDeployment,
    PreparedRecord,
    prepare_record,
    subject_salt_of,
)
from credit_client.subject import SubjectClient, issue_credential, sign_consent_body

__all__ = [
    "GatewayClient",
    "GatewayClientError",
    "GatewayDeployment",
    "PreparedRecord",
    "SubjectClient",
    "issue_credential",
    "prepare_record",
    "sign_consent_body",
    "subject_salt_of",
]
