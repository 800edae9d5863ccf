"""The gateway's settings: one pydantic-settings class, read once from the environment.

One rule names the environment variables: the `credit-ledger serve` option `--some-name`
is `CREDIT_LEDGER_SOME_NAME` (`--rpc` is CREDIT_LEDGER_RPC, `--batch-interval`
CREDIT_LEDGER_BATCH_INTERVAL), and a field without an option is `CREDIT_LEDGER_<FIELD>`
(CREDIT_LEDGER_SUBJECT_KEY). The names the rule replaced (CREDIT_LEDGER_RPC_URL,
CREDIT_LEDGER_DEPLOYMENTS_DIR, CREDIT_LEDGER_BATCH_INTERVAL_S) still work, with a
DeprecationWarning naming the new one. Python code keeps the field names
(`Settings(rpc_url=...)`). In development mode the gateway fills what is missing with
development secrets (the demo consortium's public keys, a fixed subject key, a keyring it
generates); in production mode each of those is refused and the real secret must be given,
and secrets on disk must be private (docs/deployment.md, "What production mode refuses").

Development mode exists on development chains only (chain ids DEVELOPMENT_CHAIN_IDS). Left
unset, the mode is decided by the chain (`for_chain`): development on a development chain,
production on any other; asked for on another chain, it is refused (CONFIG_DEV_MODE_REFUSED).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain_client import DEVELOPMENT_CHAIN_IDS, keccak
from gateway.infra.errors import ConfigurationError

# Public by construction: the subject key of the demo consortium, never for real subjects.
DEV_SUBJECT_KEY = keccak(b"credit-ledger development subject key, never use in production")
DEV_GATEWAY_LABEL = "gateway-beijing"
ENV_PREFIX = "CREDIT_LEDGER_"


def _renamed(new: str, old: str) -> AliasChoices:
    """The environment names of a field whose option is not its name: the rule's, then the old one."""
    return AliasChoices(ENV_PREFIX + new, ENV_PREFIX + old)


class Settings(BaseSettings):
    """How one gateway runs: its chain, database, keys, batching and limits."""

    # validate_by_name: the environment uses the aliases, Python code the field names.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_by_name=True)

    mode: Literal["development", "production"] | None = Field(
        None,
        description="development (development chains only) or production; unset: decided by the chain's id.",
    )
    data_dir: Path | None = Field(None, description="SQLite database, keyring and deployment records.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir.")
    rpc_url: str | None = Field(
        None,
        validation_alias=_renamed("RPC", "RPC_URL"),
        description="JSON-RPC node; default the embedded py-evm chain.",
    )
    deployments_dir: Path | None = Field(
        None,
        validation_alias=_renamed("DEPLOYMENTS", "DEPLOYMENTS_DIR"),
        description="Deployment records (<chainId>.json) to attach to.",
    )
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
    peer_query_timeout_s: float = Field(
        5.0, gt=0, le=60, description="How long a consortium-wide lists answer waits for the other regions' parts."
    )
    policy_file: Path | None = Field(
        None, description="Joint measures per list and breach catalog entries; default the packaged policy."
    )
    host: str = "127.0.0.1"
    port: int = 8101
    chain_port: int = Field(
        8545,
        ge=0,
        le=65535,
        description="Port on 127.0.0.1 where `credit-ledger serve` also serves the embedded chain (0: a free one).",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Gateway processes `credit-ledger serve` runs on one port (more than one: PostgreSQL and --rpc).",
    )
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
    batch_interval_s: float = Field(2.0, gt=0, validation_alias=_renamed("BATCH_INTERVAL", "BATCH_INTERVAL_S"))
    confirmations: int = Field(1, ge=1)
    chain_poll_interval_s: float = Field(2.0, gt=0)
    roles_max_age_s: float = Field(
        30.0,
        gt=0,
        description=(
            "Longest time members' roles are trusted from the cache while the chain cannot be reached; after "
            "it, every authenticated request is 503 CHAIN_UNAVAILABLE until a poll succeeds (a suspension made "
            "during an outage applies at the latest then). Longer than chain_poll_interval_s."
        ),
    )
    max_bulk: int = Field(10_000, ge=1)
    max_payload_bytes: int = Field(64 * 1024, ge=256)
    max_body_bytes: int = Field(128 * 1024 * 1024, ge=1024)
    public_lookups_per_minute: int = Field(
        30, ge=1, description="Public lookups by subject id a client may make per minute (each process)."
    )
    start_worker: bool = True

    @model_validator(mode="before")
    @classmethod
    def _warn_of_deprecated_names(cls, data: Any) -> Any:
        for old, new in deprecated_environment():
            warnings.warn(deprecation_message(old, new), DeprecationWarning, stacklevel=2)
        return data

    @model_validator(mode="after")
    def _roles_outlive_a_poll(self) -> Settings:
        if self.roles_max_age_s <= self.chain_poll_interval_s:
            raise ValueError("roles_max_age_s must be longer than chain_poll_interval_s")
        return self

    @property
    def development(self) -> bool:
        """True in development mode, where development secrets are allowed (an unset mode is not)."""
        return self.mode == "development"

    def for_chain(self, chain_id: int) -> Settings:
        """These settings with the mode decided for the chain: an unset mode is development on a
        development chain and production on any other; development mode elsewhere is refused
        (ConfigurationError CONFIG_DEV_MODE_REFUSED), so no development default reaches a real chain."""
        if chain_id in DEVELOPMENT_CHAIN_IDS:
            mode = self.mode or "development"
        elif self.mode == "development":
            ids = ", ".join(map(str, sorted(DEVELOPMENT_CHAIN_IDS)))
            raise ConfigurationError(
                "CONFIG_DEV_MODE_REFUSED",
                f"development mode runs on development chains only ({ids}); chain {chain_id} is not one:"
                " leave the mode unset or give production",
            )
        else:
            mode = "production"
        return self.model_copy(update={"mode": mode})

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


def env_name(field: str) -> str:
    """The environment variable of a Settings field, by the one rule (module docstring)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return ENV_PREFIX + field.upper()


def field_of_option(option: str) -> str:
    """The Settings field a `credit-ledger serve` option sets: `--some-name` (or its click name
    some_name) is the field whose environment variable is CREDIT_LEDGER_SOME_NAME."""
    wanted = ENV_PREFIX + option.lstrip("-").replace("-", "_").upper()
    for field in Settings.model_fields:
        if env_name(field) == wanted:
            return field
    raise KeyError(f"no setting is named {wanted}, as option {option} would be")


def _deprecated_names() -> dict[str, str]:
    renamed = (f.validation_alias for f in Settings.model_fields.values())
    return {str(old): str(a.choices[0]) for a in renamed if isinstance(a, AliasChoices) for old in a.choices[1:]}


def deprecated_environment() -> list[tuple[str, str]]:
    """(old, new) for each deprecated variable name set in the environment."""
    present = _environment_names()
    return [(old, new) for old, new in DEPRECATED_ENV.items() if old in present]


def deprecation_message(old: str, new: str) -> str:
    """What to tell whoever still sets an old variable name."""
    ignored = f" and ignored: {new} is set as well" if new in _environment_names() else f"; set {new} instead"
    return f"{old} is deprecated{ignored} (variables follow the serve options: --some-name is CREDIT_LEDGER_SOME_NAME)"


def _environment_names() -> set[str]:
    return {name.upper() for name in os.environ}  # pydantic-settings reads names case-insensitively


DEPRECATED_ENV: dict[str, str] = _deprecated_names()


def _hex_bytes(text: str, name: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ConfigurationError("CONFIG_INVALID", f"{name} is not hex") from None
