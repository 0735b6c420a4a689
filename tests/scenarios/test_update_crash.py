"""kill -9 of the worker in the middle of mailing a response to its signers.

A real `undersigned worker` mails a published response to a few hundred
subscribers through a real SMTP server, at a pace that makes the run last
over a minute (so the worker writes the mails in many batches). The mail
server takes its time to say it accepted each message, as busy ones do, so
that a kill mostly lands while a message is in flight: received, but not yet
acknowledged. The test SIGKILLs the worker four times at random moments and
starts it again each time.
Afterwards:

* nobody received the update twice;
* everyone received it but at most one subscriber per kill: the mail the
  killed worker was sending, which is given up rather than risked twice;
* the moderator's progress adds up: sent and cut off make the total, and
  what arrived is between what was recorded sent and that plus the cut-off.
"""

import asyncio
import collections
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Inbox, free_port
from tests.scenarios.harness import Site, SmtpServer, kill, wait_for

pytestmark = pytest.mark.slow

SUBSCRIBERS = 200
PER_MINUTE = 180  # three a second: a minute's worth first, then the rest as slots come
ACCEPT_DELAY = 0.3  # seconds between receiving a message and saying "250 OK"


class SlowInbox(Inbox):
    """Keeps each message at once, then answers the client a while later."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(ACCEPT_DELAY)
        return answer


@pytest.fixture
def slow_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.inbox = SlowInbox()
    server.start()
    try:
        yield server
    finally:
        server.stop()

SUBSCRIBE = f"""
import json
from undersigned.petitions.models import Petition
from undersigned.signing.models import Subscription
petition = Petition.objects.get(slug="crash")
Subscription.objects.bulk_create(
    Subscription(petition=petition, email=f"s{{n}}@example.org", email_hash=f"h{{n}}",
                 language="ru" if n % 3 == 0 else "en")
    for n in range({SUBSCRIBERS})
)
print(json.dumps(Subscription.objects.count()))
"""

RESPOND = """
import json
from django.utils import timezone
from undersigned.petitions.models import Petition
from undersigned.updates.services import publish_response
published = publish_response(
    Petition.objects.get(slug="crash"), None, answered_by="The council",
    responded_on=timezone.localdate(), text="We agree, and will act.",
)
print(json.dumps(published.run.total))
"""

PROGRESS = """
import json
from undersigned.outbox.models import OutgoingMail
from undersigned.updates.models import UpdateRun
from undersigned.updates.services import progress
p = progress(UpdateRun.objects.get())
print(json.dumps({
    "sent": p.sent, "waiting": p.waiting, "left": p.left, "cut_off": p.cut_off,
    "total": p.total, "filled": p.run.filled_at is not None,
    "mails": p.run.mails.count(),
    "unsent": OutgoingMail.objects.filter(
        kind="update", sent_at__isnull=True, gave_up_at__isnull=True).count(),
}))
"""


def updates_received(smtp: SmtpServer) -> collections.Counter[str]:
    with smtp.inbox.lock:
        return collections.Counter(
            m["X-Envelope-To"] for m in smtp.inbox.messages if m["List-Unsubscribe"]
        )


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_mail_run_killed_mid_way_resumes_and_sends_nobody_a_message_twice(
    engine: str, make_site: Callable[..., Site], slow_smtp: SmtpServer
) -> None:
    smtp_server = slow_smtp
    base = f"http://127.0.0.1:{free_port()}"
    site = make_site(engine, "updates", smtp_port=smtp_server.port, site_url=base)
    site.extra.update(
        UPDATE_MAILS_PER_MINUTE=str(PER_MINUTE),
        # A mail a killed worker had leased is looked at again after this long.
        OUTBOX_LEASE_SECONDS="3",
    )
    site.install()
    assert site.python(SUBSCRIBE) == SUBSCRIBERS
    assert site.python(RESPOND) == SUBSCRIBERS

    rng = random.Random(14)
    worker = site.worker()
    kills = 0
    for target in (30, 80, 130, 170):
        wait_for(
            lambda t=target: sum(updates_received(smtp_server).values()) >= t,
            120,
            f"{target} updates received",
            site,
        )
        time.sleep(rng.uniform(0.0, 0.6))  # somewhere in a send, or between two
        kill(worker)
        kills += 1
        time.sleep(rng.uniform(0.2, 1.0))
        worker = site.worker()

    def finished() -> bool:
        state = site.python(PROGRESS)
        return bool(state["filled"] and state["unsent"] == 0)

    wait_for(finished, 180, "the run finished", site)
    site.stop_all()
    state = site.python(PROGRESS)
    received = updates_received(smtp_server)

    twice = {address: n for address, n in received.items() if n > 1}
    assert not twice, f"received the update more than once: {twice}"
    assert state["mails"] == SUBSCRIBERS, "one mail written for each subscriber, no more"
    assert SUBSCRIBERS - kills <= len(received) <= SUBSCRIBERS
    assert state["sent"] + state["cut_off"] == state["total"] == SUBSCRIBERS
    assert state["cut_off"] <= kills and state["waiting"] == 0 and state["left"] == 0
    assert state["sent"] <= len(received) <= state["sent"] + state["cut_off"]
    # The kills did land mid-send (else this proved little): at least one mail
    # was cut off, and was not sent again.
    assert state["cut_off"] >= 1, "no kill landed while a message was in flight"
