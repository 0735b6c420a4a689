"""Which petitions a listing shows, in which order, a page at a time.

The home page, /petitions/ and GET /api/petitions share this: a state
(STATES), a search (petitions.search), an order (by verified signatures or
by date) and a page. What it costs per request stays flat under a surge
(docs/performance.md, "The listings"):

- the ids in order for a (state, search, order) are kept per process for
  COUNT_CACHE_SECONDS (one query: the petitions of the state, the search as
  index ranges, and for the order by signatures the sum of each one's tally
  rows: a few rows per petition, never its signatures);
- the rows of one page (titles, excerpts, which states each is in) are kept
  the same way, two queries for at most PAGE_SIZE petitions;
- the counts shown are each petition's Standing (petitions.standing), so a
  listing never shows a count older than one the petition's page or the
  count JSON served, and they cost one read of the page's marks.

The order by signatures comes from the same tallies a moment earlier than the
counts shown; within a page the rows are put in the order of the counts they
show.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from undersigned.petitions import search, steps
from undersigned.petitions.models import Decision, Petition, TextVersion
from undersigned.petitions.rejected import text_hidden
from undersigned.petitions.services import FreshCache, register_cache
from undersigned.petitions.standing import Standing, current_many

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 120
# Characters of each text shown under its title.
EXCERPT_LENGTH = 240


@dataclass(frozen=True)
class ListingState:
    """One choice of the state filter: its label and the petitions in it at a moment."""

    label: Promise
    where: Callable[[datetime], Q]


def _open(now: datetime) -> Q:
    return Q(status=Petition.Status.OPEN) & (Q(deadline__isnull=True) | Q(deadline__gt=now))


def _closed(now: datetime) -> Q:
    # A petition past its deadline is closed even before the worker's next round says so.
    return Q(status__in=[Petition.Status.CLOSED, Petition.Status.ARCHIVED]) | Q(
        status=Petition.Status.OPEN, deadline__lte=now
    )


def _rejected(now: datetime) -> Q:
    return Q(status=Petition.Status.REJECTED)


# The state filter's choices, in the order the form offers them; the key is
# what ?state= says. A petition may be in several (open and awaiting a
# response, say); each row shows every state it is in. A petition in none (a
# draft, a submission not yet published) is never listed, not even under
# "all". The steps' states come from petitions.steps (issue 14 §2). Rejected
# submissions (§1) are listed under "rejected" alone, never under "all": they
# were never published, took no signatures and are in no log, and "all" is
# what the open data's dump and `undersigned verify` read. A Q that follows a
# many-valued relation is fine: the listing reads each through a subquery.
STATES: dict[str, ListingState] = {
    "open": ListingState(pgettext_lazy("listing state", "Open"), _open),
    steps.AWAITING_RESPONSE: ListingState(
        steps.STATES[steps.AWAITING_RESPONSE], lambda now: steps.awaiting_response_q()
    ),
    steps.RESPONDED: ListingState(steps.STATES[steps.RESPONDED], lambda now: steps.responded_q()),
    steps.DEBATED: ListingState(steps.STATES[steps.DEBATED], lambda now: steps.debated_q()),
    "closed": ListingState(pgettext_lazy("listing state", "Closed"), _closed),
    "rejected": ListingState(pgettext_lazy("listing state", "Rejected"), _rejected),
}
# States that "all" leaves out (see above).
NOT_IN_ALL = ("rejected",)
ALL = "all"
DEFAULT_STATE = "open"

SORTS: dict[str, Promise] = {
    "signatures": _("Most signatures"),
    "newest": _("Newest"),
}
DEFAULT_SORT = "signatures"


def state_choices() -> list[tuple[str, Promise]]:
    return [*((key, s.label) for key, s in STATES.items()), (ALL, _("All"))]


def in_state(state: str, now: datetime) -> Q:
    if state == ALL:
        found = Q(pk__in=[])
        for key, s in STATES.items():
            if key not in NOT_IN_ALL:
                found |= s.where(now)
        return found
    return STATES[state].where(now)


@dataclass(frozen=True)
class Query:
    """What a visitor asked for, checked: every field is a valid choice."""

    state: str = DEFAULT_STATE
    sort: str = DEFAULT_SORT
    q: str = ""
    page: int = 1

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.state, self.sort, self.q)

    def params(self, **changes: object) -> dict[str, str]:
        """The query string for this query (or one like it), defaults left out."""
        values = {"state": self.state, "sort": self.sort, "q": self.q, "page": self.page, **changes}
        defaults = {"state": DEFAULT_STATE, "sort": DEFAULT_SORT, "q": "", "page": 1}
        return {k: str(v) for k, v in values.items() if v != defaults[k]}


@dataclass(frozen=True)
class Problems:
    """The parts of a request that were not valid choices (and were replaced by the defaults)."""

    state: str = ""
    sort: str = ""
    page: str = ""

    def __bool__(self) -> bool:
        return bool(self.state or self.sort or self.page)


def normal_query(text: str) -> str:
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def parse(params: "dict[str, str] | object") -> tuple[Query, Problems]:
    """A Query from request parameters (a QueryDict or dict); what was wrong, if anything."""
    get: Callable[[str, str], str] = getattr(params, "get")  # noqa: B009  # QueryDict or dict
    state, sort = get("state", DEFAULT_STATE) or DEFAULT_STATE, get("sort", DEFAULT_SORT)
    page_text = get("page", "1") or "1"
    problems = {}
    if state != ALL and state not in STATES:
        problems["state"], state = state, DEFAULT_STATE
    if sort not in SORTS:
        problems["sort"], sort = sort, DEFAULT_SORT
    try:
        page = int(page_text)
        if page < 1:
            raise ValueError
    except ValueError:
        problems["page"], page = page_text, 1
    return Query(state, sort, normal_query(get("q", "")), page), Problems(**problems)


# ------------------------------------------------------------------ reading


def read_ids(key: tuple[str, str, str]) -> list[int]:
    """Every petition of (state, sort, search) in order: one query."""
    state, sort, q = key
    chosen = Petition.objects.filter(in_state(state, timezone.now())).values("id")
    petitions: QuerySet[Petition] = Petition.objects.filter(id__in=chosen)
    terms = search.search_terms(q)
    if q and not terms:
        return []  # only punctuation: nothing can match
    petitions = search.matching(petitions, terms)
    newest = (F("opened_at").desc(nulls_last=True), F("id").desc())
    if sort == "signatures":
        petitions = petitions.annotate(
            listed_verified=Coalesce(Sum("tallies__verified"), 0)
        ).order_by("-listed_verified", *newest)
    else:
        petitions = petitions.order_by(*newest)
    return list(petitions.values_list("id", flat=True))


@dataclass(frozen=True)
class ListedText:
    """A petition's title and the start of its text, in one language."""

    title: str
    language: str
    text_version: int  # the number of the version they are from
    excerpt: str


