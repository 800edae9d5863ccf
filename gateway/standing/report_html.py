"""Credit reports as a readable, self-contained HTML page, and back.

The page shows the report for people (Chinese and English headings, times in Beijing
time) and embeds the exact signed document in
`<script type="application/json" id="credit-report">`, with `<`, `>`, `&`, U+2028 and
U+2029 written as JSON escapes: nothing in the data can end the script element, and the
JSON still parses to the same document. `extract_report` reads either form, so the page
itself is what a requester hands on and what `credit-ledger verify-report` checks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from html import escape
from html.parser import HTMLParser
from typing import Any

from chain_client import REPORT_FORMAT, report_schema_problems
from gateway.infra.errors import FixedCodeError

SCRIPT_ID = "credit-report"
# China has kept UTC+8 without daylight saving since 1991: a fixed offset is Asia/Shanghai
# for every report, and needs no time zone database on the machine.
BEIJING_TIME = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
_CLASSES = {"A": "社会公开 / public", "B": "授权查询 / authorized query", "C": "部门共享 / department-shared"}
_STATUSES = {"Active": "有效 / Active", "Disputed": "异议处理中 / Disputed"}
_VIEWS = {"full": "全部字段 / all fields", "public": "公开字段 / public fields only"}
_STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1a1a1a;line-height:1.5}
h1{border-bottom:3px solid #b71c1c;padding-bottom:.3rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4;width:14rem;font-weight:600}code,.mono{font-family:ui-monospace,monospace;word-break:break-all}
.listed{color:#b71c1c;font-weight:600}.note{color:#555;font-size:.9rem}
@media print{body{margin:0;max-width:none}}
"""


class ReportFileError(FixedCodeError, ValueError):
    """The text is neither a report's JSON nor a page embedding one."""

    code = "REPORT_FILE_INVALID"


def render_report_html(document: Mapping[str, Any]) -> str:
    """The signed report document as a self-contained HTML page; ValueError when malformed."""
    problems = report_schema_problems(dict(document))
    if problems:
        raise ValueError(f"not a valid {REPORT_FORMAT} document: {problems[0]}")
    report = document["report"]
    records = report["records"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>信用报告 / Credit report — {escape(report['subject'])}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<h1>信用报告 / Credit report</h1>",
        _table(
            [
                ("主体 / Subject", escape(report["subject"])),
                ("主体引用 / Subject reference", _mono(report["subjectRef"])),
                ("生成时间 / Generated", escape(_beijing_time(report["generatedAt"]))),
                ("数据截至区块 / As of block", escape(str(report["asOfBlock"]))),
                ("出具网关 / Issuing gateway", _mono(report["gateway"])),
                ("查询方 / Requester", _mono(report["requester"])),
                (
                    "链 / Chain",
                    f"chain id {escape(str(report['chainId']))}, 账本合约 / ledger {_mono(report['ledger'])}",
                ),
            ]
        ),
        "<h2>红黑名单与联合奖惩 / Lists and joint measures</h2>",
        _table(
            [
                ("红名单 / Red list", _listed(report["lists"]["red"])),
                ("黑名单 / Black list", _listed(report["lists"]["black"])),
                (
                    "适用措施 / Measures",
                    ", ".join(_mono(code) for code in report["measures"]) or "无 / none",
                ),
            ]
        ),
        f"<h2>信用记录 / Credit records ({len(records)})</h2>",
    ]
    if not records:
        parts.append("<p>无在效记录 / No records in force.</p>")
    for number, record in enumerate(records, start=1):
        parts.append(_record_section(number, record))
    parts.extend(
        [
            "<h2>核验 / Verification</h2>",
            '<p class="note">本页内嵌出具网关签名的报告原文，任何地区均可离线或对链核验：'
            "<code>credit-ledger verify-report 本文件 [--rpc URL]</code>。<br>"
            "This page embeds the report as signed by the issuing gateway; anyone verifies it, offline or "
            "against the chain, with <code>credit-ledger verify-report this-file [--rpc URL]</code>.</p>",
            _table([("签名 / Signature", _mono(document["signature"]))]),
            f'<script type="application/json" id="{SCRIPT_ID}">\n{_script_json(document)}\n</script>',
            "</body>",
            "</html>",
        ]
    )
    return "\n".join(parts) + "\n"


def extract_report(text: str) -> dict[str, Any]:
    """The report document in a JSON file's text or in a report page; ReportFileError otherwise."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return _json_object(stripped, "the file")
    if stripped[:1] != "<":
        raise ReportFileError("neither a JSON report nor an HTML report page")
    finder = _ScriptFinder()
    finder.feed(text)
    finder.close()
    if finder.content is None:
        raise ReportFileError(
            f'an HTML page without an embedded report (<script type="application/json" id="{SCRIPT_ID}">)'
        )
    return _json_object(finder.content, "the embedded report")


def _record_section(number: int, record: Mapping[str, Any]) -> str:
    proof = record["proof"]
    leaf = proof.get("record", {})
    batch = proof.get("batch", {})
    rows = [
        ("记录编号 / Record ID", _mono(record["recordId"])),
        ("目录编码 / Catalog entry", f"{_mono(record['catalogCode'])} v{escape(str(record['catalogVersion']))}"),
        ("公开类别 / Class", f"{escape(record['class'])} — {escape(_CLASSES[record['class']])}"),
        ("状态 / Status", escape(_STATUSES[record["status"]])),
        ("视图 / View", escape(_VIEWS[record["view"]])),
        ("提供单位 / Provider", _mono(str(leaf.get("provider", "?")))),
        ("上链区块 / Anchored in block", escape(str(batch.get("blockNumber", "?")))),
    ]
    fields = record["fields"]
    field_rows = [(escape(name), _value(fields[name])) for name in sorted(fields)]
    body = _table(field_rows) if field_rows else "<p>无可显示字段 / No fields shown.</p>"
    return (
        f"<section><h3>{number}. {escape(record['catalogCode'])}</h3>"
        f"{_table(rows)}<h4>字段 / Fields</h4>{body}</section>"
    )


def _table(rows: list[tuple[str, str]]) -> str:
    """A two-column table; the cells are HTML already escaped by the caller."""
    return "<table>" + "".join(f"<tr><th>{head}</th><td>{cell}</td></tr>" for head, cell in rows) + "</table>"


def _mono(text: str) -> str:
    return f'<span class="mono">{escape(text)}</span>'


def _listed(listed: bool) -> str:
    return '<span class="listed">是 / Yes</span>' if listed else "否 / No"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return escape(value)
    return _mono(json.dumps(value, ensure_ascii=False))


def _beijing_time(timestamp: int) -> str:
    moment = dt.datetime.fromtimestamp(timestamp, BEIJING_TIME)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + " 北京时间 (UTC+08:00, Asia/Shanghai)"


def _script_json(document: Mapping[str, Any]) -> str:
    text = json.dumps(document, ensure_ascii=False, indent=2)
    # These characters occur only inside JSON strings, where the \\u escapes mean the same.
    return text.translate(_JSON_ESCAPES)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFileError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(value, dict):
        raise ReportFileError(f"{what} is JSON but not an object")
    return value


class _ScriptFinder(HTMLParser):
    """Collects the text of the first <script type="application/json" id="credit-report">."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.content: str | None = None
        self._inside = False
        self._chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and self.content is None and found.get("id") == SCRIPT_ID:
            self._inside = (found.get("type") or "").lower() == "application/json"

    def handle_data(self, data: str) -> None:
        if self._inside:
            self._chunks.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._inside:
            self._inside = False
            self.content = "".join(self._chunks)
