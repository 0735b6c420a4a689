"""The petition page's charts: drawn from the public log and the awaiting queue, never counted."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.sharing.conftest import parse_xml, sequence_log, sign
from undersigned.ledger.models import LogEntry
from undersigned.petitions.models import Petition, Tally
from undersigned.registers.models import RegisterEntry
from undersigned.sharing.models import HourlyCount, LogCursor
from undersigned.sharing.services import absorb_log
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db


def svg(page: str, cls: str) -> ET.Element:
    """The inline <svg class="cls"> of a page, parsed as XML (so it must be well-formed)."""
    start = page.index(f'<svg class="{cls}"')
    end = page.index("</svg>", start) + len("</svg>")
    return parse_xml(page[start:end])


def rects(chart: ET.Element, cls: str) -> list[dict[str, float]]:
    return [
        {k: float(r.attrib[k]) for k in ("x", "y", "width", "height")}
        for r in chart.iter("rect")
        if r.attrib.get("class") == cls
    ]


def table_rows(page: str) -> list[list[str]]:
    start = page.index('<details class="chart-table">')
    body = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    return [
        re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def hour(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def place_log(signature: Signature, when: datetime) -> None:
    """Move a signature's log entries to `when`, as if it had been verified then."""
    LogEntry.objects.filter(signature=signature).update(created=when)


def open_since(petition: Petition, when: datetime) -> None:
    Petition.objects.filter(pk=petition.pk).update(opened_at=when)


def test_verified_signatures_are_bars_at_the_hour_the_log_has_them(
    client: Client, petition: Petition
) -> None:
    now = timezone.now()
    open_since(petition, now - timedelta(hours=5))
    early = [sign(petition, f"early{n}@example.org") for n in range(2)]
    late = sign(petition, "late@example.org")
    for s in early:
        place_log(s, now - timedelta(hours=4))
    place_log(late, now - timedelta(hours=1))
    sequence_log()

    page = client.get(f"/p/{petition.slug}/").content.decode()
    chart = svg(page, "chart-time")
    assert chart.findtext("title") == "Signatures per hour"
    bars = rects(chart, "verified")
    assert len(bars) == 2
    assert bars[0]["x"] < bars[1]["x"]
    assert bars[0]["height"] == pytest.approx(2 * bars[1]["height"], abs=0.02)
    # Both stand on the axis.
    (axis,) = [line for line in chart.iter("line") if line.attrib.get("class") == "axis"]
    for bar in bars:
        assert bar["y"] + bar["height"] == pytest.approx(float(axis.attrib["y1"]), abs=0.02)
    assert rects(chart, "awaiting") == rects(chart, "removed") == []
    assert "3 verified, 0 awaiting verification" in chart.findtext("desc", "")

    # The table says the same, hour by hour, with the running total.
    rows = table_rows(page)
    assert len(rows) == 6  # five hours ago to now
    by_hour = {r[0]: r[1:] for r in rows}
    assert by_hour[f"{hour(now - timedelta(hours=4)):%-d %b %Y, %H:%M}"] == ["2", "0", "2"]
    assert by_hour[f"{hour(now - timedelta(hours=1)):%-d %b %Y, %H:%M}"] == ["1", "0", "3"]
    assert rows[-1][-1] == "3"


