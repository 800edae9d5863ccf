"""Credit reports as HTML pages, and `credit-ledger verify-report` on both forms."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from eth_account.signers.local import LocalAccount

from chain_client import Role, Stack, deploy_demo_stack, devnet_for
from chain_client.dev import DevChain
from chain_client.verify.report import verify_report
from credit_cli.main import main
from gateway.standing.report_html import ReportFileError, extract_report, render_report_html
from tests.chain_client.conftest import govern, penalty_spec
from tests.support.hardhat import HardhatNode, free_port
from tests.support.payloads import penalty
from tests.support.reports import TAMPERS, Issued, deploy_embedded_stack, issue_report, rolled_back, tampered

MARKUP = "</script><b>x</b>"


@pytest.fixture(scope="module")
def embedded_stack() -> Stack:
    """The demo consortium on an embedded chain of this module's own."""
    return deploy_embedded_stack()


@pytest.fixture
def stack(embedded_stack: Stack) -> Iterator[Stack]:
    """Reports are built on the embedded chain only; whatever a test changes is rolled back."""
    with rolled_back(embedded_stack) as rolled:
        yield rolled


@pytest.fixture
def issued(
    stack: Stack, provider: LocalAccount, gateway: LocalAccount, auditor: LocalAccount, penalty_entry: bytes
) -> Issued:
    """A report whose first record shows a subject name that is HTML markup."""
    payloads = [penalty(name=MARKUP), penalty(violation="无证经营"), penalty()]
    return issue_report(stack, provider, gateway, auditor, payloads=payloads)


def write(tmp_path: Path, document: dict[str, Any], form: str) -> Path:
    path = tmp_path / f"report.{form}"
    text = render_report_html(document) if form == "html" else json.dumps(document, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["verify-report", *args])


# ----------------------------------------------------------------------- page


def test_the_page_escapes_markup_and_embeds_the_exact_document(issued: Issued) -> None:
    """Markup in a field is shown as text, cannot close the embedded script, and the JSON reads back unchanged."""
    page = render_report_html(issued.document)
    assert "<b>x</b>" not in page
    assert page.count("</script>") == 1
    assert "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in page
    assert "\\u003c/script\\u003e\\u003cb\\u003ex\\u003c/b\\u003e" in page
    assert extract_report(page) == issued.document
    assert verify_report(extract_report(page)).valid


def test_the_page_shows_the_report_for_people(issued: Issued) -> None:
    """Headings in Chinese and English, the subject, Beijing time, lists and every record's fields are on the page."""
    report = issued.document["report"]
    page = render_report_html(issued.document)
    generated = dt.datetime.fromtimestamp(report["generatedAt"], dt.timezone(dt.timedelta(hours=8)))
    for text in [
        "信用报告 / Credit report",
        report["subject"],
        generated.strftime("%Y-%m-%d %H:%M:%S") + " 北京时间",
        report["gateway"],
        report["requester"],
        '黑名单 / Black list</th><td><span class="listed">是 / Yes',
        "M-BJ-XZCF-LIMIT-BID",
        "信用记录 / Credit records (3)",
        "有效 / Active",
        "无证经营",
        "京市监罚〔2026〕101号",
        "无可显示字段 / No fields shown.",
    ]:
        assert text in page, text
    assert "http" not in page.replace("http-equiv", ""), "no external assets"


def test_extract_report_refuses_what_is_not_a_report() -> None:
    """Text that is neither a JSON object nor a page with the embedded report is refused, saying why."""
    for text, message in [
        ("not a report", "neither a JSON report nor an HTML report page"),
        ("{broken", "is not valid JSON"),
        ("<html><body>hello</body></html>", "without an embedded report"),
        ('<script type="application/json" id="credit-report">[1]</script>', "not an object"),
    ]:
        with pytest.raises(ReportFileError, match=message):
            extract_report(text)


# ------------------------------------------------------------------------ CLI


