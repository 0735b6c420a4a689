"""The organiser's dashboard: draft, publish, correct, close, add founders, audit trail."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import Inbox, body_of, link_in, make_petition, second_factor_login
from undersigned.audit.models import AuditEvent
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition, TextVersion
from undersigned.registers.models import Register
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


def in_days(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def draft_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "petition",
        "title": "Benches for Kolpino",
        "body": "We ask for benches\r\nalong the river.",
        "language": "en",
        "organiser_name": "Friends of Kolpino",
        "audience": "anyone",
        "register": "",
        "thresholds": "1000, 100",
        "deadline": in_days(30),
    }
    data.update(overrides)
    return data


def messages_on(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def sign_form(**overrides: str) -> dict[str, str]:
    data = {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"}
    data.update(overrides)
    return data


def snapshot(petition: Petition) -> tuple[Any, ...]:
    petition.refresh_from_db()
    version = petition.current_version()
    return (
        petition.status,
        petition.kind,
        petition.audience,
        petition.register_id,
        petition.thresholds,
        petition.deadline,
        petition.organiser_name,
        version.number,
        version.title,
        version.body,
        version.published_at,
    )


def test_organiser_drafts_edits_and_publishes_a_petition(organiser_client: Client) -> None:
    response = organiser_client.post("/dashboard/new/", draft_form())
    assert response.status_code == 302
    petition = Petition.objects.get()
    assert response["Location"] == f"/dashboard/{petition.slug}/"
    assert petition.slug == "benches-for-kolpino"
    assert petition.status == Petition.Status.DRAFT
    assert petition.thresholds == [100, 1000]
    assert petition.deadline is not None and petition.deadline > timezone.now()
    version = petition.current_version()
    assert (version.number, version.title) == (1, "Benches for Kolpino")
    assert version.body == "We ask for benches\nalong the river."
    assert version.published_at is None
    # Not public yet.
    assert Client().get(f"/p/{petition.slug}/").status_code == 404
    assert "Benches for Kolpino" in organiser_client.get("/dashboard/").content.decode()

    form_page = organiser_client.get(f"/dashboard/{petition.slug}/edit/")
    assert form_page.status_code == 200
    assert "Benches for Kolpino" in form_page.content.decode()
    response = organiser_client.post(
        f"/dashboard/{petition.slug}/edit/",
        draft_form(title="Benches and shade for Kolpino", thresholds="50"),
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.thresholds == [50]
    assert petition.versions.count() == 1  # a draft is edited in place
    assert petition.current_version().title == "Benches and shade for Kolpino"
    assert petition.slug == "benches-for-kolpino"  # the address does not move

    response = organiser_client.post(f"/dashboard/{petition.slug}/publish/", follow=True)
    assert "Published: the text is now frozen." in messages_on(response)
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN and petition.opened_at is not None
    page = Client().get(f"/p/{petition.slug}/").content.decode()
    assert "Benches and shade for Kolpino" in page
    assert "0 of 50 verified signatures" in page


def test_published_text_is_frozen(organiser_client: Client, petition: Petition) -> None:
    version = petition.current_version()
    assert version.published_at is not None
    before = version.sha256

    version.body = "Quietly changed after people signed."
    with pytest.raises(ValueError, match="frozen"):
        version.save()
    version.refresh_from_db()
    assert version.body == "We ask for clean air." and version.sha256 == before

    response = organiser_client.get(f"/dashboard/{petition.slug}/edit/")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/{petition.slug}/"
    response = organiser_client.post(
        f"/dashboard/{petition.slug}/edit/", draft_form(title="Sneaky edit"), follow=True
    )
    assert "A published text is frozen: publish a correction instead." in messages_on(response)
    assert petition.current_version().title == "Clean air for Kolpino"


def test_a_correction_is_a_new_version_and_signatures_keep_theirs(
    client: Client, organiser_client: Client, petition: Petition
) -> None:
    client.post(f"/p/{petition.slug}/sign/", sign_form(email="early@example.org"))
    correction = {
        "title": "Clean air for Kolpino and Izhora",
        "body": "We ask for clean air, now also in Izhora.",
        "language": "en",
        "change_note": "Added Izhora, which the first version left out.",
    }
    response = organiser_client.post(
        f"/dashboard/{petition.slug}/versions/", correction, follow=True
    )
    assert "Correction published as a new text version." in messages_on(response)
    client.post(f"/p/{petition.slug}/sign/", sign_form(email="late@example.org"))

    v1, v2 = petition.versions.order_by("number")
    assert (v1.number, v2.number) == (1, 2)
    assert v2.published_at is not None and v2.sha256 != v1.sha256
    assert v1.title == "Clean air for Kolpino"  # the old text is kept as it was
    assert Signature.objects.with_email("early@example.org").get().text_version == v1
    assert Signature.objects.with_email("late@example.org").get().text_version == v2

    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "Clean air for Kolpino and Izhora" in page
    assert "Added Izhora, which the first version left out." in page
    assert "Text version 2" in page
    events = AuditEvent.objects.filter(petition=petition, action="petition.new_version")
    assert [(e.actor_name, e.details["text_version"]) for e in events] == [("org", 2)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, "The text is unchanged."),
        ({"change_note": ""}, "This field is required."),
        ({"title": ""}, "This field is required."),
    ],
)
def test_a_correction_must_change_the_text_and_say_why(
    organiser_client: Client, petition: Petition, change: dict[str, str], message: str
) -> None:
    unchanged = {
        "title": "Clean air for Kolpino",
        "body": "We ask for clean air.",
        "language": "en",
        "change_note": "Nothing really.",
    }
    response = organiser_client.post(
        f"/dashboard/{petition.slug}/versions/", {**unchanged, **change}, follow=True
    )
    assert message in messages_on(response)
    assert petition.versions.count() == 1


def test_closing_by_hand_stops_signing(
    client: Client, organiser_client: Client, petition: Petition
) -> None:
    response = organiser_client.post(f"/dashboard/{petition.slug}/close/", follow=True)
    assert "Closed: no more signatures are taken." in messages_on(response)
    petition.refresh_from_db()
    assert petition.status == Petition.Status.CLOSED and petition.closed_at is not None

    response = client.post(f"/p/{petition.slug}/sign/", sign_form(), follow=True)
    assert "This petition is closed and no longer takes signatures." in response.content.decode()
    assert not Signature.objects.exists()
    # Closing twice is explained, not an error page.
    response = organiser_client.post(f"/dashboard/{petition.slug}/close/", follow=True)
    assert "Only an open petition can be closed." in messages_on(response)


def test_the_worker_closes_a_petition_at_its_deadline(
    client: Client, organiser: User, petition: Petition
) -> None:
    later = make_petition(organiser, slug="later", deadline=timezone.now() + timedelta(days=3))
    Petition.objects.filter(pk=petition.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    # Even before the worker runs, the page no longer takes signatures.
    response = client.post(f"/p/{petition.slug}/sign/", sign_form(), follow=True)
    assert "closed" in response.content.decode()

    assert run_once()["closed"] == 1
    petition.refresh_from_db()
    later.refresh_from_db()
    assert petition.status == Petition.Status.CLOSED
    assert later.status == Petition.Status.OPEN
    event = AuditEvent.objects.get(petition=petition, action="petition.closed")
    assert event.actor is None and event.reason == "deadline reached"
    assert run_once()["closed"] == 0  # a second round changes nothing
    assert not Signature.objects.exists()


def test_founders_are_mailed_and_count_only_once_confirmed(
    client: Client, organiser_client: Client, organiser: User, deliver: Any
) -> None:
    draft = make_petition(organiser, slug="founded", publish=False)
    response = organiser_client.post(
        f"/dashboard/{draft.slug}/founders/",
        {
            "full_name": "Kseniya Lindstrem",
            "email": "Lindstrem@Council.example.org",
            "role": "municipal deputy",
            "municipality": "Semyonovsky",
            "region": "St Petersburg",
            "show_name": "on",
        },
        follow=True,
    )
    assert "Founding signatory added; they confirm by the link we sent." in messages_on(response)
    founder = Signature.objects.get()
    assert founder.is_founder and founder.added_by == organiser
    assert founder.state == Signature.State.UNCONFIRMED
    assert petitions.counts(draft) == (0, 0)
    assert "Kseniya Lindstrem" in response.content.decode()  # listed on the manage page

    inbox: Inbox = deliver()
    message = inbox.last_to("lindstrem@council.example.org")
    assert "Clean air for Kolpino" in message["Subject"]
    assert "named this address as one of its founding signatories" in body_of(message)
    # Unconfirmed founders are not shown publicly once the petition opens.
    organiser_client.post(f"/dashboard/{draft.slug}/publish/")
    assert "Kseniya Lindstrem" not in client.get(f"/p/{draft.slug}/").content.decode()

    assert client.post(link_in(message, "confirm")).status_code == 200
    assert petitions.counts(draft) == (1, 0)
    page = client.get(f"/p/{draft.slug}/").content.decode()
    assert re.search(
        r"Kseniya Lindstrem, municipal deputy <span class=\"badge\">founding "
        r"signatory</span>",
        page,
    )

    # Adding the same person again neither adds a row nor counts twice.
    organiser_client.post(
        f"/dashboard/{draft.slug}/founders/",
        {
            "full_name": "Kseniya Lindstrem",
            "email": "lindstrem@council.example.org",
            "show_name": "on",
        },
    )
    assert Signature.objects.count() == 1
    assert petitions.counts(draft) == (1, 0)


def test_bad_founder_input_adds_nobody(organiser_client: Client, petition: Petition) -> None:
    response = organiser_client.post(
        f"/dashboard/{petition.slug}/founders/",
        {"full_name": "Anna Belova", "email": "not-an-address"},
        follow=True,
    )
    assert "email: Enter a valid email address." in messages_on(response)
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "Two\nlines"}, "must be plain text on one line"),
        ({"body": "   "}, "This field is required."),
        ({"thresholds": "abc"}, "“abc” is not a whole number between 1 and 10⁹."),
        ({"thresholds": "100, -5"}, "is not a whole number between 1 and 10⁹."),
        ({"deadline": "2001-01-01T10:00"}, "The deadline must be in the future."),
        ({"deadline": "tomorrow"}, "Enter a valid date/time."),
        ({"audience": "register", "register": ""}, "Choose the register of people who may sign."),
        ({"audience": "everyone"}, "Select a valid choice."),
        ({"kind": "manifesto"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(
    organiser_client: Client, organiser: User, change: dict[str, str], message: str
) -> None:
    response = organiser_client.post("/dashboard/new/", draft_form(**change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Petition.objects.exists()

    draft = make_petition(organiser, slug="a-draft", publish=False)
    before = snapshot(draft)
    response = organiser_client.post(f"/dashboard/{draft.slug}/edit/", draft_form(**change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(draft) == before


def test_a_register_letter_is_drafted_with_its_register(
    organiser_client: Client, register: Register
) -> None:
    response = organiser_client.post(
        "/dashboard/new/",
        draft_form(
            kind="letter",
            audience="register",
            register=str(register.pk),
            thresholds="",
            deadline="",
        ),
    )
    assert response.status_code == 302
    letter = Petition.objects.get()
    assert (letter.kind, letter.audience, letter.register) == ("letter", "register", register)
    assert letter.thresholds == [] and letter.deadline is None
    # Choosing "anyone" afterwards drops the register rather than keeping a stale one.
    organiser_client.post(
        f"/dashboard/{letter.slug}/edit/", draft_form(audience="anyone", register=str(register.pk))
    )
    letter.refresh_from_db()
    assert letter.audience == "anyone" and letter.register is None


def test_unknown_or_impossible_actions_change_nothing(
    organiser_client: Client, petition: Petition
) -> None:
    before = snapshot(petition)
    response = organiser_client.post(f"/dashboard/{petition.slug}/explode/", follow=True)
    assert "Unknown action." in messages_on(response)
    response = organiser_client.post(f"/dashboard/{petition.slug}/publish/", follow=True)
    assert "Only a draft can be published." in messages_on(response)
    response = organiser_client.post(f"/dashboard/{petition.slug}/archive/", follow=True)
    assert "Only a closed petition can be archived." in messages_on(response)
    assert snapshot(petition) == before
    assert organiser_client.get(f"/dashboard/{petition.slug}/close/").status_code == 405
    assert snapshot(petition) == before


def test_publishing_with_a_past_deadline_is_refused(
    organiser_client: Client, organiser: User
) -> None:
    draft = make_petition(organiser, slug="late", publish=False)
    Petition.objects.filter(pk=draft.pk).update(deadline=timezone.now() - timedelta(hours=1))
    response = organiser_client.post(f"/dashboard/{draft.slug}/publish/", follow=True)
    assert "The deadline is already past; move it before publishing." in messages_on(response)
    draft.refresh_from_db()
    assert draft.status == Petition.Status.DRAFT
    assert draft.current_version().published_at is None


def test_another_organiser_cannot_see_or_touch_my_petitions(
    organiser: User, petition: Petition
) -> None:
    draft = make_petition(organiser, slug="my-draft", title="My secret draft", publish=False)
    other = User.objects.create_user("other", "other@example.org", "another long password")
    # Past the second factor too: it is ownership that keeps them out.
    intruder = second_factor_login(Client(), other)
    before = (snapshot(petition), snapshot(draft))

    assert "My secret draft" not in intruder.get("/dashboard/").content.decode()
    for slug in (petition.slug, draft.slug):
        for url in (f"/dashboard/{slug}/", f"/dashboard/{slug}/edit/"):
            response = intruder.get(url)
            assert response.status_code == 404, url
            assert "My secret draft" not in response.content.decode()
        for url in (
            f"/dashboard/{slug}/publish/",
            f"/dashboard/{slug}/close/",
            f"/dashboard/{slug}/archive/",
            f"/dashboard/{slug}/edit/",
        ):
            assert intruder.post(url, draft_form(title="Hijacked")).status_code == 404, url
        assert (
            intruder.post(
                f"/dashboard/{slug}/versions/",
                {
                    "title": "Hijacked",
                    "body": "x",
                    "language": "en",
                    "change_note": "mine now",
                },
            ).status_code
            == 404
        )
        assert (
            intruder.post(
                f"/dashboard/{slug}/founders/",
                {
                    "full_name": "Stooge Person",
                    "email": "stooge@example.org",
                    "show_name": "on",
                },
            ).status_code
            == 404
        )
    assert (snapshot(petition), snapshot(draft)) == before
    assert not Signature.objects.exists()
    assert TextVersion.objects.count() == 2


def test_anonymous_visitors_are_sent_to_log_in(client: Client, petition: Petition) -> None:
    before = snapshot(petition)
    for url in (
        "/dashboard/",
        "/dashboard/new/",
        f"/dashboard/{petition.slug}/",
        f"/dashboard/{petition.slug}/edit/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=/dashboard/"), url
    response = client.post(f"/dashboard/{petition.slug}/close/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.post("/dashboard/new/", draft_form())
    assert snapshot(petition) == before
    assert Petition.objects.count() == 1


def test_the_manage_page_shows_the_audit_trail_with_who_did_it(
    organiser_client: Client, organiser: User
) -> None:
    organiser_client.post("/dashboard/new/", draft_form())
    slug = Petition.objects.get().slug
    organiser_client.post(f"/dashboard/{slug}/publish/")
    organiser_client.post(f"/dashboard/{slug}/close/")
    page = organiser_client.get(f"/dashboard/{slug}/").content.decode()
    rows = re.findall(
        r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page
    )
    assert rows == [  # newest first
        ("org", "petition.closed", "closed by the organiser"),
        ("org", "petition.opened", ""),
    ]
    # The worker's own actions are shown as the system's.
    later = make_petition(organiser, slug="deadline-one")
    Petition.objects.filter(pk=later.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    run_once()
    page = organiser_client.get(f"/dashboard/{later.slug}/").content.decode()
    assert "<td>system</td><td>petition.closed</td><td>deadline reached</td>" in page


@pytest.mark.parametrize(("given", "kept"), [("", 90), ("30", 30)])
def test_the_organiser_sets_how_long_contact_data_is_kept(
    organiser_client: Client, given: str, kept: int
) -> None:
    organiser_client.post(
        "/dashboard/new/",
        {
            "kind": "petition",
            "title": "Retention",
            "body": "Text",
            "language": "en",
            "organiser_name": "Us",
            "audience": "anyone",
            "retention_days": given,
        },
    )
    assert Petition.objects.get().retention_days == kept


@pytest.mark.parametrize("bad", ["0", "-5", "99999", "ninety"])
def test_a_bad_retention_period_is_refused(organiser_client: Client, bad: str) -> None:
    response = organiser_client.post(
        "/dashboard/new/",
        {
            "kind": "petition",
            "title": "Retention",
            "body": "Text",
            "language": "en",
            "organiser_name": "Us",
            "audience": "anyone",
            "retention_days": bad,
        },
    )
    assert response.status_code == 400
    assert not Petition.objects.exists()
