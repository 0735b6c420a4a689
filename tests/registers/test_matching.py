"""Name and place matching across scripts and spellings: pure, no Django."""

# Cyrillic test data is intended, not a lookalike typo.

from __future__ import annotations

import random
import re
from collections.abc import Hashable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from undersigned.registers.matching import (
    Candidate,
    name_key,
    name_matches,
    name_similarity,
    place_key,
    place_similarity,
    rank_candidates,
)

Entry = tuple[Hashable, str, str, str]

FIRST_NAMES = [
    "Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Захар", "Инна", "Кирилл",
    "Лидия", "Марк", "Нина", "Олег", "Полина", "Роман", "Софья", "Тимур", "Ульяна", "Фёдор",
    "Olga", "Pavel", "Irina", "Denis", "Marina", "Stepan", "Alla", "Viktor", "Yana", "Lev",
]  # fmt: skip
SURNAMES = [
    "Аверин", "Белов", "Власов", "Гусев", "Дёмин", "Ершов", "Жуков", "Зимин", "Игнатов",
    "Котов", "Лапин", "Мухин", "Носов", "Орлов", "Пестов", "Рябов", "Сомов", "Титов",
    "Уваров", "Фомин", "Kharitonov", "Lobanov", "Merkulov", "Nesterov", "Osipov", "Panin",
    "Rodionov", "Savin", "Tarasov", "Ustinov", "Filatov", "Tsvetkov", "Chernov", "Sharov",
]  # fmt: skip
PLACES = [
    "МО Семёновский", "Введенский", "MO Petrovsky", "Округ Литейный", "Smolninskoye",
    "муниципальный округ Лиговка-Ямская", "Gavan", "Коломна", "Sennoy okrug", "Измайловское",
]  # fmt: skip

TARGET = "target"


def fictional_register(size: int = 200, seed: int = 7) -> list[Entry]:
    rng = random.Random(seed)
    people = sorted({(first, last) for first in FIRST_NAMES for last in SURNAMES})
    chosen = rng.sample(people, size)
    register: list[Entry] = [
        (index, f"{last} {first}", rng.choice(PLACES), rng.choice(["депутат", "deputy"]))
        for index, (first, last) in enumerate(chosen)
    ]
    # Near misses that share a first name, a surname or the place with the target.
    register += [
        ("same-surname", "Линдстрем Павел Ильич", "МО Семёновский", "депутат"),
        ("same-first-name", "Ксения Тарасова", "МО Семёновский", "депутат"),
        ("similar-surname", "Ксения Торопова", "Введенский", "депутат"),
    ]
    register.insert(
        rng.randrange(len(register)),
        (TARGET, "Линдстрем Ксения Андреевна", "МО Семёновский", "депутат"),
    )
    return register


# --- keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variants",
    [
        ["Ксения", "Xenia", "Ksenia", "Kseniya", "Ksenija", "КСЕНИЯ"],
        ["Линдстрем", "Lindstrem", "LINDSTREM"],
        ["Палюга", "Palyuga", "Paliuga", "Paljuga"],
        ["Юрий", "Yuri", "Yuriy", "Iurii", "Jurij"],
        ["Дмитрий", "Dmitry", "Dmitriy", "Dmitrii"],
        ["Алексей", "Aleksey", "Alexei", "Aleksei", "Alexey"],
        ["Михаил", "Mikhail", "Mihail"],
        ["Елена", "Elena", "Yelena", "Jelena"],
        ["Наталья", "Natalya", "Natalia", "Natal'ya"],
        ["Фёдор", "Федор", "Fyodor", "Fedor"],
        ["Андреев", "Andreev", "Andreyev", "Andrejev"],
        ["Соловьёв", "Solovyov", "Solovyev", "Solovjov", "Solovev"],
        ["Щукин", "Shchukin", "Schukin"],
        ["Цветков", "Tsvetkov"],
        ["Семёновский", "Semyonovsky", "Semenovsky", "Semyonovskiy", "Semenovskii"],
        ["Римский-Корсаков", "Rimsky Korsakov", "rimsky–korsakov"],
    ],
)
def test_transliteration_variants_share_a_name_key(variants: list[str]) -> None:
    keys = {name_key(variant) for variant in variants}
    assert len(keys) == 1, dict(zip(variants, map(name_key, variants), strict=True))


