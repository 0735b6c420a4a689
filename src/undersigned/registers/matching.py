"""Fuzzy matching of a signer's claim ("I am X, deputy of Y") against a register.

Names reach us typed by different people, in Cyrillic or in one of several
Latin transliterations (passport, BGN/PCGN, German, ad hoc).  Rather than
guessing the original, both sides are folded into a lossy Latin key on which
spelling variants collide ("Ксения" / "Xenia" / "Kseniya" -> "ksenia"), and
rapidfuzz scores whatever difference remains.  Keys are for comparison only;
they are never shown to anyone.
"""

# Cyrillic letters are this module's subject matter, not lookalike typos.

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz import fuzz, process

# RegisterEntry.name_key / place_key are CharField(max_length=300); importers
# must reject values whose key would not fit.
KEY_MAX_LENGTH = 300

# Applied before anyascii so Russian, Ukrainian and Belarusian letters come
# out the way the Latin-side rules below expect.  anyascii alone renders
# х as "kh", ь/ъ as an apostrophe and є as "ie", which would need undoing.
# й becomes "y" (not "i") so that "Майер" and "Mayer" take the same path.
_CYRILLIC = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e",
        "ж": "zh", "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m",
        "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
        "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
        "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
        "є": "ye", "і": "i", "ї": "yi", "ґ": "g", "ў": "u",
    }
)  # fmt: skip

# Apostrophes inside a name (O'Neill, Dar'ya for Дарья) join, not split, it.
_APOSTROPHES = str.maketrans(dict.fromkeys("'`", None))
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Each rule removes a difference between common transliterations of the same
# Cyrillic spelling; order matters (e.g. "x" must become "ks" before the
# c->k rule, "ye" must go before y->i).
_TOKEN_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"x", "ks"),  # Xenia / Ksenia
        (r"ph", "f"),  # Sophia / Sofia
        (r"th", "t"),
        (r"kh", "h"),  # Mikhail / Mihail (х is already "h")
        (r"shch|sch", "sh"),  # Щукин: Shchukin / Schukin; German Sch- for Ш
        (r"ck|q", "k"),
        (r"w", "v"),  # German-style -ow endings
        (r"c(?![eihy])", "k"),  # hard c: Victor / Viktor, Nicolai / Nikolai
        (r"[yj]e", "e"),  # Yelena / Jelena / Elena; Andreyev / Andreev
        (r"(?<=[bcdfghklmnprstvz])[yj]o", "e"),  # ё: Semyonov / Semjonov / Semenov
        (r"[yj]", "i"),  # Kseniya / Ksenija / Ksenia; Yuri / Juri / Iuri
        (r"(.)\1+", r"\1"),  # Kirill / Kiril; -iy / -ii endings; Anna / Ana
    )
)


def _tokens(text: str) -> list[str]:
    latin = unicodedata.normalize("NFKC", text).casefold().translate(_CYRILLIC)
    # anyascii can emit capitals (e.g. for some symbols) so fold once more.
    latin = anyascii(latin).lower().translate(_APOSTROPHES)
    tokens = []
    for token in _NON_ALNUM.split(latin):
        for pattern, replacement in _TOKEN_RULES:
            token = pattern.sub(replacement, token)
        if token:
            tokens.append(token)
    return tokens


def search_words(text: str) -> list[str]:
    """The words of any text folded as names are, in order: "Депутатам" and
    "deputatam" give the same word. For search indexes (petitions.search), where
    both the indexed text and the query go through this; never shown."""
    return _tokens(text)


@lru_cache(maxsize=65_536)
def name_key(name: str) -> str:
    """Fold a personal name so that transliteration variants compare equal.

    Word order is kept (it is stored, and two people can differ only by
    order); scorers compare tokens order-insensitively.
    """
    return " ".join(_tokens(name))


# Russian adjectival place names change ending with gender and case:
# Семёновский округ, Семёновское МО, в Семёновском ...
_SK_ADJECTIVE = re.compile(r"(?<=sk)(?:i|ie|oe|aia|ogo|oi|omu|om|ih|a|o)$")
_N_ADJECTIVE = re.compile(r"(?<=..n)(?:i|ie|oe|aia|ogo|oi|omu|om|ih)$")


def _stem_place_token(token: str) -> str:
    return _N_ADJECTIVE.sub("", _SK_ADJECTIVE.sub("", token))


