"""The public JSON API. Counts come from tallies, like the pages."""

from datetime import date, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.params.functions import Query as NinjaQuery

from undersigned.api.throttle import too_many
from undersigned.petitions import listing
from undersigned.petitions.models import Petition
from undersigned.petitions.services import FreshCache, register_cache
from undersigned.petitions.standing import Standing, current
from undersigned.petitions.steps import logged, read_answers, where

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
    paper_count: int = Field(
        description=(
            "Of verified_count, the signatures a moderator entered from paper sheets "
            '(the page\'s "of which N on paper"). The log marks each of them '
            '"channel": "paper" (docs/log-format.md).'
        )
    )
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
    log_paper_count: int = Field(
        description=(
            "Of log_verified_count, the signatures entered from paper sheets: exactly the "
            'log\'s entries 0 to log_size - 1 marked "channel": "paper" that no '
            "withdrawal or invalidation among them names. paper_count is the live figure."
        )
    )


class StepOut(Schema):
    step: str = Field(
        description="response: the addressee is asked to respond; debate: "
        "it is considered for a debate"
    )
    threshold: int
    reached: bool
    reached_at: datetime | None = Field(description="When the site first saw it reached.")


class AnswerLogOut(Schema):
    log_index: int | None = Field(
        description="Its entry in the public log (null for the seconds until it is sequenced)."
    )
    log_count: int | None = Field(
        description=(
            "The petition's verified count in the log just before that entry, which the "
            "entry carries and `undersigned verify` recomputes (docs/log-format.md, Answers)."
        )
    )
    verified_count: int = Field(description="The live verified count when it was published.")
    published_at: datetime
    sha256: str = Field(description="SHA-256 of the document, as the log entry has it.")


class ResponseOut(AnswerLogOut):
    answered_by: str
    responded_on: date
    text: str


class OutcomeOut(AnswerLogOut):
    kind: str = Field(description="debate_scheduled or debated")
    date: date
    link: str
    note: str


class TextOut(Schema):
    language: str
    version: int = Field(description="The text version's number (unique per petition).")
    title: str
    sha256: str = Field(
        description=(
            "SHA-256 of title, language and body (docs/log-format.md): what the log's "
            "entries of the signatures of this text name as their `text`."
        )
    )
    original: bool = Field(description="Whether this is the original; the others translate it.")
    url: str = Field(description="The petition's page showing this text.")


class PetitionOut(PetitionSummaryOut):
    organiser: str
    addressee: str = Field(description="Whom the petition or letter is addressed to.")
    state: str = Field(
        description=(
            "Where it stands: awaiting_response, responded, debate_scheduled, debated, "
            "or empty while it only gathers signatures."
        )
    )
    steps: list[StepOut]
    response: ResponseOut | None
    outcomes: list[OutcomeOut]
    text_sha256: str
    texts: list[TextOut] = Field(
        description=(
            "The current text in each language it is published in, the original first: a "
            "translation is a text version of its own. title, language, text_version and "
            "text_sha256 above are the original's."
        )
    )
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
        "paper_count": standing.paper,
        "text_version": version.number,
        "opened_at": petition.opened_at,
        "closed_at": petition.closed_at,
        "deadline": petition.deadline,
        "log_size": standing.log_size,
        "checkpoint_time": standing.checkpoint_time,
        "log_verified_count": standing.log_verified,
        "log_paper_count": standing.log_paper,
    }


PUBLIC = Petition.objects.public().select_related("register")


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
        "texts": [
            {
                "language": text.language,
                "version": text.number,
                "title": text.title,
                "sha256": text.sha256,
                "original": n == 0,
                "path": f"{petition.get_absolute_url()}?{urlencode({'lang': text.language})}",
            }
            for n, text in enumerate(petition.latest_texts())
        ],
        "thresholds": petition.thresholds,
        "register_name": petition.register.name if petition.register else None,
        "counts_by_region": places.regions,
        "verified_unplaced": places.unplaced,
        **_answers(petition, standing),
    }


