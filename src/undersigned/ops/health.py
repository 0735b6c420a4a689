"""Readiness checks for load balancers and monitoring.

Each check answers from a few indexed queries, so probing every few seconds
costs nothing even with millions of signatures. Checks report counts and ages
only: never an address, a name or a token.
"""

import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone

from undersigned.ledger import cosigning
from undersigned.ledger.models import LogEntry, SignedCheckpoint, WitnessStatus
from undersigned.outbox.models import OutgoingMail

Result = dict[str, Any]


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round(max((now - moment).total_seconds(), 0.0), 1)


def check_database() -> Result:
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    result: Result = {
        "ok": True,
        "engine": connection.vendor,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and ":memory:" not in name and "mode=memory" not in name:
        # A full disk fails every signature: say so before it happens.
        free = shutil.disk_usage(Path(name).parent).free
        result["disk_free_mb"] = round(free / 2**20, 1)
        result["ok"] = free >= settings.READY_DISK_FREE_MB * 2**20
    return result


def check_mail() -> Result:
    """Mail not yet sent, by the age of the oldest message.

    Measured from when the message was queued, not from its next attempt: an
    SMTP outage reschedules every message, and it must still show as lag.
    """
    now = timezone.now()
    # A mail given up (sent at most once, cut off mid-send) waits for nothing.
    unsent = OutgoingMail.objects.filter(sent_at__isnull=True, gave_up_at__isnull=True)
    oldest = unsent.aggregate(oldest=Min("created"))["oldest"]
    age = _age(oldest, now)
    limit = settings.READY_MAIL_LAG_SECONDS
    return {
        "ok": age is None or age <= limit,
        "unsent": unsent.count(),
        "failing": unsent.exclude(last_error="").count(),
        "oldest_unsent_age_seconds": age,
        "limit_seconds": limit,
    }


def check_log() -> Result:
    """Events not yet covered by a signed checkpoint, by the age of the oldest.

    The last checkpoint's own age is reported but not judged: a quiet petition
    site rightly signs nothing new for days.
    """
    now = timezone.now()
    latest = SignedCheckpoint.objects.order_by("-size").first()
    covered = latest.size if latest is not None else 0
    pending = LogEntry.objects.filter(index__isnull=True)
    # The first entry past the checkpoint is the oldest uncovered one; when
    # everything sequenced is covered, it is the oldest entry still unsequenced.
    first_uncovered = LogEntry.objects.filter(index=covered).values_list("created", flat=True)
    oldest = (
        first_uncovered.first() or pending.order_by("id").values_list("created", flat=True).first()
    )
    age = _age(oldest, now)
    limit = settings.READY_LOG_LAG_SECONDS
    return {
        "ok": age is None or age <= limit,
        "unsequenced": pending.count(),
        "oldest_unsigned_age_seconds": age,
        "last_checkpoint_size": covered,
        "last_checkpoint_age_seconds": _age(latest.created if latest else None, now),
        "limit_seconds": limit,
    }


def check_cache() -> Result:
    """Every shared cache (Redis, a database table) must answer; a per-process one always does."""
    started = time.monotonic()
    backends = {}
    for alias, config in settings.CACHES.items():
        backend = str(config["BACKEND"]).rsplit(".", 1)[-1]
        if backend in ("LocMemCache", "DummyCache"):
            continue
        key = "undersigned:readyz"
        caches[alias].set(key, "1", timeout=30)
        if caches[alias].get(key) != "1":
            return {"ok": False, "error": f"cache {alias!r} lost a value"}
        backends[alias] = backend
    return {"ok": True, "shared": backends, "ms": round((time.monotonic() - started) * 1000, 1)}


_FAILURE_COLUMNS = {
    "400": "bad_requests",
    "403": "refused",
    "404": "unknown_log",
    "409": "conflicts",
    "422": "inconsistent",
    "timeout": "timeouts",
    "unreachable": "unreachable",
    "bad_response": "bad_responses",
    "other": "other_errors",
}


def check_witnesses() -> Result:
    """Witness cosigning: each witness's answers so far, and the latest checkpoint's quorum.

    A witness's trouble costs only its cosignature, so this fails only when
    the latest checkpoint has lacked the quorum for READY_WITNESS_LAG_SECONDS:
    readers who require the quorum then cannot accept it.
    """
    configured = cosigning.witnesses()
    if not configured:
        return {"ok": True, "configured": 0}
    now = timezone.now()
    latest = SignedCheckpoint.objects.order_by("-size").first()
    rows = WitnessStatus.objects.filter(name__in=[w.name for w in configured])
    statuses = {s.name: s for s in rows}
    seen = cosigning.witnessing(latest) if latest is not None else None
    detail: dict[str, Result] = {}
    for w in configured:
        status = statuses.get(w.name) or WitnessStatus(name=w.name)
        detail[w.name] = {
            "cosigned_latest": seen is not None and w.name in seen.signed,
            "cosigned_size": status.size,
            "cosigned": status.cosigned,
            "failures": {k: getattr(status, c) for k, c in _FAILURE_COLUMNS.items()},
            "consecutive_failures": status.consecutive_failures,
            "last_error": status.last_error,
            "last_error_age_seconds": _age(status.last_error_at, now),
            "last_success_age_seconds": _age(status.last_success, now),
        }
    age = _age(latest.created if latest else None, now)
    met = seen is None or seen.satisfied
    limit = settings.READY_WITNESS_LAG_SECONDS
    return {
        "ok": met or age is None or age <= limit,
        "configured": len(configured),
        "quorum": settings.LEDGER_WITNESS_QUORUM,
        "latest_checkpoint_size": latest.size if latest else 0,
        "latest_quorum_met": met,
        "limit_seconds": limit,
        "witnesses": detail,
    }


CHECKS: dict[str, Callable[[], Result]] = {
    "database": check_database,
    "cache": check_cache,
    "mail": check_mail,
    "log": check_log,
    "witnesses": check_witnesses,
}


def run_checks(names: list[str]) -> tuple[bool, dict[str, Result]]:
    """Run the named checks; a check that raises fails with the error's class name only."""
    results: dict[str, Result] = {}
    for name in names:
        try:
            results[name] = CHECKS[name]()
        except DatabaseError as exc:
            results[name] = {"ok": False, "error": type(exc).__name__}
            # A dead connection must not be reused by the next probe.
            connection.close_if_unusable_or_obsolete()
        except Exception as exc:
            results[name] = {"ok": False, "error": type(exc).__name__}
    return all(r["ok"] for r in results.values()), results