def test_awaiting_signatures_stack_on_top_until_a_moderator_verifies_them(
    client: Client, letter: Petition, organiser: User
) -> None:
    # Claimed from a private address: confirmed, then waits for review.
    waiting = sign(letter, "gleb@mail.example.org", role="municipal deputy", municipality="Samara")
    assert waiting.state == Signature.State.NEEDS_REVIEW
    sign(letter, "belova@council.example.org", role="municipal deputy", municipality="Kolpino")
    sequence_log()

    page = client.get(f"/p/{letter.slug}/").content.decode()
    chart = svg(page, "chart-time")
    (verified,) = rects(chart, "verified")
    (awaiting,) = rects(chart, "awaiting")
    assert awaiting["height"] == pytest.approx(verified["height"], abs=0.02)
    assert awaiting["y"] + awaiting["height"] == pytest.approx(verified["y"], abs=0.02)
    assert "1 verified, 1 awaiting verification" in chart.findtext("desc", "")

    signing.approve(waiting.pk, organiser, entry=RegisterEntry.objects.get(full_name="Gleb Zorin"))
    sequence_log()
    cache.clear()  # the chart is kept for a minute; see the caching test below
    chart = svg(client.get(f"/p/{letter.slug}/").content.decode(), "chart-time")
    assert rects(chart, "awaiting") == []
    assert "2 verified, 0 awaiting verification" in chart.findtext("desc", "")


def test_a_withdrawal_hangs_below_the_axis_and_lowers_the_running_total(
    client: Client, petition: Petition
) -> None:
    now = timezone.now()
    open_since(petition, now - timedelta(hours=3))
    signatures = [sign(petition, f"s{n}@example.org") for n in range(4)]
    for s in signatures:
        place_log(s, now - timedelta(hours=2))
    raw, signatures[0].withdraw_token_hash = new_token()
    signatures[0].save(update_fields=["withdraw_token_hash"])
    signing.withdraw(raw)
    sequence_log()

    page = client.get(f"/p/{petition.slug}/").content.decode()
    chart = svg(page, "chart-time")
    (verified,) = rects(chart, "verified")
    (removed,) = rects(chart, "removed")
    (axis,) = [line for line in chart.iter("line") if line.attrib.get("class") == "axis"]
    assert removed["y"] == pytest.approx(float(axis.attrib["y1"]))
    assert removed["height"] == pytest.approx(verified["height"] / 4, abs=0.02)
    assert "1 withdrawn or struck off" in chart.findtext("desc", "")
    assert table_rows(page)[-1][-1] == "3"  # 4 verified, 1 withdrawn


def test_the_regions_chart_has_a_bar_per_region_from_the_tallies(
    client: Client, petition: Petition
) -> None:
    for n in range(3):
        sign(petition, f"m{n}@example.org", region="Moscow")
    sign(petition, "spb@example.org", region="St Petersburg")
    sign(petition, "nowhere@example.org")
    page = client.get(f"/p/{petition.slug}/").content.decode()
    chart = svg(page, "chart-regions")
    labels = [t.text for t in chart.iter("text") if t.attrib.get("class") != "value"]
    values = [t.text for t in chart.iter("text") if t.attrib.get("class") == "value"]
    assert labels == ["Moscow", "Region not given", "St Petersburg"]
    assert values == ["3", "1", "1"]
    widths = [float(r.attrib["width"]) for r in chart.iter("rect")]
    assert widths[0] == pytest.approx(3 * widths[1], abs=0.02)
    assert chart.findtext("desc") == "Moscow: 3; Region not given: 1; St Petersburg: 1."


def test_a_petition_nobody_has_signed_says_so_instead_of_an_empty_chart(
    client: Client, petition: Petition
) -> None:
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "The chart appears once the first signature is counted or confirmed." in page
    assert 'class="chart-time"' not in page
    assert 'class="chart-regions"' not in page  # no places given yet


def test_each_log_entry_is_added_once_and_only_once_it_is_sequenced(petition: Petition) -> None:
    for n in range(3):
        sign(petition, f"s{n}@example.org")
    # Not yet sequenced by the worker: its index (the watermark) is still unknown.
    assert absorb_log() == 0
    sequence_log()
    read = absorb_log()
    assert read == LogEntry.objects.count()  # the petition's opening entry is read too
    assert absorb_log() == 0
    assert sum(HourlyCount.objects.values_list("verified", flat=True)) == 3
    assert LogCursor.objects.get().next_index == read


