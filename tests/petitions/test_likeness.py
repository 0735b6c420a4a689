"""The pure part of lookalikes: which terms a title gives, what they weigh, what looks alike."""

import subprocess
import sys

import pytest

from undersigned.petitions import likeness
from undersigned.petitions.likeness import Term, rarity, scoring, stem, terms
from undersigned.registers.matching import search_words


def texts(found: list[Term]) -> list[str]:
    return [t.text for t in found]


def of(title: str, body: str = "") -> list[Term]:
    return terms(search_words(title), search_words(body))


def test_scripts_and_transliterations_give_the_same_terms() -> None:
    expected = texts(of("Депутатам муниципальных собраний"))
    assert expected == ["deputa", "munitsipal", "sobra"]
    assert texts(of("deputatam munitsipalnykh sobraniy")) == expected
    assert texts(of("Deputatam munitsipalnyh sobranij")) == expected
    # Other cases of the same words have stems that the indexed words start with.
    indexed = search_words("Депутатам муниципальных собраний")
    for term in of("депутатами муниципального собрания"):
        assert any(term.matches(word) for word in indexed), term


def test_little_words_go_and_a_term_that_starts_another_stands_for_both() -> None:
    assert texts(of("Save the parks and the park of the city")) == ["save", "park", "citi"]
    assert texts(of("Парки и сквер для города")) == ["park", "skve", "gorod"]
    assert of("the of and и для") == []


@pytest.mark.parametrize(
    ("word", "cut"),
    [("2024", "2024"), ("zo", "zo"), ("park", "park"), ("parks", "park"),
     ("gorod", "goro"), ("goroda", "gorod"), ("library", "libra"), ("deputatam", "deputa")],
)  # fmt: skip
def test_stems_cut_more_from_longer_words(word: str, cut: str) -> None:
    assert stem(word) == cut


def test_short_words_and_numbers_match_only_themselves() -> None:
    assert Term("mil", in_title=True).matches("mil")
    assert not Term("mil", in_title=True).matches("milk")
    assert not Term("12", in_title=True).matches("120")
    assert Term("park", in_title=True).matches("parking")


def test_the_text_adds_the_words_it_repeats_that_the_title_lacks() -> None:
    found = of(
        "Save the parks",
        "Trees, trees and more trees. The parks need benches; benches for the elderly.",
    )
    assert [(t.text, t.in_title) for t in found][:4] == [
        ("save", True),
        ("park", True),
        ("tres", False),  # three times
        ("bench", False),  # twice
    ]
    assert "park" not in texts([t for t in found if not t.in_title])
    long_text = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima"
    assert len([t for t in of("Parks", long_text) if not t.in_title]) == likeness.MAX_BODY_TERMS


def test_rarer_terms_weigh_more_and_an_unknown_one_as_the_rarest() -> None:
    assert rarity(1, 1000) > rarity(10, 1000) > rarity(500, 1000) > rarity(1000, 1000) > 0
    assert rarity(0, 1000) == rarity(1, 1000)
    # A count above the petitions counted (a petition published meanwhile) is still a weight.
    assert rarity(12, 10) > 0


def test_a_petition_looks_alike_when_it_holds_most_of_the_weight() -> None:
    found = of("Repair the Mill Street bridge")  # repai, mil, stree, bridg
    weighed = scoring(found, [5, 40, 40, 5], 100)
    assert weighed.alike({0, 1, 2, 3}) and weighed.score({0, 1, 2, 3}) == pytest.approx(1)
    assert weighed.alike({0, 3})  # the rare words: repair, bridge
    assert not weighed.alike({1, 2})  # the common ones: Mill Street
    assert not weighed.alike({0})  # one word is never enough
    assert weighed.score(set()) == 0


def test_one_word_is_never_enough_even_when_it_is_all_the_title_has() -> None:
    # The first word typed would otherwise list every petition that uses it.
    weighed = scoring(of("Benches"), [3], 100)
    assert not weighed.alike({0})
    assert scoring(of("Benches", "Benches and lamps along the river"), [3, 5, 9, 7], 100).alike(
        {0, 1, 2, 3}
    )


def test_a_long_text_never_hides_a_petition_with_the_same_title() -> None:
    found = of("Benches for Kolpino", "Trees trees shade shade water water paths paths")
    title = [i for i, t in enumerate(found) if t.in_title]
    weighed = scoring(found, [2] * len(found), 100)
    assert weighed.score(title) == pytest.approx(1)
    # And the text's words help a title that shares less.
    body = [i for i, t in enumerate(found) if not t.in_title]
    assert weighed.score([title[0], *body]) > weighed.score([title[0]])


def test_nothing_to_compare_is_never_alike() -> None:
    weighed = scoring([], [], 100)
    assert not weighed.alike(set()) and weighed.score(set()) == 0


def test_it_needs_no_django() -> None:
    code = (
        "import sys, undersigned.petitions.likeness; "
        "sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_held_by_names_the_terms_a_text_has_words_for() -> None:
    from undersigned.petitions.likeness import held_by

    found = likeness.terms(["repair", "bridge", "mill"])
    assert held_by(found, ["bridges", "on", "mill", "street"]) == [1, 2]
    assert held_by(found, ["buses"]) == []
