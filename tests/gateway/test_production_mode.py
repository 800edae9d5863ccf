"""Production means production (issue 16, point 8): no development default on a chain outside the
development set, whatever the mode; production refuses secrets others can read and a gateway
account without the GATEWAY role; `keys retire` drops an old KEK once no row uses it.

A chain outside the development set is the embedded chain served over JSON-RPC behind a node
that names it chain 4242 (tests/support/rpc_tampering.py relabelled_node).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr
from sqlalchemy.orm import Session

from chain_client import DEVELOPMENT_CHAIN_IDS, MemberSpec, Role, Stack, devnet_for, save_deployment
from chain_client.dev import DevChain
from credit_cli.chain_server import serve_chain_in_thread
from credit_cli.main import main
from credit_demo.catalog import demo_schemas, deploy_demo, open_gateway
from gateway.infra.envelope import Keyring
from gateway.infra.errors import ConfigurationError
from gateway.infra.keys import write_keyring
from gateway.infra.service import DEV_KEYRING_FILE
from gateway.infra.settings import DEV_SUBJECT_KEY, ENV_PREFIX, Settings
from gateway.infra.storage import StoredRecord, connect
from gateway.records.reads import open_record
from gateway.serving import serve_app_in_thread
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.rpc_tampering import relabelled_node
from tests.support.served import serve_gateway
from tests.support.subjects import new_uscc

REAL_CHAIN_ID = 4242
assert REAL_CHAIN_ID not in DEVELOPMENT_CHAIN_IDS
SUBJECT_KEY = "0x" + "5b" * 32  # a stand-in for the consortium's secret: not the development key


@dataclass
class Consortium:
    """The demo consortium on an embedded chain, with an operator's own GATEWAY account admitted."""

    chain: DevChain
    stack: Stack
    operator: LocalAccount  # GATEWAY member, not a development key
    outsider: LocalAccount  # no member at all


@pytest.fixture(scope="module")
def consortium() -> Consortium:
    """The embedded chain, the demo deployed, an operator key admitted with GATEWAY and PEER."""
    chain = DevChain.embedded()
    stack = deploy_demo(chain, demo_schemas())
    devnet = devnet_for(chain.chain_id)
    operator, outsider = Account.create(), Account.create()
    region = stack.consortium.member(devnet.by_label("gateway-beijing").account.address).region
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][: stack.consortium.threshold()]
    spec = MemberSpec(operator.address, region, "Beijing gateway (operator key)", (Role.GATEWAY, Role.PEER))
    stack.consortium.govern(governors, stack.consortium.admit_call(spec))
    return Consortium(chain, stack, operator, outsider)


@pytest.fixture(scope="module")
def real_chain_url(consortium: Consortium) -> Iterator[str]:
    """The consortium's chain over JSON-RPC, behind a node that calls it chain 4242."""
    server = serve_chain_in_thread(consortium.chain, port=0)
    try:
        with serve_app_in_thread(relabelled_node(server.url, REAL_CHAIN_ID)) as node:
            yield node.url
    finally:
        server.stop()