def test_a_page_request_reads_a_bounded_batch_of_the_log(petition: Petition) -> None:
    for n in range(5):
        sign(petition, f"s{n}@example.org")
    sequence_log()  # six entries: the opening and five verifications
    assert [absorb_log(batches=1, batch=2) for _ in range(4)] == [2, 2, 2, 0]
    assert HourlyCount.objects.get().verified == 5


def test_the_chart_is_kept_a_minute_and_never_counts_signatures(
    client: Client, letter: Petition, settings: Any
) -> None:
    settings.SHARING_CHART_SECONDS = 60
    sign(letter, "belova@council.example.org", role="municipal deputy", municipality="Kolpino")
    sign(letter, "gleb@mail.example.org", role="municipal deputy", municipality="Samara")
    sequence_log()
    url = f"/p/{letter.slug}/"
    with CaptureQueriesContext(connection) as first:
        page = client.get(url).content.decode()
    assert "1 verified, 1 awaiting verification" in svg(page, "chart-time").findtext("desc", "")

    sign(letter, "lindstrem@council.example.org", role="municipal deputy", municipality="X")
    sequence_log()
    with CaptureQueriesContext(connection) as second:
        page = client.get(url).content.decode()
    # Within the minute the drawing is reused: no read of the chart's tables at all.
    assert "1 verified, 1 awaiting verification" in svg(page, "chart-time").findtext("desc", "")
    assert not any("sharing_hourlycount" in q["sql"] for q in second.captured_queries)

    assert any("sharing_hourlycount" in q["sql"] for q in first.captured_queries)
    for queries in (first, second):
        sql = [q["sql"].upper() for q in queries.captured_queries]
        assert not [s for s in sql if "COUNT(" in s and "SIGNING_SIGNATURE" in s]

    cache.clear()  # a minute later
    page = client.get(url).content.decode()
    assert "2 verified, 1 awaiting verification" in svg(page, "chart-time").findtext("desc", "")


def test_a_closed_petition_chart_ends_when_it_closed(
    client: Client, petition: Petition, organiser: User
) -> None:
    from undersigned.petitions import services as petitions

    now = timezone.now()
    sign(petition, "a@example.org")
    petitions.close(petition, organiser)
    Petition.objects.filter(pk=petition.pk).update(
        opened_at=now - timedelta(days=10), closed_at=now - timedelta(days=6)
    )
    place_log(Signature.objects.get(), now - timedelta(days=8))
    sequence_log()
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert svg(page, "chart-time").findtext("title") == "Signatures per day"
    rows = table_rows(page)
    assert len(rows) == 5  # days 10 to 6 before now
    assert [r[1] for r in rows] == ["0", "0", "1", "0", "0"]


def test_refresh_charts_catches_up_with_the_whole_log(petition: Petition) -> None:
    for n in range(3):
        sign(petition, f"s{n}@example.org")
    sequence_log()
    out = StringIO()
    call_command("refresh-charts", stdout=out)
    assert out.getvalue().strip() == "4 log entries added to the charts"
    assert HourlyCount.objects.get().verified == 3


def test_in_russian_numbers_are_localised_but_coordinates_never_are(
    client: Client, petition: Petition
) -> None:
    now = timezone.now()
    open_since(petition, now - timedelta(hours=7))  # 7 hours across 24 slots: fractional x
    for n in range(3):
        sign(petition, f"s{n}@example.org", region="Москва")
    Tally.objects.filter(petition=petition).update(verified=12345)
    sequence_log()
    page = client.get(f"/p/{petition.slug}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for cls in ("chart-time", "chart-regions"):
        chart = svg(page, cls)
        for element in chart.iter():
            for name in ("x", "y", "width", "height", "x1", "x2", "y1", "y2"):
                value = element.attrib.get(name)
                if value is not None:
                    float(value)  # a decimal comma would not parse
    assert any("." in r.attrib["x"] for r in svg(page, "chart-time").iter("rect"))
    values = [t.text for t in svg(page, "chart-regions").iter("text") if t.attrib.get("class")]
    assert values == ["12\xa0345"]  # Russian groups thousands with a no-break space
