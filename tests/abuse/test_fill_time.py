"""How long the sign form took to fill: stamped per visitor, kept as a bucket, shown to
moderators beside the trending sources (abuse/formtime.py)."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client

from tests.conftest import second_factor_login
from undersigned.abuse import formtime
from undersigned.abuse.models import SigningSource, TrendingSource
from undersigned.abuse.services import detect_trending
from undersigned.petitions.models import Petition
from undersigned.petitions.services import forget_cached_counts

pytestmark = pytest.mark.django_db

STAMP = re.compile(r'<input type="hidden" name="form_started" value="([^"]+)">')


def stamp_on(page: str) -> str:
    found = STAMP.search(page)
    assert found, "the sign form carries no stamp"
    return found.group(1)


def stamped_at(stamp: str) -> int:
    raw = signing.Signer(salt="undersigned.abuse.form-started").unsign(stamp)
    return int(raw.partition(".")[0])


def sign(client: Client, petition: Petition, email: str, **extra: Any) -> int:
    data = {"full_name": "Anna Belova", "email": email, "visibility": "show"}
    data.update(extra.pop("data", {}))
    response = client.post(f"/p/{petition.slug}/sign/", data, **extra)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response.status_code


def fill_time_of(email_domain: str) -> str:
    return SigningSource.objects.get(email_domain=email_domain).fill_time


def test_each_visitor_gets_a_stamp_of_their_own_from_the_shared_page(
    petition: Petition, settings: Any
) -> None:
    # The page is rendered once for every anonymous visitor and kept: the stamp,
    # like the CSRF token, must still be this visitor's, made as they asked.
    settings.COUNT_CACHE_SECONDS = 60
    forget_cached_counts()
    first = Client().get(f"/p/{petition.slug}/").content.decode()
    second = Client().get(f"/p/{petition.slug}/").content.decode()
    assert stamp_on(first) != stamp_on(second)
    assert stamped_at(stamp_on(first)) <= stamped_at(stamp_on(second))
    assert "placeholder" not in first and "placeholder" not in second
    forget_cached_counts()


def test_the_time_taken_is_recorded_as_a_bucket(
    client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = client.get(f"/p/{petition.slug}/").content.decode()
    stamp = stamp_on(page)
    monkeypatch.setattr(formtime, "_now_ms", lambda: stamped_at(stamp) + 3_500)
    sign(client, petition, "a@slow.example", data={"form_started": stamp})
    assert fill_time_of("slow.example") == "2-5"

    stamp = stamp_on(client.get(f"/p/{petition.slug}/").content.decode())
    monkeypatch.setattr(formtime, "_now_ms", lambda: stamped_at(stamp) + 400)
    sign(client, petition, "b@fast.example", data={"form_started": stamp})
    assert fill_time_of("fast.example") == "lt2"


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0, "lt2"), (1.99, "lt2"), (2, "2-5"), (14.9, "5-15"), (59, "15-60"), (61, "gt60")],
)
def test_buckets(seconds: float, bucket: str) -> None:
    assert formtime.bucket_of(seconds) == bucket


def test_a_form_sent_without_the_page_or_with_a_forged_stamp_has_none(
    client: Client, petition: Petition
) -> None:
    sign(client, petition, "a@script.example")
    assert fill_time_of("script.example") == "none"
    stamp = stamp_on(client.get(f"/p/{petition.slug}/").content.decode())
    at = stamped_at(stamp)
    # Made to look older than it is: the signature no longer matches.
    forged = stamp.replace(str(at), str(at - 600_000), 1)
    sign(client, petition, "b@forger.example", data={"form_started": forged})
    assert fill_time_of("forger.example") == "none"


def test_a_stamp_sent_twice_is_marked_as_replayed(client: Client, petition: Petition) -> None:
    stamp = stamp_on(client.get(f"/p/{petition.slug}/").content.decode())
    sign(client, petition, "a@first.example", data={"form_started": stamp})
    sign(client, petition, "b@again.example", data={"form_started": stamp})
    assert fill_time_of("first.example") == "lt2"
    assert fill_time_of("again.example") == "replay"


def test_a_stamp_from_yesterday_counts_as_none(
    client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamp = stamp_on(client.get(f"/p/{petition.slug}/").content.decode())
    monkeypatch.setattr(formtime, "_now_ms", lambda: stamped_at(stamp) + 25 * 3600 * 1000)
    sign(client, petition, "a@late.example", data={"form_started": stamp})
    assert fill_time_of("late.example") == "none"


def test_moderators_see_how_fast_a_trending_source_filled_the_form(
    petition: Petition, settings: Any
) -> None:
    settings.TRENDING_DOMAIN_THRESHOLD = 4
    settings.RATE_LIMIT_CLIENT = "100/600"
    bot = Client()
    stamp = stamp_on(bot.get(f"/p/{petition.slug}/").content.decode())
    # A script that fetched the page once: the first form is "under 2 s", the rest replays.
    for i in range(4):
        sign(bot, petition, f"bot{i}@wave.example", data={"form_started": stamp})
    sign(bot, petition, "bot9@wave.example")
    assert detect_trending() == 1
    trend = TrendingSource.objects.get()
    assert trend.fill_times == {"lt2": 1, "replay": 3, "none": 1}

    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    petition.moderators.add(user)
    page = second_factor_login(Client(), user).get("/moderation/sources/").content.decode()
    cell = page.split('<td class="fill-times">', 1)[1].split("</td>", 1)[0]
    assert cell == "under 2 s: 1<br>without the page&#x27;s stamp: 1<br>with a stamp used before: 3"


def test_the_source_row_holds_a_bucket_and_nothing_finer(
    client: Client, petition: Petition
) -> None:
    stamp = stamp_on(client.get(f"/p/{petition.slug}/").content.decode())
    sign(client, petition, "a@example.org", data={"form_started": stamp})
    row = SigningSource.objects.values().get()
    assert row["fill_time"] in formtime.FillTime.values
    assert stamp not in repr(row) and str(stamped_at(stamp)) not in repr(row)
