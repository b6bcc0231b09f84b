from __future__ import annotations

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import media, policy
from ..extensions import db
from ..models import Attachment, Post
from . import bp
from .sending import VARIANTS, send_stored


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
    return send_stored(attachment, stored)