def _logged_fields(answer: Any) -> dict[str, object]:
    found = logged(answer)
    return {
        "log_index": found.index if found else None,
        "log_count": found.count if found else None,
        "verified_count": answer.verified,
        "published_at": answer.published_at,
        "sha256": answer.sha256,
    }


def _answers(petition: Petition, standing: Standing) -> dict[str, object]:
    answers = read_answers(petition)
    progress = where(petition, standing.verified, answers)
    response = answers.response
    return {
        "addressee": petition.addressee,
        "state": progress.state,
        "steps": [
            {
                "step": s.step,
                "threshold": s.threshold,
                "reached": s.reached,
                "reached_at": s.reached_at,
            }
            for s in progress.steps
        ],
        "response": None
        if response is None
        else {
            **_logged_fields(response),
            "answered_by": response.answered_by,
            "responded_on": response.responded_on,
            "text": response.text,
        },
        "outcomes": [
            {
                **_logged_fields(o),
                "kind": o.kind,
                "date": o.happens_on,
                "link": o.link,
                "note": o.note,
            }
            for o in answers.outcomes
        ],
    }


def _render_petition(request: HttpRequest, petition: Petition, standing: Standing) -> str:
    data = _read_petition(petition, standing)
    data["url"] = request.build_absolute_uri(str(data.pop("path")))
    texts: list[dict[str, object]] = data["texts"]  # type: ignore[assignment]
    for text in texts:
        text["url"] = request.build_absolute_uri(str(text.pop("path")))
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
    response={200: TimelineOut, 404: ErrorOut, 429: ErrorOut},
    summary="Signatures per UTC hour: verified and removed (from the public log), awaiting",
)
def get_timeline(request: HttpRequest, slug: str) -> Any:
    from undersigned.sharing.services import timeline

    refused = too_many(request)  # RATE_LIMIT_API, as the open data
    if refused is not None:
        return refused

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
    response={200: SignatoriesOut, 404: ErrorOut, 422: InvalidOut, 429: ErrorOut},
    summary="Verified signatories who chose to be shown, from the public log, in pages",
)
def get_signatories(request: HttpRequest, slug: str, after: int = -1) -> Any:
    from undersigned.api.exports import shown_signatories
    from undersigned.ledger.services import latest_checkpoint

    refused = too_many(request)  # RATE_LIMIT_API, as the open data
    if refused is not None:
        return refused

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


class RejectionOut(Schema):
    standard: str = Field(description="The code of the published standard it failed (/standards/).")
    reason: str = Field(description="That standard's title, in the language asked for.")
    note: str = Field(description="The moderator's note; empty when the standard hides the text.")
    duplicate_of: str | None = Field(description="The slug of the petition it repeats.")
    decided_at: datetime


class ListedPetitionOut(PetitionSummaryOut):
    states: list[str] = Field(
        description=(
            "The listing states the petition is in (the values of the state parameter "
            "but 'all'): a petition may be in several, e.g. open and awaiting a response."
        )
    )
    rejection: RejectionOut | None = Field(
        None,
        description=(
            "A rejected submission's decision (state=rejected): the standard it failed and "
            "why. When that standard hides the text, the title is empty and so is the note."
        ),
    )


def _rejection(row: listing.Row) -> dict[str, object] | None:
    decision = row.rejection
    if decision is None or decision.standard is None:
        return None
    return {
        "standard": decision.standard.code,
        "reason": decision.standard.title,
        "note": "" if row.hidden else decision.note,
        "duplicate_of": decision.duplicate_of.slug if decision.duplicate_of else None,
        "decided_at": decision.decided_at,
    }


# The listing's choices as enums, so the schema names them and anything else is a 422.
StateIn = Enum(  # type: ignore[misc]
    "StateIn", {key.replace("-", "_"): key for key in [*listing.STATES, listing.ALL]}, type=str
)
SortIn = Enum("SortIn", {key: key for key in listing.SORTS}, type=str)  # type: ignore[misc]


