"""The upload pipeline: check, decode, orient, strip metadata, resize, store.

An upload is classified by its content, never by its name: a PDF by its
signature, an MP4 by its `ftyp` box, anything else must decode as a photo in
Pillow. Photos are re-encoded from their pixels (so no EXIF, GPS, XMP or
camera serial survives), turned upright by their EXIF orientation, converted
to sRGB and stored twice: a display size and a thumbnail. The original is kept
only with MEDIA_KEEP_ORIGINALS (and never served).

Files are written under MEDIA_PATH/tmp first; the caller moves them into place
with `commit()` after its database transaction committed, or throws them away
with `discard()`. Names are random keys made here; nothing the user sent ever
becomes part of a path.
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import shutil
import unicodedata
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener
from werkzeug.datastructures import FileStorage

register_heif_opener()
# Pillow warns about images between MAX_IMAGE_PIXELS and twice that; we refuse them ourselves.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
log = logging.getLogger(__name__)

PHOTO, VIDEO, DOCUMENT = "photo", "video", "document"
PHOTO_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "HEIF"}
# ISO base media brands of MP4 files (HEIC shares the container, not the brands).
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"MSNV", b"dash", b"mmp4",
}
# The files of one attachment: variant -> file name suffix.
SUFFIXES = {"display": "jpg", "thumb": "thumb.jpg", "file": "bin", "original": "orig"}
KEY_RE = re.compile(r"[A-Za-z0-9_-]{32}")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class UploadError(Exception):
    """One file cannot be accepted; the message is for the user."""

    def __init__(self, message):
        super().__init__("upload refused")  # the lazy message is rendered in the request
        self.message = message


class UploadErrors(Exception):
    """Some files cannot be accepted; `messages` says which and why."""

    def __init__(self, messages):
        super().__init__(f"{len(messages)} uploads refused")
        self.messages = messages


@dataclass
class Staged:
    """A processed upload, written under a temporary name, not yet in place."""

    key: str
    kind: str
    filename: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    has_original: bool = False
    files: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, final)


@dataclass
class Limits:
    max_files: int
    photo_bytes: int
    video_bytes: int
    document_bytes: int
    max_pixels: int
    display_size: int
    thumb_size: int
    quality: int
    keep_originals: bool
    workers: int

    @classmethod
    def from_config(cls, cfg) -> Limits:
        mb = 1024 * 1024
        return cls(
            max_files=cfg["MEDIA_MAX_FILES"],
            photo_bytes=cfg["MEDIA_MAX_PHOTO_MB"] * mb,
            video_bytes=cfg["MEDIA_MAX_VIDEO_MB"] * mb,
            document_bytes=cfg["MEDIA_MAX_DOCUMENT_MB"] * mb,
            max_pixels=cfg["MEDIA_MAX_PIXELS"],
            display_size=cfg["MEDIA_DISPLAY_SIZE"],
            thumb_size=cfg["MEDIA_THUMB_SIZE"],
            quality=cfg["MEDIA_JPEG_QUALITY"],
            keep_originals=cfg["MEDIA_KEEP_ORIGINALS"],
            workers=cfg["MEDIA_WORKERS"],
        )


# -- paths --------------------------------------------------------------------


def root() -> Path:
    return Path(current_app.config["MEDIA_PATH"])


def path_for(key: str, variant: str, base: Path | None = None) -> Path:
    if not KEY_RE.fullmatch(key):
        raise ValueError("not a media key")
    return (base or root()) / key[:2] / f"{key}.{SUFFIXES[variant]}"


def new_key() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits


def clean_filename(name: str | None, extension: str | None, default: str = "bestand") -> str:
    """A file name safe to offer on download: no path, no control or quote characters.

    The extension is replaced by `extension` (the type we determined), or kept with None.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'["<>:;|?*%]+', "", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, own = name.rpartition(".") if "." in name else (name, "", "")
    stem = stem.strip(" .")[:100] or default
    if extension is None:
        return f"{stem}.{own[:10]}" if own else stem
    return f"{stem}.{extension}"


