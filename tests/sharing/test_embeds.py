"""What other sites fetch (badge, embed, preview image, QR code) and what the page offers them."""

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import segno
from django.test import Client
from PIL import Image, ImageChops

from tests.conftest import make_petition
from tests.sharing.conftest import parse_xml, sign
from undersigned.petitions.models import Petition, Tally
from undersigned.sharing import images

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
SITE = "https://petitions.example.org"


@pytest.fixture(autouse=True)
def site_url(settings: Any) -> None:
    # Not the test client's host: shared addresses must come from SITE_URL.
    settings.SITE_URL = SITE


def set_counts(petition: Petition, verified: int, awaiting: int) -> None:
    Tally.objects.update_or_create(
        petition=petition,
        region="",
        municipality="",
        defaults={"verified": verified, "awaiting": awaiting},
    )


class Head(HTMLParser):
    """The page's <meta> tags, <script>s and <a href>s."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta[str(a.get("property") or a.get("name"))] = str(a.get("content"))
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "a" and str(a.get("class", "")).startswith("share-"):
            self.links[str(a["class"])[len("share-") :]] = str(a["href"])


def parsed(page: str) -> Head:
    head = Head()
    head.feed(page)
    return head


# ------------------------------------------------------------------ badge


def test_the_badge_is_an_svg_with_the_verified_count_and_the_awaiting_count_smaller(
    client: Client, petition: Petition
) -> None:
    set_counts(petition, 1234, 56)
    response = client.get(f"/p/{petition.slug}/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=10"
    root = parse_xml(response.content)
    assert root.tag == f"{SVG}svg"
    texts = {t.text: t.attrib for t in root.iter(f"{SVG}text")}
    assert set(texts) == {"1,234 verified", "56 awaiting verification"}
    assert int(texts["56 awaiting verification"]["font-size"]) < int(
        texts["1,234 verified"]["font-size"]
    )
    assert root.findtext(f"{SVG}title") == (
        "Clean air for Kolpino: 1,234 verified, 56 awaiting verification"
    )
    # The drawing is wide enough for its longest line.
    assert float(root.attrib["width"]) > 20 * 0.6 * len("1,234 verified")


def test_the_badge_title_is_escaped(client: Client, organiser: Any) -> None:
    title = 'Stop <script>alert("x")</script> & co'
    petition = make_petition(organiser, slug="escaped", title=title)
    body = client.get(f"/p/{petition.slug}/badge.svg").content.decode()
    assert "<script>" not in body
    root = parse_xml(body)  # well-formed XML despite the title
    assert root.findtext(f"{SVG}title", "").startswith(title + ": 0 verified")


def test_drafts_and_unknown_petitions_have_no_badge_or_anything_else(
    client: Client, organiser: Any
) -> None:
    draft = make_petition(organiser, slug="a-draft", publish=False)
    for slug in (draft.slug, "no-such-petition"):
        for suffix in ("badge.svg", "embed/", "og.png", "qr.svg"):
            assert client.get(f"/p/{slug}/{suffix}").status_code == 404, (slug, suffix)


# ------------------------------------------------------------------ framing


def test_only_the_embed_can_be_framed_by_other_sites(client: Client, petition: Petition) -> None:
    embed = client.get(f"/p/{petition.slug}/embed/")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    csp = embed["Content-Security-Policy"]
    assert re.search(r"(^|; )frame-ancestors \*(;|$)", csp), csp
    # Everything else in the policy stays as strict as on the rest of the site.
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp

    for path in (f"/p/{petition.slug}/", "/", f"/p/{petition.slug}/badge.svg"):
        response = client.get(path)
        assert response["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], path


def test_the_embed_shows_the_counts_and_links_to_the_petition(
    client: Client, petition: Petition
) -> None:
    set_counts(petition, 1500, 3)
    page = client.get(f"/p/{petition.slug}/embed/").content.decode()
    assert '<strong data-count="verified">1,500</strong>' in page
    assert '<strong data-count="awaiting">3</strong>' in page
    assert f'href="{SITE}/p/{petition.slug}/"' in page
    assert f'href="{SITE}/p/{petition.slug}/#sign"' in page
    (script,) = parsed(page).scripts
    assert script["src"] == "/static/sharing/live.js"
    assert script["data-count-url"] == f"/api/petitions/{petition.slug}"


# ------------------------------------------------------------------ the page's head


def test_open_graph_and_twitter_tags_describe_the_petition(
    client: Client, petition: Petition
) -> None:
    set_counts(petition, 1234, 5)
    head = parsed(client.get(f"/p/{petition.slug}/").content.decode())
    meta = head.meta
    url = f"{SITE}/p/{petition.slug}/"
    assert meta["og:title"] == meta["twitter:title"] == "Clean air for Kolpino"
    assert (
        meta["og:description"]
        == meta["twitter:description"]
        == ("1,234 verified · 5 awaiting verification")
    )
    assert meta["og:url"] == url
    assert meta["og:image"] == meta["twitter:image"] == f"{url}og.png?n=1234"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:site_name"] == "Undersigned"
    # No inline script anywhere (the CSP would block it), and none from elsewhere.
    assert head.scripts and all(str(s.get("src", "")).startswith("/static/") for s in head.scripts)


def test_the_live_count_script_is_only_on_open_petitions(
    client: Client, petition: Petition, organiser: Any
) -> None:
    from undersigned.petitions import services as petitions

    def live(path: str) -> list[Any]:
        page = client.get(path).content.decode()
        return [s for s in parsed(page).scripts if s["src"] == "/static/sharing/live.js"]

    (script,) = live(f"/p/{petition.slug}/")
    assert script["data-count-url"] == f"/api/petitions/{petition.slug}"
    assert script["data-interval"] == "10"
    petitions.close(petition, organiser)
    assert live(f"/p/{petition.slug}/") == []


# ------------------------------------------------------------------ share links


def test_share_links_carry_the_encoded_address_and_no_third_party_script(
    client: Client, organiser: Any
) -> None:
    petition = make_petition(organiser, slug="fair-rent", title="Fair rent & heat: now?")
    page = client.get(f"/p/{petition.slug}/").content.decode()
    links = parsed(page).links
    assert set(links) == {"telegram", "x", "facebook", "vk", "whatsapp", "email"}
    url = f"{SITE}/p/{petition.slug}/"
    encoded = quote(url, safe="")
    for key, href in links.items():
        assert encoded in href, (key, href)
    hosts = {key: urlsplit(href).netloc for key, href in links.items() if key != "email"}
    assert hosts == {
        "telegram": "t.me",
        "x": "x.com",
        "facebook": "www.facebook.com",
        "vk": "vk.com",
        "whatsapp": "wa.me",
    }
    # Decoded, each carries the whole address and the title, "&" and "?" included.
    telegram = parse_qs(urlsplit(links["telegram"]).query)
    assert telegram == {"url": [url], "text": ["Sign “Fair rent & heat: now?”"]}
    assert parse_qs(urlsplit(links["whatsapp"]).query)["text"] == [
        f"Sign “Fair rent & heat: now?” {url}"
    ]
    mail = urlsplit(links["email"])
    assert mail.scheme == "mailto"
    assert "+" not in mail.query  # mail programs read "+" literally
    assert parse_qs(mail.query) == {
        "subject": ["Fair rent & heat: now?"],
        "body": [f"Sign “Fair rent & heat: now?”\n\n{url}"],
    }


def test_the_share_panel_offers_the_badge_and_iframe_snippets(
    client: Client, petition: Petition
) -> None:
    page = client.get(f"/p/{petition.slug}/").content.decode()
    url = f"{SITE}/p/{petition.slug}/"
    # Shown as text to copy, escaped once so that it reads as HTML.
    assert (
        f"&lt;a href=&quot;{url}&quot;&gt;&lt;img src=&quot;{url}badge.svg&quot; "
        "alt=&quot;Clean air for Kolpino&quot;&gt;&lt;/a&gt;"
    ) in page
    assert f"&lt;iframe src=&quot;{url}embed/&quot; title=&quot;Clean air for Kolpino&quot;" in page
    assert f'<img class="badge-preview" src="{url}badge.svg"' in page
    assert f'<img class="qr" src="{url}qr.svg"' in page


# ------------------------------------------------------------------ preview image


def png(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def test_the_preview_image_is_1200_by_630_and_changes_with_the_count(
    client: Client, petition: Petition
) -> None:
    url = f"/p/{petition.slug}/og.png"
    first = client.get(url)
    assert first["Content-Type"] == "image/png"
    assert first["Cache-Control"] == "public, max-age=60"
    image = png(first.content)
    assert image.size == (1200, 630)
    assert client.get(url).content == first.content  # the same numbers: the same image

    sign(petition, "a@example.org")
    second = png(client.get(url).content)
    assert second.size == (1200, 630)
    difference = ImageChops.difference(image.convert("RGB"), second.convert("RGB")).getbbox()
    assert difference is not None
    # Only the count's corner changed: the title at the top is drawn the same.
    assert difference[1] > 300, difference  # (left, top, right, bottom)


def test_the_preview_draws_the_count_as_the_same_text_would_be(petition: Petition) -> None:
    # No OCR here: instead, the image for "1,234" equals one drawn for "1,234"
    # and differs from one drawn for "1,235".
    base = images.Preview("Clean air", "1,234", "verified signatures", "0 awaiting", "Site")
    same = images.render_preview(base)
    other = images.render_preview(images.Preview(**{**base.__dict__, "count": "1,235"}))
    assert images.render_preview(base) == same
    assert same != other


def test_the_preview_falls_back_to_pillows_font_and_wraps_long_titles(tmp_path: Path) -> None:
    long_title = "Верните общественный транспорт на улицы Колпино " * 6
    preview = images.Preview(long_title, "12", "verified signatures", "3 awaiting", "Undersigned")
    for font_dir in (images.FONT_DIR, tmp_path):  # tmp_path has no fonts: Pillow's own
        image = png(images.render_preview(preview, font_dir=font_dir))
        assert image.size == (1200, 630)
    face = images.font(52, bold=True)
    lines = images.wrap(long_title, face, 1040, 4)
    assert len(lines) == 4
    assert lines[-1].endswith("…")
    assert all(face.getlength(line) <= 1040 for line in lines)


# ------------------------------------------------------------------ QR code


def dark_modules(svg: bytes) -> set[tuple[int, int]]:
    """The (row, column) of every dark module in segno's SVG path (M/m moves, h runs)."""
    root = parse_xml(svg)
    (path,) = [p for p in root.iter(f"{SVG}path") if p.attrib.get("class") == "qrline"]
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.attrib["d"]):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for col in range(int(x), int(x + float(a))):
                dark.add((int(y), col))
            x += float(a)
    return dark


def test_the_qr_code_encodes_the_petition_address_from_site_url(
    client: Client, petition: Petition
) -> None:
    response = client.get(f"/p/{petition.slug}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = parse_xml(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["viewBox"]  # scales to any size on a poster
    url = f"{SITE}/p/{petition.slug}/"
    assert root.findtext(f"{SVG}title") == url

    # Read back: the drawn modules are exactly those of a QR code of that address.
    border = 4
    expected = {
        (r + border, c + border)
        for r, row in enumerate(segno.make(url, error="m", micro=False).matrix)
        for c, module in enumerate(row)
        if module
    }
    drawn = dark_modules(response.content)
    assert drawn == expected
    other = segno.make(f"http://testserver/p/{petition.slug}/", error="m", micro=False)
    assert drawn != {
        (r + border, c + border)
        for r, row in enumerate(other.matrix)
        for c, m in enumerate(row)
        if m
    }