def _listed(request: HttpRequest, item: listing.Listed) -> dict[str, object]:
    petition, row, standing = item.row.petition, item.row, item.standing
    return {
        "slug": petition.slug,
        "title": row.title,
        "kind": petition.kind,
        "status": petition.status,
        "audience": petition.audience,
        "language": row.language,
        "url": request.build_absolute_uri(petition.get_absolute_url()),
        "verified_count": standing.verified,
        "awaiting_count": standing.awaiting,
        "paper_count": standing.paper,
        "text_version": row.text_version,
        "opened_at": petition.opened_at,
        "closed_at": petition.closed_at,
        "deadline": petition.deadline,
        "log_size": standing.log_size,
        "checkpoint_time": standing.checkpoint_time,
        "log_verified_count": standing.log_verified,
        "log_paper_count": standing.log_paper,
        "states": row.states,
        "rejection": _rejection(row),
    }


@api.get(
    "/petitions",
    response={200: list[ListedPetitionOut], 422: InvalidOut, 429: ErrorOut},
    summary="List public petitions: by state, found by their words, by signatures or date",
    description=(
        "Without parameters: every public petition, newest first, in one answer (what "
        "`undersigned verify` compares with the log). `state` chooses the petitions in one "
        "state (default all); `q` finds words of their titles and texts in any language, "
        "script or transliteration (as /petitions/ does); `sort` orders by verified "
        "signatures or by the date opened (default newest); `page` answers that page of "
        f"{listing.PAGE_SIZE}, with the number of matching petitions in the X-Total-Count "
        "header and the next and previous pages in a Link header (RFC 8288). Counts are "
        "those of GET /api/petitions/{slug}. Limited per client address like the open data "
        "(RATE_LIMIT_API; past it, 429 with Retry-After)."
    ),
)
def list_petitions(
    request: HttpRequest,
    state: StateIn = StateIn[listing.ALL],
    q: str = NinjaQuery("", max_length=listing.MAX_QUERY_LENGTH),
    sort: SortIn = SortIn["newest"],
    page: int | None = NinjaQuery(None, ge=1),
) -> HttpResponse:
    refused = too_many(request)
    if refused is not None:
        return refused
    query = listing.Query(state.value, sort.value, listing.normal_query(q), page or 1)
    rows = listing.page_rows(query, every=page is None)
    standings = listing.standings_of(rows)
    # The finished JSON is kept per copy of the rows and of their counts, as the
    # count JSON is: validating and encoding the items costs more than the rest.
    body = _listings.get(
        (query, page is None, request.build_absolute_uri("/")),
        lambda: _render_listing(request, query, rows, standings),
        order=(rows.serial, tuple(standings[r.petition.pk].order for r in rows.rows)),
    )
    response = HttpResponse(body, content_type=api.get_content_type())
    if page is not None:
        response["X-Total-Count"] = str(rows.total)
        base = request.build_absolute_uri(request.path)
        chosen = {"state": query.state, "sort": query.sort, **({"q": query.q} if query.q else {})}
        links = []
        if page > 1:
            links.append(f'<{base}?{urlencode({**chosen, "page": page - 1})}>; rel="prev"')
        if page < rows.pages:
            links.append(f'<{base}?{urlencode({**chosen, "page": page + 1})}>; rel="next"')
        if links:
            response["Link"] = ", ".join(links)
    return response


def _render_listing(
    request: HttpRequest,
    query: listing.Query,
    rows: listing.PageRows,
    standings: dict[int, Standing],
) -> str:
    items = [_listed(request, item) for item in listing.with_counts(query, rows, standings)]
    body = [ListedPetitionOut.model_validate(item).model_dump() for item in items]
    rendered: str = api.renderer.render(request, body, response_status=200)
    return rendered


# Per (query, all pages or one, the site address the request used), kept for
# half of COUNT_CACHE_SECONDS like the count JSON.
_listings: FreshCache[tuple[listing.Query, bool, str], str] = register_cache(FreshCache(share=0.5))
