"""Demo artwork drawn locally with Pillow: article illustrations, author portraits, a share card."""

import colorsys
import hashlib
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.images import ImageFile
from PIL import Image as PillowImage
from PIL import ImageDraw, ImageFont
from wagtail.images import get_image_model
from wagtail.utils.file import hash_filelike

HERO_SIZE = (1600, 900)
PORTRAIT_SIZE = (480, 480)
SHARE_SIZE = (1200, 630)
GOLDEN_RATIO = 0.618033988749895

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """A background and three accents around one hue, so every picture has its own colours."""

    background: Colour
    accents: tuple[Colour, Colour, Colour]
    ink: Colour


def _rgb(hue: float, lightness: float, saturation: float) -> Colour:
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def palette_for(index: int) -> Palette:
    """The index-th palette: hues spread by the golden ratio never repeat closely."""
    hue = (0.08 + index * GOLDEN_RATIO) % 1.0
    return Palette(
        background=_rgb(hue, 0.16, 0.45),
        accents=(
            _rgb(hue, 0.58, 0.75),
            _rgb(hue + 0.45, 0.62, 0.70),
            _rgb(hue + 0.12, 0.80, 0.55),
        ),
        ink=(250, 248, 242),
    )


def _random_for(seed: str) -> random.Random:
    """A generator seeded from text, stable across runs (unlike hash())."""
    return random.Random(hashlib.sha256(seed.encode()).hexdigest())  # noqa: S311 - art, not crypto


def _with_alpha(colour: Colour, alpha: int) -> tuple[int, int, int, int]:
    return (*colour, alpha)


def _draw_circles(draw: ImageDraw.ImageDraw, size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    for step in range(9):
        radius = rng.randint(height // 6, height // 2)
        x, y = rng.randint(0, width), rng.randint(0, height)
        colour = palette.accents[step % 3]
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), fill=_with_alpha(colour, 150)
        )


def _draw_grid(draw: ImageDraw.ImageDraw, size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    cell = height // 6
    for row in range(0, height, cell):
        for column in range(0, width, cell):
            if rng.random() < 0.45:
                colour = rng.choice(palette.accents)
                inset = rng.choice((8, 16, cell // 4))
                box = (column + inset, row + inset, column + cell - inset, row + cell - inset)
                draw.rectangle(box, fill=_with_alpha(colour, rng.choice((120, 200, 255))))


def _draw_lines(draw: ImageDraw.ImageDraw, size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    x = -height
    while x < width:
        stripe = rng.randint(12, 90)
        colour = rng.choice(palette.accents)
        polygon = [(x, height), (x + height, 0), (x + height + stripe, 0), (x + stripe, height)]
        draw.polygon(polygon, fill=_with_alpha(colour, rng.choice((110, 180, 240))))
        x += stripe + rng.randint(20, 110)


def _draw_waves(draw: ImageDraw.ImageDraw, size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    for band in range(7):
        base = height * (band + 1) / 8
        amplitude = rng.randint(20, 90)
        wavelength = rng.randint(width // 3, width)
        phase = rng.random() * math.tau
        crest = [
            (x, base + amplitude * math.sin(phase + math.tau * x / wavelength))
            for x in range(0, width + 20, 20)
        ]
        colour = palette.accents[band % 3]
        draw.polygon([*crest, (width, height), (0, height)], fill=_with_alpha(colour, 90))


def _draw_bars(draw: ImageDraw.ImageDraw, size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    count = rng.randint(9, 14)
    slot = width / count
    for index in range(count):
        bar_height = rng.randint(height // 6, height * 5 // 6)
        left = index * slot + slot * 0.15
        colour = palette.accents[index % 3]
        draw.rectangle((left, height - bar_height, left + slot * 0.7, height), fill=colour)
    draw.line((0, height * 0.3, width, height * 0.3), fill=palette.ink, width=4)


MOTIFS: dict[str, Callable] = {
    "circles": _draw_circles,
    "grid": _draw_grid,
    "lines": _draw_lines,
    "waves": _draw_waves,
    "bars": _draw_bars,
}


def illustration(motif: str, seed: str, palette: Palette, size=HERO_SIZE) -> PillowImage.Image:
    """An abstract geometric illustration; unknown motifs fall back to circles."""
    picture = PillowImage.new("RGB", size, palette.background)
    draw = ImageDraw.Draw(picture, "RGBA")
    MOTIFS.get(motif, _draw_circles)(draw, size, palette, _random_for(f"{motif}:{seed}"))
    return picture


def initials(name: str) -> str:
    """First letters of the first and last words: "Mei-Lin Zhao" -> "MZ"."""
    words = name.split()
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def portrait(name: str, palette: Palette) -> PillowImage.Image:
    """A square with the person's initials on a coloured ground."""
    picture = PillowImage.new("RGB", PORTRAIT_SIZE, palette.accents[0])
    draw = ImageDraw.Draw(picture)
    width, height = PORTRAIT_SIZE
    font = ImageFont.load_default(size=height * 2 // 5)
    draw.text(
        (width / 2, height / 2), initials(name), fill=palette.background, font=font, anchor="mm"
    )
    return picture


def share_card(site_name: str, tagline: str, palette: Palette) -> PillowImage.Image:
    """The outlet's branded fallback image for shared links (1200x630)."""
    picture = illustration("lines", site_name, palette, SHARE_SIZE)
    draw = ImageDraw.Draw(picture, "RGBA")
    width, height = SHARE_SIZE
    draw.rectangle((0, height * 0.45, width, height), fill=_with_alpha(palette.background, 235))
    name_font = ImageFont.load_default(size=120)
    draw.text((72, height * 0.5), site_name, fill=palette.ink, font=name_font)
    draw.text((76, height * 0.8), tagline, fill=palette.accents[2], font=_fitting_font(tagline))
    return picture


def _fitting_font(
    text: str, max_width: int = 1050, size: int = 40
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest font up to `size` that fits `text` on one line."""
    font = ImageFont.load_default(size=size)
    while size > 16 and font.getlength(text) > max_width:
        size -= 2
        font = ImageFont.load_default(size=size)
    return font


def store_image(
    title: str, description: str, draw: Callable[[], PillowImage.Image], filename: str
) -> tuple:
    """(image, created): the Wagtail image with this title, drawn and saved only if new."""
    Image = get_image_model()
    image = Image.objects.filter(title=title).order_by("pk").first()
    if image is not None:
        if image.description != description:
            image.description = description
            image.save(update_fields=["description"])
        return image, False
    buffer = io.BytesIO()
    draw().save(buffer, format="PNG")
    image = Image(title=title, description=description)
    image.file = ImageFile(buffer, name=filename)
    image.file_size = image.file.size
    image.file_hash = hash_filelike(buffer)  # as Wagtail's upload form records them
    image.save()
    return image, True
