"""Photos: read the header, decode within a memory budget, turn upright, re-encode pixels only.

A photo is opened in two steps, so that a request's photos are all known
before any is decoded: `open_photo` reads the header (size, format) and picks
the decoding scale, `decode` decodes it and shrinks it to the display size.
Decoding memory is bounded: a JPEG is decoded at 1/2, 1/4 or 1/8 of its size
when that still covers the display size (Pillow's draft mode), every photo is
shrunk right after decoding, before anything else makes a copy, and the
pipeline decodes one photo at a time (see pipeline.process). From the display
size come the stored sizes (`stored_sizes`): JPEG display size and thumbnail,
WebP at the display size and smaller.
"""

from __future__ import annotations

import functools
import io
import warnings
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from .errors import UploadError

if TYPE_CHECKING:
    from PIL import Image

FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "HEIF"}
# Besides the JPEG display size and thumbnail (for browsers without WebP), a photo is
# stored as WebP at its display size and at these longest sides below it, so that a
# browser takes the smallest that covers what it shows (srcset; the sizes in
# templates/_macros/media.html). WebP, not AVIF: Pillow makes AVIF ten times slower,
# and the teacher waits for it.
WEBP_SIZES = (960, 480, 240)
WEBP_METHOD = 2  # of 0-6: 2 is half the time of the default 4 for a few per cent in size
# The home-screen icons made from a school's logo (the names of the default ones in
# static/img/): name -> (side in px, maskable). A maskable icon's launcher may cut it to a
# circle of 80% of the side (the web app manifest's safe zone): its picture fits inside.
ICONS = {
    "icon-192": (192, False),
    "icon-512": (512, False),
    "icon-maskable-512": (512, True),
    "apple-touch-icon": (180, False),
}


@functools.cache
def _srgb():
    """The sRGB profile; and, once per process, the HEIF opener registered with Pillow.

    Here, not at import: Pillow, pillow-heif and LittleCMS take 10 MB of a worker, and
    only an upload (or `flask media variants`) decodes a photo (README, Performance).
    """
    from PIL import Image, ImageCms
    from pillow_heif import register_heif_opener

    register_heif_opener()
    # Pillow warns about images between MAX_IMAGE_PIXELS and twice that; we refuse them.
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def too_many_pixels(max_pixels: int):
    return _l("deze foto heeft te veel pixels (maximaal %(mp)d megapixel).",
              mp=max_pixels // 1_000_000)


def open_photo(stream, max_pixels: int, display_size: int) -> Image.Image:
    """The photo in `stream` with its header read and its decoding scale chosen, not decoded.

    Its `size` is what decoding will take. Raises UploadError.
    """
    from PIL import Image, UnidentifiedImageError

    _srgb()  # HEIF registered
    stream.seek(0)
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow refuses twice this before reading further
    try:
        image = Image.open(stream)
    except Image.DecompressionBombError:
        raise UploadError(too_many_pixels(max_pixels)) from None
    except UnidentifiedImageError:
        raise UploadError(_l("dit is geen foto, video (MP4) of PDF-bestand.")) from None
    except (OSError, SyntaxError):  # what Pillow raises for a header cut short or garbled
        raise UploadError(_l("deze foto is beschadigd of onvolledig.")) from None
    if image.format not in FORMATS:
        raise UploadError(
            _l("dit soort afbeelding wordt niet ondersteund (wel JPEG, PNG, WebP, HEIC).")
        )
    width, height = image.size
    if width * height > max_pixels:
        raise UploadError(too_many_pixels(max_pixels))
    if image.format in ("JPEG", "MPO"):
        # Decode at 1/2, 1/4 or 1/8 scale when that still covers the display size:
        # for a 12 MP photo a quarter of the pixels, time and memory.
        scale = display_size / max(width, height)
        if scale < 1:
            image.draft("RGB", (int(width * scale), int(height * scale)))
    return image


def decode(image: Image.Image, display_size: int) -> Image.Image:
    """The photo at (at most) the display size: upright, sRGB, RGB, without any metadata."""
    from PIL import Image, ImageOps

    try:
        image.load()
    except OSError:
        raise UploadError(_l("deze foto is beschadigd of onvolledig.")) from None
    if image.mode in ("1", "P", "PA"):
        # Palette pixels cannot be resampled smoothly; such photos are small per pixel.
        image = image.convert("RGBA")
    # In place: the decoded full size is let go here, before any copy is made.
    image.thumbnail((display_size, display_size), Image.Resampling.LANCZOS)
    image = ImageOps.exif_transpose(image)
    image = _to_srgb(image)
    # Pixels only from here on: no EXIF, XMP, comment, colour profile or anything
    # else the file carried can reach a stored file.
    image.info = {}
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Plain RGB in sRGB: transparency on white, colour profiles applied then dropped."""
    from PIL import Image, ImageCms

    if image.mode in ("RGBA", "LA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, _srgb(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion
    return image.convert("RGB") if image.mode != "RGB" else image


def stored_sizes(display: Image.Image, thumb_size: int) -> list[tuple[str, Image.Image]]:
    """Every file a photo is stored as, from its display size: (variant, picture).

    Variants are pipeline.SUFFIXES' names; JPEG for `display` and `thumb`, WebP for the rest.
    """
    from PIL import Image

    thumb = display.copy()
    thumb.thumbnail((thumb_size, thumb_size), Image.Resampling.LANCZOS)
    return [("display", display), ("thumb", thumb), *webp_sizes(display)]


def webp_sizes(display: Image.Image) -> list[tuple[str, Image.Image]]:
    """The WebP files of a photo: its display size, and each of WEBP_SIZES below it."""
    from PIL import Image

    result = [("webp", display)]
    smaller = display
    for size in WEBP_SIZES:
        if size < max(display.size):
            smaller = smaller.copy()  # each from the next larger: quicker, as sharp
            smaller.thumbnail((size, size), Image.Resampling.LANCZOS)
            result.append((f"webp{size}", smaller))
    return result


def icon(source, name: str) -> Image.Image:
    """Home-screen icon `name` (ICONS) from a stored picture (pixels only, sRGB, on white):
    the picture in the middle of a white square, shrunk or enlarged to fit with a margin."""
    from PIL import Image

    side, maskable = ICONS[name]
    with Image.open(source) as stored:
        picture = stored.convert("RGB")
    width, height = picture.size
    # Maskable: the picture's diagonal inside the safe circle (less a pixel or two for
    # rounding); otherwise its longer side at 84%, a margin the rounded corners leave alone.
    scale = (0.78 * side / (width * width + height * height) ** 0.5 if maskable
             else 0.84 * side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(picture.resize(size, Image.Resampling.LANCZOS),
                 ((side - size[0]) // 2, (side - size[1]) // 2))
    return canvas


def save(picture: Image.Image, target, variant: str, jpeg_quality: int,
         webp_quality: int) -> None:
    """Write a stored size to a path or file: pixels only, WebP or JPEG as its variant says."""
    if variant.startswith("webp"):
        picture.save(target, "WEBP", quality=webp_quality, method=WEBP_METHOD)
    else:
        picture.save(target, "JPEG", quality=jpeg_quality, progressive=True)
