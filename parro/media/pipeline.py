"""The upload pipeline: check, clean, store aside; moved into place after the commit.

An upload is classified by its content, never by its name: a PDF by its
signature, an MP4 by its `ftyp` box, anything else must decode as a photo in
Pillow. Nothing is stored as it was sent, so no hidden data (GPS position,
camera serial, comments, authors) reaches anyone who sees it:
- photos (photos.py) are turned upright by their EXIF orientation, converted
  to sRGB and re-encoded from their pixels alone (no EXIF, XMP, IPTC, comment
  or colour profile survives), in the sizes pages show: a JPEG display size
  and thumbnail, and WebP at the display size and smaller;
- videos (videos.py) are copied by ffmpeg into a new MP4 with the first video
  and audio stream and no metadata at all;
- PDFs (documents.py) are rewritten by pikepdf without document information
  and XMP metadata.
The original is kept only with MEDIA_KEEP_ORIGINALS (and never served).

`process` is slow (seconds for 20 photos) and needs no database: the upload
views run it between their reads and their write transaction, so nobody
waits for SQLite's write lock meanwhile. Files are written under
MEDIA_PATH/tmp first; the caller moves them into place with `commit()` after
its database transaction committed, or throws them away with `discard()`.
Names are random keys made here; nothing the user sent ever becomes part of
a path.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import threading
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from ..assets import content_hash
from . import documents, photos, videos
from .errors import UploadError, UploadErrors

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

PHOTO, VIDEO, DOCUMENT = "photo", "video", "document"
# ISO base media brands of MP4 files (HEIC shares the container, not the brands).
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"MSNV", b"dash", b"mmp4",
}
# The files of one attachment: variant -> file name suffix.
SUFFIXES = {
    "display": "jpg", "thumb": "thumb.jpg", "file": "bin", "original": "orig",
    "webp": "webp", **{f"webp{size}": f"{size}.webp" for size in photos.WEBP_SIZES},
    # A school logo's home-screen icons (icon_for): made when first asked for.
    **{name: f"{name}.png" for name in photos.ICONS},
}
KEY_RE = re.compile(r"[A-Za-z0-9_-]{32}")


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
    digest: str | None = None  # a photo's: content_hash of its stored sizes
    files: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, final)


@dataclass
class Limits:
    max_files: int
    photo_bytes: int
    video_bytes: int
    document_bytes: int
    max_pixels: int
    max_request_pixels: int
    display_size: int
    thumb_size: int
    quality: int
    webp_quality: int
    keep_originals: bool
    workers: int
    ffmpeg: str | None  # the program, None when it is not installed

    @classmethod
    def from_config(cls, cfg) -> Limits:
        mb = 1024 * 1024
        return cls(
            max_files=cfg["MEDIA_MAX_FILES"],
            photo_bytes=cfg["MEDIA_MAX_PHOTO_MB"] * mb,
            video_bytes=cfg["MEDIA_MAX_VIDEO_MB"] * mb,
            document_bytes=cfg["MEDIA_MAX_DOCUMENT_MB"] * mb,
            max_pixels=cfg["MEDIA_MAX_PIXELS"],
            max_request_pixels=cfg["MEDIA_MAX_REQUEST_PIXELS"],
            display_size=cfg["MEDIA_DISPLAY_SIZE"],
            thumb_size=cfg["MEDIA_THUMB_SIZE"],
            quality=cfg["MEDIA_JPEG_QUALITY"],
            webp_quality=cfg["MEDIA_WEBP_QUALITY"],
            keep_originals=cfg["MEDIA_KEEP_ORIGINALS"],
            workers=cfg["MEDIA_WORKERS"],
            ffmpeg=shutil.which(cfg["MEDIA_FFMPEG"]),  # a path, or a name on PATH
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
    # A text field sent under the files' name (no browser does) is no file: left out.
    chosen = [u for u in uploads if isinstance(u, FileStorage) and u.filename]
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
    """Clean the checked uploads and store them aside. All succeed, or UploadErrors.

    This takes seconds for 20 photos and needs no database: call it with no
    transaction open (database.end_reads), and write the rows afterwards.
    Every photo's header is read first, so a request over its pixel limits is
    refused before anything is decoded. On failure nothing stays on disk; the
    error names every file that failed.
    """
    tmp = root() / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    base = root()
    errors = []
    opened = {}
    for i, (upload, kind) in enumerate(checked):
        if kind == PHOTO:
            try:
                opened[i] = photos.open_photo(upload.stream, limits.max_pixels,
                                              limits.display_size)
            except UploadError as exc:
                errors.append(_refusal(upload, exc))
    decoded = sum(image.width * image.height for image in opened.values())
    if decoded > limits.max_request_pixels:
        errors.append(_l(
            "Deze foto's hebben samen te veel pixels om in één keer te verwerken "
            "(%(mp)d megapixel; maximaal %(max)d). Voeg er minder tegelijk toe.",
            mp=decoded // 1_000_000, max=limits.max_request_pixels // 1_000_000))
    if errors:
        raise UploadErrors(errors)

    results: list[Staged] = []
    jobs = []
    # Full-size photos are decoded here, in the request's thread, one at a time,
    # and only the display size goes to the threads that encode the stored files.
    # Memory freed by one thread is kept for that thread by the C allocator:
    # decoding in several threads would hold several full-size photos' worth.
    ready = threading.BoundedSemaphore(max(1, limits.workers))  # display sizes in flight
    with ThreadPoolExecutor(max_workers=max(1, limits.workers)) as pool:
        for i, (upload, kind) in enumerate(checked):
            staged = Staged(key=new_key(), kind=kind, filename="", content_type="", size=0)
            ready.acquire()
            try:
                if kind == PHOTO:
                    display = photos.decode(opened.pop(i), limits.display_size)
                    job = pool.submit(_photo, upload, display, staged, limits, tmp, base)
                elif kind == VIDEO:
                    job = pool.submit(_video, upload, staged, limits, tmp, base)
                else:
                    job = pool.submit(_document, upload, staged, tmp, base)
            except Exception as exc:  # every failure is told to the user, by file
                ready.release()
                errors.append(_refusal(upload, exc))
                continue
            job.add_done_callback(lambda _job: ready.release())
            results.append(staged)
            jobs.append((upload, staged, job))
        for upload, staged, job in jobs:
            if job.exception() is not None:
                discard([staged])
                errors.append(_refusal(upload, job.exception()))
    if errors:
        discard(results)
        raise UploadErrors(errors)
    return results


def _refusal(upload: FileStorage, exc: Exception):
    """What to tell the user about a file that failed."""
    name = shown_name(upload)
    if isinstance(exc, UploadError):
        return _l("%(name)s: %(problem)s", name=name, problem=exc.message)
    log.warning("upload %r refused: %s: %s", name, type(exc).__name__, exc)
    return _l("%(name)s is geen foto, video (MP4) of PDF-bestand, of het is beschadigd.",
              name=name)


def _tmp_name(tmp: Path, key: str, variant: str) -> Path:
    return tmp / f"{key}.{SUFFIXES[variant]}.part"


def _video(upload: FileStorage, staged: Staged, limits: Limits, tmp: Path, base: Path) -> None:
    staged.content_type = "video/mp4"
    staged.filename = clean_filename(upload.filename, "mp4", "video")
    part = _tmp_name(tmp, staged.key, "file")
    staged.files.append((part, path_for(staged.key, "file", base)))
    # ffmpeg reads a file it can seek in: the moov box of a phone's MP4 is often at its end.
    received = tmp / f"{staged.key}.upload.part"
    try:
        upload.stream.seek(0)
        with open(received, "wb") as out:
            shutil.copyfileobj(upload.stream, out, 1024 * 1024)
        videos.remux(received, part, limits.ffmpeg)
    finally:
        received.unlink(missing_ok=True)
    staged.size = part.stat().st_size


def _document(upload: FileStorage, staged: Staged, tmp: Path, base: Path) -> None:
    staged.content_type = "application/pdf"
    staged.filename = clean_filename(upload.filename, "pdf", "document")
    part = _tmp_name(tmp, staged.key, "file")
    staged.files.append((part, path_for(staged.key, "file", base)))
    documents.clean(upload.stream, part)
    staged.size = part.stat().st_size


def _photo(upload: FileStorage, display: Image.Image, staged: Staged, limits: Limits,
           tmp: Path, base: Path) -> None:
    staged.filename = clean_filename(upload.filename, "jpg", "foto")
    staged.content_type = "image/jpeg"
    staged.width, staged.height = display.size
    for variant, picture in photos.stored_sizes(display, limits.thumb_size):
        part = _tmp_name(tmp, staged.key, variant)
        staged.files.append((part, path_for(staged.key, variant, base)))
        photos.save(picture, part, variant, limits.quality, limits.webp_quality)
    staged.size = staged.files[0][0].stat().st_size
    staged.digest = digest(part.read_bytes() for part, _ in staged.files)
    if limits.keep_originals:
        part = _tmp_name(tmp, staged.key, "original")
        staged.files.append((part, path_for(staged.key, "original", base)))
        upload.stream.seek(0)
        with open(part, "wb") as out:
            shutil.copyfileobj(upload.stream, out, 1024 * 1024)
        staged.has_original = True


def icon_for(key: str, name: str) -> Path | None:
    """The home-screen icon `name` (photos.ICONS) of a stored picture (a school's logo).

    Made from its display size the first time it is asked for and kept beside it, under
    the picture's key (a new logo is a new key; `remove` takes the icons with it). None
    when the picture's file is missing or unreadable. Two requests at once both make it;
    each moves a whole file into place.
    """
    path = path_for(key, name)
    if path.is_file():
        return path
    try:
        picture = photos.icon(path_for(key, "display"), name)
    except OSError as exc:  # no such file, or not a picture Pillow reads
        log.warning("no icon %s for %s: %s", name, key, exc)
        return None
    tmp = root() / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    part = tmp / f"{key}.{SUFFIXES[name]}.{secrets.token_hex(4)}.part"
    picture.save(part, "PNG", optimize=True)  # a new picture: pixels only
    os.replace(part, path)
    return path


def digest(contents: Iterable[bytes]) -> str:
    """What a photo's URLs carry: a hash of its stored sizes, which changes when they do."""
    return content_hash(b"".join(contents))


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
