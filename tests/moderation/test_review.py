from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import body_of, link_in, second_factor_login
from undersigned.audit.models import AuditEvent
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.registers.models import RegisterEntry
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

State = Signature.State


@pytest.fixture
def moderator(letter: Petition) -> Client:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    letter.moderators.add(user)
    return second_factor_login(Client(), user)


def claim(
    client: Client, letter: Petition, deliver: Any, name: str, municipality: str, email: str
) -> Signature:
    client.post(
        f"/p/{letter.slug}/sign/",
        {
            "full_name": name,
            "email": email,
            "visibility": "show",
            "role": "municipal deputy",
            "municipality": municipality,
            "evidence_url": "https://council.example.org/who",
        },
    )
    client.post(link_in(deliver().last_to(email), "confirm"))
    return Signature.objects.with_email(email).get()


def entry(name: str) -> RegisterEntry:
    return RegisterEntry.objects.get(full_name=name)


def test_queue_lists_claims_and_review_ranks_spelling_variants(
    client: Client, letter: Petition, moderator: Client, deliver: Any
) -> None:
    signature = claim(
        client, letter, deliver, "Xenia Lindstrom", "Semenovsky", "x@mail.example.org"
    )
    queue = moderator.get("/moderation/").content.decode()
    assert "Xenia Lindstrom" in queue
    page = moderator.get(f"/moderation/{signature.pk}/").content.decode()
    assert "https://council.example.org/who" in page
    first_candidate = page.index("Kseniya Lindstrem")
    assert all(
        page.find(other) == -1 or page.find(other) > first_candidate
        for other in ("Anna Belova", "Gleb Zorin", "Vera Orlova")
    )
    best = entry("Kseniya Lindstrem").pk
    assert f'value="{best}" id="entry-{best}" checked' in page


def test_cyrillic_claim_finds_the_latin_register_entry(
    client: Client, letter: Petition, moderator: Client, deliver: Any
) -> None:
    signature = claim(
        client, letter, deliver, "Ксения Линдстрем", "Семёновский", "k@mail.example.org"
    )
    page = moderator.get(f"/moderation/{signature.pk}/").content.decode()
    assert "Kseniya Lindstrem" in page


def test_approving_binds_the_entry_counts_and_is_audited(
    client: Client, letter: Petition, moderator: Client, deliver: Any
) -> None:
    signature = claim(
        client, letter, deliver, "Xenia Lindstrom", "Semenovsky", "x@mail.example.org"
    )
    assert petitions.counts(letter) == (0, 1)
    response = moderator.post(
        f"/moderation/{signature.pk}/",
        {
            "decision": "approve",
            "entry": entry("Kseniya Lindstrem").pk,
            "reason": "register-match",
            "note": "The council's website lists her",
        },
    )
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.state == State.VERIFIED
    # Shown publicly, so the entry stays bound in the clear.
    assert signature.register_entry == entry("Kseniya Lindstrem")
    assert petitions.counts(letter) == (1, 0)
    event = AuditEvent.objects.get(action="signature.approved")
    assert event.actor_name == "mod" and event.reason == "Matches the register entry"
    assert event.signature == signature and event.at is not None
    # The signer hears of it, and the public sees the name under the register's place.
    assert "verified" in deliver().last_to("x@mail.example.org")["Subject"]
    page = client.get(f"/p/{letter.slug}/").content.decode()
    assert "Xenia Lindstrom" in page and "Semyonovsky" in page
    # The organiser sees the decision in the audit trail.
    organiser = second_factor_login(Client(), letter.organiser)
    trail = organiser.get(f"/dashboard/{letter.slug}/").content.decode()
    assert "signature.approved" in trail and "Matches the register entry" in trail
    # The moderator's own words are not in the trail the organiser reads.
    assert "council" not in trail


def test_rejection_needs_a_reason_and_tells_the_signer(
    client: Client, letter: Petition, moderator: Client, deliver: Any
) -> None:
    signature = claim(client, letter, deliver, "Gleb Zorin", "Samara", "g@mail.example.org")
    for reason in ("", "register-match", "The council says he did not sign"):
        response = moderator.post(
            f"/moderation/{signature.pk}/", {"decision": "reject", "reason": reason}
        )
        assert response.status_code == 400
    signature.refresh_from_db()
    assert signature.state == State.NEEDS_REVIEW
    moderator.post(
        f"/moderation/{signature.pk}/",
        {"decision": "reject", "reason": "not-on-register"},
    )
    signature.refresh_from_db()
    assert signature.state == State.REJECTED
    assert petitions.counts(letter) == (0, 0)
    mail = deliver().last_to("g@mail.example.org")
    assert "not accepted" in mail["Subject"]
    assert "Not found on the register" in body_of(mail)
    assert AuditEvent.objects.filter(action="signature.rejected", actor_name="mod").count() == 1