def shown_name(upload: FileStorage) -> str:
    """The name of an upload as the user knows it, safe to show in a message."""
    return clean_filename(upload.filename, None, default="?")


# -- checking -----------------------------------------------------------------


def _size_of(upload: FileStorage) -> int:
    stream = upload.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def sniff(upload: FileStorage) -> str:
    """PHOTO, VIDEO or DOCUMENT, from the first bytes (photos are confirmed by decoding)."""
    head = upload.stream.read(16)
    upload.stream.seek(0)
    if head.startswith(b"%PDF-"):
        return DOCUMENT
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return VIDEO
    return PHOTO


def check(uploads: list[FileStorage], limits: Limits, allowed=(PHOTO, VIDEO, DOCUMENT)):
    """Cheap checks before any decoding. Returns [(upload, kind)] and a list of messages."""
    chosen = [u for u in uploads if u and u.filename]
    errors: list = []
    if len(chosen) > limits.max_files:
        errors.append(_l("U kunt maximaal %(n)d bestanden tegelijk toevoegen.", n=limits.max_files))
        return [], errors
    checked = []
    for upload in chosen:
        name = shown_name(upload)
        size = _size_of(upload)
        if size == 0:
            errors.append(_l("%(name)s is leeg.", name=name))
            continue
        kind = sniff(upload)
        if kind not in allowed:
            if tuple(allowed) == (DOCUMENT,):
                errors.append(_l("%(name)s is geen PDF-bestand.", name=name))
            else:
                errors.append(_l("%(name)s kan hier niet worden toegevoegd.", name=name))
            continue
        limit = {PHOTO: limits.photo_bytes, VIDEO: limits.video_bytes,
                 DOCUMENT: limits.document_bytes}[kind]
        if size > limit:
            errors.append(
                _l("%(name)s is te groot (%(size)s MB); het maximum is %(max)s MB.",
                   name=name, size=_mb(size), max=_mb(limit))
            )
            continue
        checked.append((upload, kind))
    return checked, errors


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}" if n >= 10 * 1024 * 1024 else f"{n / (1024 * 1024):.1f}"


# -- processing ---------------------------------------------------------------


def process(checked: list[tuple[FileStorage, str]], limits: Limits) -> list[Staged]:
    """Process the checked uploads (photos in parallel). All succeed, or UploadError.

    On failure nothing stays on disk; the error names every file that failed.
    """
    Image.MAX_IMAGE_PIXELS = limits.max_pixels  # Pillow refuses twice this before decoding
    tmp = root() / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    base = root()
    jobs = [(upload, kind, new_key()) for upload, kind in checked]
    results: list[Staged | None] = [None] * len(jobs)
    errors = []

    def run(i):
        upload, kind, key = jobs[i]
        staged = Staged(key=key, kind=kind, filename="", content_type="", size=0)
        try:
            if kind == PHOTO:
                _photo(upload, staged, limits, tmp, base)
            else:
                _copy(upload, staged, tmp, base)
        except Exception:
            discard([staged])
            raise
        results[i] = staged

    with ThreadPoolExecutor(max_workers=max(1, limits.workers)) as pool:
        futures = [pool.submit(run, i) for i in range(len(jobs))]
        for (upload, _, _), future in zip(jobs, futures, strict=True):
            exc = future.exception()
            if exc is None:
                continue
            name = shown_name(upload)
            if isinstance(exc, UploadError):
                errors.append(_l("%(name)s: %(problem)s", name=name, problem=exc.message))
            else:
                log.warning("upload %r refused: %s: %s", name, type(exc).__name__, exc)
                errors.append(
                    _l("%(name)s is geen foto, video (MP4) of PDF-bestand, of het is beschadigd.",
                       name=name)
                )
    if errors:
        discard([s for s in results if s])
        raise UploadErrors(errors)
    return results  # type: ignore[return-value]


def _tmp_name(tmp: Path, key: str, variant: str) -> Path:
    return tmp / f"{key}.{SUFFIXES[variant]}.part"