@pytest.mark.parametrize("form", ["json", "html"])
def test_cli_verifies_a_report_offline(issued: Issued, tmp_path: Path, form: str) -> None:
    """Both forms print a PASS line per check and exit 0."""
    result = run(str(write(tmp_path, issued.document, form)))
    assert result.exit_code == 0, result.output
    assert "PASS signature" in result.output
    assert result.output.count("PASS fields") == 3
    assert "VALID offline (give --rpc to check the chain)" in result.output


def test_cli_json_output(issued: Issued, tmp_path: Path) -> None:
    """--json prints the verification, per record with its bundle's own checks."""
    result = run(str(write(tmp_path, issued.document, "html")), "--json")
    assert result.exit_code == 0, result.output
    verification = json.loads(result.output)
    assert verification["valid"] is True
    assert verification["subject"] == issued.document["report"]["subject"]
    assert [r["bundle"]["valid"] for r in verification["records"]] == [True] * 3


@pytest.mark.parametrize("name", sorted(TAMPERS))
@pytest.mark.parametrize("form", ["json", "html"])
def test_cli_names_the_failed_checks_and_exits_1(issued: Issued, tmp_path: Path, name: str, form: str) -> None:
    """A changed report gives FAIL lines for the checks guarding the change, and exit 1."""
    result = run(str(write(tmp_path, tampered(issued, name, resign=False), form)))
    assert result.exit_code == 1, result.output
    assert "FAIL signature" in result.output
    assert "INVALID: " + ", ".join(["signature", *TAMPERS[name][1]]) in result.output


def test_cli_fails_a_broken_signature(issued: Issued, tmp_path: Path) -> None:
    """A signature with one byte changed fails `signature` and exits 1."""
    document = copy.deepcopy(issued.document)
    signature = bytearray(bytes.fromhex(document["signature"][2:]))
    signature[7] ^= 0x01
    document["signature"] = "0x" + signature.hex()
    result = run(str(write(tmp_path, document, "json")))
    assert result.exit_code == 1, result.output
    assert "INVALID: signature\n" in result.output


def test_cli_fails_a_json_object_that_is_not_a_report(tmp_path: Path) -> None:
    """A JSON object of another shape is read, and fails `format` with exit 1."""
    path = tmp_path / "other.json"
    path.write_text('{"format": "credit-ledger/proof@2"}', encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 1, result.output
    assert "FAIL format" in result.output


def test_cli_unreadable_input_exits_2(issued: Issued, tmp_path: Path) -> None:
    """A missing file, garbage, a page without a report, or an unreachable chain is exit 2 with a message."""
    binary = tmp_path / "garbage.bin"
    binary.write_bytes(b"\x00\xffgarbage")
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("garbage, not a report", encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html><body>no report</body></html>", encoding="utf-8")
    for path, message in [
        (tmp_path / "missing.json", "cannot read"),
        (binary, "garbage.bin"),
        (garbage, "neither a JSON report nor an HTML report page"),
        (page, "without an embedded report"),
    ]:
        result = run(str(path))
        assert result.exit_code == 2, result.output
        assert message in result.output
    good = write(tmp_path, issued.document, "json")
    unreachable = run(str(good), "--rpc", f"http://127.0.0.1:{free_port()}")
    assert unreachable.exit_code == 2, unreachable.output


@pytest.mark.hardhat
def test_cli_verifies_a_report_page_against_a_hardhat_node(hardhat_node: HardhatNode, tmp_path: Path) -> None:
    """With only the page and the RPC URL, another region verifies the gateway's role and each record's status."""
    chain = DevChain.connect(hardhat_node.url)
    stack = deploy_demo_stack(chain)
    devnet = devnet_for(chain.chain_id)
    provider = devnet.by_label("samr-beijing").account
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)]
    govern(stack.consortium, governors, stack.catalog.create_call(penalty_spec(provider.address)))
    issued = issue_report(
        stack, provider, devnet.by_label("gateway-beijing").account, devnet.by_label("auditor-hebei").account
    )
    result = run(str(write(tmp_path, issued.document, "html")), "--rpc", hardhat_node.url)
    assert result.exit_code == 0, result.output
    assert "PASS gateway" in result.output
    assert result.output.count("PASS status") == 3
    assert "VALID against the chain" in result.output