def test_name_key_keeps_word_order() -> None:
    assert name_key("Ксения Линдстрем") == "ksenia lindstrem"
    assert name_key("Lindstrem, Ksenia") == "lindstrem ksenia"


@pytest.mark.parametrize(
    "variants",
    [
        [
            "Semyonovsky",
            "Semenovsky",
            "Семёновский",
            "Семеновский",
            "МО Семёновский",
            "Муниципальный округ Семеновский",
            "муниципальное образование Семёновское",
            "Semyonovsky Municipal Okrug",
            "Semenovskiy district",
            "MO «Semyonovsky»",
        ],
        ["Литейный округ", "Liteyny", "Liteinyi", "МО Литейный"],
        ["город Колпино", "г. Колпино", "Kolpino", "Kolpino town"],
    ],
)
def test_place_keys_ignore_spelling_and_generic_words(variants: list[str]) -> None:
    keys = {place_key(variant) for variant in variants}
    assert len(keys) == 1, dict(zip(variants, map(place_key, variants), strict=True))


def test_place_made_only_of_generic_words_keeps_them() -> None:
    assert place_key("Город") == "gorod"
    assert place_key("МО № 7") == place_key("MO No. 7") == "7"


def test_official_long_place_name_matches_the_short_one() -> None:
    official = (
        "Внутригородское муниципальное образование города федерального значения "
        "Санкт-Петербурга муниципальный округ Семеновский"
    )
    assert place_similarity(official, "Semyonovsky") == 100
    assert place_similarity("Семёновский", "Введенский") < 70


# --- similarity -----------------------------------------------------------------------


def test_word_order_does_not_matter() -> None:
    assert name_similarity("Lindstrem Ksenia", "Ксения Линдстрем") == 100
    assert name_similarity("Ivanov Ivan", "Ivan Ivanov") == 100


def test_spelling_variants_match() -> None:
    assert name_similarity("Ксения Линдстрем", "Xenia Lindstrom") > 90
    assert name_matches("Ксения Линдстрем", "Kseniya Lindstrom")
    assert name_matches("Palyuga Ivan", "Палюга Иван")


def test_weaker_variant_scores_between_match_and_stranger() -> None:
    strong = name_similarity("Palyuga", "Paliuga")
    weak = name_similarity("Palyuga", "Baliuka")
    stranger = name_similarity("Palyuga", "Sidorova")
    assert strong == 100
    assert stranger < 50 < weak < strong
    assert not name_matches("Palyuga", "Baliuka")


def test_missing_patronymic_costs_little_but_a_single_word_costs_a_lot() -> None:
    assert name_similarity("Ksenia Lindstrem", "Линдстрем Ксения Андреевна") >= 85
    assert name_similarity("Ivan", "Ivan Petrov") < 60


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ivan Petrov", "Maria Sidorova"),
        ("Ксения Линдстрем", "Глеб Уваров"),
        ("Anna Lee", "Boris Kim"),
    ],
)
def test_unrelated_names_score_low(a: str, b: str) -> None:
    assert name_similarity(a, b) < 50
    assert not name_matches(a, b)


def test_empty_names_never_match() -> None:
    assert name_similarity("", "") == 0
    assert name_similarity("--", "Anna") == 0