def _copy(upload: FileStorage, staged: Staged, tmp: Path, base: Path) -> None:
    if staged.kind == VIDEO:
        staged.content_type, ext, default = "video/mp4", "mp4", "video"
    else:
        staged.content_type, ext, default = "application/pdf", "pdf", "document"
    staged.filename = clean_filename(upload.filename, ext, default)
    part = _tmp_name(tmp, staged.key, "file")
    staged.files.append((part, path_for(staged.key, "file", base)))
    upload.stream.seek(0)
    with open(part, "wb") as out:
        shutil.copyfileobj(upload.stream, out, 1024 * 1024)
    staged.size = part.stat().st_size


def _photo(upload: FileStorage, staged: Staged, limits: Limits, tmp: Path, base: Path) -> None:
    stream = upload.stream
    stream.seek(0)
    too_many_pixels = _l("deze foto heeft te veel pixels (maximaal %(mp)d megapixel).",
                         mp=limits.max_pixels // 1_000_000)
    try:
        img = Image.open(stream)
    except Image.DecompressionBombError:
        raise UploadError(too_many_pixels) from None
    except UnidentifiedImageError:
        raise UploadError(_l("dit is geen foto, video (MP4) of PDF-bestand.")) from None
    if img.format not in PHOTO_FORMATS:
        raise UploadError(
            _l("dit soort afbeelding wordt niet ondersteund (wel JPEG, PNG, WebP, HEIC).")
        )
    width, height = img.size
    if width * height > limits.max_pixels:
        raise UploadError(too_many_pixels)
    if img.format in ("JPEG", "MPO"):
        # Decode at 1/2, 1/4 or 1/8 scale when that is still at least the display
        # size: for a 12 MP photo this saves most of the decoding time and memory.
        box = limits.display_size / max(width, height)
        if box < 1:
            img.draft("RGB", (int(width * box), int(height * box)))
    try:
        img.load()
    except OSError:
        raise UploadError(_l("deze foto is beschadigd of onvolledig.")) from None
    img = ImageOps.exif_transpose(img)
    img = _to_srgb(img)
    display = img.copy()
    display.thumbnail((limits.display_size, limits.display_size), Image.Resampling.LANCZOS)
    thumb = display.copy()
    thumb.thumbnail((limits.thumb_size, limits.thumb_size), Image.Resampling.LANCZOS)

    staged.filename = clean_filename(upload.filename, "jpg", "foto")
    staged.content_type = "image/jpeg"
    staged.width, staged.height = display.size
    for variant, picture in (("display", display), ("thumb", thumb)):
        part = _tmp_name(tmp, staged.key, variant)
        staged.files.append((part, path_for(staged.key, variant, base)))
        # No exif=, icc_profile= or other info: the new file carries pixels only.
        picture.save(part, "JPEG", quality=limits.quality, progressive=True)
    staged.size = staged.files[0][0].stat().st_size
    if limits.keep_originals:
        part = _tmp_name(tmp, staged.key, "original")
        staged.files.append((part, path_for(staged.key, "original", base)))
        stream.seek(0)
        with open(part, "wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)
        staged.has_original = True


def _to_srgb(img: Image.Image) -> Image.Image:
    """Plain RGB in sRGB: transparency on white, colour profiles applied then dropped."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion
    return img.convert("RGB") if img.mode != "RGB" else img


# -- moving into place --------------------------------------------------------


def commit(staged: list[Staged]) -> None:
    """Move processed files into place (after the database transaction committed)."""
    for item in staged:
        for part, final in item.files:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, final)


def discard(staged: list[Staged]) -> None:
    """Remove the temporary files of processed uploads (the transaction failed)."""
    for item in staged:
        for part, _final in item.files:
            part.unlink(missing_ok=True)


def remove(keys: list[str]) -> None:
    """Delete the stored files of attachments (after their rows were deleted)."""
    for key in keys:
        for variant in SUFFIXES:
            try:
                path_for(key, variant).unlink(missing_ok=True)
            except OSError:
                log.warning("could not remove media file %s.%s", key, variant)