def data_dir_for(tmp_path: Path, consortium: Consortium, chain_id: int) -> Path:
    """A private data directory holding the consortium's deployment record for chain_id."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    save_deployment(dataclasses.replace(consortium.stack.record, chain_id=chain_id), data_dir / "deployments")
    return data_dir


def keyring_file(folder: Path, mode: int = 0o600, name: str = "keyring.json") -> Path:
    """A fresh keyring written with that mode."""
    path = folder / name
    write_keyring(path, Keyring.generate("kek-1"))
    path.chmod(mode)
    return path


def refusal(settings: Settings) -> str:
    """The code a gateway refuses to open with."""
    with pytest.raises(ConfigurationError) as caught:
        open_gateway(settings)
    return caught.value.code


def production(data_dir: Path, account: LocalAccount, **changes: object) -> Settings:
    """Production settings with every secret given and private."""
    fields: dict[str, object] = {
        "mode": "production",
        "data_dir": data_dir,
        "subject_key": SecretStr(SUBJECT_KEY),
        "gateway_key": SecretStr(account.key.hex()),
        "keyring_file": keyring_file(data_dir.parent),
        "start_worker": False,
    }
    fields.update(changes)
    return Settings(**fields)  # type: ignore[arg-type]


# ------------------------------------------------------------ development defaults


def test_an_unset_mode_on_a_chain_outside_the_development_set_is_production(
    consortium: Consortium, real_chain_url: str, tmp_path: Path
) -> None:
    """Without --mode, chain 4242 gets production: no development subject key, no keyring generated."""
    data_dir = data_dir_for(tmp_path, consortium, REAL_CHAIN_ID)
    given = {"data_dir": data_dir, "rpc_url": real_chain_url, "gateway_key": SecretStr(consortium.operator.key.hex())}
    assert refusal(Settings(**given)) == "CONFIG_SECRET_MISSING"  # type: ignore[arg-type]
    assert not (data_dir / DEV_KEYRING_FILE).exists()
    with_dev_key = Settings(**given, subject_key=SecretStr(DEV_SUBJECT_KEY.hex()))  # type: ignore[arg-type]
    assert refusal(with_dev_key) == "CONFIG_DEV_SECRET_REFUSED"
    devnet_gateway = devnet_for(REAL_CHAIN_ID, allow_any_chain=True).by_label("gateway-beijing").account
    with_dev_account = production(
        data_dir, devnet_gateway, mode=None, rpc_url=real_chain_url, keyring_file=keyring_file(tmp_path)
    )
    assert refusal(with_dev_account) == "CONFIG_DEV_SECRET_REFUSED"
    assert not (data_dir / DEV_KEYRING_FILE).exists()


def test_development_mode_is_refused_on_a_chain_outside_the_development_set(
    consortium: Consortium, real_chain_url: str, tmp_path: Path
) -> None:
    """--mode development on chain 4242 is CONFIG_DEV_MODE_REFUSED, before any default is made up."""
    data_dir = data_dir_for(tmp_path, consortium, REAL_CHAIN_ID)
    settings = Settings(mode="development", data_dir=data_dir, rpc_url=real_chain_url)
    assert refusal(settings) == "CONFIG_DEV_MODE_REFUSED"
    assert not (data_dir / DEV_KEYRING_FILE).exists()


def test_with_real_secrets_an_unset_mode_starts_in_production_on_that_chain(
    consortium: Consortium, real_chain_url: str, tmp_path: Path
) -> None:
    """All secrets given and private, the operator's GATEWAY key: chain 4242 opens in production mode,
    and the SQLite database it creates is its user's alone."""
    data_dir = data_dir_for(tmp_path, consortium, REAL_CHAIN_ID)
    gateway = open_gateway(production(data_dir, consortium.operator, mode=None, rpc_url=real_chain_url))
    try:
        assert (gateway.settings.mode, gateway.stack.chain.chain_id) == ("production", REAL_CHAIN_ID)
        assert gateway.subject_key == bytes.fromhex(SUBJECT_KEY[2:])
    finally:
        gateway.stop()
    assert (data_dir / "gateway.db").stat().st_mode & 0o777 == 0o600
    assert not (data_dir / DEV_KEYRING_FILE).exists()


# ------------------------------------------------------------ production refusals


def test_production_refuses_a_keyring_file_others_can_read(consortium: Consortium, tmp_path: Path) -> None:
    """A keyring open to group or others, or a development keyring, is refused; mode 0600 opens."""
    data_dir = data_dir_for(tmp_path, consortium, consortium.chain.chain_id)
    operator = consortium.operator
    for mode in (0o640, 0o604, 0o620):
        exposed = production(data_dir, operator, keyring_file=keyring_file(tmp_path, mode, f"k{mode:o}.json"))
        assert refusal_on(exposed, consortium) == "CONFIG_KEYRING_READABLE", oct(mode)
    dev_keyring = production(data_dir, operator, keyring_file=keyring_file(tmp_path, name=DEV_KEYRING_FILE))
    assert refusal_on(dev_keyring, consortium) == "CONFIG_DEV_SECRET_REFUSED"
    open_gateway(production(data_dir, operator), chain=consortium.chain).stop()


