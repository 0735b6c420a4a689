"""Searching the public signatories: names are found whatever the script or spelling."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_petition
from undersigned.petitions import views
from undersigned.petitions.models import Petition
from undersigned.registers.matching import name_found
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db


def sign(
    petition: Petition, name: str, email: str, *, show: bool = True, confirm: bool = True
) -> Signature:
    signature = signing.sign(
        petition, signing.SignRequest(full_name=name, email=email, show_name=show)
    )
    if not confirm:
        return signature
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def names_on(page: str) -> list[str]:
    return re.findall(r"<tr><td>([^<]*)</td>", page)


def search(client: Client, petition: Petition, query: str, after: int | None = None) -> str:
    params = {"q": query} if after is None else {"q": query, "after": str(after)}
    response = client.get(f"/p/{petition.slug}/signatories/", params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Ксения", "Kseniya Lindstrem"),
        ("Xenia", "Ксения Линдстрем"),
        ("Lindstr", "Ксения Линдстрем"),  # the start of a word, as a visitor types it
        ("линдстрем ксения", "Ksenia Lindstrem"),  # any word order
        ("Semyonov", "Семёнов Пётр"),
        ("Юрий", "Yuri Gagarin"),
        ("Iurii Gagarin", "Юрий Гагарин"),
    ],
)
def test_a_name_is_found_in_any_script_or_spelling(query: str, name: str) -> None:
    assert name_found(query, name)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Petrov", "Ivan Sidorov"),
        ("Ксения Белова", "Kseniya Lindstrem"),  # every word searched for must be there
        ("!!!", "Anna Belova"),  # nothing to search by
    ],
)
def test_a_different_name_is_not_found(query: str, name: str) -> None:
    assert not name_found(query, name)


def test_the_page_finds_shown_verified_names_across_scripts(
    client: Client, petition: Petition, organiser: User
) -> None:
    sign(petition, "Kseniya Lindstrem", "k1@example.org")
    sign(petition, "Ксения Линдстрем", "k2@example.org")
    sign(petition, "Anna Belova", "anna@example.org")
    sign(petition, "Ksenia Hidden", "hidden@example.org", show=False)
    sign(petition, "Ksenia Unconfirmed", "unconfirmed@example.org", confirm=False)
    other = make_petition(organiser, slug="other")
    sign(other, "Ksenia Elsewhere", "k3@example.org")

    page = search(client, petition, "Ксения")
    assert names_on(page) == ["Kseniya Lindstrem", "Ксения Линдстрем"]
    assert 'value="Ксения"' in page  # the search box keeps what was typed
    assert names_on(search(client, petition, "lindstrem")) == [
        "Kseniya Lindstrem",
        "Ксения Линдстрем",
    ]
    assert names_on(search(client, petition, "Белова")) == ["Anna Belova"]
    page = search(client, petition, "Gagarin")
    assert names_on(page) == []
    assert "No shown signatory matches this search here." in page
    # Without a query, everyone shown is listed, as before.
    everyone = client.get(f"/p/{petition.slug}/signatories/").content.decode()
    assert names_on(everyone) == ["Kseniya Lindstrem", "Ксения Линдстрем", "Anna Belova"]


def test_what_was_typed_is_shown_escaped(client: Client, petition: Petition) -> None:
    page = search(client, petition, '"><script>alert(1)</script>')
    assert "<script>alert(1)" not in page
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_results_are_paged_and_the_query_is_kept(
    client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(5):
        sign(petition, f"Anna Number{i}", f"a{i}@example.org")
        sign(petition, f"Boris Number{i}", f"b{i}@example.org")
    seen: list[str] = []
    page = search(client, petition, "anna")
    while True:
        seen += names_on(page)
        following = re.search(r'href="\?q=anna&amp;after=(\d+)">Next page', page)
        if following is None:
            break
        assert len(seen) < 10, "paging does not end"
        page = search(client, petition, "anna", int(following.group(1)))
    assert seen == [f"Anna Number{i}" for i in range(5)]
    assert 'href="?q=anna">First page' in page


def test_a_search_reads_a_bounded_number_of_rows_and_says_so(
    client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "SEARCH_SCAN_LIMIT", 4)
    for i in range(6):
        sign(petition, f"Boris Number{i}", f"b{i}@example.org")
    sign(petition, "Ксения Линдстрем", "k@example.org")

    page = search(client, petition, "Ksenia")
    assert names_on(page) == []
    assert "this search read only 4 signatories, and there are more" in page
    following = re.search(r'href="\?q=Ksenia&amp;after=(\d+)">Search the next ones', page)
    assert following, page
    assert "Next page" not in page

    page = search(client, petition, "Ksenia", int(following.group(1)))
    assert names_on(page) == ["Ксения Линдстрем"]
    assert "there are more" not in page
