"""The preview image carries its own Cyrillic font: a Russian title is drawn in real glyphs on
any machine, and the verified count in the image is the petition's."""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image, ImageChops, ImageDraw, ImageFont

from tests.conftest import make_petition
from tests.sharing.test_embeds import png, set_counts
from undersigned.sharing import images

TITLE = "Сохраним парк у Ижоры"
# Not in DejaVu Sans: whatever a font draws for it is its "missing glyph" box.
MISSING = "中"


def glyph(face: images.Font, letter: str) -> bytes:
    image = Image.new("L", (160, 160))
    ImageDraw.Draw(image).text((20, 20), letter, font=face, fill=255)
    return image.tobytes()


def draws_real_glyphs(face: images.Font, text: str) -> bool:
    missing = glyph(face, MISSING)
    return all(glyph(face, letter) != missing for letter in text.replace(" ", ""))


def test_the_fonts_ship_inside_the_package_with_their_licence() -> None:
    package = Path(images.__file__).resolve().parent
    assert images.FONT_DIR == package / "fonts"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"):
        assert (images.FONT_DIR / name).is_file(), name
    assert "Bitstream Vera" in (images.FONT_DIR / "LICENSE").read_text()
    # Nothing is looked for among the system's fonts any more.
    assert not str(images.FONT_DIR).startswith("/usr/share/fonts")


@pytest.mark.parametrize("bold", [False, True])
def test_the_shipped_font_draws_cyrillic_and_pillows_own_would_not(bold: bool) -> None:
    face = images.font(64, bold=bold)
    assert face.getname()[0] == "DejaVu Sans"  # type: ignore[union-attr]
    assert draws_real_glyphs(face, TITLE + "ЁЖЩЮЯёжщюя")
    # The check itself can fail: Pillow's built-in font has no Cyrillic.
    assert not draws_real_glyphs(ImageFont.load_default(64), "Ж")


def alone(text: str, face: images.Font, xy: tuple[float, float], fill: str) -> Image.Image:
    """`text` drawn by itself where the preview draws it, on the preview's background."""
    image = Image.new("RGB", (images.WIDTH, images.HEIGHT), images.BACKGROUND)
    ImageDraw.Draw(image).text(xy, text, font=face, fill=fill, anchor="ls")
    return image


def same_in(box: tuple[int, int, int, int], a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a.crop(box), b.crop(box)).getbbox() is None


@pytest.mark.django_db
def test_a_russian_title_and_the_count_are_drawn_as_they_should_be(
    client: Client, organiser: Any
) -> None:
    petition = make_petition(organiser, slug="izhora", title=TITLE)
    set_counts(petition, 1234, 5)
    image = png(client.get(f"/p/{petition.slug}/og.png").content).convert("RGB")

    title_face = images.font(64, bold=True)
    title_at = (images.MARGIN, 150 + 64)
    expected_title = alone(TITLE, title_face, title_at, images.INK)
    box = ImageDraw.Draw(expected_title).textbbox(title_at, TITLE, font=title_face, anchor="ls")
    assert same_in(tuple(map(int, box)), image, expected_title)  # type: ignore[arg-type]

    count_face = images.font(104, bold=True)
    count_at = (images.MARGIN, images.HEIGHT - 130)
    for text, expected in (("1,234", True), ("1,235", False), ("1234", False)):
        drawn = alone(text, count_face, count_at, images.VERIFIED)
        box = ImageDraw.Draw(drawn).textbbox(count_at, text, font=count_face, anchor="ls")
        assert same_in(tuple(map(int, box)), image, drawn) is expected, text  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_count_of_tens_of_millions_stays_inside_the_image(language: str) -> None:
    from django.utils import translation
    from django.utils.translation import ngettext

    with translation.override(language):
        # The label the preview view draws beside the count.
        label = ngettext("verified signature", "verified signatures", 12_345_678)
    preview = images.Preview(
        title=TITLE, count="12 345 678", count_label=label, awaiting="5", site="example.org"
    )
    image = png(images.render_preview(preview)).convert("RGB")
    # Nothing but background in the right margin, where text would run off.
    margin = image.crop((images.WIDTH - images.MARGIN // 2, 0, images.WIDTH, images.HEIGHT))
    background = Image.new("RGB", margin.size, images.BACKGROUND)
    assert ImageChops.difference(margin, background).getbbox() is None
