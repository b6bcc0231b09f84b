"""The mail viewer: in demo mode without a mail server, read what was 'sent'."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from . import policy
from .extensions import db
from .models import OutboxMail

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


@bp.route("/")
def index():
    """List the mails the demo has queued, newest first."""
    policy.require(policy.can_use_mail_viewer(current_user))
    mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(100))
    return render_template("devmail/index.html", mails=list(mails))


@bp.route("/<int:mail_id>")
def show(mail_id: int):
    """Show one queued mail with its links."""
    policy.require(policy.can_use_mail_viewer(current_user))
    return render_template("devmail/show.html", mail=db.get_or_404(OutboxMail, mail_id))
