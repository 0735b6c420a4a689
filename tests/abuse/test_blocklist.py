"""The block list: domains and networks moderators refuse at signing, every change audited."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from tests.conftest import make_petition, second_factor_login
from undersigned.abuse import blocklist, limits
from undersigned.abuse.models import BlockedSource, SigningSource, TrendingSource
from undersigned.abuse.services import detect_trending
from undersigned.audit.models import AuditEvent
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

NEUTRAL = "This signature could not be taken. Nothing was recorded."


@pytest.fixture
def other_petition(organiser: User) -> Petition:
    return make_petition(organiser, slug="other", title="Another petition")


@pytest.fixture
def moderator(petition: Petition) -> User:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    petition.moderators.add(user)
    return user


@pytest.fixture
def site_moderator(db: None) -> User:
    user = User.objects.create_user("sitemod", "s@example.org", "pw-for-tests-only")
    user.user_permissions.add(Permission.objects.get(codename="moderate_any"))
    return User.objects.get(pk=user.pk)  # permissions are cached per instance


def attempt(petition: Petition, email: str, ip: str = "192.0.2.10") -> Any:
    return Client().post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": email, "visibility": "show"},
        REMOTE_ADDR=ip,
    )


def nothing_written() -> bool:
    return not (
        Signature.objects.exists()
        or OutgoingMail.objects.exists()
        or SigningSource.objects.exists()
    )


def block(client: Client, **data: str) -> Any:
    return client.post("/moderation/blocklist/add/", data)


def test_a_blocked_domain_is_refused_neutrally_and_nothing_is_written(
    petition: Petition, other_petition: Petition, moderator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = second_factor_login(Client(), moderator)
    response = block(
        client, kind="domain", value="Wave.Example.", petition=petition.slug, reason="Bot wave"
    )
    assert response.status_code == 302
    entry = BlockedSource.objects.get()
    assert (entry.kind, entry.value, entry.petition, entry.added_by) == (
        "domain",
        "wave.example",
        petition,
        moderator,
    )
    event = AuditEvent.objects.get(action="blocklist.added")
    assert (event.actor, event.petition, event.reason) == (moderator, petition, "Bot wave")
    assert event.details["value"] == "wave.example"

    def no_limits(*args: object) -> None:
        raise AssertionError("a refused attempt must not reach the rate limits")

    monkeypatch.setattr(limits, "check", no_limits)
    for email in ("bot@wave.example", "bot@mx.wave.example", "bot@WAVE.example"):
        response = attempt(petition, email)
        assert response.status_code == 400
        page = response.content.decode()
        assert NEUTRAL in page
        assert "block" not in page.lower().split("<main", 1)[-1].split("</main>", 1)[0]
    assert nothing_written()
    monkeypatch.undo()

    # Other domains, and other petitions, are not affected.
    assert attempt(petition, "anna@nearwave.example").status_code == 302
    assert attempt(other_petition, "bot@wave.example").status_code == 302


def test_a_network_is_blocked_everywhere_by_a_site_moderator(
    petition: Petition, other_petition: Petition, site_moderator: User
) -> None:
    client = second_factor_login(Client(), site_moderator)
    block(client, kind="network", value="203.0.113.7/24", petition="*", reason="Hosting range")
    entry = BlockedSource.objects.get()
    assert (entry.value, entry.petition, entry.expires) == ("203.0.113.0/24", None, None)
    assert AuditEvent.objects.get(action="blocklist.added").details["everywhere"] is True
    for target in (petition, other_petition):
        assert NEUTRAL in attempt(target, "a@example.org", ip="203.0.113.200").content.decode()
        mapped = attempt(target, "a@example.org", ip="::ffff:203.0.113.9")
        assert NEUTRAL in mapped.content.decode()
    assert nothing_written()
    assert attempt(petition, "a@example.org", ip="203.0.114.1").status_code == 302


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("network", "203.0.113.7/32"),  # one address: the list holds no one's address
        ("network", "2001:db8::1/64"),
        ("network", "not a network"),
        ("domain", "localhost"),
        ("domain", "bad domain.example"),
        ("network_hash", "203.0.113.0"),
    ],
)
def test_bad_entries_are_refused_with_a_reason_and_change_nothing(
    petition: Petition, moderator: User, kind: str, value: str
) -> None:
    client = second_factor_login(Client(), moderator)
    response = block(client, kind=kind, value=value, petition=petition.slug, reason="r")
    assert response.status_code == 302
    page = client.get("/moderation/blocklist/").content.decode()
    assert "Give a" in page or "no longer known" in page
    assert not BlockedSource.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="blocklist").exists()


def test_a_trending_network_is_blocked_by_todays_hash_until_the_day_ends(
    petition: Petition, moderator: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TRENDING_NETWORK_THRESHOLD = 3
    for i in range(3):
        assert attempt(petition, f"bot{i}@example.org", ip=f"198.51.100.{i + 1}").status_code == 302
    detect_trending()
    trend = TrendingSource.objects.get(kind="network")
    client = second_factor_login(Client(), moderator)
    page = client.get("/moderation/sources/").content.decode()
    assert 'name="kind" value="network_hash"' in page
    block(client, kind="network_hash", value=trend.value, petition=petition.slug, reason="Wave")
    entry = BlockedSource.objects.get()
    assert entry.expires == blocklist.end_of_today()
    assert NEUTRAL in attempt(petition, "new@example.org", ip="198.51.100.77").content.decode()
    assert Signature.objects.count() == SigningSource.objects.count() == 3

    # Tomorrow the hash means nothing: the entry no longer refuses anyone.
    later = timezone.now() + timedelta(days=1, minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    blocklist.forget()
    assert attempt(petition, "new@example.org", ip="198.51.100.77").status_code == 302


def test_removing_needs_a_reason_is_audited_and_lets_signing_in_again(
    petition: Petition, moderator: User
) -> None:
    client = second_factor_login(Client(), moderator)
    block(client, kind="domain", value="wave.example", petition=petition.slug, reason="Wave")
    entry = BlockedSource.objects.get()
    client.post(f"/moderation/blocklist/{entry.pk}/remove/", {"reason": ""})
    assert BlockedSource.objects.exists()
    client.post(f"/moderation/blocklist/{entry.pk}/remove/", {"reason": "A newsroom, not bots"})
    assert not BlockedSource.objects.exists()
    event = AuditEvent.objects.get(action="blocklist.removed")
    assert (event.actor, event.reason) == (moderator, "A newsroom, not bots")
    assert event.details["added_reason"] == "Wave"
    assert attempt(petition, "anna@wave.example").status_code == 302


def test_who_may_change_the_list(
    petition: Petition, other_petition: Petition, moderator: User, organiser: User
) -> None:
    mod = second_factor_login(Client(), moderator)
    entry_for = {"kind": "domain", "value": "a.example", "reason": "r"}
    # Not a petition the moderator is assigned to, and not every petition.
    assert block(mod, petition="other", **entry_for).status_code == 404
    assert block(mod, petition="*", **entry_for).status_code == 404
    # The organiser of both petitions moderates neither.
    owner = second_factor_login(Client(), organiser)
    assert owner.get("/moderation/blocklist/").status_code == 404
    assert block(owner, petition=petition.slug, **entry_for).status_code == 404
    assert not BlockedSource.objects.exists()
    # A site-wide entry is listed for a petition's moderator, but only a site moderator removes it.
    site = User.objects.create_user("root", "r@example.org", "pw", is_superuser=True)
    entry = blocklist.add(site, kind="domain", value="b.example", reason="r", petition=None)
    page = mod.get("/moderation/blocklist/").content.decode()
    assert "b.example" in page and f"/moderation/blocklist/{entry.pk}/remove/" not in page
    mod.post(f"/moderation/blocklist/{entry.pk}/remove/", {"reason": "mine now"})
    assert BlockedSource.objects.filter(pk=entry.pk).exists()
    # A password alone opens nothing.
    password_only = Client()
    password_only.force_login(moderator)
    response = password_only.get("/moderation/blocklist/")
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]
