"""The petition page as every visitor sees it alike, and the cached reads it is made of.

Not a view module: the signing views show this page again around a refused
form, and sharing reads the same petition, so they take them from here
rather than from petitions' views (.importlinter: no app imports another
app's views).
"""

import itertools
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from undersigned.abuse import formtime
from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.services import (
    FreshCache,
    PlaceCounts,
    register_cache,
    small_cell_threshold,
)
from undersigned.petitions.standing import Standing, current
from undersigned.petitions.steps import Answers, logged, read_answers, where
from undersigned.signing.forms import SignForm
from undersigned.signing.models import Signature

NAMES_ON_PAGE = 500


def public_signatures(petition: Petition) -> "list[Signature]":
    """The names on the page: founders first, then the earliest verified.

    Both reads stay small at ten million signatures. The earliest come from
    the index on (petition, state, verified_at) and stop after a page. The
    founders are found through the index on added_by (an organiser adds each
    founder): the petition is compared as `petition_id + 0` so that no planner
    prefers the petition's big index and scans every verified row for them.
    A founder whose adding user was later deleted is listed by date instead.
    """
    fields = (
        "full_name",
        "role",
        "municipality",
        "region",
        "register_entry",
        "is_founder",
        "verified_at",
        "register_entry__region",
        "register_entry__municipality",
    )
    founders = sorted(
        (
            s
            for s in Signature.objects.alias(on=F("petition_id") + 0)
            .filter(on=petition.pk, added_by__gt=0)
            .select_related("register_entry")
            .only("state", "show_name", "added_by", *fields)
            if s.state == Signature.State.VERIFIED and s.show_name and s.is_founder
        ),
        key=lambda s: (s.verified_at, s.pk),
    )[:NAMES_ON_PAGE]
    earliest = (
        Signature.objects.filter(petition=petition, state=Signature.State.VERIFIED, show_name=True)
        .select_related("register_entry")
        .only(*fields)
        .order_by("verified_at", "id")[: NAMES_ON_PAGE + len(founders)]
    )
    listed = {s.pk for s in founders}
    return [*founders, *(s for s in earliest if s.pk not in listed)][:NAMES_ON_PAGE]


def group_by_place(
    signatures: "list[Signature]",
) -> "OrderedDict[str, OrderedDict[str, list[Signature]]]":
    grouped: OrderedDict[str, OrderedDict[str, list[Signature]]] = OrderedDict()
    for signature in sorted(signatures, key=lambda s: (s.place(), s.full_name.casefold())):
        region, municipality = signature.place()
        grouped.setdefault(region, OrderedDict()).setdefault(municipality, []).append(signature)
    return grouped


_serials = itertools.count()


@dataclass(frozen=True)
class PageParts:
    """What the petition page shows that is the same for every visitor, but its counts."""

    version: TextVersion
    names: SafeString  # the names, rendered
    blank_form: SafeString  # the sign form's fields before anyone has typed anything
    corrections: list[TextVersion]
    # The steps recorded, the response and the outcomes (petitions/steps.py).
    answers: Answers
    # Tells this copy from the next one (whole pages are kept per pair of copies).
    serial: int = field(default_factory=lambda: next(_serials), compare=False)


@dataclass(frozen=True)
class PageCounts:
    """The page's counts, all from one Standing (petitions.standing), rendered."""

    standing: Standing
    thresholds: list[dict[str, Any]]
    regions: SafeString  # the regions table, rendered
    # Whole pages for visitors without a session, rendered from these counts
    # and a copy of the parts (so exactly as old as they are), keyed by
    # (the parts' serial, _shell_key()).
    shells: dict[tuple[Any, ...], str] = field(default_factory=dict, compare=False)


# Keyed by language too: the lists and the form are rendered in the visitor's.
# The names are kept by age, as before; the counts per Standing, so that the
# page never shows older counts than the count JSON served (the names
# change less often and cost most to render).
_pages: FreshCache[tuple[int, str], PageParts] = register_cache(FreshCache())
_page_counts: FreshCache[tuple[int, str], PageCounts] = register_cache(FreshCache())


def _has_places(places: PlaceCounts) -> bool:
    return places.unplaced > 0 or any(
        r.region or any(m.municipality for m in r.municipalities) for r in places.regions
    )


def read_page_parts(petition: Petition, places: PlaceCounts) -> PageParts:
    version = cached_signed_text(petition)
    names = public_signatures(petition)
    return PageParts(
        version=version,
        names=render_to_string(
            "petitions/_lists.html",
            {
                "part": "names",
                "petition": petition,
                "has_places": _has_places(places),
                "grouped": group_by_place(names),
                "names_truncated": len(names) >= NAMES_ON_PAGE,
            },
        ),
        blank_form=render_to_string(
            "petitions/_form_fields.html", {"form": SignForm(petition=petition)}
        ),
        corrections=list(petition.versions.filter(published_at__isnull=False, number__gt=1)),
        answers=read_answers(petition),
    )