@dataclass(frozen=True)
class Row:
    petition: Petition
    # The original's (the API lists these); `texts` has every language's.
    title: str
    language: str
    text_version: int  # the number of the version the title is from
    excerpt: str
    states: list[str]  # the STATES keys this petition is in, in STATES order
    texts: tuple[ListedText, ...] = ()
    # A rejected submission's rejection; `hidden`: its reason keeps the titles
    # and the texts off the listing (they are then empty).
    rejection: Decision | None = None
    hidden: bool = False

    def state_labels(self) -> list[tuple[str, Promise]]:
        return [(key, STATES[key].label) for key in self.states if key in STATES]

    def text_in(self, language: str) -> ListedText:
        """What a reader of `language` is shown: its text if there is one, else the original."""
        for text in self.texts:
            if text.language == language:
                return text
        return ListedText(self.title, self.language, self.text_version, self.excerpt)


_serials = itertools.count()


@dataclass(frozen=True)
class PageRows:
    total: int  # petitions matching, on all pages
    rows: list[Row]
    serial: int = field(default_factory=lambda: next(_serials), compare=False)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def read_rows(ids: list[int]) -> list[Row]:
    """The rows of these petitions, in this order, each with its latest published text in
    each language (those its page shows), the original's first."""
    now = timezone.now()
    # Each state as a subquery of its own, so that a state following a
    # many-valued relation neither repeats rows nor mixes up their flags.
    flags = {
        f"in_{n}": Exists(Petition.objects.filter(s.where(now), pk=OuterRef("pk")))
        for n, s in enumerate(STATES.values())
    }
    found = {
        p.pk: p
        for p in Petition.objects.filter(id__in=ids).select_related("register").annotate(**flags)
    }
    rejected = [pk for pk, p in found.items() if p.status == Petition.Status.REJECTED]
    versions: dict[int, list[Any]] = {}  # TextVersions, each with its excerpt
    for version in (
        # A rejected submission's text was never published: the one it was rejected with.
        TextVersion.objects.filter(
            Q(published_at__isnull=False) | Q(petition_id__in=rejected), petition_id__in=ids
        )
        .annotate(excerpt=Substr("body", 1, EXCERPT_LENGTH + 1))
        .only("id", "petition_id", "number", "title", "language")
    ):
        versions.setdefault(version.petition_id, []).append(version)
    rejections = _rejections(rejected)
    rows = []
    for pk in ids:
        petition = found.get(pk)
        if petition is None or pk not in versions:
            continue  # deleted since the ids were read
        # The newest in each language; the original's is the first version's language.
        latest: dict[str, Any] = {}
        for version in sorted(versions[pk], key=lambda v: v.number):
            latest[version.language] = version
        texts = [_listed_text(v) for v in latest.values()]
        original = texts[0]
        states = [k for n, k in enumerate(STATES) if getattr(petition, f"in_{n}", False)]
        rejection = rejections.get(pk)
        hidden = pk in rejected and text_hidden(rejection)
        if hidden:
            original, texts = ListedText("", original.language, original.text_version, ""), []
        rows.append(
            Row(
                petition,
                original.title,
                original.language,
                original.text_version,
                original.excerpt,
                states,
                tuple(texts),
                rejection,
                hidden,
            )
        )
    return rows


