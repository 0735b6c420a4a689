"""The link preview image (Open Graph, 1200×630): the title and the verified count.

Pillow only, no Django: the view hands in finished, translated strings.
The fonts ship with the package (fonts/): DejaVu Sans, Regular and Bold, as
Debian's fonts-dejavu-core has them, with their licence beside them. Pillow's
own font covers Latin only, and relying on the system's fonts meant that a
machine without them drew Russian titles as boxes. DejaVu rather than a font
package from PyPI: two files and a permissive licence (Bitstream Vera, DejaVu
changes public domain), no dependency, and the same face the badge names first.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
FONT_DIR = Path(__file__).resolve().parent / "fonts"
MARGIN = 80

# The site's palette (core/static/undersigned/site.css).
BACKGROUND = "#fbfbfa"
INK = "#1d232a"
MUTED = "#5b6570"
ACCENT = "#1f5f99"
VERIFIED = "#21693a"
AWAITING = "#8a5a00"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=32)
def font(size: int, *, bold: bool = False, font_dir: Path = FONT_DIR) -> Font:
    path = font_dir / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        # Only a broken install lacks them; a Latin-only preview beats none.
        return ImageFont.load_default(size)


@dataclass(frozen=True)
class Preview:
    title: str
    count: str  # the verified count, formatted for the reader's language
    count_label: str  # e.g. "verified signatures"
    awaiting: str  # e.g. "12 awaiting verification"
    site: str


def _width(text: str, face: Font) -> float:
    return float(face.getlength(text))


def wrap(text: str, face: Font, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; a word wider than a line is cut, and the last line kept ends in …"""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _width(candidate, face) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while _width(word, face) > width:
            cut = len(word) - 1
            while cut > 1 and _width(word[:cut], face) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _width(last + "…", face) > width:
            last = last[:-1].rstrip()
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines


def render_preview(preview: Preview, *, font_dir: Path = FONT_DIR) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 15, HEIGHT), fill=ACCENT)
    text_width = WIDTH - 2 * MARGIN

    draw.text((MARGIN, 96), preview.site, font=font(30, font_dir=font_dir), fill=MUTED, anchor="ls")

    # A long title gets a smaller size before it gets cut.
    size, most = 64, 3
    face = font(size, bold=True, font_dir=font_dir)
    if len(wrap(preview.title, face, text_width, max_lines=1000)) > most:
        size, most = 52, 4
        face = font(size, bold=True, font_dir=font_dir)
    lines = wrap(preview.title, face, text_width, most)
    line_height = round(size * 1.2)
    y = 150 + size
    for line in lines:
        draw.text((MARGIN, y), line, font=face, fill=INK, anchor="ls")
        y += line_height

    # The count at its full size when it fits with its label; a petition of
    # tens of millions with a long Russian label gets a smaller one instead of
    # running off the edge.
    for count_size, label_size in ((104, 40), (88, 36), (72, 32), (60, 28), (48, 24)):
        big = font(count_size, bold=True, font_dir=font_dir)
        label = font(label_size, font_dir=font_dir)
        label_x = MARGIN + _width(preview.count, big) + 24
        if label_x + _width(preview.count_label, label) <= MARGIN + text_width:
            break
    baseline = HEIGHT - 130
    draw.text((MARGIN, baseline), preview.count, font=big, fill=VERIFIED, anchor="ls")
    draw.text((label_x, baseline), preview.count_label, font=label, fill=INK, anchor="ls")
    draw.text(
        (MARGIN, HEIGHT - 62),
        preview.awaiting,
        font=font(34, font_dir=font_dir),
        fill=AWAITING,
        anchor="ls",
    )

    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
