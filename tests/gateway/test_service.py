"""Opening a gateway: development defaults, production refusals, the wrong chain, restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain_client import Chain, devnet_for
from chain_client.dev import DevChain
from credit_cli.main import main
from credit_demo.catalog import open_gateway
from gateway.infra.envelope import Keyring, PayloadIntegrityError, SealedPayload, open_sealed
from gateway.infra.errors import ConfigurationError
from gateway.infra.settings import DEV_SUBJECT_KEY, Settings
from gateway.infra.storage import StoredRecord, connect
from gateway.records.reads import open_record
from tests.support.hardhat import free_port
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import serve_gateway, wait_until
from tests.support.subjects import new_uscc

REAL_KEY = "0x" + "5a" * 32  # a stand-in for an operator's secret: not a development key


def refusal(settings: Settings, chain: Chain | None = None) -> str:
    with pytest.raises(ConfigurationError) as caught:
        open_gateway(settings, chain=chain)
    return caught.value.code


def test_production_mode_needs_real_secrets(tmp_path: Path) -> None:
    """Production refuses to start without a subject key, keyring and gateway key, and refuses dev ones."""
    keyring = SecretStr(Keyring.generate().to_json())
    dev_gateway = SecretStr(devnet_for(0, allow_any_chain=True).by_label("gateway-beijing").account.key.hex())
    cases = [
        ({}, "CONFIG_SECRET_MISSING"),
        ({"subject_key": SecretStr(DEV_SUBJECT_KEY.hex())}, "CONFIG_DEV_SECRET_REFUSED"),
        ({"subject_key": SecretStr(REAL_KEY)}, "CONFIG_SECRET_MISSING"),
        ({"subject_key": SecretStr(REAL_KEY), "keyring_json": keyring}, "CONFIG_SECRET_MISSING"),
        (
            {"subject_key": SecretStr(REAL_KEY), "keyring_json": keyring, "gateway_key": dev_gateway},
            "CONFIG_DEV_SECRET_REFUSED",
        ),
    ]
    for secrets, code in cases:
        settings = Settings(mode="production", data_dir=tmp_path, **secrets)  # type: ignore[arg-type]
        assert refusal(settings) == code, secrets


def test_production_mode_does_not_deploy_the_demo(tmp_path: Path) -> None:
    """Without a recorded deployment a production gateway refuses to start instead of deploying."""
    keyring = Keyring.generate()
    settings = Settings(
        mode="production",
        data_dir=tmp_path,
        subject_key=SecretStr(REAL_KEY),
        gateway_key=SecretStr(REAL_KEY),
        keyring_json=SecretStr(keyring.to_json()),
    )
    assert refusal(settings) == "CONFIG_NO_DEPLOYMENT"


def test_a_gateway_refuses_a_chain_without_its_recorded_deployment(tmp_path: Path) -> None:
    """The data directory records the deployment; a different chain is refused at start."""
    settings = Settings(data_dir=tmp_path, start_worker=False)
    open_gateway(settings).stop()
    assert json.loads((tmp_path / "deployments" / f"{DevChain.embedded().chain_id}.json").read_text())["format"]
    assert refusal(settings) == "CONFIG_WRONG_CHAIN"


def test_a_restarted_gateway_keeps_every_accepted_record(tmp_path: Path) -> None:
    """Stopping and reopening on the same chain and data directory loses nothing and anchors what was pending."""
    chain = DevChain.embedded()
    settings = Settings(data_dir=tmp_path, batch_interval_s=0.1, start_worker=False)
    with serve_gateway(settings, chain=chain) as first:
        records = [first.submit(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(3)]
    reopened = Settings(data_dir=tmp_path, batch_interval_s=0.1)
    with serve_gateway(reopened, chain=chain) as second:
        second.wait_anchored(*records)
        with Session(second.gateway.engine) as session:
            assert session.scalar(select(func.count()).select_from(StoredRecord)) == 3
        with second.client(SAMR) as client:
            assert client.record(records[0].record_id_hex)["payload"] == records[0].submission["payload"]


def test_keys_rotate_rewraps_every_data_key(tmp_path: Path) -> None:
    """`credit-ledger keys rotate` makes a new KEK active; every payload still opens, a tampered row is named."""
    chain = DevChain.embedded()
    settings = Settings(data_dir=tmp_path, start_worker=False)
    with serve_gateway(settings, chain=chain) as served:
        records = [served.submit(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(3)]
        tampered = records[2].leaf.record_id
        with Session(served.gateway.engine) as session, session.begin():
            row = session.get_one(StoredRecord, tampered)
            row.wrapped_key = bytes([row.wrapped_key[0] ^ 1]) + row.wrapped_key[1:]
        url = str(served.gateway.engine.url)
    keyring_file = tmp_path / "keyring.dev.json"
    result = CliRunner().invoke(
        main, ["keys", "rotate", "--keyring-file", str(keyring_file), "--database-url", url, "--new-id", "kek-2"]
    )
    assert result.exit_code == 1, result.output
    assert "re-wrapped 2 data keys" in result.output
    assert f"FAIL 0x{tampered.hex()}" in result.output
    keyring = Keyring.from_file(keyring_file)
    assert (keyring.active_id, sorted(keyring.keys)) == ("kek-2", ["dev-kek-1", "kek-2"])
    engine = connect(url)
    with Session(engine) as session:
        for record in records[:2]:
            row = session.get_one(StoredRecord, record.leaf.record_id)
            assert row.kek_id == "kek-2"
            assert (
                open_record(Keyring("kek-2", {"kek-2": keyring.keys["kek-2"]}), row).payload
                == record.submission["payload"]
            )
        row = session.get_one(StoredRecord, tampered)
        sealed = SealedPayload(row.ciphertext, row.nonce, row.wrapped_key, row.key_nonce, row.kek_id)
        with pytest.raises(PayloadIntegrityError):
            open_sealed(keyring, tampered, sealed)
    engine.dispose()


def test_credit_ledger_serve_runs_the_gateway(tmp_path: Path) -> None:
    """`credit-ledger serve` with no chain or database options serves a ready gateway and stops on SIGTERM."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "credit_cli.main", "serve", "--port", str(port), "--data-dir", str(tmp_path)),
        *("--chain-port", "0"),  # never the default 8545, which something else on the machine may hold
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(url + "/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                return False

        wait_until(ready, timeout=90, what="credit-ledger serve to be ready")
        catalog = httpx.get(url + "/public/v1/catalog").json()
        assert PENALTY in {e["code"] for e in catalog["entries"]}
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert str(tmp_path) in out.decode()
    assert (tmp_path / "gateway.db").exists()
    for line in err.decode().splitlines():
        json.loads(line)  # every log line is JSON
