"""The public JSON API. Counts come from tallies, like the pages."""

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema

from undersigned.petitions.models import Petition
from undersigned.petitions.services import FreshCache, register_cache
from undersigned.petitions.standing import Standing, current, current_many

api = NinjaAPI(
    title="Undersigned API",
    version="1",
    description="Read-only data about petitions and their verified tallies.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


class MunicipalityCountOut(Schema):
    municipality: str
    verified: int


class RegionCountOut(Schema):
    region: str
    verified: int
    municipalities: list[MunicipalityCountOut]


class PetitionSummaryOut(Schema):
    slug: str
    title: str
    kind: str
    status: str
    audience: str
    language: str
    url: str
    verified_count: int
    awaiting_count: int
    text_version: int
    opened_at: datetime | None
    closed_at: datetime | None
    deadline: datetime | None
    log_size: int = Field(
        description=(
            "The size of the public log's latest signed checkpoint when these counts were "
            "read (0: none yet). log_verified_count is exactly what the log's entries "
            "0 to log_size - 1 give for this petition (docs/auditing.md)."
        )
    )
    checkpoint_time: datetime | None = Field(
        description="When the checkpoint of log_size entries was signed (ISO 8601)."
    )
    log_verified_count: int = Field(
        description=(
            "Verified signatures of this petition in the checkpoint of log_size entries. "
            "verified_count is the live count: it runs ahead of this by the signatures "
            "verified (less those withdrawn or invalidated) since, which the next "
            "checkpoint, seconds later, includes."
        )
    )


class PetitionOut(PetitionSummaryOut):
    organiser: str
    text_sha256: str
    thresholds: list[int]
    register_name: str | None
    counts_by_region: list[RegionCountOut]
    verified_unplaced: int = Field(
        description=(
            "Verified signers counted without their name who are in no region's count: "
            "their place has too few of them to be shown without pointing at someone "
            "(docs/security.md, Small cells). The regions' counts and this add up to "
            "verified_count."
        )
    )


def _public_fields(petition: Petition, standing: Standing) -> dict[str, object]:
    version = petition.shown_version()
    return {
        "slug": petition.slug,
        "title": version.title,
        "kind": petition.kind,
        "status": petition.status,
        "audience": petition.audience,
        "language": version.language,
        "verified_count": standing.verified,
        "awaiting_count": standing.awaiting,
        "text_version": version.number,
        "opened_at": petition.opened_at,
        "closed_at": petition.closed_at,
        "deadline": petition.deadline,
        "log_size": standing.log_size,
        "checkpoint_time": standing.checkpoint_time,
        "log_verified_count": standing.log_verified,
    }


def _summary(request: HttpRequest, petition: Petition, standing: Standing) -> dict[str, object]:
    return {
        **_public_fields(petition, standing),
        "url": request.build_absolute_uri(petition.get_absolute_url()),
    }


PUBLIC = Petition.objects.public().select_related("register")


@api.get("/petitions", response=list[PetitionSummaryOut], summary="List public petitions")
def list_petitions(request: HttpRequest) -> list[dict[str, object]]:
    petitions = list(PUBLIC.order_by("-opened_at", "slug"))
    standings = current_many(petitions)
    return [_summary(request, p, standings[p.pk]) for p in petitions]


def _find_petition(slug: str) -> Petition:
    petition = PUBLIC.filter(slug=slug).first()
    if petition is None:
        # Raised through the cache, so unknown names are never kept: nobody
        # can fill memory by asking for made-up slugs.
        raise Http404("no such petition")
    return petition


def _read_petition(petition: Petition, standing: Standing) -> dict[str, object]:
    version = petition.shown_version()
    places = standing.places
    return {
        **_public_fields(petition, standing),
        "path": petition.get_absolute_url(),
        "organiser": petition.organiser_name,
        "text_sha256": version.sha256,
        "thresholds": petition.thresholds,
        "register_name": petition.register.name if petition.register else None,
        "counts_by_region": places.regions,
        "verified_unplaced": places.unplaced,
    }


def _render_petition(request: HttpRequest, petition: Petition, standing: Standing) -> str:
    data = _read_petition(petition, standing)
    data["url"] = request.build_absolute_uri(str(data.pop("path")))
    body = PetitionOut.model_validate(data).model_dump()
    rendered: str = api.renderer.render(request, body, response_status=200)
    return rendered


# The count a shared link sends everyone to. The finished JSON is kept per
# process (see petitions.services.FreshCache): checking and encoding a few
# hundred places against the schema costs more than the rest of the request.
# It is kept for half of COUNT_CACHE_SECONDS, because live pages and embeds
# poll it for the newest count and a refresh is a few milliseconds; under a
# surge, each request's own wait comes on top of a copy's age, and the whole
# must stay within the second (docs/performance.md, freshness). It is keyed
# by the address the request used for the site, since the answer names it
# (ALLOWED_HOSTS bounds those). The counts in it are the petition's Standing
# (petitions.standing), which no process serves older than any other has.
_details: FreshCache[tuple[str, str], str] = register_cache(FreshCache(share=0.5))
# The petition row it is rendered from, by slug.
_petitions: FreshCache[str, Petition] = register_cache(FreshCache(share=0.5))


class ErrorOut(Schema):
    detail: str


@api.get(
    "/petitions/{slug}",
    response={200: PetitionOut, 404: ErrorOut},
    summary="One petition with its counts",
)
def get_petition(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petitions.get(slug, lambda: _find_petition(slug))
    standing = current(petition)
    key = (slug, request.build_absolute_uri("/"))
    body = _details.get(
        key, lambda: _render_petition(request, petition, standing), order=standing.order
    )
    return HttpResponse(body, content_type=api.get_content_type())


class HourOut(Schema):
    hour: datetime
    verified: int
    removed: int
    awaiting: int


class TimelineOut(Schema):
    slug: str
    as_of: datetime
    awaiting_complete: bool
    hours: list[HourOut]


@api.get(
    "/petitions/{slug}/timeline",
    response={200: TimelineOut, 404: ErrorOut},
    summary="Signatures per UTC hour: verified and removed (from the public log), awaiting",
)
def get_timeline(request: HttpRequest, slug: str) -> dict[str, object]:
    from undersigned.sharing.services import timeline

    petition = PUBLIC.filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition")
    found = timeline(petition)
    return {
        "slug": petition.slug,
        "as_of": found.as_of,
        "awaiting_complete": found.awaiting_shown,
        "hours": [
            {"hour": h.hour, "verified": h.verified, "removed": h.removed, "awaiting": h.awaiting}
            for h in found.hours
        ],
    }


class SignatoryOut(Schema):
    log_index: int
    time: str
    name: str
    role: str
    municipality: str
    region: str
    text_sha256: str


class SignatoriesOut(Schema):
    slug: str
    log_size: int
    signatories: list[SignatoryOut]
    next_after: int | None


SIGNATORIES_PAGE = 500


class InvalidOut(Schema):
    """A parameter that is not what the schema says (e.g. after=abc)."""

    detail: list[dict[str, Any]]


@api.get(
    "/petitions/{slug}/signatories",
    response={200: SignatoriesOut, 404: ErrorOut, 422: InvalidOut},
    summary="Verified signatories who chose to be shown, from the public log, in pages",
)
def get_signatories(request: HttpRequest, slug: str, after: int = -1) -> dict[str, object]:
    from undersigned.api.exports import shown_signatories
    from undersigned.ledger.services import latest_checkpoint

    petition = PUBLIC.filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition")
    checkpoint = latest_checkpoint()
    size = checkpoint.size if checkpoint else 0
    rows = []
    for index, entry in shown_signatories(petition, size, after=max(after, -1)):
        signer = entry.signer or {}
        rows.append(
            {
                "log_index": index,
                "time": entry.time,
                "name": signer["name"],
                "role": signer["role"],
                "municipality": signer["municipality"],
                "region": signer["region"],
                "text_sha256": entry.text,
            }
        )
        if len(rows) > SIGNATORIES_PAGE:
            break
    more = len(rows) > SIGNATORIES_PAGE
    rows = rows[:SIGNATORIES_PAGE]
    return {
        "slug": petition.slug,
        "log_size": size,
        "signatories": rows,
        "next_after": rows[-1]["log_index"] if more else None,
    }
