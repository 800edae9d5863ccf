"""The gateway's settings: one pydantic-settings class, read once from the environment.

Every field can be set as `CREDIT_LEDGER_<NAME>` (for example `CREDIT_LEDGER_RPC_URL`)
or by the matching `credit-ledger serve` option. In development mode the gateway fills
what is missing with development secrets (the demo consortium's public keys, a fixed
subject key, a keyring it generates); in production mode each of those is refused and
the real secret must be given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain_client import keccak
from gateway.errors import ConfigurationError

# Public by construction: the subject key of the demo consortium, never for real subjects.
DEV_SUBJECT_KEY = keccak(b"credit-ledger development subject key, never use in production")
DEV_GATEWAY_LABEL = "gateway-beijing"


class Settings(BaseSettings):
    """How one gateway runs: its chain, database, keys, batching and limits."""

    model_config = SettingsConfigDict(env_prefix="CREDIT_LEDGER_", extra="forbid")

    mode: Literal["development", "production"] = "development"
    data_dir: Path | None = Field(None, description="SQLite database, keyring and deployment records.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir.")
    rpc_url: str | None = Field(None, description="JSON-RPC node; default the embedded py-evm chain.")
    deployments_dir: Path | None = Field(None, description="Deployment records (<chainId>.json) to attach to.")
    keyring_file: Path | None = None
    keyring_json: SecretStr | None = None
    gateway_key: SecretStr | None = Field(None, description="Private key of this gateway's GATEWAY account.")
    dev_gateway_label: str = DEV_GATEWAY_LABEL
    subject_key: SecretStr | None = Field(None, description="The consortium's 32-byte subject key, hex.")
    schemas_dir: Path | None = Field(None, description="Catalog JSON Schemas; default the packaged demo schemas.")
    peer_reads: bool = Field(
        False,
        description="Fetch records held by other regions' gateways (URLs registered on chain); off for a lone gateway.",
    )
    policy_file: Path | None = Field(
        None, description="Joint measures per list and breach catalog entries; default the packaged policy."
    )
    host: str = "127.0.0.1"
    port: int = 8101
    auth_window_s: int = Field(300, ge=5, le=3600)
    batch_size: int = Field(
        5000,
        ge=1,
        le=2**24 - 1,
        description=(
            "Most records (or access-log entries) per anchored root. Each root costs one transaction's work "
            "on the node and in the worker whatever its size, and a proof grows by one hash per doubling."
        ),
    )
    batch_interval_s: float = Field(2.0, gt=0)
    confirmations: int = Field(1, ge=1)
    chain_poll_interval_s: float = Field(2.0, gt=0)
    max_bulk: int = Field(10_000, ge=1)
    max_payload_bytes: int = Field(64 * 1024, ge=256)
    max_body_bytes: int = Field(128 * 1024 * 1024, ge=1024)
    start_worker: bool = True

    @property
    def development(self) -> bool:
        """True in development mode, where development secrets are allowed."""
        return self.mode == "development"

    def subject_key_bytes(self) -> bytes:
        """The subject key; the development key only in development mode."""
        if self.subject_key is None:
            if not self.development:
                raise ConfigurationError("CONFIG_SECRET_MISSING", "production mode needs CREDIT_LEDGER_SUBJECT_KEY")
            return DEV_SUBJECT_KEY
        key = _hex_bytes(self.subject_key.get_secret_value(), "subject_key")
        if len(key) != 32:
            raise ConfigurationError("CONFIG_INVALID", "subject_key must be 32 bytes of hex")
        if key == DEV_SUBJECT_KEY and not self.development:
            raise ConfigurationError(
                "CONFIG_DEV_SECRET_REFUSED", "the development subject key is public and refused in production mode"
            )
        return key


def _hex_bytes(text: str, name: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ConfigurationError("CONFIG_INVALID", f"{name} is not hex") from None
