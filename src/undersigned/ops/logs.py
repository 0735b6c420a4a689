"""Logging without secrets or personal data, optionally as one JSON object per line.

Django names the request path when it logs a 4xx/5xx answer, and some paths
carry one-time secrets (confirmation, withdrawal, receipt and data-access
links). RedactSecrets replaces those path segments before any handler sees
them. JsonFormatter (LOG_FORMAT=json) gives log collectors fields instead of
prose; it includes no request attributes (no client address, no headers).
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

SECRET_PATH = re.compile(r"/(confirm|withdraw|receipt|my-data)/[^/\s?\"']+")


def redact(text: str) -> str:
    return SECRET_PATH.sub(r"/\1/[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
