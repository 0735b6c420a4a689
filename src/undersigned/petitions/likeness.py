"""How much a title (and its text) looks like a published petition, from folded words alone.

No Django here: petitions/lookalike.py reads the counts from the search index
(petitions.search, SearchWord) and this module turns them into a score.

- A title and a text become *terms*: their words folded across scripts and
  transliterations (registers.matching.search_words, as the index holds them:
  "Депутатам" and "deputatam" are one word), without the little words every
  petition has ("the", "for", "и", "для"), cut to a stem ("собраний",
  "sobraniy" and "собрания" all find "sobranie"). Short words and numbers
  must be the same word; a stem finds every word it starts.
- Each term weighs by its rarity among the site's petitions (BM25's idf): a
  word half the petitions use weighs little, a street's name much more. The
  text's terms (at most MAX_BODY_TERMS, the ones it repeats most) weigh
  BODY_FACTOR of a title's.
- A petition's score is the share of that weight its words hold: of the
  title's terms, or of the title's and the text's together, whichever is
  higher, so a long text never hides a petition with the same title.
- It looks alike from MIN_SCORE with at least MIN_SHARED terms in common:
  two petitions that only share one word ("city", "library") are not alike,
  and a title of one word (or the first word typed) has no lookalikes yet.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from undersigned.registers.matching import search_words

MAX_TITLE_TERMS = 10
MAX_BODY_TERMS = 8
BODY_FACTOR = 0.5
MIN_SCORE = 0.6
MIN_SHARED = 2
# Words shorter than this (and numbers) only match themselves, not every word they start.
PREFIX_FROM = 4

# Words too common to tell petitions apart, in the languages the site speaks
# (folded like every word: "the" is "te", "with" "vit").
_STOP_TEXT = """
a an and are as at be by for from has have in into is it its of on or our
that the their this to us we with will not no all any please
и в во на не за по от до для что как это или к ко с со о об из у мы нас наш
наши нам а но же бы ли то его её их при под над без через пожалуйста
"""
STOP_WORDS = frozenset(search_words(_STOP_TEXT))


def stem(word: str) -> str:
    """A folded word without its ending: one letter, two from 7 letters, three from 8.

    More than the search cuts from a visitor's query (petitions.search):
    titles that ask the same thing put its words in other cases
    ("муниципального" and "муниципальных" are "munitsipaln…"), and what a
    shorter stem finds besides still has to pass the weights.
    """
    if word.isdigit() or len(word) <= 4:
        return word
    cut = 1 if len(word) <= 6 else 2 if len(word) == 7 else 3
    return word[:-cut]


@dataclass(frozen=True)
class Term:
    text: str
    in_title: bool

    @property
    def exact(self) -> bool:
        """Whether only this word matches (a short word, a number), not every word it starts."""
        return self.text.isdigit() or len(self.text) < PREFIX_FROM

    def matches(self, word: str) -> bool:
        return word == self.text if self.exact else word.startswith(self.text)


def _content(words: Iterable[str]) -> list[str]:
    return [stem(w) for w in words if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())]


def _covered(stemmed: str, by: Iterable[Term]) -> bool:
    return any(t.matches(stemmed) for t in by)


def terms(title_words: Sequence[str], body_words: Sequence[str] = ()) -> list[Term]:
    """The terms of a title and a text, both given as folded words; the title's first.

    A term that another one starts adds nothing ("park parks" is "park"), and
    the text adds only terms the title lacks, those it uses most first (then
    the longer, then the earlier).
    """
    title: list[Term] = []
    for text in _content(title_words):
        term = Term(text, in_title=True)
        if not _covered(text, title):
            title = [t for t in title if not term.matches(t.text)]
            title.append(term)
    title = title[:MAX_TITLE_TERMS]
    seen: dict[str, tuple[int, int]] = {}  # stem: (uses, first position)
    for position, text in enumerate(_content(body_words)):
        uses, first = seen.get(text, (0, position))
        seen[text] = (uses + 1, first)
    ranked = sorted(seen, key=lambda s: (-seen[s][0], -len(s), seen[s][1]))
    body: list[Term] = []
    for text in ranked:
        if len(body) == MAX_BODY_TERMS:
            break
        if not _covered(text, title) and not _covered(text, body):
            body.append(Term(text, in_title=False))
    return title + body


def held_by(found: Sequence[Term], words: Iterable[str]) -> list[int]:
    """The numbers of the terms that some of these folded words match (a text's, say)."""
    distinct = set(words)
    return [i for i, term in enumerate(found) if any(term.matches(w) for w in distinct)]


def rarity(petitions_with: int, petitions: int) -> float:
    """BM25's idf: how much a term tells, used by `petitions_with` of `petitions`.

    A term no petition uses weighs as one that a single petition uses: it
    says the new one is about something else, but no more than the rarest
    word two petitions can share.
    """
    petitions_with = max(1, petitions_with)
    petitions = max(petitions, petitions_with)
    return math.log(1 + (petitions - petitions_with + 0.5) / (petitions_with + 0.5))


@dataclass(frozen=True)
class Scoring:
    """Each term's weight, and what makes a petition holding some of the terms look alike."""

    terms: tuple[Term, ...]
    weights: tuple[float, ...]

    @property
    def title_weight(self) -> float:
        return sum(w for t, w in zip(self.terms, self.weights, strict=True) if t.in_title)

    @property
    def total_weight(self) -> float:
        return sum(self.weights)

    @property
    def min_shared(self) -> int:
        """MIN_SHARED, even for a title of one word: the first word typed shows nothing yet."""
        return MIN_SHARED

    def score(self, shared: Iterable[int]) -> float:
        """The share of the weight held by the terms numbered `shared` (0 to 1)."""
        held = set(shared)
        total = self.total_weight
        if not held or total <= 0:
            return 0.0
        of_all = sum(self.weights[i] for i in held) / total
        title = self.title_weight
        if title <= 0:
            return of_all
        of_title = sum(self.weights[i] for i in held if self.terms[i].in_title) / title
        return max(of_title, of_all)

    def alike(self, shared: Iterable[int]) -> bool:
        held = set(shared)
        return len(held) >= self.min_shared and self.score(held) >= MIN_SCORE


def scoring(found: Sequence[Term], petitions_with: Sequence[int], petitions: int) -> Scoring:
    """Weights for the terms, given how many of the site's `petitions` use each."""
    weights = tuple(
        rarity(n, petitions) * (1.0 if term.in_title else BODY_FACTOR)
        for term, n in zip(found, petitions_with, strict=True)
    )
    return Scoring(tuple(found), weights)
