"""The addressee's response and the outcomes: published by a moderator, shown on the
page and in the API, and bound in the public log to the count at that moment."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import make_petition, second_factor_login
from tests.updates.common import moderator_client, moderator_of, response_form, signed
from undersigned.audit.models import AuditEvent
from undersigned.ledger.models import LogEntry
from undersigned.ledger.services import integrate
from undersigned.petitions.models import Outcome, Petition, Response
from undersigned.signing import services as signing
from undersigned.tlog import entries
from undersigned.updates import services

pytestmark = pytest.mark.django_db


def answers_url(petition: Petition, what: str = "") -> str:
    return f"/moderation/answers/{petition.slug}/" + (f"{what}/" if what else "")


def log_data(petition: Petition) -> list[tuple[int, bytes]]:
    rows = LogEntry.objects.filter(index__isnull=False).order_by("index")
    return [(i, bytes(d)) for i, d in rows.values_list("index", "data")]


def test_a_moderator_publishes_the_response_and_it_is_on_the_page_api_and_log(
    petition: Petition,
) -> None:
    for name in ("Anna Belova", "Boris Kuznetsov", "Vera Orlova"):
        signed(petition, name)
    integrate()
    client = moderator_client(petition)

    page = client.get(answers_url(petition))
    assert page.status_code == 200
    assert "Publish the response" in page.content.decode()
    answer = client.post(answers_url(petition, "response"), response_form())
    assert answer.status_code == 302

    response = Response.objects.get(petition=petition)
    assert response.text == "We will plant\n200 trees along the river."
    assert response.verified == 3
    assert response.sha256 == response.compute_sha256()
    document = (
        f"Head of the Kolpino District Administration\n{response.responded_on.isoformat()}"
        "\n\nWe will plant\n200 trees along the river."
    )
    import hashlib

    assert response.sha256 == hashlib.sha256(document.encode()).hexdigest()

    # The log: the entry binds the response's hash to the count the log had just before it.
    integrate()
    entry = LogEntry.objects.get(event=entries.RESPONSE_PUBLISHED)
    assert entry.index is not None
    decoded = entries.decode(bytes(entry.data))
    assert (decoded.document, decoded.count, decoded.size) == (response.sha256, 3, entry.index)
    assert entries.count(log_data(petition))[petition.slug].verified == 3

    public = Client().get(petition.get_absolute_url()).content.decode()
    assert "Response from Head of the Kolpino District Administration" in public
    assert "200 trees along the river." in public
    assert f"Entry {entry.index} of the" in public
    assert "Responded" in public

    api = json.loads(Client().get(f"/api/petitions/{petition.slug}").content)
    assert api["state"] == "responded"
    assert api["response"]["text"] == response.text
    assert api["response"]["sha256"] == response.sha256
    assert api["response"]["log_index"] == entry.index
    assert api["response"]["log_count"] == 3
    assert api["response"]["answered_by"] == "Head of the Kolpino District Administration"

    log_page = Client().get(f"/log/?petition={petition.slug}").content.decode()
    assert "Response published" in log_page
    assert response.sha256 in log_page
    assert AuditEvent.objects.filter(action="petition.response_published").count() == 1


def test_the_count_in_the_log_is_the_logs_own_at_that_place(petition: Petition) -> None:
    """Signatures verified just before the response, not yet sequenced, count in its entry;
    one verified after it does not, though both are sequenced in one batch."""
    signed(petition, "Anna Belova")
    integrate()
    signed(petition, "Boris Kuznetsov")  # pending in the log
    moderator = moderator_of(petition)
    services.publish_response(
        petition,
        moderator,
        answered_by="The council",
        responded_on=timezone.localdate(),
        text="Yes.",
    )
    signed(petition, "Vera Orlova")  # after it
    integrate()
    decoded = entries.decode(bytes(LogEntry.objects.get(event=entries.RESPONSE_PUBLISHED).data))
    assert decoded.count == 2
    assert entries.count(log_data(petition))[petition.slug].verified == 3


def test_a_forged_count_or_place_is_refused_by_the_counting_rules(petition: Petition) -> None:
    signed(petition, "Anna Belova")
    services.publish_response(
        petition, None, answered_by="The council", responded_on=timezone.localdate(), text="Yes."
    )
    integrate()
    log = log_data(petition)
    assert entries.count(log)[petition.slug].verified == 1
    index, data = next((i, d) for i, d in log if b"response.published" in d)
    raw = json.loads(data)
    for forged in ({**raw, "count": 0}, {**raw, "size": index + 1}):
        tampered = [(i, entries.canonical_json(forged) if i == index else d) for i, d in log]
        with pytest.raises(entries.EntryError):
            entries.count(tampered)


def test_outcomes_are_published_once_each_and_logged(petition: Petition) -> None:
    signed(petition, "Anna Belova")
    client = moderator_client(petition)
    when = (timezone.localdate() + timedelta(days=10)).isoformat()
    scheduled = client.post(
        answers_url(petition, "outcome"),
        {"kind": "debate_scheduled", "happens_on": when, "link": "https://parliament.example.org/d/1"},
    )
    assert scheduled.status_code == 302
    again = client.post(
        answers_url(petition, "outcome"), {"kind": "debate_scheduled", "happens_on": when}
    )
    assert again.status_code == 400
    assert "published already" in again.content.decode()
    # A debate held cannot be in the future.
    future = client.post(answers_url(petition, "outcome"), {"kind": "debated", "happens_on": when})
    assert future.status_code == 400
    assert Outcome.objects.filter(petition=petition).count() == 1
    held = client.post(
        answers_url(petition, "outcome"),
        {"kind": "debated", "happens_on": timezone.localdate().isoformat(), "note": "Debated."},
    )
    assert held.status_code == 302
    integrate()
    kinds = [
        entries.decode(bytes(d)).outcome
        for d in LogEntry.objects.filter(event=entries.OUTCOME_PUBLISHED)
        .order_by("index")
        .values_list("data", flat=True)
    ]
    assert kinds == ["debate_scheduled", "debated"]
    page = Client().get(petition.get_absolute_url()).content.decode()
    assert "Debated on" in page and "Debate scheduled for" in page
    assert 'href="https://parliament.example.org/d/1"' in page
    api = json.loads(Client().get(f"/api/petitions/{petition.slug}").content)
    assert api["state"] == "debated"
    assert [o["kind"] for o in api["outcomes"]] == ["debate_scheduled", "debated"]
    log_page = Client().get("/log/").content.decode()
    assert "Outcome published: a debate scheduled" in log_page
    assert "Outcome published: debated" in log_page


def test_a_response_is_final(petition: Petition) -> None:
    client = moderator_client(petition)
    assert client.post(answers_url(petition, "response"), response_form()).status_code == 302
    second = client.post(answers_url(petition, "response"), response_form(text="Changed."))
    assert second.status_code == 400
    assert Response.objects.get(petition=petition).text.startswith("We will plant")
    assert LogEntry.objects.filter(event=entries.RESPONSE_PUBLISHED).count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text": "   "}, "This field is required."),
        ({"answered_by": ""}, "This field is required."),
        ({"responded_on": "not a date"}, "Enter a valid date."),
        (
            {"responded_on": (timezone.localdate() + timedelta(days=2)).isoformat()},
            "cannot be in the future",
        ),
    ],
)
def test_a_bad_response_is_refused_and_changes_nothing(
    petition: Petition, change: dict[str, str], message: str
) -> None:
    client = moderator_client(petition)
    answer = client.post(answers_url(petition, "response"), response_form(**change))
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not Response.objects.exists()
    assert not LogEntry.objects.filter(event=entries.RESPONSE_PUBLISHED).exists()


def test_only_the_petitions_moderators_publish_with_the_second_factor(
    petition: Petition, organiser: User, organiser_client: Client
) -> None:
    # The organiser asks for the answer; writing it is not theirs.
    assert organiser_client.get(answers_url(petition)).status_code == 404
    assert (
        organiser_client.post(answers_url(petition, "response"), response_form()).status_code
        == 404
    )
    stranger = User.objects.create_user("stranger", "s@example.org", "correct horse battery")
    assert second_factor_login(Client(), stranger).get(answers_url(petition)).status_code == 404
    # A moderator with a password alone is sent to the second factor.
    moderator = moderator_of(petition)
    password_only = Client()
    password_only.force_login(moderator)
    answer = password_only.post(answers_url(petition, "response"), response_form())
    assert answer.status_code == 302 and "/accounts/2fa/" in answer["Location"]
    assert Client().get(answers_url(petition)).status_code == 302  # to the log-in page
    assert not Response.objects.exists()
    # A site moderator may, as for the fraud tools.
    from django.contrib.auth.models import Permission

    site_moderator = User.objects.create_user("site", "site@example.org", "correct horse battery")
    site_moderator.user_permissions.add(Permission.objects.get(codename="moderate_any"))
    client = second_factor_login(Client(), site_moderator)
    assert client.post(answers_url(petition, "response"), response_form()).status_code == 302


def test_a_draft_has_no_response(organiser: User) -> None:
    draft = make_petition(organiser, slug="draft", publish=False)
    moderator_of(draft)
    with pytest.raises(services.AnswerError):
        services.publish_response(
            draft, None, answered_by="X", responded_on=timezone.localdate(), text="Y"
        )


def test_the_answers_list_shows_the_state(petition: Petition) -> None:
    client = moderator_client(petition)
    services.publish_response(
        petition, None, answered_by="The council", responded_on=timezone.localdate(), text="Yes."
    )
    listing: Any = client.get("/moderation/answers/").content.decode()
    assert petition.slug in listing and "Responded" in listing


def test_the_count_takes_entries_sequenced_since_the_last_checkpoint(petition: Petition) -> None:
    from undersigned.ledger.services import sequence

    signed(petition, "Anna Belova")
    integrate()  # sequenced and signed
    signed(petition, "Boris Kuznetsov")
    signed(petition, "Vera Orlova", updates=False)
    sequence()  # sequenced, not yet in a checkpoint
    signing.withdraw_signature(petition.signatures.order_by("id").first().pk)
    services.publish_response(
        petition, None, answered_by="The council", responded_on=timezone.localdate(), text="Yes."
    )
    integrate()
    decoded = entries.decode(bytes(LogEntry.objects.get(event=entries.RESPONSE_PUBLISHED).data))
    assert decoded.count == 2  # three verified, one withdrawn in the same batch before it
    assert entries.count(log_data(petition))[petition.slug].verified == 2
