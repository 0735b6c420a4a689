"""Signers who ask are told of the response and the outcome, over real SMTP, in their
language, at the site's pace, no more often than the petition's cap; their addresses
are kept for that alone and go when they leave, withdraw, erase or the purge comes."""

import itertools
import re
from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import Inbox, body_of, link_in, make_petition
from tests.updates.common import address_of, moderator_client, response_form, signed
from undersigned.ops.management.commands.worker import run_once
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature, Subscription
from undersigned.updates import services
from undersigned.updates.models import UpdateMail, UpdateRun

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = re.compile(r"https?://\S+(/unsubscribe/[A-Za-z0-9_-]+/)")


@pytest.fixture(autouse=True)
def quick(settings: Any) -> None:
    """Updates go out at once here; test_the_pace_* sets the pace."""
    settings.UPDATE_MAILS_PER_MINUTE = 60_000


def respond(petition: Petition) -> services.Published:
    return services.publish_response(
        petition,
        None,
        answered_by="The District Administration",
        responded_on=timezone.localdate(),
        text="We will plant 200 trees.",
    )


def drain(smtp: Inbox, rounds: int = 20) -> Inbox:
    for _ in range(rounds):
        done = run_once()
        if not any(done.get(k) for k in ("updates_written", "mailed")):
            if not OutgoingMail.objects.filter(sent_at__isnull=True, gave_up_at__isnull=True):
                break
    return smtp


def updates_to(smtp: Inbox, address: str) -> list[Any]:
    """The update mails an address received (those with an unsubscribe header)."""
    return [m for m in smtp.to(address) if m["List-Unsubscribe"]]


