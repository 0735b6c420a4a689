"""`undersigned verify` with answers in the log: a response or an outcome published
carries the count it came at, which the verifier recomputes from the entries before it.
A log whose answer claims another count, or another place, is refused by the counting
rules even when its server signed it (tests/ledger/test_verifier.py's fake site)."""

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.ledger import test_verifier as fake
from tests.ledger.test_verifier import EXPECTED, PARK, SIZE, T0, TEXT, Site, check, fails
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry
from undersigned.ledger.services import integrate
from undersigned.petitions.models import Petition
from undersigned.tlog import entries as log_entries
from undersigned.tlog.verify.checks import verify
from undersigned.tlog.verify.fetch import HttpFetcher
from undersigned.updates.services import publish_response

# The fake site's fixtures, used here as they are there.
server, site, url, state, no_pause = fake.server, fake.site, fake.url, fake.state, fake.no_pause


def answer(count: int, size: int, *, outcome: str | None = None) -> bytes:
    return log_entries.encode(
        event=log_entries.OUTCOME_PUBLISHED if outcome else log_entries.RESPONSE_PUBLISHED,
        petition=PARK,
        text_sha256=TEXT,
        time=T0,
        document="5e" * 32,
        count=count,
        size=size,
        outcome=outcome,
    )


def test_answers_at_their_true_count_verify(site: Site, url: str, state: Path) -> None:
    site.log.append(answer(EXPECTED[PARK][0], SIZE))
    site.log.append(answer(EXPECTED[PARK][0], SIZE + 1, outcome="debated"))
    report = check(url, state, check_api=False)
    assert report.size == SIZE + 2
    assert {p.slug: p.verified for p in report.petitions}[PARK] == EXPECTED[PARK][0]


def test_an_answer_claiming_a_lower_count_is_refused(site: Site, url: str, state: Path) -> None:
    site.log.append(answer(EXPECTED[PARK][0] - 1, SIZE))
    message = fails(url, state, 5, check_api=False)
    assert "counting rules" in message and f"entry {SIZE}" in message


def test_an_answer_claiming_another_place_is_refused(site: Site, url: str, state: Path) -> None:
    site.log.append(answer(EXPECTED[PARK][0], SIZE - 10))
    assert "counting rules" in fails(url, state, 5, check_api=False)


@pytest.mark.django_db(transaction=True)
def test_the_real_site_with_a_response_verifies(
    live_server: Any, petition: Petition, tmp_path: Path
) -> None:
    from tests.ledger.test_verify_live import add_verified

    add_verified(petition, 0, 3)
    publish_response(
        petition, None, answered_by="The council", responded_on=timezone.localdate(), text="Yes."
    )
    add_verified(petition, 10, 2)
    integrate()
    report = verify(
        HttpFetcher(live_server.url + "/"),
        signer().verifier_key(),
        tmp_path / "verify-state.json",
        retry_pause=0,
    )
    assert {p.slug: p.verified for p in report.petitions}[petition.slug] == 5
    data = [bytes(d) for d in LogEntry.objects.order_by("index").values_list("data", flat=True)]
    [logged] = [log_entries.decode(d) for d in data if b"response.published" in d]
    assert logged.count == 3
