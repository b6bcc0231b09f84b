"""Photos and PDFs in chat messages: a small adapter in front of the upload pipeline.

Issue 3 builds the shared upload pipeline (parro/media.py) for the feed at the
same time. Until that is merged this module does the minimum itself: decode
every photo with Pillow (anything that does not decode is refused), turn it by
its EXIF orientation and re-encode it, which drops all metadata (GPS!), and
check that a PDF is one. Files get server-generated names under MEDIA_PATH,
are written to a temporary name and moved into place only after the database
commit, and are served only to members, never cached.

At merge, replace prepare() (and perhaps the thumbnails) with parro.media's
functions; the views only use uploads_from, problem_with, prepare, attach,
commit_files, discard, remove_files and send.
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, send_file
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from .. import clock
from ..models import Message, MessageAttachment

__all__ = ["MessageAttachment"]

ACCEPT = "image/jpeg,image/png,image/gif,image/webp,application/pdf"
MAX_SIDE = 2560  # photos are scaled down to this many pixels on the longest side
MAX_PIXELS = 50_000_000  # refuse larger images before decoding them (decompression bombs)


@dataclass
class Stored:
    tmp: Path
    final: Path
    relative: str
    kind: str
    content_type: str
    filename: str
    size: int
    width: int | None = None
    height: int | None = None


def _root() -> Path:
    return Path(current_app.config["MEDIA_PATH"])


def uploads_from(request) -> list[FileStorage]:
    return [f for f in request.files.getlist("files") if f and f.filename]


def _size(upload: FileStorage) -> int:
    stream = upload.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def problem_with(uploads: list[FileStorage]) -> str | None:
    """A message for the user when the files cannot be accepted, else None."""
    cfg = current_app.config
    if len(uploads) > cfg["CHAT_MAX_FILES"]:
        return _("U kunt maximaal %(n)s bestanden tegelijk sturen.", n=cfg["CHAT_MAX_FILES"])
    for upload in uploads:
        if _size(upload) > cfg["CHAT_MAX_FILE_MB"] * 1024 * 1024:
            return _(
                "%(name)s is te groot: maximaal %(mb)s MB per bestand.",
                name=upload.filename, mb=cfg["CHAT_MAX_FILE_MB"],
            )
    return None


def _new_name(ext: str) -> tuple[str, Path, Path]:
    day = clock.today()
    relative = f"chat/{day:%Y}/{day:%m}/{secrets.token_urlsafe(18)}.{ext}"
    final = _root() / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    return relative, final, final.with_name(final.name + ".tmp")


def _photo(upload: FileStorage) -> Stored | None:
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(upload.stream) as img:
                if img.format not in ("JPEG", "PNG", "GIF", "WEBP"):
                    return None
                img.load()
                img = ImageOps.exif_transpose(img)
                img.thumbnail((MAX_SIDE, MAX_SIDE))
                keep_alpha = img.mode in ("RGBA", "LA") or (
                    img.mode == "P" and "transparency" in img.info
                )
                if keep_alpha:
                    ext, fmt, content_type = "png", "PNG", "image/png"
                    img = img.convert("RGBA")
                else:
                    ext, fmt, content_type = "jpg", "JPEG", "image/jpeg"
                    img = img.convert("RGB")
                relative, final, tmp = _new_name(ext)
                # A fresh encode of the pixels only: no EXIF, no GPS, no comments.
                img.save(tmp, fmt, quality=85, optimize=True)
                width, height = img.size
    except Exception:  # noqa: BLE001 - anything Pillow cannot read is no photo for us
        return None
    name = Path(upload.filename or "foto").stem[:150] + f".{ext}"
    return Stored(tmp, final, relative, "photo", content_type, name, tmp.stat().st_size,
                  width, height)


def _pdf(upload: FileStorage) -> Stored | None:
    upload.stream.seek(0)
    if upload.stream.read(5) != b"%PDF-":
        return None
    upload.stream.seek(0)
    relative, final, tmp = _new_name("pdf")
    upload.save(tmp)
    name = Path(upload.filename or "document").stem[:150] + ".pdf"
    return Stored(tmp, final, relative, "pdf", "application/pdf", name, tmp.stat().st_size)


def prepare(uploads: list[FileStorage]) -> list[Stored] | None:
    """Check and store every upload under a temporary name; None if one is not acceptable."""
    stored: list[Stored] = []
    for upload in uploads:
        upload.stream.seek(0)
        head = upload.stream.read(5)
        upload.stream.seek(0)
        item = _pdf(upload) if head == b"%PDF-" else _photo(upload)
        if item is None:
            discard(stored)
            return None
        stored.append(item)
    return stored


def attach(message: Message, stored: list[Stored]) -> None:
    for s in stored:
        message.attachments.append(
            MessageAttachment(kind=s.kind, path=s.relative, content_type=s.content_type,
                              filename=s.filename, size=s.size, width=s.width, height=s.height)
        )


def commit_files(stored: list[Stored]) -> None:
    """After the commit: move the files into place."""
    for s in stored:
        os.replace(s.tmp, s.final)


def discard(stored: list[Stored]) -> None:
    for s in stored:
        s.tmp.unlink(missing_ok=True)


def remove_files(paths: list[str]) -> None:
    for relative in paths:
        (_root() / relative).unlink(missing_ok=True)


def send(item: MessageAttachment):
    path = _root() / item.path
    if not path.is_file():
        from flask import abort

        abort(404)
    response = send_file(
        path,
        mimetype=item.content_type,
        as_attachment=item.kind == "pdf",
        download_name=item.filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