def stored(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608 - names from the test
        return [row[0] for row in cursor.fetchall()]


def test_the_sign_form_asks_on_for_petitions_off_for_register_letters(
    petition: Petition, letter: Petition
) -> None:
    box = re.compile(r'<input type="checkbox" name="updates"[^>]*>')
    public = box.search(Client().get(petition.get_absolute_url()).content.decode())
    assert public is not None and "checked" in public.group(0)
    on_register = box.search(Client().get(letter.get_absolute_url()).content.decode())
    assert on_register is not None and "checked" not in on_register.group(0)
    ru = Client().get(petition.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Сообщить мне об ответе на эту петицию и о её итогах" in ru


def test_only_who_ticked_the_box_is_kept_and_sealed_at_rest(
    client: Client, petition: Petition, deliver: Any
) -> None:
    for email, form in (
        ("yes@example.org", {"updates": "on"}),
        ("no@example.org", {}),  # an unticked box sends nothing
    ):
        answer = client.post(
            f"/p/{petition.slug}/sign/",
            {"full_name": "Anna Belova", "email": email, "visibility": "hide", **form},
        )
        assert answer.status_code == 302
        inbox = deliver()
        client.post(link_in(inbox.last_to(email), "confirm"))
    assert Signature.objects.filter(state="verified").count() == 2
    [subscription] = Subscription.objects.all()
    assert subscription.email == "yes@example.org"
    assert subscription.email_hash == signing.email_hash("yes@example.org")
    # Sealed with the server's key at rest; the signature's own copy is sealed away.
    assert all(v.startswith("v1:") for v in stored("signing_subscription", "email"))
    assert all(not s.email for s in Signature.objects.all())


def test_a_register_claim_is_kept_only_once_a_moderator_approves_it(
    letter: Petition,
) -> None:
    from tests.conftest import confirm_now
    from tests.updates.common import moderator_of
    from undersigned.registers.models import RegisterEntry

    claim = signing.sign(
        letter,
        signing.SignRequest(
            full_name="Dmitry Palyuga",
            email="dmitry@example.org",
            role="municipal deputy",
            municipality="Smolninskoye",
            wants_updates=True,
        ),
    )
    confirm_now(claim)
    assert not Subscription.objects.exists()  # awaiting review: nothing decided yet
    entry = RegisterEntry.objects.get(full_name="Dmitry Palyuga")
    signing.approve(claim.pk, moderator_of(letter), entry=entry)
    assert [s.email for s in Subscription.objects.all()] == ["dmitry@example.org"]


def test_the_response_reaches_each_signer_who_asked_once_in_their_language(
    petition: Petition, smtp: Inbox, settings: Any
) -> None:
    signed(petition, "Anna Belova")
    signed(petition, "Oleg Ivanov", language="ru")
    signed(petition, "Vera Orlova", updates=False)
    drain(smtp)  # the decision mails and the log
    before = len(smtp.messages)
    client = moderator_client(petition)
    answer = client.post(f"/moderation/answers/{petition.slug}/response/", response_form())
    assert answer.status_code == 302
    drain(smtp)
    updates = smtp.messages[before:]
    assert sorted(m["X-Envelope-To"] for m in updates) == [
        address_of("Anna Belova"),
        address_of("Oleg Ivanov"),
    ]
    english = smtp.last_to(address_of("Anna Belova"))
    assert english["Subject"] == 'The response to "Clean air for Kolpino"'
    body = body_of(english)
    assert "Head of the Kolpino District Administration responded on" in body
    assert "200 trees along the river." in body
    assert "/p/clean-air/" in body
    found = UNSUBSCRIBE.search(body)
    assert found is not None
    # RFC 2369 and RFC 8058: the same link, for a one-click POST.
    header = "".join(english["List-Unsubscribe"].split())
    assert header == f"<{settings.SITE_URL}{found.group(1)}>"
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    russian = smtp.last_to(address_of("Oleg Ivanov"))
    subject = str(make_header(decode_header(russian["Subject"])))
    assert subject == "Ответ на «Clean air for Kolpino»"
    assert "Чтобы больше не получать эти письма" in body_of(russian)
    # Sent: the outbox forgets the address, the body and the headers.
    assert not [m for m in OutgoingMail.objects.filter(kind="update") if m.to or m.headers]
    # And nothing more goes out on later rounds.
    drain(smtp)
    assert len(smtp.messages) == before + 2


def test_the_moderator_sees_the_progress(petition: Petition, smtp: Inbox) -> None:
    for n in range(3):
        signed(petition, f"Signer Number{n}")
    client = moderator_client(petition)
    client.post(f"/moderation/answers/{petition.slug}/response/", response_form())
    run = UpdateRun.objects.get()
    assert services.progress(run).waiting == 3
    page = client.get(f"/moderation/answers/{petition.slug}/").content.decode()
    assert "0 of 3" in page
    drain(smtp)
    page = client.get(f"/moderation/answers/{petition.slug}/").content.decode()
    assert "3 of 3" in page
    progress = services.progress(UpdateRun.objects.get())
    assert (progress.sent, progress.waiting, progress.left, progress.cut_off) == (3, 0, 0, 0)
    assert progress.done


def test_the_pace_is_the_sites_across_petitions(settings: Any, organiser: Any) -> None:
    settings.UPDATE_MAILS_PER_MINUTE = 60  # one a second
    other = make_petition(organiser, slug="other")
    first = make_petition(organiser, slug="first")
    for n in range(70):
        Subscription.objects.create(
            petition=first, email=f"a{n}@example.org", email_hash=f"a{n}", language="en"
        )
    for n in range(5):
        Subscription.objects.create(
            petition=other, email=f"b{n}@example.org", email_hash=f"b{n}", language="en"
        )
    respond(first)
    respond(other)
    now = timezone.now()
    # A minute's worth is written, one mail a second, and no more.
    assert services.fill(now) == 60
    assert services.fill(now) == 0
    slots = sorted(
        OutgoingMail.objects.filter(kind="update").values_list("next_attempt_at", flat=True)
    )
    gaps = {round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(slots)}
    assert gaps == {1.0}
    # Thirty seconds on, thirty more: the first run's last ten, then the other's five.
    assert services.fill(now + timedelta(seconds=30)) == 15
    runs = {r.petition.slug: r for r in UpdateRun.objects.select_related("petition")}
    assert runs["first"].filled_at is not None and runs["other"].filled_at is not None
    assert UpdateMail.objects.count() == 75
    slots = sorted(
        OutgoingMail.objects.filter(kind="update").values_list("next_attempt_at", flat=True)
    )
    assert (slots[-1] - slots[0]).total_seconds() == pytest.approx(74)


def test_a_petition_sends_no_more_updates_than_its_cap(
    petition: Petition, settings: Any, smtp: Inbox
) -> None:
    settings.UPDATES_PER_PETITION = 1
    signed(petition, "Anna Belova")
    drain(smtp)
    client = moderator_client(petition)
    client.post(f"/moderation/answers/{petition.slug}/response/", response_form())
    outcome = client.post(
        f"/moderation/answers/{petition.slug}/outcome/",
        {"kind": "debated", "happens_on": timezone.localdate().isoformat()},
        follow=True,
    )
    assert "No mail goes to the signers" in outcome.content.decode()
    drain(smtp)
    assert len(updates_to(smtp, address_of("Anna Belova"))) == 1
    assert UpdateRun.objects.count() == 1
    page = client.get(f"/moderation/answers/{petition.slug}/").content.decode()
    assert "may send 1 update; 0 left" in page


def test_nobody_asked_nobody_is_mailed(petition: Petition, smtp: Inbox) -> None:
    signed(petition, "Vera Orlova", updates=False)
    drain(smtp)
    before = len(smtp.messages)
    result = respond(petition)
    assert result.run is not None and result.run.total == 0 and result.run.filled_at
    drain(smtp)
    assert len(smtp.messages) == before


def test_who_withdraws_is_not_told_and_their_address_goes(
    client: Client, petition: Petition, smtp: Inbox
) -> None:
    anna = signed(petition, "Anna Belova")
    signed(petition, "Boris Kuznetsov")
    respond(petition)
    services.fill()  # the mails are written, not yet sent
    signing.withdraw_signature(anna.pk)
    assert [s.email for s in Subscription.objects.all()] == [address_of("Boris Kuznetsov")]
    drain(smtp)
    assert not updates_to(smtp, address_of("Anna Belova"))
    assert len(updates_to(smtp, address_of("Boris Kuznetsov"))) == 1
    progress = services.progress(UpdateRun.objects.get())
    assert (progress.sent, progress.left) == (1, 1)


def test_deleting_my_data_forgets_the_address_kept_for_updates(
    client: Client, petition: Petition, deliver: Any
) -> None:
    signed(petition, "Anna Belova")
    assert Subscription.objects.count() == 1
    client.post("/my-data/", {"email": address_of("Anna Belova")})
    inbox = deliver()
    mailed = body_of(inbox.last_to(address_of("Anna Belova")))
    link = re.search(r"https?://\S+(/my-data/[A-Za-z0-9_-]+/)", mailed)
    assert link is not None
    page = client.get(link.group(1)).content.decode()
    assert "your address is kept, sealed, to mail them" in page
    client.post(link.group(1))
    assert not Subscription.objects.exists()


def test_the_retention_purge_forgets_the_addresses_and_unsent_updates(
    petition: Petition, organiser: Any, settings: Any
) -> None:
    from undersigned.privacy.services import purge_due

    settings.UPDATE_MAILS_PER_MINUTE = 1  # so that most are still waiting
    for n in range(3):
        signed(petition, f"Signer Number{n}")
    respond(petition)
    services.fill()
    assert OutgoingMail.objects.filter(kind="update", sent_at__isnull=True).exists()
    petitions.close(petition, organiser)
    purge_due(now=timezone.now() + timedelta(days=91))
    assert not Subscription.objects.exists()
    assert not OutgoingMail.objects.filter(kind="update", sent_at__isnull=True).exists()
    assert "example.org" not in repr(stored("signing_subscription", "email"))


def test_each_signer_reads_the_title_in_their_language_when_the_petition_has_it(
    petition: Petition, smtp: Inbox
) -> None:
    from undersigned.petitions.translations import add_translation

    add_translation(
        petition,
        petition.organiser,
        language="ru",
        title="Чистый воздух для Колпина",
        body="Мы просим чистого воздуха.",
    )
    signed(petition, "Anna Belova")
    signed(petition, "Oleg Ivanov", language="ru")
    drain(smtp)
    before = len(smtp.messages)
    respond(petition)
    drain(smtp)
    assert len(smtp.messages) == before + 2
    russian = smtp.last_to(address_of("Oleg Ivanov"))
    assert (
        str(make_header(decode_header(russian["Subject"])))
        == "Ответ на «Чистый воздух для Колпина»"
    )
    english = smtp.last_to(address_of("Anna Belova"))
    assert english["Subject"] == 'The response to "Clean air for Kolpino"'
