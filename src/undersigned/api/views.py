"""The public JSON API. Counts come from tallies, like the pages."""

from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Schema

from undersigned.petitions.models import Petition
from undersigned.petitions.services import counts, counts_by_region

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


class PetitionOut(PetitionSummaryOut):
    organiser: str
    text_sha256: str
    thresholds: list[int]
    register_name: str | None
    counts_by_region: list[RegionCountOut]


def _summary(request: HttpRequest, petition: Petition) -> dict[str, object]:
    version = petition.published_version() or petition.current_version()
    verified, awaiting = counts(petition)
    return {
        "slug": petition.slug,
        "title": version.title,
        "kind": petition.kind,
        "status": petition.status,
        "audience": petition.audience,
        "language": version.language,
        "url": request.build_absolute_uri(petition.get_absolute_url()),
        "verified_count": verified,
        "awaiting_count": awaiting,
        "text_version": version.number,
        "opened_at": petition.opened_at,
        "closed_at": petition.closed_at,
        "deadline": petition.deadline,
    }


PUBLIC = Petition.objects.exclude(status=Petition.Status.DRAFT).select_related("register")


@api.get("/petitions", response=list[PetitionSummaryOut], summary="List public petitions")
def list_petitions(request: HttpRequest) -> list[dict[str, object]]:
    return [_summary(request, p) for p in PUBLIC.order_by("-opened_at", "slug")]


@api.get("/petitions/{slug}", response=PetitionOut, summary="One petition with its counts")
def get_petition(request: HttpRequest, slug: str) -> dict[str, object]:
    petition = PUBLIC.filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition")
    version = petition.published_version() or petition.current_version()
    return {
        **_summary(request, petition),
        "organiser": petition.organiser_name,
        "text_sha256": version.sha256,
        "thresholds": petition.thresholds,
        "register_name": petition.register.name if petition.register else None,
        "counts_by_region": counts_by_region(petition),
    }