def read_page_counts(petition: Petition, standing: Standing) -> PageCounts:
    places, verified = standing.places, standing.verified
    regions = render_to_string(
        "petitions/_lists.html",
        {
            "part": "regions",
            "petition": petition,
            "regions": places.regions,
            "unplaced": places.unplaced,
            "small_cell_threshold": small_cell_threshold(),
            "has_places": _has_places(places),
        },
    )
    return PageCounts(
        standing=standing,
        thresholds=[
            {"target": t, "reached": verified >= t, "percent": min(100, verified * 100 // t)}
            for t in sorted(petition.thresholds)
            if isinstance(t, int) and t > 0
        ],
        regions=regions,
    )


# Stands for the visitor's CSRF token in a page rendered for everyone; the
# real token replaces it per request. Random per process, so no text a
# petition could contain is ever mistaken for it.
CSRF_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"
# The same for the sign form's stamp of when it was rendered (abuse/formtime.py).
FORM_STAMP_PLACEHOLDER = f"form-stamp-placeholder-{secrets.token_hex(16)}"
MAX_SHELLS_PER_COPY = 16


def _shell_key(request: HttpRequest) -> tuple[str, ...] | None:
    """Which page-for-everyone fits this request, or None if it needs its own.

    Without a session cookie the visitor is anonymous and has no pending
    messages in the session; without a messages cookie, none there either.
    A query string could change what the page shows, so it is never shared.
    """
    if (
        settings.SESSION_COOKIE_NAME in request.COOKIES
        or CookieStorage.cookie_name in request.COOKIES
        or request.META.get("QUERY_STRING")
    ):
        return None
    return (
        request.scheme or "",
        request.get_host(),
        request.path,
        timezone.get_current_timezone_name() or "",
    )


def petition_page(
    request: HttpRequest, petition: Petition, *, form: SignForm | None = None, status: int = 200
) -> HttpResponse:
    # Rendering 500 names (and even the form's fields) costs far more than the
    # rest of the page, so the parts every visitor sees alike are read and
    # rendered once per COUNT_CACHE_SECONDS per process. The CSRF token and a
    # form with errors are rendered per request.
    key = (petition.pk, translation.get_language() or settings.LANGUAGE_CODE)
    standing = current(petition)
    counted = _page_counts.get(
        key, lambda: read_page_counts(petition, standing), order=standing.order
    )
    parts = _pages.get(key, lambda: read_page_parts(petition, standing.places))
    shell_key = _shell_key(request) if form is None and status == 200 else None
    if shell_key is not None:
        # A surge is anonymous visitors reading one page: the whole page is
        # rendered once per copy of the parts and the counts, and only the
        # token is per visitor.
        shells = counted.shells
        shell = shells.get((parts.serial, *shell_key))
        if shell is None:
            context = _page_context(petition, parts, counted, None)
            context["csrf_token"] = CSRF_PLACEHOLDER
            context["form_stamp"] = FORM_STAMP_PLACEHOLDER
            shell = render_to_string("petitions/petition.html", context, request)
            if len(shells) >= MAX_SHELLS_PER_COPY:
                shells.clear()  # mostly pages of copies of the parts no longer served
            shells[(parts.serial, *shell_key)] = shell
        page = shell.replace(CSRF_PLACEHOLDER, get_token(request))
        return HttpResponse(page.replace(FORM_STAMP_PLACEHOLDER, formtime.stamp()))
    context = _page_context(petition, parts, counted, form)
    return render(request, "petitions/petition.html", context, status=status)


def _page_context(
    petition: Petition, parts: PageParts, counted: PageCounts, form: SignForm | None
) -> dict[str, Any]:
    standing = counted.standing
    answers = parts.answers
    return {
        "petition": petition,
        # Where it stands: the steps from the same counts as the rest of the page.
        "progress": where(petition, standing.verified, answers),
        "response": answers.response,
        "response_logged": logged(answers.response) if answers.response else None,
        "outcomes": [(o, logged(o)) for o in answers.outcomes],
        "version": parts.version,
        "verified": standing.verified,
        "awaiting": standing.awaiting,
        "paper": standing.paper,  # of `verified`, entered from paper sheets
        # Which signed checkpoint of the public log the counts agree with.
        "log_size": standing.log_size,
        "checkpoint_time": standing.checkpoint_time,
        "log_verified": standing.log_verified,
        "log_url": f"{reverse('log')}?petition={quote(petition.slug)}",
        "thresholds": counted.thresholds,
        # Both parts are render_to_string output of autoescaped templates.
        "lists": SafeString(counted.regions + parts.names),  # nosec B703
        "form": form,
        "blank_form": "" if form is not None else parts.blank_form,
        "form_stamp": formtime.stamp(),
        "corrections": parts.corrections,
    }


def public_petition(slug: str) -> Petition:
    """A petition anyone may see, by slug, read now; 404 for drafts and unknown slugs."""
    return get_object_or_404(Petition.objects.public(), slug=slug)


# The petition itself, by slug, kept like the parts (a 404 is never kept).
_petitions: FreshCache[str, Petition] = register_cache(FreshCache())
# The text a signer is shown and signs, per petition.
_signed_texts: FreshCache[int, TextVersion] = register_cache(FreshCache())


def cached_public_petition(slug: str) -> Petition:
    """A public petition as the page shows it, at most COUNT_CACHE_SECONDS old; 404 if none.

    Shared between threads: callers must not change it.
    """
    return _petitions.get(slug, lambda: public_petition(slug))


def cached_signed_text(petition: Petition) -> TextVersion:
    """The text the page shows and the sign form records, from one copy at most
    COUNT_CACHE_SECONDS old: a correction reaches both together."""
    return _signed_texts.get(petition.pk, petition.shown_version)
