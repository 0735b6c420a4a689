import logging
import signal
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from undersigned.abuse.services import detect_trending, hash_old_domains, purge_old_sources
from undersigned.api.open_data import daily_dump
from undersigned.core.management.base import ExamplesCommand
from undersigned.ledger.cosigning import CosignLoop, cosign_round, witnesses
from undersigned.ledger.services import integrate
from undersigned.moderation.submissions import expire_unsupported
from undersigned.outbox.services import send_due
from undersigned.petitions.services import close_expired
from undersigned.privacy.services import purge_due
from undersigned.signing.custody import seal_expired
from undersigned.updates.services import ask_addressees, fill

log = logging.getLogger("undersigned.worker")
MAIL_BATCH = 20


def run_once(cosign: bool = True) -> dict[str, int]:
    """One round of background work; each job is safe to repeat after a crash.

    ``cosign`` asks the witnesses to cosign the new checkpoint at the end of
    the round, once it is published (`--once`, tests); the running worker does
    that in a thread of its own instead, so a slow witness never holds back
    the next round.
    """
    # Mail goes in small batches with the log in between, so a queue of mail
    # never holds back the next checkpoint by more than a few sends.
    closed, logged = close_expired(), integrate()
    # Steps reached ask their addressee; published answers are mailed to the
    # signers who asked, a minute's worth at a time (updates/services.py).
    steps, written = ask_addressees(), fill()
    mailed = send_due(limit=MAIL_BATCH)
    logged += integrate()
    done = {
        "closed": closed,
        "logged": logged,
        "steps": steps,
        "updates_written": written,
        "mailed": mailed,
    }
    if cosign and witnesses():
        outcomes = cosign_round()
        done["cosigned"] = sum(1 for kind in outcomes.values() if kind == "cosigned")
    return done


def run_hourly() -> dict[str, int]:
    """Slower housekeeping: flag trending sources, forget old ones."""
    return {
        "trending": detect_trending(),
        "sources_purged": purge_old_sources(),
        "domains_hashed": hash_old_domains(),
        "signers_purged": purge_due(),
        "expired_sealed": seal_expired(),
        # Submissions that did not find their supporters in SUBMISSION_DAYS.
        "submissions_expired": expire_unsupported(),
        # The day's open-data dump, in the first round of each UTC day (/data/).
        "open_data_dumps": daily_dump(),
    }


class Command(ExamplesCommand):
    help = """Run background work: send queued mail (retrying with backoff), close petitions
at their deadline, add new events to the public log, sign its checkpoint and ask
the witnesses (LEDGER_WITNESSES) to cosign it, ask a petition's addressee when a
step is reached, and mail published responses and outcomes to the signers who
asked, at UPDATE_MAILS_PER_MINUTE.
Runs until stopped (SIGTERM/SIGINT finish the current round).

examples:
  undersigned worker
  undersigned worker --once      # one round, for cron or tests"""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one round and exit")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds between rounds when idle (default 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(str({**run_once(), **run_hourly()}))
            return
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("worker started")
        cosigner = CosignLoop() if witnesses() else None
        if cosigner is not None:
            cosigner.start()
        last_hour = None
        while not stopping:
            close_old_connections()
            try:
                hour = timezone.now().replace(minute=0, second=0, microsecond=0)
                if hour != last_hour:
                    run_hourly()
                    last_hour = hour
                done = run_once(cosign=False)
                if cosigner is not None and done.get("logged"):
                    cosigner.wake.set()
            except DatabaseError as exc:
                # The database may be restarting: wait and try again, never exit.
                log.warning("worker round failed: %s", type(exc).__name__)
                done = {}
            if not any(done.values()):
                time.sleep(options["interval"])
        if cosigner is not None:
            cosigner.stop()
            cosigner.join(timeout=2 * settings.LEDGER_WITNESS_TIMEOUT + 1)
        log.info("worker stopped")