# Words that say what kind of place it is rather than which one; people add or
# omit them freely ("MO Semenovsky", "Semenovsky municipal okrug").
# Transliterations of the Russian words need not be listed: they fold the same.
_GENERIC_PLACE_WORDS_RAW = """
    муниципальный муниципалитет образование внутригородское округ город
    городской гор поселение поселок пос пгт село деревня район районный
    сельское сельсовет федерального значения территория совет номер
    мо вмо го мр мун
    municipal municipality formation intra intracity okrug district city town
    township settlement village rural urban territory area borough county
    council of the no
    округа города района образования поселения значения значение
"""
_GENERIC_PLACE_WORDS = frozenset(
    _stem_place_token(token) for token in _tokens(_GENERIC_PLACE_WORDS_RAW)
)


@lru_cache(maxsize=16_384)
def place_key(name: str) -> str:
    """Fold a municipality name, dropping generic words like "municipal okrug"."""
    tokens = [_stem_place_token(token) for token in _tokens(name)]
    specific = [
        token
        for token in tokens
        if token not in _GENERIC_PLACE_WORDS and (len(token) > 1 or token.isdigit())
    ]
    # A name made only of generic words ("Город") is still better compared
    # as-is than treated as unknown.
    return " ".join(specific or tokens)


# Registers usually list "Surname Name Patronymic" while claimants mostly
# write "Name Surname", so a patronymic missing on one side costs almost
# nothing; any other missing word (a second surname, a wrong person who
# merely shares two words) costs much more.
MISSING_PATRONYMIC_FACTOR = 0.97
MISSING_WORD_FACTOR = 0.8
# Folded patronymic endings: -ович/-евич/-ич, -овна/-евна/-ична.
_PATRONYMIC = re.compile(r"(?:ich|[oe]vna|ichna)$")

PairScore = Callable[[str, str], float]


def _ratio(a: str, b: str) -> float:
    return float(fuzz.ratio(a, b))


@lru_cache(maxsize=65_536)
def _is_patronymic(token: str) -> bool:
    return len(token) > 5 and _PATRONYMIC.search(token) is not None


def _token_alignment(left: list[str], right: list[str], pair_score: PairScore) -> float:
    """Pair each token with its best unused counterpart and average the ratios.

    Unlike token_sort_ratio this is not thrown off by an extra patronymic,
    and unlike token_set_ratio it does not call "Ivan" a perfect match for
    "Ivan Petrov": a one-word name gets no allowance for missing tokens.
    """
    if not left or not right or (len(left) != len(right) and min(len(left), len(right)) < 2):
        return 0.0
    left_patronymic = [_is_patronymic(token) for token in left]
    right_patronymic = [_is_patronymic(token) for token in right]
    pairs = []
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            score = pair_score(a, b)
            # "Petrov" resembles the patronymic "Petrovich" more than the
            # surname it should be compared with; keep the two kinds apart.
            if left_patronymic[i] != right_patronymic[j]:
                score *= 0.5
            pairs.append((score, i, j))
    pairs.sort(reverse=True)
    # Greedy assignment is optimal enough for names of two to four words.
    used_left: set[int] = set()
    used_right: set[int] = set()
    total = weight = 0.0
    for score, i, j in pairs:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        # Longer tokens carry more identity than initials or short names.
        token_weight = len(left[i]) + len(right[j])
        total += score * token_weight
        weight += token_weight
    result = total / weight
    unmatched = [p for i, p in enumerate(left_patronymic) if i not in used_left] + [
        p for j, p in enumerate(right_patronymic) if j not in used_right
    ]
    for patronymic in unmatched:
        result *= MISSING_PATRONYMIC_FACTOR if patronymic else MISSING_WORD_FACTOR
    return result


def _name_similarity(a: str, b: str, pair_score: PairScore = _ratio) -> float:
    if not a or not b:
        return 0.0
    # token_sort_ratio still wins when spaces differ ("Ter-Petrosyan" vs
    # "Terpetrosyan"), where tokenwise pairing has nothing to pair.
    return max(
        float(fuzz.token_sort_ratio(a, b)),
        _token_alignment(a.split(), b.split(), pair_score),
    )


def name_similarity(a: str, b: str) -> float:
    """0-100 similarity of two personal names, in any script or word order."""
    return _name_similarity(name_key(a), name_key(b))


def _place_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    # Official names embed extra qualifiers ("... Санкт-Петербурга ...") that
    # a claimant leaves out, so a subset of tokens counts as a full match.
    return float(fuzz.token_set_ratio(a, b))


def place_similarity(a: str, b: str) -> float:
    """0-100 similarity of two municipality names."""
    return _place_similarity(place_key(a), place_key(b))


def name_matches(a: str, b: str, threshold: float = 85) -> bool:
    return name_similarity(a, b) >= threshold


