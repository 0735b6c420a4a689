"""The public petition page: counts, milestones, the list of signatories, the region table."""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_petition
from undersigned.petitions import views
from undersigned.petitions.models import Petition
from undersigned.registers.models import RegisterEntry
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db

State = Signature.State


def sign(
    petition: Petition,
    name: str,
    email: str,
    *,
    confirm: bool = True,
    show: bool = True,
    role: str = "",
    municipality: str = "",
    region: str = "",
) -> Signature:
    """Sign through the service, and click the confirmation link as the signer would."""
    signature = signing.sign(
        petition,
        signing.SignRequest(
            full_name=name,
            email=email,
            show_name=show,
            role=role,
            municipality=municipality,
            region=region,
        ),
    )
    if not confirm:
        return signature
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def shown_counts(page: str) -> tuple[int, int]:
    verified = re.search(r'data-count="verified">([\d,]+)</strong> verified<', page)
    awaiting = re.search(r'data-count="awaiting">([\d,]+)</strong> awaiting verification<', page)
    assert verified and awaiting, page
    return int(verified.group(1).replace(",", "")), int(awaiting.group(1).replace(",", ""))


def signatories_section(page: str) -> str:
    start = page.index('<section class="signatories">')
    return page[start : page.index("</section>", start)]


def region_table(page: str) -> str:
    start = page.index("Verified signatures by region")
    return page[start : page.index("</table>", start)]


def entry(name: str) -> RegisterEntry:
    return RegisterEntry.objects.get(full_name=name)


def test_verified_and_awaiting_are_two_numbers_never_one_total(
    client: Client, letter: Petition
) -> None:
    # Three verify at once (confirmed at their official address on the register) ...
    sign(
        letter,
        "Kseniya Lindstrem",
        "lindstrem@council.example.org",
        role="municipal deputy",
        municipality="Semyonovsky",
    )
    sign(
        letter,
        "Anna Belova",
        "belova@council.example.org",
        role="municipal deputy",
        municipality="Kolpino",
    )
    approved = sign(
        letter,
        "Gleb Zorin",
        "gleb@mail.example.org",
        role="municipal deputy",
        municipality="Samara",
    )
    signing.approve(approved.pk, letter.organiser, entry=entry("Gleb Zorin"))
    # ... two wait for a moderator, and one never confirmed its address.
    sign(
        letter,
        "Vera Orlova",
        "vera@mail.example.org",
        role="municipal deputy",
        municipality="Yakutsk",
    )
    sign(
        letter,
        "Dmitry Palyuga",
        "dp@mail.example.org",
        role="municipal deputy",
        municipality="Smolninskoye",
    )
    sign(
        letter,
        "Someone Unconfirmed",
        "nobody@mail.example.org",
        confirm=False,
        role="municipal deputy",
        municipality="Kolpino",
    )

    page = client.get(f"/p/{letter.slug}/").content.decode()
    assert shown_counts(page) == (3, 2)
    counts_paragraph = page[
        page.index('id="counts"') : page.index("</p>", page.index('id="counts"'))
    ]
    # No blended total (5) and no count including the unconfirmed signer (6) anywhere near.
    assert sorted(re.findall(r"\d+", counts_paragraph)) == ["2", "3"]
    assert (
        '<meta name="description" content="3 verified signatures · 2 awaiting verification">'
        in page
    )


def test_large_counts_are_grouped_for_reading(client: Client, petition: Petition) -> None:
    petition.tallies.create(region="", municipality="", verified=12345, awaiting=1200)
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert shown_counts(page) == (12345, 1200)
    assert ">12,345</strong> verified" in page


def test_thresholds_show_progress_and_when_they_are_reached(client: Client, organiser: Any) -> None:
    petition = make_petition(organiser, slug="milestones", thresholds=[10, 2])
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "0 of 2 verified signatures" in page
    assert "0 of 10 verified signatures" in page
    assert 'id="threshold-2" max="100" value="0"' in page

    for i in range(3):
        sign(petition, f"Signer Number{'abc'[i]}", f"s{i}@example.org")
    sign(petition, "Not Yet", "later@example.org", confirm=False)
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "Reached 2 verified signatures" in page
    assert "3 of 10 verified signatures" in page
    assert 'id="threshold-10" max="100" value="30"' in page
    assert 'id="threshold-2" max="100" value="100"' in page
    # Smaller milestone first, whatever order the organiser typed them in.
    assert page.index('id="threshold-2"') < page.index('id="threshold-10"')


