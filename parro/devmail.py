"""The mail viewer (demo mode without a mail server) and the push viewer (demo mode):
read what was 'sent'."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

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


# -- the pushes (demo mode): what each device was sent ---------------------------------

push_bp = Blueprint("devpush", __name__, url_prefix="/dev/push")


@push_bp.route("/")
def push_index():
    """List the pushes the demo queued and sent, with their device, newest first."""
    from . import push
    from .auth.push_views import device_name
    from .models import PushMessage, PushSubscription

    policy.require(policy.can_use_push_viewer(current_user))
    rows = db.session.execute(
        select(PushMessage, PushSubscription)
        .join(PushSubscription, PushSubscription.id == PushMessage.subscription_id)
        .options(joinedload(PushSubscription.user))
        .order_by(PushMessage.id.desc()).limit(100)
    ).all()
    decrypted: dict[int, dict] = {}
    for device in {d for _, d in rows}:
        decrypted.update(push.demo_received(device))
    return render_template("devmail/pushes.html", rows=rows, describe=device_name,
                           decrypted=decrypted)


@push_bp.post("/telefoon")
def add_phone():
    """Add a demo phone to the user's devices: pushes to it are decrypted here."""
    from flask import flash, redirect, url_for
    from flask_babel import gettext as _

    from . import push
    from .forms import EmptyForm
    from .security import current_session_id

    policy.require(policy.can_add_demo_phone(current_user))
    if EmptyForm().validate_on_submit() and current_session_id() is not None:
        push.add_demo_phone(current_user, current_session_id())
        db.session.commit()
        flash(_("De demo-telefoon staat in de lijst. Stuur hem een testmelding."), "success")
    return redirect(url_for("auth.push_devices"), 303)
