"""Published petitions that look like a new one: for its creator as they write, for moderators.

A petition that asks what another already asks splits the signatures both
would gather, so the site shows the creator the petitions their title (and
text) looks like before they save it, and the moderation queue shows them
beside a submission. What is shown is public: petitions that are open, or
that closed, were answered or had their debate within RECENT (a petition
closed long ago is no reason not to ask again). Drafts and submissions
never are: they have no words in the index, and are not in shown_q either.

Likeness is read from the search index alone (petitions.search: the
SearchWord rows of each petition's published texts, folded across scripts),
never from the texts: per request one count of the petitions, one pass over
the index ranges of the query's terms counting how many petitions use each,
and one grouped pass over the same ranges, restricted to the petitions that
may be shown, that keeps those which look alike, best first. The weights and
the threshold are petitions/likeness.py's.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Case, Count, F, FloatField, Max, Q, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Greatest
from django.forms import Form
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersigned.petitions import likeness, listing, search
from undersigned.petitions.likeness import Scoring, Term
from undersigned.petitions.models import Petition, SearchWord
from undersigned.petitions.standing import current_many
from undersigned.registers.matching import search_words

# Closed, answered or debated petitions are shown this long after.
RECENT = timedelta(days=90)
# A title longer than this is no petition's (TextVersion.title's max_length).
MAX_TITLE_LENGTH = 200
# Only the beginning of a text is read for its terms.
MAX_BODY_LENGTH = 20_000
# Float sums in SQL may differ from Python's in the last digits.
_SLACK = 1e-9


def shown_q(now: datetime) -> Q:
    """The petitions a lookalike may be: open, or closed, answered or debated within RECENT.

    A rejected submission (issue 14 §1) belongs here too, within RECENT of
    its rejection, unless its reason hides its text.
    """
    since = now - RECENT
    published = Q(status__in=Petition.PUBLISHED)
    return (
        (Q(status=Petition.Status.OPEN) & (Q(deadline__isnull=True) | Q(deadline__gt=since)))
        | Q(status__in=[Petition.Status.CLOSED, Petition.Status.ARCHIVED], closed_at__gt=since)
        | (published & Q(response__published_at__gt=since))
        | (published & Q(outcomes__published_at__gt=since))
    )


def _words(text: str, limit: int) -> list[str]:
    return [w[: SearchWord.MAX_LENGTH] for w in search_words(text[:limit])]


def query_terms(title: str, body: str = "") -> list[Term]:
    return likeness.terms(_words(title, MAX_TITLE_LENGTH), _words(body, MAX_BODY_LENGTH))


def alike_among(texts: Sequence[tuple[int, str, str]]) -> dict[int, list[int]]:
    """For texts not in the index (submissions waiting side by side in the queue), given as
    (petition id, title, body): which of the others each one looks like, by the site's
    weights, as lookalikes() judges a published petition. Two queries per text."""
    words = {
        pk: set(_words(title, MAX_TITLE_LENGTH) + _words(body, MAX_BODY_LENGTH))
        for pk, title, body in texts
    }
    found: dict[int, list[int]] = {}
    for pk, title, body in texts:
        terms = query_terms(title, body)
        if not terms or len(texts) < 2:
            continue
        scoring = _scoring(terms, reduce(or_, (_term_q(term) for term in terms)))
        if scoring.total_weight <= 0:
            continue
        alike = [
            other
            for other, _title, _body in texts
            if other != pk and scoring.alike(likeness.held_by(terms, words[other]))
        ]
        if alike:
            found[pk] = alike
    return found


def _term_q(term: Term) -> Q:
    return Q(word=term.text) if term.exact else search.starting(term.text)


def _scoring(found: list[Term], any_term: Q) -> Scoring:
    """The terms' weights: one count of the petitions, one pass over the terms' index ranges."""
    counts = SearchWord.objects.filter(any_term).aggregate(
        **{
            f"t{i}": Count("petition_id", distinct=True, filter=_term_q(term))
            for i, term in enumerate(found)
        }
    )
    petitions = Petition.objects.public().count()
    return likeness.scoring(found, [counts[f"t{i}"] or 0 for i in range(len(found))], petitions)


def _sum(parts: list[Combinable]) -> Combinable:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _weighted(scoring: Scoring, *, title_only: bool) -> Combinable:
    """The weight of the terms a petition holds (of the title's only, or of all)."""
    return _sum(
        [
            F(f"t{i}") * Value(weight)
            for i, (term, weight) in enumerate(zip(scoring.terms, scoring.weights, strict=True))
            if term.in_title or not title_only
        ]
    )


def lookalike_ids(
    title: str, body: str = "", *, exclude_id: int | None = None, limit: int = 5
) -> list[tuple[int, float]]:
    """(petition id, score) of the petitions that look like this title and text, best first."""
    found = query_terms(title, body)
    if not found or limit <= 0:
        return []
    any_term = reduce(or_, (_term_q(term) for term in found))
    scoring = _scoring(found, any_term)
    if scoring.total_weight <= 0:
        return []
    shown = Petition.objects.filter(shown_q(timezone.now()))
    if exclude_id is not None:
        shown = shown.exclude(pk=exclude_id)
    # Per petition, whether it has a word of each term (1.0) or not (0.0).
    flags = {
        f"t{i}": Max(
            Case(When(_term_q(term), then=Value(1.0)), default=Value(0.0)),
            output_field=FloatField(),
        )
        for i, term in enumerate(found)
    }
    shares = [_weighted(scoring, title_only=False) / Value(scoring.total_weight)]
    if scoring.title_weight > 0:
        shares.append(_weighted(scoring, title_only=True) / Value(scoring.title_weight))
    rows = (
        SearchWord.objects.filter(any_term, petition_id__in=shown.values("pk"))
        .values("petition_id")
        .annotate(**flags)
        .annotate(
            shared=_sum([F(name) for name in flags]),
            score=Greatest(*shares, output_field=FloatField()) if len(shares) > 1 else shares[0],
        )
        .filter(shared__gte=scoring.min_shared, score__gte=likeness.MIN_SCORE - _SLACK)
        .order_by("-score", "petition_id")[:limit]
    )
    ranked = []
    for row in rows:
        held = [i for i in range(len(found)) if row[f"t{i}"] > 0.5]
        if scoring.alike(held):
            ranked.append((int(row["petition_id"]), scoring.score(held)))
    # The older first among equals, as the database ordered them: the original.
    return sorted(ranked, key=lambda pair: -pair[1])


def lookalikes(
    title: str, body: str = "", *, exclude_id: int | None = None, limit: int = 5
) -> list[Petition]:
    """Petitions open or recent (shown_q), that look like this title and text, best first."""
    ids = [pk for pk, _score in lookalike_ids(title, body, exclude_id=exclude_id, limit=limit)]
    found = Petition.objects.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class Lookalike:
    """What the creator and the moderators are shown of one: all of it public."""

    slug: str
    title: str
    language: str
    url: str
    states: list[tuple[str, Promise]]  # listing's states it is in: (key, label)
    verified: int

    def as_json(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "title": self.title,
            "url": self.url,
            "states": [{"state": key, "label": str(label)} for key, label in self.states],
            "verified": self.verified,
        }


def described(petitions: list[Petition]) -> list[Lookalike]:
    """Each petition's published title, states and verified count, in the given order."""
    rows = listing.read_rows([p.pk for p in petitions])
    standings = current_many(row.petition for row in rows)
    return [
        Lookalike(
            slug=row.petition.slug,
            title=row.title,
            language=row.language,
            url=row.petition.get_absolute_url(),
            states=row.state_labels(),
            verified=standings[row.petition.pk].verified,
        )
        for row in rows
    ]


def for_form(form: Form, seen_for: str) -> list[Lookalike]:
    """The lookalikes to show a creator saving this form, unless they have seen them.

    `seen_for` is the title the form last showed lookalikes for (its hidden
    field lookalikes_seen, which lookalike.js also fills): the creator went
    on past them, so a second save of the same title goes through; a changed
    title is looked at again. A form with errors shows them too, if its
    title is valid.
    """
    form.is_valid()
    title = form.cleaned_data.get("title", "")
    if not title or normal_title(seen_for) == normal_title(title):
        return []
    return described(lookalikes(title, form.cleaned_data.get("body", "")))


def normal_title(title: str) -> str:
    return " ".join(title.split())


def bad_title(title: str) -> str:
    """Why a title cannot be compared ("" if it can)."""
    if not title.strip():
        return _("Give the title to compare, as ?title=…")
    if len(title) > MAX_TITLE_LENGTH:
        return ngettext(
            "A title has at most %(n)d character.",
            "A title has at most %(n)d characters.",
            MAX_TITLE_LENGTH,
        ) % {"n": MAX_TITLE_LENGTH}
    if not search_words(title):
        return _("The title has no letters or digits to compare.")
    return ""
