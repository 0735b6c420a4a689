from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from undersigned.abuse import limits
from undersigned.abuse.sources import source_of
from undersigned.petitions.models import Petition
from undersigned.petitions.pages import (
    LANGUAGE_PARAMETER,
    cached_public_petition,
    petition_page,
    public_petition,
)
from undersigned.petitions.rejected import rejected_page
from undersigned.petitions.texts import read_texts, register_terms
from undersigned.registers.matching import name_found
from undersigned.signing.models import Signature


def petition(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        found = cached_public_petition(slug)
    except Http404:
        # A rejected submission has a page of its own (petitions/rejected.py).
        rejected = Petition.objects.rejected().filter(slug=slug).first()
        if rejected is None:
            raise
        return rejected_page(request, rejected)
    return petition_page(request, found)


PAGE_SIZE = 200
# Names are sealed at rest, so a search decrypts and compares them here, in
# Python; one request reads at most this many and offers to search on.
SEARCH_SCAN_LIMIT = 20_000


def _search(
    shown: QuerySet[Signature], query: str, after: int
) -> tuple[list[Signature], int | None, bool]:
    """(matches, where the next page starts, whether the scan stopped at its limit)."""
    # Only ids and names are read while scanning (building whole rows costs five
    # times more); the page's rows are then read for the matches alone.
    names = shown.filter(id__gt=after).order_by("id").values_list("id", "full_name")
    found: list[int] = []
    scanned = last_id = 0
    for pk, full_name in names[:SEARCH_SCAN_LIMIT].iterator(chunk_size=2000):
        scanned += 1
        last_id = pk
        if name_found(query, full_name):
            found.append(pk)
            if len(found) > PAGE_SIZE:
                break
    next_after, truncated = None, False
    if len(found) > PAGE_SIZE:
        next_after = found[PAGE_SIZE - 1]
    elif scanned == SEARCH_SCAN_LIMIT:
        next_after, truncated = last_id, True
    return list(shown.filter(id__in=found[:PAGE_SIZE]).order_by("id")), next_after, truncated


def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    """All shown signatories, a page at a time by id (no COUNT, no deep OFFSET).

    `?q=` finds names in any script or transliteration ("Ксения Линдстрем"
    for "Kseniya Lindstrem"), by the keys register matching compares.
    """
    petition = public_petition(slug)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    query = " ".join(request.GET.get("q", "").split())[:120]
    shown = (
        Signature.objects.filter(petition=petition, state=Signature.State.VERIFIED, show_name=True)
        .select_related("register_entry")
        # Only what the page shows: every sealed column loaded is one more decryption.
        .only(
            "full_name",
            "role",
            "municipality",
            "region",
            "register_entry",
            "register_entry__region",
            "register_entry__municipality",
        )
    )
    truncated, limited, retry_after = False, "", 0
    rows: list[Signature] = []
    next_after: int | None = None
    if query:
        try:
            # Anonymous, and each search opens up to SEARCH_SCAN_LIMIT sealed names.
            limits.check_search(source_of(request, "").client_hash)
        except limits.RateLimited as exc:
            limited, retry_after = str(exc), exc.retry_after
        else:
            rows, next_after, truncated = _search(shown, query, after)
    else:
        rows = list(shown.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    context = {
        "petition": petition,
        # The title in the reader's language, as the petition's page shows it.
        "version": read_texts(petition).for_reader(
            request.GET.get(LANGUAGE_PARAMETER), translation.get_language()
        ),
        "terms": register_terms(petition),
        "rows": rows[:PAGE_SIZE],
        "next_after": next_after,
        "first_page": after == 0,
        "query": query,
        "truncated": truncated,
        "scan_limit": SEARCH_SCAN_LIMIT,
        "limited": limited,
    }
    if limited:
        response = render(request, "petitions/signatories.html", context, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    return render(request, "petitions/signatories.html", context)