def test_one_register_entry_can_be_verified_only_once(
    client: Client, letter: Petition, moderator: Client, deliver: Any
) -> None:
    real = claim(client, letter, deliver, "Xenia Lindstrom", "Semenovsky", "x@mail.example.org")
    forged = claim(
        client, letter, deliver, "Kseniya Lindstrem", "Semyonovsky", "f@mail.example.org"
    )
    target = entry("Kseniya Lindstrem").pk
    moderator.post(
        f"/moderation/{real.pk}/",
        {"decision": "approve", "entry": target, "reason": "register-match"},
    )
    page = moderator.get(f"/moderation/{forged.pk}/").content.decode()
    assert f"also claimed by #{real.pk}" in page
    response = moderator.post(
        f"/moderation/{forged.pk}/",
        {"decision": "approve", "entry": target, "reason": "register-match"},
    )
    assert response.status_code == 400
    assert "already has a verified signature" in response.content.decode()
    forged.refresh_from_db()
    assert forged.state == State.NEEDS_REVIEW
    assert petitions.counts(letter) == (1, 1)


def test_approval_needs_an_entry_of_this_register(
    client: Client, letter: Petition, moderator: Client, deliver: Any
) -> None:
    signature = claim(client, letter, deliver, "Vera Orlova", "Yakutsk", "v@mail.example.org")
    for bad in ("", "999999", "-1", "abc"):
        response = moderator.post(
            f"/moderation/{signature.pk}/",
            {"decision": "approve", "entry": bad, "reason": "register-match"},
        )
        assert response.status_code == 400
    signature.refresh_from_db()
    assert signature.state == State.NEEDS_REVIEW


def test_only_moderators_of_the_petition_see_its_queue(
    client: Client, letter: Petition, deliver: Any
) -> None:
    signature = claim(client, letter, deliver, "Vera Orlova", "Yakutsk", "v@mail.example.org")
    stranger = second_factor_login(
        Client(), User.objects.create_user("stranger", "s@example.org", "pw-for-tests")
    )
    assert "Vera Orlova" not in stranger.get("/moderation/").content.decode()
    assert stranger.get(f"/moderation/{signature.pk}/").status_code == 404
    assert stranger.post(f"/moderation/{signature.pk}/", {"decision": "approve"}).status_code == 404
    anonymous = Client()
    assert anonymous.get("/moderation/").status_code == 302
    signature.refresh_from_db()
    assert signature.state == State.NEEDS_REVIEW


def test_a_verified_signature_can_be_invalidated_with_a_public_reason(
    client: Client, letter: Petition, moderator: Client, deliver: Any
) -> None:
    signature = claim(client, letter, deliver, "Vera Orlova", "Yakutsk", "v@mail.example.org")
    moderator.post(
        f"/moderation/{signature.pk}/",
        {"decision": "approve", "entry": entry("Vera Orlova").pk, "reason": "register-match"},
    )
    assert petitions.counts(letter) == (1, 0)
    page = moderator.get(f"/moderation/{signature.pk}/").content.decode()
    assert 'value="invalidate"' in page and 'value="approve"' not in page
    assert (
        moderator.post(
            f"/moderation/{signature.pk}/", {"decision": "invalidate", "reason": "not-on-register"}
        ).status_code
        == 400
    )
    moderator.post(
        f"/moderation/{signature.pk}/",
        {"decision": "invalidate", "reason": "forged"},
    )
    signature.refresh_from_db()
    assert signature.state == State.INVALIDATED
    assert petitions.counts(letter) == (0, 0)
    assert AuditEvent.objects.filter(action="signature.invalidated", actor_name="mod").exists()


def test_the_reason_reaches_the_signer_in_their_language(
    letter: Petition, moderator: Client, deliver: Any
) -> None:
    from tests.conftest import confirm_now
    from undersigned.signing import services as signing

    signature = confirm_now(
        signing.sign(
            letter,
            signing.SignRequest(
                full_name="Глеб Зорин", email="g.ru@mail.example.org", role="municipal deputy",
                municipality="Samara", language="ru",
            ),
        )
    )
    moderator.post(
        f"/moderation/{signature.pk}/", {"decision": "reject", "reason": "not-on-register"}
    )
    assert "Нет в реестре" in body_of(deliver().last_to("g.ru@mail.example.org"))
