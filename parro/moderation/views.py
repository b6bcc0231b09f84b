"""Reporting a post or chat message, and the reporter's own list of reports."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import policy
from ..extensions import db
from ..forms import form_status
from ..models import Message, Post
from ..policy import current_school
from . import bp, service
from .forms import ReportForm


@bp.get("/")
@login_required
def mine():
    """List the user's own reports and what the school did with them."""
    policy.require(policy.can_see_own_reports(current_user))
    return render_template(
        "moderation/mine.html", reports=service.my_reports(current_user),
        status_label=service.status_label,
    )


def _report(item, back: str):
    form = ReportForm()
    already = service.already_reported(current_user, item)
    if not already and form.validate_on_submit():
        try:
            service.report_item(current_user, item, form.reason.data)
        except service.AlreadyReported:
            already = True
        else:
            flash(_("Dank u. De school bekijkt uw melding en laat u weten wat ermee gebeurt."),
                  "success")
            return redirect(back, 303)
    school = current_school()
    return render_template(
        "moderation/report.html", form=form, item=item, is_post=isinstance(item, Post),
        already=already, back=back, code=(school.code_of_conduct if school else "").strip(),
    ), form_status()


@bp.route("/groepsbericht/<int:post_id>", methods=["GET", "POST"])
@login_required
def report_post(post_id: int):
    """Report a group post that breaks the code of conduct."""
    post = db.get_or_404(Post, post_id)
    policy.require(policy.can_report_post(current_user, post))
    return _report(post, url_for("feed.post", post_id=post.id))


@bp.route("/chatbericht/<int:message_id>", methods=["GET", "POST"])
@login_required
def report_message(message_id: int):
    """Report a chat message that breaks the code of conduct."""
    message = db.get_or_404(Message, message_id)
    policy.require(policy.can_report_message(current_user, message))
    back = url_for("chat.show", conversation_id=message.conversation_id,
                   _anchor=f"message-{message.id}")
    return _report(message, back)
