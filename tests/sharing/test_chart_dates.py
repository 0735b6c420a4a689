"""Chart dates in each language's own format: "21 Nov 2026" in English, "21 ноября 2026"
(the month in the genitive) in Russian."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.sharing.conftest import sequence_log, sign
from tests.sharing.test_timeline import open_since, svg, table_rows
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db

ENGLISH_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
RUSSIAN_MONTHS = (
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
)


def english(day: date) -> str:
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def russian(day: date) -> str:
    return f"{day.day} {RUSSIAN_MONTHS[day.month - 1]} {day.year}"


def axis_labels(page: str) -> list[str | None]:
    labels = svg(page, "chart-time").find("g[@class='x-labels']")
    assert labels is not None
    return [t.text for t in labels]


def test_daily_chart_dates_in_english_and_russian(client: Client, petition: Petition) -> None:
    today = timezone.localdate()
    open_since(petition, timezone.now() - timedelta(days=10))  # days, not hours
    sign(petition, "a@example.org")
    sequence_log()
    url = f"/p/{petition.slug}/"
    first = today - timedelta(days=10)

    page = client.get(url).content.decode()
    rows = table_rows(page)
    assert rows[0][0] == english(first)
    assert rows[-1][0] == english(today)
    chart = svg(page, "chart-time")
    bars = [g.findtext("title") for g in chart.iter("g") if g.find("rect") is not None]
    assert bars == [f"{english(today)}: 1 verified, 0 awaiting verification"]
    assert axis_labels(page)[0] == english(first).rsplit(" ", 1)[0]  # day and month only

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    rows = table_rows(page)
    assert rows[0][0] == russian(first)
    assert rows[-1][0] == russian(today)
    assert axis_labels(page)[0] == russian(first).rsplit(" ", 1)[0]
    desc = svg(page, "chart-time").findtext("desc") or ""
    assert desc.startswith(f"С {russian(first)} по {russian(today)}:")


def test_hourly_chart_times_in_russian(client: Client, petition: Petition) -> None:
    now = timezone.localtime()
    open_since(petition, now - timedelta(hours=3))
    sign(petition, "a@example.org")
    sequence_log()
    page = client.get(f"/p/{petition.slug}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    last = table_rows(page)[-1][0]
    assert last == f"{russian(now.date())}, {now:%H}:00"