def test_production_refuses_a_database_others_can_read(consortium: Consortium, tmp_path: Path) -> None:
    """An SQLite file readable by others, or its folder, is refused."""
    data_dir = data_dir_for(tmp_path, consortium, consortium.chain.chain_id)
    data_dir.chmod(0o755)
    assert refusal_on(production(data_dir, consortium.operator), consortium) == "CONFIG_DATABASE_READABLE"
    assert not (data_dir / "gateway.db").exists()
    data_dir.chmod(0o700)
    database = data_dir / "gateway.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    assert refusal_on(production(data_dir, consortium.operator), consortium) == "CONFIG_DATABASE_READABLE"
    database.chmod(0o600)
    open_gateway(production(data_dir, consortium.operator), chain=consortium.chain).stop()


def test_production_refuses_a_gateway_account_without_the_gateway_role(consortium: Consortium, tmp_path: Path) -> None:
    """A key that is no GATEWAY member is refused at start (development only warns)."""
    data_dir = data_dir_for(tmp_path, consortium, consortium.chain.chain_id)
    settings = production(data_dir, consortium.outsider)
    assert refusal_on(settings, consortium) == "CONFIG_GATEWAY_ROLE_MISSING"


def refusal_on(settings: Settings, consortium: Consortium) -> str:
    """The code a gateway on the consortium's own chain object refuses to open with."""
    with pytest.raises(ConfigurationError) as caught:
        open_gateway(settings, chain=consortium.chain)
    return caught.value.code


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CREDIT_LEDGER_* variable from the machine running the tests."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_environment")
def test_serve_exits_2_with_the_code_on_a_readable_keyring(
    consortium: Consortium, real_chain_url: str, tmp_path: Path
) -> None:
    """`credit-ledger serve` on chain 4242, no --mode, a keyring readable by others: exit 2, the code named."""
    data_dir = data_dir_for(tmp_path, consortium, REAL_CHAIN_ID)
    keyring = keyring_file(tmp_path, 0o644)
    environment = {
        "CREDIT_LEDGER_SUBJECT_KEY": SUBJECT_KEY,
        "CREDIT_LEDGER_GATEWAY_KEY": consortium.operator.key.hex(),
    }
    options = ["--rpc", real_chain_url, "--data-dir", str(data_dir), "--keyring-file", str(keyring)]
    result = CliRunner().invoke(main, ["serve", *options], env=environment)
    assert result.exit_code == 2, result.output
    assert "CONFIG_KEYRING_READABLE" in result.stderr
    assert "0644" in result.stderr


# ------------------------------------------------------------ keys retire


def test_keys_retire_drops_an_old_kek_only_once_no_row_uses_it(tmp_path: Path) -> None:
    """`keys retire` refuses the active key, an unknown one and one rows still use (exit 2 with the code);
    after the rotation it removes the old key, and every payload still opens."""
    settings = Settings(data_dir=tmp_path, start_worker=False)
    with serve_gateway(settings, chain=DevChain.embedded()) as served:
        records = [served.submit(SAMR, PENALTY, new_uscc(), penalty()) for _ in range(2)]
        url = str(served.gateway.engine.url)
    path = tmp_path / DEV_KEYRING_FILE
    runner = CliRunner()

    def keys(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["keys", *args, "--keyring-file", str(path), "--database-url", url])
        return result.exit_code, result.output

    code, output = keys("retire", "dev-kek-1")
    assert (code, "KEK_ACTIVE" in output) == (2, True), output
    assert "KEK_UNKNOWN" in keys("retire", "kek-9")[1]
    # A rotation interrupted after the keyring was written: both rows are still under dev-kek-1.
    write_keyring(path, Keyring.from_file(path).with_new_active("kek-2"))
    text = path.read_text()
    code, output = keys("retire", "dev-kek-1")
    assert (code, "KEK_IN_USE" in output, "2 rows" in output) == (2, True, True), output
    assert path.read_text() == text  # nothing removed
    assert keys("rotate", "--new-id", "kek-2")[0] == 0  # the rotation finished
    code, output = keys("retire", "dev-kek-1")
    assert code == 0, output
    assert "retired key dev-kek-1" in output
    engine = connect(url)
    keyring = Keyring.from_file(path)
    assert (keyring.active_id, sorted(keyring.keys)) == ("kek-2", ["kek-2"])
    assert path.stat().st_mode & 0o777 == 0o600
    with Session(engine) as session:
        for record in records:
            row = session.get_one(StoredRecord, record.leaf.record_id)
            assert open_record(keyring, row).payload == record.submission["payload"]
    engine.dispose()