def test_shown_signatories_are_grouped_by_the_register_place(
    client: Client, letter: Petition
) -> None:
    # Claims "Semenovsky" with no region; the register entry's spelling and region win.
    sign(
        letter,
        "Kseniya Lindstrem",
        "lindstrem@council.example.org",
        role="municipal deputy",
        municipality="Semenovsky",
    )
    sign(
        letter,
        "Anna Belova",
        "belova@council.example.org",
        role="municipal deputy",
        municipality="Kolpino",
    )
    claim = sign(
        letter,
        "Gleb Zorin",
        "gleb@mail.example.org",
        role="municipal deputy",
        municipality="Samara city",
        region="Samarskaya",
    )
    signing.approve(claim.pk, letter.organiser, entry=entry("Gleb Zorin"))
    hidden = sign(
        letter,
        "Vera Orlova",
        "vera@mail.example.org",
        show=False,
        role="municipal deputy",
        municipality="Yakutsk",
    )
    signing.approve(hidden.pk, letter.organiser, entry=entry("Vera Orlova"))
    sign(
        letter,
        "Dmitry Palyuga",
        "dp@mail.example.org",
        role="municipal deputy",
        municipality="Smolninskoye",
    )  # still awaiting review: not listed

    page = client.get(f"/p/{letter.slug}/").content.decode()
    names = signatories_section(page)
    order = [
        "<h3>Samara Oblast</h3>",
        "<strong>Samara</strong>",
        "Gleb Zorin",
        "<h3>St Petersburg</h3>",
        "<strong>Kolpino</strong>",
        "Anna Belova",
        "<strong>Semyonovsky</strong>",
        "Kseniya Lindstrem",
    ]
    positions = [names.index(text) for text in order]
    assert positions == sorted(positions)
    assert "Semenovsky" not in names and "Samara city" not in names
    assert "Samarskaya" not in names
    # Hidden and unverified signers are not named anywhere on the page.
    assert "Vera Orlova" not in page
    assert "Dmitry Palyuga" not in page
    # The hidden signer still counts, but Yakutsk has one deputy: its count would
    # name her, so she is counted in no place (docs/security.md, "Small cells").
    assert shown_counts(page) == (4, 1)
    assert "Sakha" not in region_table(page) and "Yakutsk" not in page
    assert "place not shown</th><td>1</td>" in region_table(page)


def test_region_table_sums_verified_signatures_per_region_and_municipality(
    client: Client, petition: Petition
) -> None:
    sign(petition, "Anna Belova", "a@example.org", region="St Petersburg", municipality="Kolpino")
    sign(
        petition,
        "Boris Vetrov",
        "b@example.org",
        region="St Petersburg",
        municipality="Kolpino",
        show=False,
    )
    sign(
        petition,
        "Vera Gromova",
        "v@example.org",
        region="St Petersburg",
        municipality="Smolninskoye",
    )
    sign(petition, "Gleb Zorin", "g@example.org", region="Samara Oblast", municipality="Samara")
    sign(petition, "Daria Lapina", "d@example.org")  # no place given
    sign(petition, "Waiting Person", "w@example.org", region="Moscow", confirm=False)

    table = region_table(client.get(f"/p/{petition.slug}/").content.decode())
    rows = re.findall(
        r"<tr>(?:<th scope=\"rowgroup\" rowspan=\"(\d+)\">([^<]*)</th>)?"
        r"<td>([^<]*)</td><td>([^<]*)</td></tr>",
        table,
    )
    # Biggest region first, equal ones by name ("" for no place given sorts first).
    # Kolpino's hidden signer is too few to be counted there (docs/security.md,
    # "Small cells"): the last row has her, so the rows still add up to the total.
    assert rows == [
        ("2", "St Petersburg (2)", "Kolpino", "1"),
        ("", "", "Smolninskoye", "1"),
        ("1", "Not given (1)", "—", "1"),
        ("1", "Samara Oblast (1)", "Samara", "1"),
    ]
    assert "Counted without their name, place not shown</th><td>1</td>" in table
    # A region with nothing verified yet is not in the table.
    assert "Moscow" not in table


