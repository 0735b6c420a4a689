from collections import OrderedDict

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from undersigned.petitions.models import Petition
from undersigned.petitions.services import counts, counts_by_region
from undersigned.signing.forms import SignForm
from undersigned.signing.models import Signature

PUBLIC = ~Q(status=Petition.Status.DRAFT)
NAMES_ON_PAGE = 500


def home(request: HttpRequest) -> HttpResponse:
    petitions = list(Petition.objects.filter(status=Petition.Status.OPEN)[:50])
    rows = []
    for petition in petitions:
        verified, awaiting = counts(petition)
        rows.append((petition, petition.published_version(), verified, awaiting))
    return render(request, "petitions/home.html", {"rows": rows})


def public_signatures(petition: Petition) -> "list[Signature]":
    return list(
        Signature.objects.filter(petition=petition, state=Signature.State.VERIFIED, show_name=True)
        .select_related("register_entry")
        .only(
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
        .order_by("-is_founder", "verified_at", "id")[:NAMES_ON_PAGE]
    )


def group_by_place(
    signatures: "list[Signature]",
) -> "OrderedDict[str, OrderedDict[str, list[Signature]]]":
    grouped: OrderedDict[str, OrderedDict[str, list[Signature]]] = OrderedDict()
    for signature in sorted(signatures, key=lambda s: (s.place(), s.full_name.casefold())):
        region, municipality = signature.place()
        grouped.setdefault(region, OrderedDict()).setdefault(municipality, []).append(signature)
    return grouped


def petition_page(
    request: HttpRequest, petition: Petition, *, form: SignForm | None = None, status: int = 200
) -> HttpResponse:
    verified, awaiting = counts(petition)
    version = petition.published_version() or petition.current_version()
    names = public_signatures(petition)
    regions = counts_by_region(petition)
    thresholds = [
        {"target": t, "reached": verified >= t, "percent": min(100, verified * 100 // t)}
        for t in sorted(petition.thresholds)
        if isinstance(t, int) and t > 0
    ]
    context = {
        "petition": petition,
        "version": version,
        "verified": verified,
        "awaiting": awaiting,
        "thresholds": thresholds,
        "regions": regions,
        "has_places": any(
            r.region or any(m.municipality for m in r.municipalities) for r in regions
        ),
        "grouped": group_by_place(names),
        "names_truncated": len(names) >= NAMES_ON_PAGE,
        "form": form or SignForm(petition=petition),
        "corrections": petition.versions.filter(published_at__isnull=False, number__gt=1),
    }
    return render(request, "petitions/petition.html", context, status=status)


def petition(request: HttpRequest, slug: str) -> HttpResponse:
    return petition_page(request, get_object_or_404(Petition.objects.filter(PUBLIC), slug=slug))


PAGE_SIZE = 200


def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    """All shown signatories, a page at a time by id (no COUNT, no deep OFFSET)."""
    petition = get_object_or_404(Petition.objects.filter(PUBLIC), slug=slug)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    rows = list(
        Signature.objects.filter(
            petition=petition, state=Signature.State.VERIFIED, show_name=True, id__gt=after
        )
        .select_related("register_entry")
        .order_by("id")[: PAGE_SIZE + 1]
    )
    next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    context = {
        "petition": petition,
        "version": petition.published_version(),
        "rows": rows[:PAGE_SIZE],
        "next_after": next_after,
        "first_page": after == 0,
    }
    return render(request, "petitions/signatories.html", context)
