"""Thresholds are steps with a meaning: at RESPONSE_THRESHOLD the addressee is asked to
respond (mailed once, recorded), at DEBATE_THRESHOLD the petition is considered for a
debate; the page shows which are reached, which is next, and where the petition stands,
without counting signatures per request."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import Inbox, body_of, make_petition
from tests.updates.common import signed
from undersigned.audit.models import AuditEvent
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions.models import Petition, StepReached
from undersigned.signing import services as signing
from undersigned.updates import services

pytestmark = pytest.mark.django_db


def page(petition: Petition, language: str = "en") -> str:
    return Client().get(petition.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_the_sites_steps_and_a_petitions_own(settings: Any, organiser: Any) -> None:
    settings.RESPONSE_THRESHOLD, settings.DEBATE_THRESHOLD = 10_000, 100_000
    site = make_petition(organiser, slug="site")
    own = make_petition(organiser, slug="own", response_threshold=50, debate_threshold=0)
    assert (site.step_threshold("response"), site.step_threshold("debate")) == (10_000, 100_000)
    assert (own.step_threshold("response"), own.step_threshold("debate")) == (50, 0)
    text = page(site)
    assert "At 10,000 verified signatures the addressee is asked to respond." in text
    assert "At 100,000 verified signatures it is considered for a debate." in text
    assert "10,000 more needed." in text
    own_text = page(own)
    assert "At 50 verified signatures the addressee is asked to respond." in own_text
    assert "considered for a debate" not in own_text  # 0: no such step
    ru = page(site, "ru")
    assert "адресата просят ответить" in ru


def test_reaching_the_response_step_asks_the_addressee_once(
    organiser: Any, smtp: Inbox, settings: Any
) -> None:
    settings.PETITIONS_OFFICE_EMAIL = "office@petitions.example.org"
    petition = make_petition(
        organiser,
        response_threshold=2,
        debate_threshold=3,
        addressee="The District Administration",
        addressee_email="head@district.example.org",
    )
    signed(petition, "Anna Belova")
    run_once()
    assert not StepReached.objects.exists()
    assert not smtp.to("head@district.example.org")
    assert "Awaiting a response" not in page(petition)

    signed(petition, "Boris Kuznetsov")
    run_once()
    [reached] = StepReached.objects.all()
    assert (reached.step, reached.threshold, reached.verified) == ("response", 2, 2)
    assert reached.addressee_notified
    [asked] = smtp.to("head@district.example.org")
    assert asked["Subject"] == (
        'A petition to you has 2 verified signatures: "Clean air for Kolpino"'
    )
    assert asked["Reply-To"] == "office@petitions.example.org"
    assert "office@petitions.example.org" in body_of(asked)
    assert "/p/clean-air/" in body_of(asked)
    text = page(petition)
    assert "Awaiting a response" in text
    assert "Reached 2 verified signatures: the addressee is asked to respond." in text
    assert "1 more needed." in text  # to the next step
    event = AuditEvent.objects.get(action="petition.step_reached")
    assert event.details["step"] == "response" and event.details["verified"] == 2

    # Once: later rounds, and a withdrawal below the step, change nothing.
    signing.withdraw_signature(petition.signatures.first().pk)  # type: ignore[union-attr]
    run_once()
    run_once()
    assert StepReached.objects.count() == 1
    assert len(smtp.to("head@district.example.org")) == 1
    assert "Reached 2 verified signatures" in page(petition)


def test_the_debate_step_and_no_address_to_notify(organiser: Any, smtp: Inbox) -> None:
    petition = make_petition(organiser, response_threshold=1, debate_threshold=2)
    signed(petition, "Anna Belova")
    signed(petition, "Boris Kuznetsov")
    assert services.ask_addressees() == 2
    assert services.ask_addressees() == 0
    steps = {r.step: r for r in StepReached.objects.all()}
    assert set(steps) == {"response", "debate"}
    assert not any(r.addressee_notified for r in steps.values())
    run_once()
    assert smtp.messages == [m for m in smtp.messages if "petition to you" not in m["Subject"]]
    assert "Reached 2 verified signatures: it is considered for a debate." in page(petition)


def test_the_state_follows_what_was_published(organiser: Any) -> None:
    petition = make_petition(organiser, response_threshold=1)
    signed(petition, "Anna Belova")
    services.ask_addressees()
    assert "Awaiting a response" in page(petition)
    services.publish_response(
        petition, None, answered_by="The council", responded_on=timezone.localdate(), text="Yes."
    )
    assert "Responded" in page(petition)
    services.publish_outcome(
        petition, None, kind="debate_scheduled", happens_on=timezone.localdate()
    )
    assert "Debate scheduled" in page(petition)
    services.publish_outcome(petition, None, kind="debated", happens_on=timezone.localdate())
    assert ">Debated<" in page(petition)


def test_drafts_are_never_asked(organiser: Any) -> None:
    draft = make_petition(organiser, slug="draft", publish=False, response_threshold=1)
    founder = signing.sign(
        draft,
        signing.SignRequest(full_name="Anna Belova", email="anna@example.org"),
        added_by=organiser,
    )
    from tests.conftest import confirm_now

    confirm_now(founder)
    assert services.ask_addressees() == 0


def test_the_page_counts_no_signatures_for_its_steps(organiser: Any) -> None:
    petition = make_petition(organiser, response_threshold=1)
    signed(petition, "Anna Belova")
    services.ask_addressees()
    with CaptureQueriesContext(connection) as queries:
        assert "Awaiting a response" in page(petition)
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert not counting, counting


def test_a_petition_closed_today_is_still_seen_one_closed_long_ago_is_not(
    organiser: Any,
) -> None:
    from datetime import timedelta

    from undersigned.petitions import services as petitions

    today = make_petition(organiser, slug="today", response_threshold=1)
    long_ago = make_petition(organiser, slug="long-ago", response_threshold=1)
    signed(today, "Anna Belova")
    signed(long_ago, "Boris Kuznetsov")
    petitions.close(today, organiser)
    petitions.close(long_ago, organiser)
    Petition.objects.filter(pk=long_ago.pk).update(
        closed_at=timezone.now() - timedelta(days=2)
    )
    assert services.ask_addressees() == 1
    assert list(StepReached.objects.values_list("petition__slug", flat=True)) == ["today"]