def name_found(query: str, name: str, threshold: float = 85) -> bool:
    """Whether a search for `query` should list `name`, in any script or spelling.

    Every word searched for must match a word of the name, in any order: one
    that starts with it (a visitor typing "Lind" or "Линд") or a spelling
    variant of it. A whole name written differently ("Terpetrosyan" for
    "Ter-Petrosyan") is found by the similarity of the two names.
    """
    wanted = name_key(query).split()
    if not wanted:
        return False
    words = name_key(name).split()
    if all(any(w.startswith(q) or _ratio(q, w) >= threshold for w in words) for q in wanted):
        return True
    return len(wanted) > 1 and name_matches(query, name, threshold)


@dataclass(frozen=True)
class Candidate:
    key: Hashable
    score: float
    name_score: float
    place_score: float
    # rank_candidates never sees emails; callers that compare a claim's email
    # hash with the entry's set this via dataclasses.replace.
    email_match: bool = False


NAME_WEIGHT = 0.75
PLACE_WEIGHT = 0.20
ROLE_WEIGHT = 0.05


def rank_candidates(
    claim_name: str,
    claim_municipality: str,
    claim_role: str,
    entries: Iterable[tuple[Hashable, str, str, str]],
    limit: int = 5,
    *,
    min_score: float = 50.0,
) -> list[Candidate]:
    """Return up to `limit` register entries most likely meant by the claim, best first.

    `entries` are (key, full_name, municipality, role).  The score is a
    weighted mean: the name dominates because a municipality or role typed
    differently should not hide the right person, while a right place with a
    wrong name must not look like a match.  Parts the claim leaves empty are
    left out of the mean rather than counted as mismatches.
    """
    claim_name_key = name_key(claim_name)
    if not claim_name_key or limit <= 0:
        return []
    claim_place_key = place_key(claim_municipality)
    claim_role_key = name_key(claim_role)

    place_weight = PLACE_WEIGHT if claim_place_key else 0.0
    role_weight = ROLE_WEIGHT if claim_role_key else 0.0
    total_weight = NAME_WEIGHT + place_weight + role_weight
    # Even perfect place and role scores cannot lift a name scoring below
    # this to min_score, so such entries need no further work.
    name_cutoff = (min_score * total_weight - (place_weight + role_weight) * 100) / NAME_WEIGHT

    rows = [
        (key, name_key(full_name), municipality, role)
        for key, full_name, municipality, role in entries
    ]
    # Names share tokens heavily (first names, patronymics), so compare each
    # claim token with each distinct register token once, in rapidfuzz's C
    # loop, and let the per-entry alignment use table lookups.
    distinct_tokens = list({token for _, key_text, _, _ in rows for token in key_text.split()})
    token_table = {
        claim_token: {
            choice: score
            for choice, score, _ in process.extract(
                claim_token, distinct_tokens, scorer=fuzz.ratio, limit=None, score_cutoff=30
            )
        }
        for claim_token in set(claim_name_key.split())
    }

    def pair_score(claim_token: str, entry_token: str) -> float:
        return float(token_table[claim_token].get(entry_token, 0.0))

    # Registers repeat a few dozen places and roles across thousands of
    # entries, and the same name occasionally; score each distinct key once.
    name_scores: dict[str, float] = {}
    place_scores: dict[str, float] = {}
    role_scores: dict[str, float] = {}
    scored: list[tuple[float, float, int, Candidate]] = []
    for position, (key, entry_name_key, municipality, role) in enumerate(rows):
        name_score = name_scores.get(entry_name_key)
        if name_score is None:
            name_score = _name_similarity(claim_name_key, entry_name_key, pair_score)
            name_scores[entry_name_key] = name_score
        if name_score < name_cutoff or name_score <= 0.0:
            continue

        place_score = 0.0
        if place_weight:
            entry_place_key = place_key(municipality)
            cached = place_scores.get(entry_place_key)
            if cached is None:
                cached = _place_similarity(claim_place_key, entry_place_key)
                place_scores[entry_place_key] = cached
            place_score = cached
        role_score = 0.0
        if role_weight:
            entry_role_key = name_key(role)
            cached = role_scores.get(entry_role_key)
            if cached is None:
                cached = float(fuzz.token_set_ratio(claim_role_key, entry_role_key))
                role_scores[entry_role_key] = cached
            role_score = cached

        score = (
            NAME_WEIGHT * name_score + place_weight * place_score + role_weight * role_score
        ) / total_weight
        if score < min_score:
            continue
        candidate = Candidate(key=key, score=score, name_score=name_score, place_score=place_score)
        # Ties keep register order so results are stable between page loads.
        scored.append((-score, -name_score, position, candidate))

    return [item[3] for item in heapq.nsmallest(limit, scored)]