def _rejections(ids: list[int]) -> dict[int, Decision]:
    """Each of these rejected petitions' rejection, with its standard's wordings."""
    if not ids:
        return {}
    found: dict[int, Decision] = {}
    for decision in (
        Decision.objects.filter(petition_id__in=ids, kind=Decision.Kind.REJECT)
        .select_related("standard", "duplicate_of")
        .prefetch_related("standard__texts")
        .order_by("decided_at", "pk")
    ):
        found[decision.petition_id] = decision  # the latest wins
    return found


def _listed_text(version: Any) -> ListedText:
    excerpt: str = getattr(version, "excerpt", "")
    if len(excerpt) > EXCERPT_LENGTH:
        excerpt = excerpt[:EXCERPT_LENGTH].rsplit(None, 1)[0] + "…"
    return ListedText(version.title, version.language, version.number, excerpt)


# The ids per (state, sort, search), and the rows per query.
_ids: FreshCache[tuple[str, str, str], list[int]] = register_cache(FreshCache())
_rows: FreshCache[Query, PageRows] = register_cache(FreshCache())


def matching_ids(key: tuple[str, str, str]) -> list[int]:
    """read_ids(key), at most COUNT_CACHE_SECONDS old."""
    return _ids.get(key, lambda: read_ids(key))


def page_rows(query: Query, *, every: bool = False) -> PageRows:
    """The page's petitions, at most COUNT_CACHE_SECONDS old; `every`: all pages' at once."""
    key = query.key

    def read() -> PageRows:
        ids = matching_ids(key)
        shown = ids
        if not every:
            start = (query.page - 1) * PAGE_SIZE
            shown = ids[start : start + PAGE_SIZE]
        return PageRows(len(ids), read_rows(shown))

    return _rows.get(Query(*key, page=0) if every else query, read)


@dataclass(frozen=True)
class Listed:
    row: Row
    standing: Standing


def standings_of(rows: PageRows) -> dict[int, Standing]:
    """The current counts of the page's petitions (one read of their marks)."""
    return current_many(r.petition for r in rows.rows)


def with_counts(
    query: Query, rows: PageRows, standings: dict[int, Standing] | None = None
) -> list[Listed]:
    """The page's rows with each petition's current counts."""
    if standings is None:
        standings = standings_of(rows)
    listed = [Listed(r, standings[r.petition.pk]) for r in rows.rows]
    if query.sort == "signatures":
        # The order came from the tallies a moment before these counts were read.
        listed.sort(key=lambda item: -item.standing.verified)
    return listed
