from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from .. import policy
from ..moderation import service as moderation
from . import bp


@bp.before_request
@login_required
def _admins_only():
    policy.require(policy.can_administer(current_user))


@bp.route("/")
def index():
    """Show the administration overview."""
    open_reports = moderation.open_count(policy.current_school_id())
    return render_template("admin/index.html", year=policy.current_year(),
                           open_reports=open_reports)
