"""The `media` blueprint: every stored photo, video and file of the feed goes out through here.

(Chat attachments go out through chat.attachment, with the same serving.send_stored.)
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..extensions import db
from ..models import Attachment, PendingUpload, Post
from .pipeline import KEY_RE
from .serving import VARIANTS, picture, send_stored

bp = Blueprint("media", __name__, url_prefix="/media")
bp.add_app_template_global(picture, "photo_picture")


def _variant(key: str, variant: str):
    """(what is stored for `variant`, the kinds of file that have it); 404 for a URL no
    stored file has."""
    if variant not in VARIANTS or not KEY_RE.fullmatch(key):
        abort(404)
    return VARIANTS[variant]


@bp.get("/<key>/<variant>")
@login_required
def file(key: str, variant: str):
    """Send a stored file to someone who may see what it belongs to."""
    stored, kinds = _variant(key, variant)
    attachment = db.session.scalar(
        select(Attachment)
        .where(Attachment.key == key)
        .options(
            selectinload(Attachment.post).selectinload(Post.post_groups),
            selectinload(Attachment.announcement),
        )
    )
    if attachment is None or attachment.kind not in kinds:
        abort(404)
    policy.require(policy.can_see_post_attachment(current_user, attachment))
    return send_stored(attachment, stored)


@bp.get("/bewaard/<key>/<variant>")
@login_required
def pending(key: str, variant: str):
    """Send a kept file of a refused post to the one who uploaded it."""
    stored, kinds = _variant(key, variant)
    upload = db.session.scalar(select(PendingUpload).where(PendingUpload.key == key))
    if upload is None or upload.kind not in kinds:
        abort(404)
    policy.require(policy.can_see_pending_upload(current_user, upload))
    return send_stored(upload, stored)
