"""WebP sizes for photos stored before parro made them: `flask --app app media variants`.

Such photos have a JPEG display size and thumbnail and no digest: they are
served as before (each visit asks again), and a phone gets the 480 px
thumbnail where it shows 100 px. This makes their WebP sizes from the display
size (the upload itself is not kept), and then gives them their digest, from
which on pages show the WebP sizes and browsers keep the files. Photos with a
digest are skipped: running it again does nothing, and it may run while parro
does. The images are made with no transaction open; each batch's digests are
written in one short transaction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select, update

from ..database import writer_transactions
from ..extensions import db
from ..models import Attachment, MessageAttachment
from . import photos
from .pipeline import PHOTO, SUFFIXES, digest, path_for


@dataclass
class Counts:
    made: int = 0
    missing: int = 0  # no display size on disk (removed, or never copied to this server)


def make_missing(batch_size: int = 200, echo=None) -> Counts:
    """Give every photo of posts, announcements and chats without a digest its WebP sizes."""
    counts = Counts()
    for model in (Attachment, MessageAttachment):
        after = 0
        while True:
            batch = db.session.execute(
                select(model.id, model.key).where(model.kind == PHOTO, model.digest.is_(None),
                                                  model.id > after)
                .order_by(model.id).limit(batch_size)).all()
            db.session.commit()  # the images are made with no transaction open
            if not batch:
                break
            after = batch[-1].id
            digests = {}
            for row in batch:
                made = _make(row.key)
                if made is None:
                    counts.missing += 1
                else:
                    digests[row.id] = made
            with writer_transactions():
                for attachment_id, value in digests.items():
                    db.session.execute(update(model).where(
                        model.id == attachment_id, model.digest.is_(None)).values(digest=value))
                db.session.commit()
            counts.made += len(digests)
            if echo:
                echo(f"{model.__tablename__}: {counts.made} photos done")
    return counts


def _make(key: str) -> str | None:
    """Write the WebP sizes of one stored photo; its new digest, or None without its file."""
    display_path = path_for(key, "display")
    try:
        with Image.open(display_path) as image:
            image.load()
            display = image.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError):
        return None
    cfg = current_app.config
    for variant, picture in photos.webp_sizes(display):
        path = path_for(key, variant)
        part = path.with_name(path.name + ".part")
        photos.save(picture, part, variant, cfg["MEDIA_JPEG_QUALITY"], cfg["MEDIA_WEBP_QUALITY"])
        os.replace(part, path)
    stored = [path_for(key, variant) for variant in SUFFIXES if variant not in ("file", "original")]
    return digest(path.read_bytes() for path in stored if path.is_file())
