"""Finding petitions by the words of their titles and texts, in any script.

Each petition's published texts (the latest published version in every
language, title and body) are folded word by word with
registers.matching.search_words, the folding the signatory search and the
register matching use, and kept as SearchWord rows: "Депутатам", "deputatam"
and "Deputatam" are one word, "Ксения" and "Kseniya" another. A query is
folded the same way, and a petition matches when every word of the query
starts a word of its texts. The lookup is a range of the (word, petition)
index per query word, so no text is read, let alone decrypted, per request
(texts are public and stored in the clear; names are not searched here).

Longer query words are cut to a stem first ("петиции" finds "петиция",
"deputies" finds "deputy"): Russian and English endings change with case and
number, and a stem that finds a little more is what a visitor searching
expects. The words are rewritten in the transaction that publishes a text
version (a post_save signal, petitions/apps.py), so a search never
disagrees with what is published.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet

from undersigned.petitions.models import Petition, SearchWord, TextVersion
from undersigned.petitions.rejected import text_hidden
from undersigned.registers.matching import search_words

# A query's words beyond this many are ignored: each is one index range.
MAX_QUERY_WORDS = 8
# The folded alphabet (search_words gives only these), in the order both
# databases sort them; used to find where a prefix's range of the index ends.
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def indexed_versions(petition_id: int) -> list[TextVersion]:
    """The texts a search looks at: the latest published version in each language. A
    rejected submission's were never published: its latest ones, for the rejected
    list's search, unless its reason hides them; then none, so nobody finds it by them."""
    versions = TextVersion.objects.filter(petition_id=petition_id)
    petition = Petition.objects.filter(pk=petition_id).only("status").first()
    if petition is not None and petition.status == Petition.Status.REJECTED:
        if text_hidden(petition.rejection()):
            return []
    else:
        versions = versions.filter(published_at__isnull=False)
    latest: dict[str, TextVersion] = {}
    for version in versions.order_by("number"):
        latest[version.language] = version
    return list(latest.values())


def words_of(versions: Iterable[TextVersion]) -> set[str]:
    found: set[str] = set()
    for version in versions:
        for text in (version.title, version.body):
            found.update(w[: SearchWord.MAX_LENGTH] for w in search_words(text))
    return found


def index_petition(petition_id: int) -> int:
    """Rewrite a petition's search words from its indexed_versions; returns how many."""
    words = words_of(indexed_versions(petition_id))
    with transaction.atomic():
        SearchWord.objects.filter(petition_id=petition_id).delete()
        SearchWord.objects.bulk_create(
            [SearchWord(petition_id=petition_id, word=w) for w in sorted(words)],
            batch_size=500,
        )
    return len(words)


def index_all() -> int:
    """Rewrite every petition's words (after the folding changed); returns how many petitions."""
    ids = list(Petition.objects.values_list("id", flat=True))
    for petition_id in ids:
        index_petition(petition_id)
    return len(ids)


def _stem(word: str) -> str:
    if word.isdigit() or len(word) <= 4:
        return word
    return word[: -1 if len(word) <= 6 else -2]


def search_terms(query: str) -> list[str]:
    """The prefixes a query looks up: its folded words, stemmed, without repeats.

    One-letter words (prepositions, initials) are left out unless they are all
    the query has; an empty list means "nothing to search for".
    """
    words = [w[: SearchWord.MAX_LENGTH] for w in search_words(query)]
    kept = [w for w in words if len(w) > 1 or w.isdigit()] or words
    terms: list[str] = []
    for word in kept:
        stem = _stem(word)
        if stem not in terms:
            terms.append(stem)
    # A term that starts another adds nothing: "park parks" is "park".
    terms = [t for t in terms if not any(o != t and o.startswith(t) for o in terms)]
    return terms[:MAX_QUERY_WORDS]


def _after(prefix: str) -> str | None:
    """The least string above every word starting with prefix, or None if there is none.

    Words are made of _ALPHABET only; the next letter of the last one that has
    one (never a punctuation mark, which some collations ignore) bounds the range.
    """
    for position in range(len(prefix) - 1, -1, -1):
        rank = _ALPHABET.find(prefix[position])
        if 0 <= rank < len(_ALPHABET) - 1:
            return prefix[:position] + _ALPHABET[rank + 1]
    return None


def starting(prefix: str) -> Q:
    """Search words starting with prefix, as one range of the (word, petition) index."""
    end = _after(prefix)
    return Q(word__gte=prefix, word__lt=end) if end is not None else Q(word__gte=prefix)


def words_starting(prefix: str) -> QuerySet[SearchWord]:
    return SearchWord.objects.filter(starting(prefix))


def matching(petitions: QuerySet[Petition], terms: list[str]) -> QuerySet[Petition]:
    """The petitions whose texts have a word starting with each of terms."""
    for term in terms:
        petitions = petitions.filter(id__in=words_starting(term).values("petition_id"))
    return petitions