def test_no_region_table_before_anyone_is_verified(client: Client, petition: Petition) -> None:
    sign(petition, "Waiting Person", "w@example.org", region="Moscow", confirm=False)
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "Verified signatures by region" not in page
    assert "No verified signatory has chosen to be shown yet." in page


def test_page_and_api_never_count_signature_rows(
    client: Client, letter: Petition, petition: Petition
) -> None:
    sign(
        letter,
        "Anna Belova",
        "belova@council.example.org",
        role="municipal deputy",
        municipality="Kolpino",
    )
    sign(
        letter,
        "Gleb Zorin",
        "gleb@mail.example.org",
        role="municipal deputy",
        municipality="Samara",
    )
    sign(petition, "Vera Orlova", "v@example.org", region="Sakha (Yakutia)")
    for url in (
        f"/p/{letter.slug}/",
        f"/p/{petition.slug}/",
        "/",
        f"/p/{letter.slug}/signatories/",
        "/api/petitions",
        f"/api/petitions/{letter.slug}",
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        sql = [q["sql"] for q in queries.captured_queries]
        counting = [s for s in sql if "COUNT" in s.upper() and "signing_signature" in s]
        assert counting == [], (url, counting)
    # The check above means something: the petition page does read signature rows (the names).
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/p/{letter.slug}/")
    assert any("signing_signature" in q["sql"] for q in queries.captured_queries)


def test_unknown_petition_is_a_friendly_404(client: Client, db: None) -> None:
    response = client.get("/p/no-such-petition/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no page at this address" in page
    assert 'href="/"' in page  # a way back to the open petitions
    assert client.get("/p/no-such-petition/signatories/").status_code == 404


def test_a_draft_is_not_public(client: Client, organiser: Any) -> None:
    draft = make_petition(organiser, slug="secret-draft", title="Secret draft title", publish=False)
    for url in (f"/p/{draft.slug}/", f"/p/{draft.slug}/signatories/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Secret draft title" not in response.content.decode()
    assert "Secret draft title" not in client.get("/").content.decode()


def test_a_closed_petition_stays_readable_with_its_counts(
    client: Client, petition: Petition, organiser: Any
) -> None:
    from undersigned.petitions import services as petitions

    sign(petition, "Anna Belova", "a@example.org")
    petitions.close(petition, organiser)
    response = client.get(f"/p/{petition.slug}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert shown_counts(page) == (1, 0)
    assert "Signing is closed" in page
    assert f'action="/p/{petition.slug}/sign/"' not in page


def test_signatories_pages_by_id_and_ignore_a_bad_cursor(
    client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    names = ["Anna Belova", "Boris Vetrov", "Vera Gromova", "Gleb Zorin", "Daria Lapina"]
    for i, name in enumerate(names):
        sign(petition, name, f"p{i}@example.org", region="St Petersburg", municipality="Kolpino")
        if i == 2:
            sign(petition, "Hidden Signer", "hidden@example.org", show=False)
            sign(petition, "Unconfirmed Signer", "unconfirmed@example.org", confirm=False)

    seen: list[str] = []
    url = f"/p/{petition.slug}/signatories/"
    pages = 0
    while True:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        seen += re.findall(r"<tr><td>([^<]*)</td>", page)
        pages += 1
        following = re.search(r'href="\?after=(\d+)">Next page', page)
        if following is None:
            break
        assert pages < 5, "pagination does not end"
        url = f"/p/{petition.slug}/signatories/?after={following.group(1)}"
    assert seen == names  # every shown signatory once, in signing order
    assert pages == 3
    assert "First page" in page

    first = client.get(f"/p/{petition.slug}/signatories/").content.decode()
    assert "First page" not in first
    assert "<td>Kolpino</td><td>St Petersburg</td>" in first
    for junk in ("abc", "-5", "", "1e9999", "%00"):
        response = client.get(f"/p/{petition.slug}/signatories/?after={junk}")
        assert response.status_code == 200, junk
        assert re.findall(r"<tr><td>([^<]*)</td>", response.content.decode()) == names[:2]


def test_signatories_page_without_names_says_so(client: Client, petition: Petition) -> None:
    sign(petition, "Hidden Signer", "hidden@example.org", show=False)
    page = client.get(f"/p/{petition.slug}/signatories/").content.decode()
    assert "Hidden Signer" not in page
    assert "No verified signatory has chosen to be shown yet." in page
    assert "Next page" not in page
