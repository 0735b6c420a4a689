"""What other sites and apps fetch: the badge, the embed, the preview image, the QR code.

Embedded badges and previews are fetched far more often than the petition
page itself (every view of every page that embeds one), so each answer is
kept: the badge and the embed as finished text per process for up to
COUNT_CACHE_SECONDS (petitions.services.FreshCache, like the page), the
preview image in the shared cache under a key naming everything drawn on it,
and all of them with a short Cache-Control so that browsers and CDNs help.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import segno
from csp.decorators import csp_replace
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import get_language, ngettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from undersigned.petitions.models import Petition
from undersigned.petitions.pages import public_petition
from undersigned.petitions.services import FreshCache, cached_counts, register_cache
from undersigned.sharing import charts, images

BADGE_CACHE = "public, max-age=10"
PREVIEW_CACHE = "public, max-age=60"
PREVIEW_KEEP_SECONDS = 600
QR_CACHE = "public, max-age=86400"  # the address it encodes never changes


def petition_url(petition: Petition) -> str:
    """The canonical address, from SITE_URL: shared links and QR codes must not name
    whichever host a request happened to use."""
    return settings.SITE_URL + petition.get_absolute_url()


def count_text(n: int) -> str:
    return number_format(n, force_grouping=True)


def awaiting_text(n: int) -> str:
    # Russian's verb agrees with the count: "1 ожидает", "5 ожидают".
    return ngettext("%(n)s awaiting verification", "%(n)s awaiting verification", n) % {
        "n": count_text(n)
    }


# ------------------------------------------------------------------ badge


def _render_badge(slug: str) -> str:
    petition = public_petition(slug)
    verified, awaiting = cached_counts(petition)
    big = ngettext("%(count)s verified", "%(count)s verified", verified) % {
        "count": count_text(verified)
    }
    small = awaiting_text(awaiting)
    return render_to_string(
        "sharing/badge.svg",
        {
            "title": petition.shown_version().title,
            "big": big,
            "small": small,
            "layout": charts.badge_layout(big, small),
        },
    )


# Finished badges by (slug, language); a 404 raises through and is never kept.
_badges: FreshCache[tuple[str, str], str] = register_cache(FreshCache())


@require_GET
def badge(request: HttpRequest, slug: str) -> HttpResponse:
    body = _badges.get((slug, get_language()), lambda: _render_badge(slug))
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = BADGE_CACHE
    return response


# ------------------------------------------------------------------ embed


def _render_embed(slug: str) -> str:
    petition = public_petition(slug)
    verified, awaiting = cached_counts(petition)
    version = petition.shown_version()
    context: dict[str, Any] = {
        "petition": petition,
        "title": version.title,
        "language": version.language,
        "verified": verified,
        "awaiting": awaiting,
        "url": petition_url(petition),
        "site_name": settings.SITE_NAME,
        "live_seconds": live_seconds(),
    }
    return render_to_string("sharing/embed.html", context)


_embeds: FreshCache[tuple[str, str], str] = register_cache(FreshCache())


def live_seconds() -> int:
    """How often the live count asks for new numbers."""
    return int(getattr(settings, "SHARING_LIVE_SECONDS", 10))


@require_GET
@xframe_options_exempt
# django-csp types views as taking the request alone; it passes the slug through.
@csp_replace({"frame-ancestors": ["*"]})  # type: ignore[arg-type]
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The counter for an <iframe> on any site: only this view may be framed.

    Framing is safe here because the page has nothing to click but links
    that open the petition in a new tab, and no form or session to abuse.
    """
    body = _embeds.get((slug, get_language()), lambda: _render_embed(slug))
    response = HttpResponse(body)
    response["Cache-Control"] = BADGE_CACHE
    return response


# ------------------------------------------------------------------ preview image


@require_GET
def preview_image(request: HttpRequest, slug: str) -> HttpResponse:
    petition = public_petition(slug)
    verified, awaiting = cached_counts(petition)
    version = petition.shown_version()
    preview = images.Preview(
        title=version.title,
        count=count_text(verified),
        count_label=ngettext("verified signature", "verified signatures", verified),
        awaiting=awaiting_text(awaiting),
        site=settings.SITE_NAME,
    )
    # Named by everything drawn, so a new count is a new image at once while
    # a surge of crawlers asking for the same one costs a single drawing.
    digest = hashlib.sha256(repr(preview).encode()).hexdigest()
    key = f"sharing:og:{digest}"
    png: bytes | None = cache.get(key)
    if png is None:
        png = images.render_preview(preview)
        cache.set(key, png, PREVIEW_KEEP_SECONDS)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = PREVIEW_CACHE
    return response


# ------------------------------------------------------------------ QR code


def qr_svg(url: str, title: str) -> bytes:
    """A QR code (error correction M, survives a creased poster) of `url`, as SVG."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        # Millimetres: printed as is, a module is 4 mm and the code about 12 cm
        # across, readable from a few metres; the viewBox lets it scale too.
        out,
        kind="svg",
        unit="mm",
        scale=4,
        border=4,
        title=title,
        dark="#000",
        light="#fff",
    )
    return out.getvalue()


@require_GET
def qr(request: HttpRequest, slug: str) -> HttpResponse:
    petition = public_petition(slug)
    url = petition_url(petition)
    response = HttpResponse(qr_svg(url, url), content_type="image/svg+xml")
    response["Cache-Control"] = QR_CACHE
    response["Content-Disposition"] = f'inline; filename="{petition.slug}-qr.svg"'
    return response


def share_paths(petition: Petition) -> dict[str, str]:
    """Absolute addresses of this app's pages for one petition."""
    return {
        name: settings.SITE_URL + reverse(f"sharing:{name}", args=[petition.slug])
        for name in ("badge", "embed", "og", "qr")
    }
