from __future__ import annotations

from flask import abort, send_file
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import media, policy
from ..extensions import db
from ..models import Attachment, Post
from . import bp

# URL variant -> (stored variant, the kinds that have it)
VARIANTS = {
    "groot": ("display", {media.PHOTO}),
    "klein": ("thumb", {media.PHOTO}),
    "bestand": ("file", {media.VIDEO, media.DOCUMENT}),
}


@bp.get("/<key>/<variant>")
@login_required
def file(key: str, variant: str):
    """Send a stored file to someone who may see what it belongs to."""
    if variant not in VARIANTS or not media.KEY_RE.fullmatch(key):
        abort(404)
    stored, kinds = VARIANTS[variant]
    attachment = db.session.scalar(
        select(Attachment)
        .where(Attachment.key == key)
        .options(
            selectinload(Attachment.post).selectinload(Post.post_groups),
            selectinload(Attachment.announcement),
            selectinload(Attachment.tags),
        )
    )
    if attachment is None or attachment.kind not in kinds:
        abort(404)
    policy.require(policy.can_see_post_attachment(current_user, attachment))
    path = media.path_for(attachment.key, stored)
    if not path.is_file():
        abort(404)
    # We only ever store JPEG, MP4 and PDF, with the type we determined ourselves;
    # documents are always downloads, never rendered in our origin.
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=attachment.kind == media.DOCUMENT,
        download_name=attachment.filename,
        conditional=True,
        etag=True,
        max_age=None,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
