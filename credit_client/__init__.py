"""The department client library: signed requests, records and instructions for a credit-ledger gateway.

    from credit_client import GatewayClient, prepare_record

Every error the client raises on purpose is a `GatewayClientError` carrying the
gateway's status, stable code, message and detail.
"""

from credit_client.client import GatewayClient, GatewayClientError, GatewayDeployment, PreparedRecord, prepare_record

__all__ = ["GatewayClient", "GatewayClientError", "GatewayDeployment", "PreparedRecord", "prepare_record"]
