"""The moderators' queue of submissions and their decisions: publish, reject, send back."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import body_of, make_petition
from tests.submissions import (
    SUPPORTERS,
    address,
    back,
    client_of,
    confirm_backing,
    creator,
    draft,
    fully_supported,
    subject_of,
    submit,
    support_path,
)
from undersigned.audit.models import AuditEvent
from undersigned.ledger.models import LogEntry
from undersigned.moderation import submissions as decide
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services
from undersigned.petitions.models import Decision, Petition, SearchWord, Standard
from undersigned.signing.models import Signature
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db

Status = Petition.Status
State = Signature.State
TITLE = "Repair the bridge on Mill Street"


@pytest.fixture
def others(organiser: User) -> dict[str, Petition]:
    """Published petitions, one of which the submission repeats."""
    made = {}
    for slug, title, body in [
        ("bridge", "Repair the Mill Street bridge", "The city council must repair it."),
        ("library", "Save the city library", "The city council wants to close it."),
        ("buses", "Night buses for the city", "Ask the city council for buses."),
        ("parking", "Lower the city parking fees", "The city council raised them twice."),
    ]:
        made[slug] = make_petition(organiser, slug=slug, title=title, body=body)
    return made


@pytest.fixture
def submission(deliver: Any, others: dict[str, Petition]) -> Petition:
    citizen = creator()
    petition = submit(
        client_of(citizen),
        draft(citizen, slug="repair-the-bridge", title=TITLE, body="It is falling apart."),
    )
    fully_supported(petition, deliver)
    assert petition.status == Status.MODERATION
    return petition


@pytest.fixture
def moderator() -> User:
    from tests.submissions import site_moderator

    return site_moderator()


@pytest.fixture
def office(moderator: User) -> Client:
    return client_of(moderator)


def standard(code: str) -> Standard:
    return Standard.objects.get(code=code)


def state() -> tuple[Any, ...]:
    return (
        list(Petition.objects.order_by("pk").values_list("slug", "status")),
        Decision.objects.count(),
        sorted(Signature.objects.values_list("state", flat=True)),
        LogEntry.objects.count(),
        AuditEvent.objects.filter(action__startswith="submission.").count(),
        OutgoingMail.objects.count(),
    )


# ------------------------------------------------------------------ who


def test_the_queue_lists_what_awaits_moderation(submission: Petition, office: Client) -> None:
    page = office.get("/moderation/submissions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert TITLE in html and f"/moderation/submissions/{submission.slug}/" in html
    # The published petition it looks like is named in its row, before it is opened.
    row = html.split(f"/moderation/submissions/{submission.slug}/", 1)[0].rsplit("<tr>", 1)[1]
    assert '<a href="/p/bridge/" lang="en">Repair the Mill Street bridge</a>' in row
    assert "Save the city library" not in row
    review = office.get(f"/moderation/submissions/{submission.slug}/").content.decode()
    assert TITLE in review and "It is falling apart." in review
    assert "5 confirmed supporters of 5 needed" in review
    assert '<label for="id_standard">' in review and '<label for="id_note">' in review


def test_an_organiser_of_another_petition_sees_no_queue(
    submission: Petition, organiser: User, organiser_client: Client
) -> None:
    assert organiser_client.get("/moderation/submissions/").status_code == 404
    assert organiser_client.get(f"/moderation/submissions/{submission.slug}/").status_code == 404
    before = state()
    response = organiser_client.post(
        f"/moderation/submissions/{submission.slug}/", {"decision": "publish"}
    )
    assert response.status_code == 404
    assert state() == before


def test_the_creator_never_moderates_their_own(submission: Petition) -> None:
    from django.contrib.auth.models import Permission

    citizen = submission.organiser
    citizen.user_permissions.add(Permission.objects.get(codename="moderate_any"))
    citizen = User.objects.get(pk=citizen.pk)
    client = client_of(citizen)
    assert TITLE not in client.get("/moderation/submissions/").content.decode()
    assert client.get(f"/moderation/submissions/{submission.slug}/").status_code == 404
    before = state()
    assert (
        client.post(
            f"/moderation/submissions/{submission.slug}/", {"decision": "publish"}
        ).status_code
        == 404
    )
    with pytest.raises(decide.DecisionError):
        decide.publish(submission, citizen)
    assert state() == before


def test_anonymous_visitors_are_sent_to_log_in(submission: Petition) -> None:
    response = Client().get("/moderation/submissions/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ------------------------------------------------------------------ publish


def test_publishing_opens_it_and_its_supporters_count(
    submission: Petition, office: Client, moderator: User, deliver: Any
) -> None:
    response = office.post(
        f"/moderation/submissions/{submission.slug}/", {"decision": "publish"}, follow=True
    )
    assert "Published: anyone may sign it now." in [str(m) for m in response.context["messages"]]
    submission.refresh_from_db()
    assert submission.status == Status.OPEN and submission.opened_at is not None
    version = submission.current_version()
    assert version.published_at is not None
    # The opening is logged as publish() logs it, and then each supporter's verification.
    logged = list(LogEntry.objects.filter(petition=submission).order_by("pk"))
    assert [e.event for e in logged] == [entries.PETITION_OPENED] + [entries.SIGNATURE_VERIFIED] * 5
    assert services.counts(submission) == (5, 0)
    assert set(Signature.objects.filter(petition=submission).values_list("state", flat=True)) == {
        State.VERIFIED
    }
    assert AuditEvent.objects.filter(action="petition.opened", petition=submission).exists()
    event = AuditEvent.objects.get(action="submission.published", petition=submission)
    assert event.actor == moderator and event.details["counted"] == 5
    decision = Decision.objects.get(petition=submission)
    assert decision.kind == Decision.Kind.PUBLISH and decision.decided_by == moderator
    assert decision.text_sha256 == version.sha256 and decision.supporters == 5
    # Anyone may see and sign it now.
    assert Client().get(f"/p/{submission.slug}/").status_code == 200
    # The creator and each supporter are told, over SMTP; supporters get their receipt.
    inbox = deliver()
    creator_mail = inbox.last_to("citizen@example.org")
    assert subject_of(creator_mail) == f"Your petition is published: {TITLE}"
    supporter_mail = inbox.last_to(address(SUPPORTERS[0]))
    assert subject_of(supporter_mail) == f"The petition you backed is published: {TITLE}"
    assert "Your signature now counts" in body_of(supporter_mail)
    assert "/receipt/" in body_of(supporter_mail)
    assert "<td>Open</td>" in client_of(submission.organiser).get("/dashboard/").content.decode()


def test_a_register_letter_s_supporters_are_checked_against_the_register(
    deliver: Any, register: Any, moderator: User
) -> None:
    citizen = creator()
    letter = submit(client_of(citizen), draft(citizen, slug="letter", register=register))
    # Anna Belova's confirmation goes to the register's own address for her; the others' do not.
    Client().post(
        support_path(letter),
        {
            "full_name": "Anna Belova",
            "email": "belova@council.example.org",
            "visibility": "show",
            "role": "municipal deputy",
            "municipality": "Kolpino",
        },
    )
    for name in SUPPORTERS[:4]:
        back(letter, name, role="municipal deputy", municipality="Kolpino")
    inbox = deliver()
    from tests.conftest import link_in

    Client().post(link_in(inbox.last_to("belova@council.example.org"), "confirm"))
    for name in SUPPORTERS[:4]:
        confirm_backing(inbox, name)
    letter.refresh_from_db()
    assert letter.status == Status.MODERATION
    decide.publish(letter, moderator)
    states = sorted(Signature.objects.filter(petition=letter).values_list("state", flat=True))
    assert states == [State.NEEDS_REVIEW] * 4 + [State.VERIFIED]
    assert services.counts(letter) == (1, 4)


# ------------------------------------------------------------------ reject


def test_the_review_shows_the_petitions_it_looks_like(
    submission: Petition, office: Client, others: dict[str, Petition]
) -> None:
    html = office.get(f"/moderation/submissions/{submission.slug}/").content.decode()
    assert 'value="bridge"' in html and "Repair the Mill Street bridge" in html
    assert 'value="library"' not in html
    # With what a moderator weighs a duplicate by: its state and its count.
    listed = html.split('id="lookalikes-heading"', 1)[1].split("</ul>", 1)[0]
    assert "Open" in listed and "0 verified signatures" in listed


def test_rejecting_as_a_duplicate_names_the_original(
    submission: Petition, office: Client, moderator: User, others: dict[str, Petition], deliver: Any
) -> None:
    response = office.post(
        f"/moderation/submissions/{submission.slug}/",
        {
            "decision": "reject",
            "standard": "duplicate",
            "original": "bridge",
            "note": "Sign the one already open.",
        },
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == Status.REJECTED
    decision = Decision.objects.get(petition=submission)
    assert decision.standard == standard("duplicate")
    assert decision.duplicate_of == others["bridge"]
    assert decision.note == "Sign the one already open." and decision.decided_at is not None
    # None of its supporters' signatures counts, ever; nothing was logged.
    assert set(Signature.objects.filter(petition=submission).values_list("state", flat=True)) == {
        State.REJECTED
    }
    assert services.counts(submission) == (0, 0)
    assert not LogEntry.objects.filter(petition=submission).exists()
    assert not Signature.objects.filter(petition=submission).exclude(email="").exists()
    event = AuditEvent.objects.get(action="submission.rejected", petition=submission)
    assert event.actor == moderator and event.reason == "A duplicate"
    assert event.details["standard"] == "duplicate" and event.details["duplicate_of"] == "bridge"
    # Its page says why, and points at the original; its text is shown.
    page = Client().get(f"/p/{submission.slug}/").content.decode()
    assert "Rejected: A duplicate" in page and TITLE in page
    assert '<a href="/p/bridge/">Repair the Mill Street bridge</a>' in page
    assert "Sign the one already open." in page
    # The creator and the supporters are told.
    inbox = deliver()
    mail = inbox.last_to("citizen@example.org")
    assert subject_of(mail) == f"Your petition was not published: {TITLE}"
    body = body_of(mail)
    assert "Reason: A duplicate" in body and "/p/bridge/" in body
    assert "Sign the one already open." in body
    told = inbox.last_to(address(SUPPORTERS[1]))
    assert subject_of(told) == f"The petition you backed was not published: {TITLE}"
    assert "Your signature will never count" in body_of(told)
    # Supporters' links confirm nothing any more.
    assert Client().get(support_path(submission)).status_code == 302
    citizen = client_of(submission.organiser)
    assert "Rejected: A duplicate" in citizen.get("/dashboard/").content.decode()
    manage = citizen.get(f"/dashboard/{submission.slug}/").content.decode()
    assert "Rejected: A duplicate" in manage and "Sign the one already open." in manage
    assert 'It repeats <a href="/p/bridge/">bridge</a>.' in manage


def test_the_original_may_be_given_by_its_address(
    submission: Petition, moderator: User, others: dict[str, Petition]
) -> None:
    decide.reject(
        submission,
        moderator,
        standard=standard("duplicate"),
        original="https://petitions.example.org/p/library/",
    )
    assert Decision.objects.get(petition=submission).duplicate_of == others["library"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "reject"}, "Choose the standard it fails."),
        ({"decision": "reject", "standard": "no-such-standard"}, "Select a valid choice."),
        ({"decision": "reject", "standard": "duplicate"}, "Name the petition it duplicates."),
        (
            {"decision": "reject", "standard": "duplicate", "original_slug": "no-such-petition"},
            "No petition has the address “no-such-petition”",
        ),
        (
            {"decision": "reject", "standard": "duplicate", "original": "repair-the-bridge"},
            "No petition has the address “repair-the-bridge”",
        ),
        ({"decision": "send_back", "note": "  "}, "Say what the creator should change"),
        ({"decision": "sideways"}, "Select a valid choice."),
    ],
)
def test_bad_input_changes_nothing(
    submission: Petition, office: Client, data: dict[str, str], message: str
) -> None:
    before = state()
    response = office.post(f"/moderation/submissions/{submission.slug}/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    assert state() == before


def test_an_unreadable_original_is_refused(
    submission: Petition, moderator: User, organiser: User
) -> None:
    make_petition(organiser, slug="a-draft", title="Repair the bridge", publish=False)
    before = state()
    with pytest.raises(decide.DecisionError, match="not a petition the public can read"):
        decide.reject(submission, moderator, standard=standard("duplicate"), original="a-draft")
    assert state() == before


def test_a_reason_that_hides_the_text_hides_it_everywhere(
    submission: Petition, office: Client, deliver: Any
) -> None:
    office.post(
        f"/moderation/submissions/{submission.slug}/",
        {"decision": "reject", "standard": "defamatory", "note": "It accuses a named official."},
    )
    submission.refresh_from_db()
    assert submission.status == Status.REJECTED
    # The address was made of the title: it no longer is.
    assert submission.slug == f"rejected-{submission.pk}"
    assert Client().get("/p/repair-the-bridge/").status_code == 404
    page = Client().get(f"/p/{submission.slug}/").content.decode()
    assert "Rejected: Defamatory" in page
    for hidden in (TITLE, "It is falling apart.", "Friends of Kolpino", "named official"):
        assert hidden not in page
    listing = Client().get("/petitions/?state=rejected").content.decode()
    assert "Rejected: Defamatory" in listing and TITLE not in listing
    assert not SearchWord.objects.filter(petition=submission).exists()
    assert TITLE not in Client().get("/petitions/?state=rejected&q=bridge").content.decode()
    api = json.loads(Client().get("/api/petitions?state=rejected").content)
    assert [(i["slug"], i["title"]) for i in api] == [(submission.slug, "")]
    # The creator is told the reason and that it is listed without its text.
    body = body_of(deliver().last_to("citizen@example.org"))
    assert "Reason: Defamatory" in body and "without its title or text" in body


# ------------------------------------------------------------------ send back


def test_sending_back_returns_it_to_its_creator_with_the_note(
    submission: Petition, office: Client, moderator: User, deliver: Any
) -> None:
    office.post(
        f"/moderation/submissions/{submission.slug}/",
        {"decision": "send_back", "note": "Say which bridge: there are two on Mill Street."},
    )
    submission.refresh_from_db()
    assert submission.status == Status.SENT_BACK
    decision = Decision.objects.get(petition=submission)
    assert decision.kind == Decision.Kind.SEND_BACK
    event = AuditEvent.objects.get(action="submission.sent_back", petition=submission)
    assert event.reason == "Say which bridge: there are two on Mill Street."
    # Its supporters backed the old text: they are let go, and told.
    assert set(Signature.objects.filter(petition=submission).values_list("state", flat=True)) == {
        State.WITHDRAWN
    }
    inbox = deliver()
    assert subject_of(inbox.last_to("citizen@example.org")) == (
        f"Your petition needs changes: {TITLE}"
    )
    assert "there are two on Mill Street" in body_of(inbox.last_to("citizen@example.org"))
    assert "was sent back for changes" in subject_of(inbox.last_to(address(SUPPORTERS[2])))
    # The creator sees the note, edits and submits again; it gathers supporters anew.
    citizen = client_of(submission.organiser)
    manage = citizen.get(f"/dashboard/{submission.slug}/").content.decode()
    assert "there are two on Mill Street" in manage and "Submit again" in manage
    citizen.post(
        f"/dashboard/{submission.slug}/edit/",
        {
            "kind": "petition",
            "title": "Repair the north bridge on Mill Street",
            "body": "It is falling apart.",
            "language": "en",
            "organiser_name": "Neighbours of Mill Street",
            "audience": "anyone",
            "retention_days": "90",
            "lookalikes_seen": "Repair the north bridge on Mill Street",
        },
    )
    assert submission.current_version().title == "Repair the north bridge on Mill Street"
    submit(citizen, submission)
    assert submission.status == Status.COLLECTING
    assert "Gathering supporters: 0 of 5" in citizen.get("/dashboard/").content.decode()
    # A supporter of the old text may back the new one with the same address.
    back(submission, SUPPORTERS[0])
    confirm_backing(deliver(), SUPPORTERS[0])
    assert Signature.objects.filter(petition=submission, state=State.CONFIRMED).count() == 1


def test_a_decided_submission_cannot_be_decided_again(
    submission: Petition, moderator: User
) -> None:
    decide.send_back(submission, moderator, note="Shorter, please.")
    before = state()
    with pytest.raises(decide.DecisionError, match="no longer awaits moderation"):
        decide.publish(submission, moderator)
    assert state() == before


def test_the_queue_does_not_list_what_still_gathers_supporters(
    office: Client, deliver: Any
) -> None:
    citizen = creator()
    petition = submit(client_of(citizen), draft(citizen, title="Not yet ready"))
    back(petition, SUPPORTERS[0])
    html = office.get("/moderation/submissions/").content.decode()
    assert "Not yet ready" not in html and "1 more is still gathering supporters." in html
    assert (
        office.post(
            f"/moderation/submissions/{petition.slug}/", {"decision": "publish"}
        ).status_code
        == 400
    )
    petition.refresh_from_db()
    assert petition.status == Status.COLLECTING


def test_the_creator_is_told_in_the_language_they_submitted_in(
    moderator: User, deliver: Any, settings: Any
) -> None:
    from tests.conftest import second_factor_login

    settings.SUPPORTERS_NEEDED = 0
    citizen = creator("grazhdanin")
    petition = draft(citizen, slug="skameyka", title="Скамейка у дома 5")
    second_factor_login(Client(HTTP_ACCEPT_LANGUAGE="ru"), citizen).post(
        f"/dashboard/{petition.slug}/submit/"
    )
    petition.refresh_from_db()
    deliver()
    # The moderator works in English; the mail is in the creator's Russian.
    decide.reject(petition, moderator, standard=standard("personal-data"), note="")
    mail = deliver().last_to("grazhdanin@example.org")
    assert subject_of(mail) == "Ваша петиция не опубликована: Скамейка у дома 5"
    assert "Причина: Персональные данные" in body_of(mail)
    assert "без названия и текста" in body_of(mail)


def test_two_alike_submissions_waiting_side_by_side_name_each_other(
    submission: Petition, office: Client, deliver: Any
) -> None:
    """Neither is published yet, so neither is in the search index: the queue compares them."""
    for username, slug, title in (
        ("second", "mill-street-bridge", "Mill Street bridge needs repair now"),
        ("third", "night-buses", "Night buses to Kupchino every hour"),
    ):
        citizen = creator(username)
        waiting = submit(client_of(citizen), draft(citizen, slug=slug, title=title))
        fully_supported(
            waiting, deliver, [f"Sup{username.capitalize()} Number{n}" for n in range(5)]
        )
        assert waiting.status == Status.MODERATION
    html = office.get("/moderation/submissions/").content.decode()

    def row_of(slug: str) -> str:
        return html.split(f'<a href="/moderation/submissions/{slug}/">Review', 1)[0].rsplit(
            "<tr>", 1
        )[1]

    assert '/moderation/submissions/mill-street-bridge/"' in row_of("repair-the-bridge")
    assert '/moderation/submissions/repair-the-bridge/"' in row_of("mill-street-bridge")
    assert "also waiting here" in row_of("mill-street-bridge")
    buses = row_of("night-buses")
    assert "/moderation/submissions/" not in buses and "Mill Street" not in buses
