from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import policy
from ..extensions import db
from ..models import Report
from ..models.moderation import OPEN
from . import bp


@bp.before_request
@login_required
def _admins_only():
    policy.require(policy.can_administer(current_user))


@bp.route("/")
def index():
    """Show the administration overview."""
    open_reports = db.session.scalar(
        select(func.count()).select_from(Report).where(Report.status == OPEN)
    )
    return render_template("admin/index.html", year=policy.current_year(),
                           open_reports=open_reports)
