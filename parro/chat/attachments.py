"""Photos and PDFs in chat messages: a thin layer over the upload pipeline (parro/media/).

Chat uses the same pipeline as the group feed (decode check, EXIF orientation,
metadata stripped, display size and thumbnail, HEIC accepted, random keys),
with its own limits: CHAT_MAX_FILES files of at most CHAT_MAX_FILE_MB each,
photos and PDFs only. Files are staged before the database commit and moved
into place after it (media.commit), or thrown away (media.discard).
"""

from __future__ import annotations

import dataclasses

from flask import current_app
from werkzeug.datastructures import FileStorage

from .. import media
from ..models import Message, MessageAttachment

__all__ = ["MessageAttachment"]

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,application/pdf"
KINDS = (media.PHOTO, media.DOCUMENT)


def limits() -> media.Limits:
    """The feed's photo settings with chat's own number and size of files."""
    cfg = current_app.config
    size = int(cfg["CHAT_MAX_FILE_MB"] * 1024 * 1024)
    return dataclasses.replace(
        media.Limits.from_config(cfg),
        max_files=cfg["CHAT_MAX_FILES"], photo_bytes=size, document_bytes=size, video_bytes=0,
    )


def uploads_from(request) -> list[FileStorage]:
    return [f for f in request.files.getlist("files") if f and f.filename]


def check(uploads: list[FileStorage]):
    """Cheap checks (number, size, kind): [(upload, kind)] and messages for the user."""
    return media.check(uploads, limits(), allowed=KINDS)


def prepare(checked) -> list[media.Staged]:
    """Decode and store under temporary names; raises media.UploadErrors."""
    return media.process(checked, limits())


def attach(message: Message, staged: list[media.Staged]) -> None:
    for s in staged:
        message.attachments.append(
            MessageAttachment(key=s.key, kind=s.kind, content_type=s.content_type,
                              filename=s.filename, size=s.size, width=s.width, height=s.height,
                              digest=s.digest)
        )
