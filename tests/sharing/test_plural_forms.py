"""A count and the word after it agree, in Russian's three plural forms as in English's two:
on the embed, the badge, the preview image, and in the forms live.js switches between."""

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from tests.sharing.conftest import parse_xml
from tests.sharing.test_embeds import png, set_counts
from undersigned.petitions.models import Petition
from undersigned.sharing import images

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\xa0"

# count → (verified, awaiting), as a Russian reader expects them.
RUSSIAN = {
    1: ("проверенная подпись", "ожидает проверки"),
    2: ("проверенные подписи", "ожидают проверки"),
    4: ("проверенные подписи", "ожидают проверки"),
    5: ("проверенных подписей", "ожидают проверки"),
    11: ("проверенных подписей", "ожидают проверки"),
    21: ("проверенная подпись", "ожидает проверки"),
    22: ("проверенные подписи", "ожидают проверки"),
    0: ("проверенных подписей", "ожидают проверки"),
}


class Counts(HTMLParser):
    """The spans holding a count: their data-plural-* attributes and their text."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        bucket = a.get("class") if tag == "span" and "data-plural-other" in a else None
        if bucket:
            prefix = "data-plural-"
            self.spans[bucket] = {k[len(prefix) :]: v for k, v in a.items() if prefix in k}
            self.text[bucket] = ""
        self._open.append(bucket)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for bucket in self._open:
            if bucket:
                self.text[bucket] += data


def counts_of(page: str) -> Counts:
    parser = Counts()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("n", sorted(RUSSIAN))
def test_the_embed_in_russian_says_1_podpis_2_podpisi_5_podpisej(
    client: Client, petition: Petition, n: int
) -> None:
    set_counts(petition, n, n)
    found = counts_of(client.get(f"/p/{petition.slug}/embed/", **RU).content.decode())
    verified, awaiting = RUSSIAN[n]
    assert " ".join(found.text["verified"].split()) == f"{n} {verified}"
    assert " ".join(found.text["awaiting"].split()) == f"{n} {awaiting}"


def test_the_embed_in_english(client: Client, petition: Petition) -> None:
    set_counts(petition, 1, 2)
    found = counts_of(client.get(f"/p/{petition.slug}/embed/").content.decode())
    assert " ".join(found.text["verified"].split()) == "1 verified"
    assert " ".join(found.text["awaiting"].split()) == "2 awaiting verification"


@pytest.mark.parametrize("path", ["/p/{slug}/", "/p/{slug}/embed/"])
def test_every_form_of_the_word_is_there_for_the_live_count(
    client: Client, petition: Petition, path: str
) -> None:
    url = path.format(slug=petition.slug)
    russian = counts_of(client.get(url, **RU).content.decode()).spans
    # Named by the browser's plural categories (Intl.PluralRules) for Russian.
    assert russian["verified"] == {
        "one": "проверенная подпись",
        "few": "проверенные подписи",
        "many": "проверенных подписей",
        "other": "проверенных подписей",
    }
    assert russian["awaiting"]["one"] == "ожидает проверки"
    assert russian["awaiting"]["many"] == "ожидают проверки"
    english = counts_of(client.get(url).content.decode()).spans
    assert set(english["verified"].values()) == {"verified"}
    assert set(english["awaiting"].values()) == {"awaiting verification"}


def test_the_badge_in_russian_agrees_with_its_numbers(client: Client, petition: Petition) -> None:
    for verified, awaiting, big, small in (
        (21, 1, "21 проверенная подпись", "1 ожидает проверки"),
        (1234, 3, f"1{NBSP}234 проверенные подписи", "3 ожидают проверки"),
        (5, 0, "5 проверенных подписей", "0 ожидают проверки"),
    ):
        set_counts(petition, verified, awaiting)
        body = client.get(f"/p/{petition.slug}/badge.svg", **RU).content
        texts = [t.text for t in parse_xml(body).iter(f"{SVG}text")]
        assert texts == [big, small]


def test_the_preview_image_in_russian_agrees_with_its_numbers(
    client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[images.Preview] = []
    render = images.render_preview

    def spy(preview: images.Preview, **kwargs: Any) -> bytes:
        drawn.append(preview)
        return render(preview, **kwargs)

    monkeypatch.setattr(images, "render_preview", spy)
    for verified, awaiting, label, waiting in (
        (1, 21, "проверенная подпись", "21 ожидает проверки"),
        (3, 2, "проверенные подписи", "2 ожидают проверки"),
        (12345, 5, "проверенных подписей", "5 ожидают проверки"),
    ):
        set_counts(petition, verified, awaiting)
        image: Image.Image = png(client.get(f"/p/{petition.slug}/og.png", **RU).content)
        assert image.size == (1200, 630)
        assert drawn[-1].count_label == label
        assert drawn[-1].awaiting == waiting
    assert drawn[-1].count == f"12{NBSP}345"
    set_counts(petition, 1, 1)
    client.get(f"/p/{petition.slug}/og.png")
    assert (drawn[-1].count_label, drawn[-1].awaiting) == (
        "verified signature",
        "1 awaiting verification",
    )


def test_the_page_keeps_the_word_right_after_the_number(client: Client, petition: Petition) -> None:
    # live.js rewrites the text node that follows the number: nothing may come between.
    set_counts(petition, 2, 1)
    page = client.get(f"/p/{petition.slug}/", **RU).content.decode()
    assert re.search(r'data-count="verified">2</strong> проверенные подписи</span>', page)
    assert re.search(r'data-count="awaiting">1</strong> ожидает проверки</span>', page)
