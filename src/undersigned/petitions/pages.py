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
    MunicipalityCount,
    PlaceCounts,
    RegionCount,
    register_cache,
    small_cell_threshold,
)
from undersigned.petitions.standing import Standing, current
from undersigned.petitions.steps import Answers, logged, read_answers, where
from undersigned.petitions.texts import (
    Texts,
    cached_texts,
    register_terms,
    translated_from,
)
from undersigned.registers.terms import Terms
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
    signatures: "list[Signature]", terms: Terms | None = None
) -> "OrderedDict[str, OrderedDict[str, list[Signature]]]":
    """By region, then municipality, in the order of their names as the page shows them
    (`terms`: the register's words in the page's language)."""

    def order(s: Signature) -> tuple[str, str, str]:
        region, municipality = s.place()
        if terms is not None:
            region, municipality = terms.region(region), terms.municipality(municipality)
        return region.casefold(), municipality.casefold(), s.full_name.casefold()

    grouped: OrderedDict[str, OrderedDict[str, list[Signature]]] = OrderedDict()
    for signature in sorted(signatures, key=order):
        region, municipality = signature.place()
        grouped.setdefault(region, OrderedDict()).setdefault(municipality, []).append(signature)
    return grouped


_serials = itertools.count()


@dataclass(frozen=True)
class PageParts:
    """What the petition page shows that is the same for every visitor, but its counts."""

    version: TextVersion
    texts: Texts  # every language's text, for the switch between them
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


# Keyed by language too: the lists and the form are rendered in the visitor's,
# and the parts by the language of the text shown as well (a Russian reader
# may read the English translation). The names are kept by age, as before;
# the counts per Standing, so that the page never shows older counts than the
# count JSON served (the names change less often and cost most to render).
_pages: FreshCache[tuple[int, str, str], PageParts] = register_cache(FreshCache())
_page_counts: FreshCache[tuple[int, str], PageCounts] = register_cache(FreshCache())


def _has_places(places: PlaceCounts) -> bool:
    return places.unplaced > 0 or any(
        r.region or any(m.municipality for m in r.municipalities) for r in places.regions
    )


def read_page_parts(
    petition: Petition, places: PlaceCounts, version: TextVersion, texts: Texts
) -> PageParts:
    names = public_signatures(petition)
    terms = register_terms(petition)
    # The corrections of the text shown: its language's later versions.
    in_language = petition.versions.filter(published_at__isnull=False, language=version.language)
    return PageParts(
        version=version,
        texts=texts,
        names=render_to_string(
            "petitions/_lists.html",
            {
                "part": "names",
                "petition": petition,
                "terms": terms,
                "has_places": _has_places(places),
                "grouped": group_by_place(names, terms),
                "names_truncated": len(names) >= NAMES_ON_PAGE,
            },
        ),
        blank_form=render_to_string(
            "petitions/_form_fields.html", {"form": SignForm(petition=petition)}
        ),
        corrections=list(in_language.order_by("number"))[1:],
        answers=read_answers(petition),
    )


def in_shown_order(regions: list[RegionCount], terms: Terms | None) -> list[RegionCount]:
    """The regions, biggest first, and their municipalities, in the order of the names
    the page shows (the register's words in its language) rather than the stored ones."""
    if terms is None:
        return regions
    shown = terms

    def municipalities(r: RegionCount) -> list[MunicipalityCount]:
        return sorted(r.municipalities, key=lambda m: shown.municipality(m.municipality).casefold())

    return sorted(
        (RegionCount(r.region, r.verified, municipalities(r)) for r in regions),
        key=lambda r: (-r.verified, shown.region(r.region).casefold()),
    )


def read_page_counts(petition: Petition, standing: Standing) -> PageCounts:
    places, verified = standing.places, standing.verified
    terms = register_terms(petition)
    regions = render_to_string(
        "petitions/_lists.html",
        {
            "part": "regions",
            "petition": petition,
            "terms": terms,
            "regions": in_shown_order(places.regions, terms),
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


def _shell_key(request: HttpRequest, shared_query: str = "") -> tuple[str, ...] | None:
    """Which page-for-everyone fits this request, or None if it needs its own.

    Without a session cookie the visitor is anonymous and has no pending
    messages in the session; without a messages cookie, none there either.
    A query string could change what the page shows, so it is never shared,
    but for `shared_query` (the switch's "lang=ru", which the parts' key
    already holds: the text shown is in that language).
    """
    if (
        settings.SESSION_COOKIE_NAME in request.COOKIES
        or CookieStorage.cookie_name in request.COOKIES
        or request.META.get("QUERY_STRING", "") not in ("", shared_query)
    ):
        return None
    return (
        request.scheme or "",
        request.get_host(),
        request.path,
        timezone.get_current_timezone_name() or "",
    )


LANGUAGE_PARAMETER = "lang"


def petition_page(
    request: HttpRequest,
    petition: Petition,
    *,
    form: SignForm | None = None,
    status: int = 200,
    text_language: str | None = None,
) -> HttpResponse:
    """The page, in the visitor's language, with the text in `text_language` (a refused
    form: the one its signer read), else the language ?lang= asks for, else the
    visitor's if there is a text in it, else the original."""
    # Rendering 500 names (and even the form's fields) costs far more than the
    # rest of the page, so the parts every visitor sees alike are read and
    # rendered once per COUNT_CACHE_SECONDS per process. The CSRF token and a
    # form with errors are rendered per request.
    interface = translation.get_language() or settings.LANGUAGE_CODE
    key = (petition.pk, interface)
    texts = cached_texts(petition)
    if text_language is None and form is not None:
        text_language = form.read_language  # the text the refused signer read
    asked = text_language or request.GET.get(LANGUAGE_PARAMETER)
    version = texts.for_reader(asked, interface)
    standing = current(petition)
    counted = _page_counts.get(
        key, lambda: read_page_counts(petition, standing), order=standing.order
    )
    parts = _pages.get(
        (*key, version.language),
        lambda: read_page_parts(petition, standing.places, version, texts),
    )
    shared_query = f"{LANGUAGE_PARAMETER}={version.language}" if asked == version.language else ""
    shell_key = _shell_key(request, shared_query) if form is None and status == 200 else None
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
    version, original = parts.version, parts.texts.original
    terms = register_terms(petition)
    return {
        "petition": petition,
        # The other languages' texts, to switch to, and where the shown one came from.
        "texts": parts.texts.versions if len(parts.texts.versions) > 1 else (),
        "original": original,
        "translated_from": ""
        if version.language == original.language
        else translated_from(original.language),
        "register_name": terms.name if terms is not None else "",
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


def cached_public_petition(slug: str) -> Petition:
    """A public petition as the page shows it, at most COUNT_CACHE_SECONDS old; 404 if none.

    Shared between threads: callers must not change it.
    """
    return _petitions.get(slug, lambda: public_petition(slug))


def cached_signed_text(petition: Petition, language: str | None = None) -> TextVersion:
    """The text a reader of `language` is shown (the original if none is in it)."""
    return cached_texts(petition).for_reader(language)
