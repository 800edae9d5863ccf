"""Structured JSON logs, one object per line.

Log calls pass facts as `extra={"fields": {...}}`; the formatter writes them beside the
time, level, logger and message. Callers log route templates, codes, counts and
addresses, never bodies, payloads, query strings, subject ids or keys.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_CONFIGURED_HANDLER = "credit-ledger-json"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # the type only: messages may quote data
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send the gateway's logs to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("credit_ledger")
    logger.setLevel(level)
    if any(h.get_name() == _CONFIGURED_HANDLER for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_CONFIGURED_HANDLER)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False


def get_logger(name: str) -> logging.Logger:
    """A logger under the gateway's namespace."""
    return logging.getLogger(f"credit_ledger.{name}")