# --- ranking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_name", "claim_place"),
    [
        ("Ksenia Lindstrem", "Semyonovsky"),
        ("Xenia Lindstrom", "Semenovsky"),
        ("Линдстрем Ксения", "Семёновский"),
        ("Kseniya Lindstrom", "MO Semyonovskiy"),
        ("Lindstrem Ksenia Andreevna", ""),
        ("Ksenia Lindstrem", "Vvedensky"),  # wrong place, right person
    ],
)
def test_right_entry_ranks_first(claim_name: str, claim_place: str) -> None:
    ranked = rank_candidates(claim_name, claim_place, "deputy", fictional_register())

    assert ranked[0].key == TARGET
    assert len(ranked) <= 5
    assert ranked[0].name_score >= 85
    if len(ranked) > 1:
        assert ranked[0].score - ranked[1].score >= 10


def test_ranking_is_sorted_bounded_and_floored() -> None:
    ranked = rank_candidates("Anna Belova", "Semenovsky", "deputy", fictional_register(), limit=8)

    scores = [candidate.score for candidate in ranked]
    assert scores == sorted(scores, reverse=True)
    assert 0 < len(ranked) <= 8
    assert all(50 <= candidate.score <= 100 for candidate in ranked)
    assert all(0 <= candidate.name_score <= 100 for candidate in ranked)
    assert all(0 <= candidate.place_score <= 100 for candidate in ranked)
    assert all(isinstance(candidate, Candidate) for candidate in ranked)
    assert not any(candidate.email_match for candidate in ranked)


def test_stranger_gets_no_candidates() -> None:
    assert rank_candidates("Quentin Zabriskie", "Nowhere", "mayor", fictional_register()) == []


def test_place_breaks_a_tie_between_namesakes() -> None:
    entries: list[Entry] = [
        (1, "Anna Lee", "Vvedensky", "deputy"),
        (2, "Anna Lee", "Semenovsky", "deputy"),
    ]

    ranked = rank_candidates("Anna Lee", "Семёновский", "deputy", entries)

    assert [candidate.key for candidate in ranked] == [2, 1]
    assert ranked[0].place_score == 100


def test_empty_claim_or_register() -> None:
    assert rank_candidates("", "Semenovsky", "deputy", fictional_register()) == []
    assert rank_candidates("Anna Lee", "Semenovsky", "deputy", []) == []
    assert rank_candidates("Anna Lee", "", "", [(1, "Anna Lee", "X", "Y")], limit=0) == []


def test_accepts_a_one_shot_iterator() -> None:
    entries = iter(fictional_register())

    assert rank_candidates("Ksenia Lindstrem", "", "", entries)[0].key == TARGET


def test_finds_the_person_in_a_large_register() -> None:
    rng = random.Random(1)
    syllables = ["ka", "to", "ri", "mo", "sen", "vel", "ar", "do", "lin", "ber", "sha", "gor"]

    def word(parts: int) -> str:
        return "".join(rng.choice(syllables) for _ in range(parts)).capitalize()

    places = [word(3) + "sky" for _ in range(50)]
    entries: list[Entry] = [
        (i, f"{word(3)}ov {word(2)} {word(3)}evich", rng.choice(places), "deputy")
        for i in range(10_000)
    ]
    entries.append((TARGET, "Линдстрем Ксения Андреевна", "МО Семёновский", "депутат"))

    ranked = rank_candidates("Ksenia Lindstrom", "Semyonovsky", "deputy", entries)

    assert ranked[0].key == TARGET


# --- properties -----------------------------------------------------------------------


@given(st.text(max_size=60))
def test_keys_are_plain_ascii_words(text: str) -> None:
    for key in (name_key(text), place_key(text)):
        assert re.fullmatch(r"(?:[a-z0-9]+(?: [a-z0-9]+)*)?", key)


@given(st.text(max_size=40), st.text(max_size=40))
def test_similarity_is_a_percentage(a: str, b: str) -> None:
    assert 0 <= name_similarity(a, b) <= 100
    if name_key(a):
        assert name_similarity(a, a) == 100
