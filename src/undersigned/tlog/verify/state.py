"""Local state: the checkpoint a previous run accepted, remembered between runs.

A JSON file per log (``default_state_path``), written atomically and only
after every check of a run passed, so that the next run can refuse a
rollback or a fork.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from undersigned.tlog.merkle import HASH_SIZE
from undersigned.tlog.verify.errors import EXIT_USAGE, VerifyError, reason
from undersigned.tlog.verify.report import Report, format_time

STATE_VERSION: Final = 1


@dataclass(frozen=True)
class State:
    size: int
    root: bytes


def default_state_path(origin: str) -> Path:
    """``$XDG_STATE_HOME/undersigned/verify-<origin>.json``, else under ``~/.local/state``."""
    base_text = os.environ.get("XDG_STATE_HOME", "")
    # The XDG spec says to ignore a relative path.
    base = Path(base_text) if os.path.isabs(base_text) else Path.home() / ".local" / "state"
    return base / "undersigned" / f"verify-{sanitise_origin(origin)}.json"


def sanitise_origin(origin: str) -> str:
    """A file-name-safe spelling of an origin (the state file records the exact origin)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", origin).strip("._-")
    return safe[:120] or "log"


def load_state(path: Path, origin: str) -> State | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyError(EXIT_USAGE, f"cannot read state file {path}: {reason(exc)}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        stored_origin, size, root_b64 = data["origin"], data["size"], data["root"]
        if not isinstance(stored_origin, str) or not isinstance(root_b64, str):
            raise ValueError("origin and root must be strings")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError("size must be a non-negative integer")
        root = base64.b64decode(root_b64, validate=True)
        if len(root) != HASH_SIZE:
            raise ValueError("root must be the base64 of 32 bytes")
    except KeyError as exc:
        raise VerifyError(
            EXIT_USAGE, f"state file {path} is not a verifier state file: no {exc}"
        ) from None
    except (ValueError, binascii.Error) as exc:
        raise VerifyError(
            EXIT_USAGE, f"state file {path} is not a verifier state file: {reason(exc)}"
        ) from None
    if stored_origin != origin:
        raise VerifyError(
            EXIT_USAGE,
            f"state file {path} is for the log {stored_origin!r}, not {origin!r}; "
            "use --state to choose another file",
        )
    return State(size, root)


def write_state(path: Path, report: Report) -> None:
    data = {
        "version": STATE_VERSION,
        "origin": report.origin,
        "size": report.size,
        "root": report.root_b64,
        "checkpoint": report.checkpoint,
        "time": format_time(report.checked_at),
    }
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                tmp.write(text)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise VerifyError(
            EXIT_USAGE,
            f"every check passed, but the state file {path} could not be written: {reason(exc)}",
        ) from None

