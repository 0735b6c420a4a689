"""Tags for the petition page's panels: the charts and the share panel.

petition.html only includes sharing/_head.html and sharing/_panels.html; the
tags here read what those need from the page's own context (petition,
version, verified, awaiting) so that petitions.pages stays untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, npgettext

from undersigned.petitions.models import Petition
from undersigned.petitions.texts import register_terms
from undersigned.sharing import charts, services
from undersigned.sharing.links import share_links
from undersigned.sharing.views import live_seconds, petition_url, share_paths

register = template.Library()


@register.simple_tag
def sharing_live_seconds() -> int:
    return live_seconds()


# The words after a count (petition page, embed), by the count's bucket. The
# same messages as the templates' {% blocktranslate count ... context "signatures" %}.
COUNT_WORDS: dict[str, Callable[[int], str]] = {
    "verified": lambda n: npgettext("signatures", "verified", "verified", n),
    "awaiting": lambda n: npgettext(
        "signatures", "awaiting verification", "awaiting verification", n
    ),
}
# The browser names a count's plural form by its CLDR category (Intl.PluralRules);
# gettext, by a count. A count in each category, for English and Russian alike:
# 1 is "one", 2 "few", 5 "many"; "other" (English: not 1; Russian: fractions,
# never a count) takes the form of 5.
PLURAL_SAMPLES = {"one": 1, "few": 2, "many": 5, "other": 5}


@register.simple_tag
def plural_forms(bucket: str) -> SafeString:
    """data-plural-* attributes with every form of the word after a count.

    live.js rewrites the word when it rewrites the count, so that a Russian
    page going from 1 to 2 says "2 проверенные подписи", not "2 проверенная подпись".
    """
    word = COUNT_WORDS[bucket]
    return format_html_join(
        "", ' data-plural-{}="{}"', ((name, word(n)) for name, n in PLURAL_SAMPLES.items())
    )


def render_charts(petition: Petition, data: services.Timeline) -> SafeString:
    start = petition.opened_at or petition.created
    # A closed petition's chart ends when it closed (later withdrawals widen it).
    end = min(petition.closed_at, data.as_of) if petition.closed_at else data.as_of
    resolution, buckets = charts.bucket_series(
        data.hours, start=start, end=end, tz=timezone.get_current_timezone()
    )
    regions, unplaced = services.region_rows(petition)
    terms = register_terms(petition)  # the register's regions in the page's language
    region_chart = None
    if unplaced or any(name for name, _ in regions):
        region_chart = charts.region_chart(
            [
                ((terms.region(name) if terms else name) or gettext("Region not given"), n)
                for name, n in regions
            ],
            other_label=gettext("Other regions"),
            unplaced=(gettext("Counted without their name, place not shown"), unplaced),
        )
    return render_to_string(
        "sharing/_charts_body.html",
        {
            "petition": petition,
            "chart": charts.time_chart(resolution, buckets),
            "awaiting_shown": data.awaiting_shown,
            "as_of": data.as_of,
            "regions": region_chart,
        },
    )


@register.simple_tag(takes_context=True)
def petition_charts(context: template.Context) -> SafeString:
    """The charts, drawn once per language and time zone for each read of the timeline."""
    petition: Petition = context["petition"]
    data = services.timeline(petition)
    key = (
        f"sharing:charts:{petition.pk}:{get_language()}:"
        f"{timezone.get_current_timezone_name()}:{data.as_of.timestamp()}"
    )
    # Stored as the SafeString render_to_string made (pickling keeps the
    # class); were it ever a plain str, autoescaping would show the markup,
    # never run it.
    html: SafeString | None = cache.get(key)
    if html is None:
        html = render_charts(petition, data)
        cache.set(key, html, services.chart_seconds())
    return html


@register.inclusion_tag("sharing/_share_body.html", takes_context=True)
def share_panel(context: template.Context) -> dict[str, Any]:
    petition: Petition = context["petition"]
    title: str = context["version"].title
    url = petition_url(petition)
    paths = share_paths(petition)
    text = gettext("Sign “%(title)s”") % {"title": title}
    return {
        "url": url,
        "title": title,
        "links": share_links(url, text, subject=title, body=f"{text}\n\n{url}"),
        "badge_url": paths["badge"],
        "qr_url": paths["qr"],
        "badge_snippet": format_html(
            '<a href="{}"><img src="{}" alt="{}"></a>', url, paths["badge"], title
        ),
        "embed_snippet": format_html(
            '<iframe src="{}" title="{}" width="340" height="190" loading="lazy" '
            'style="border:0;max-width:100%"></iframe>',
            paths["embed"],
            title,
        ),
    }
