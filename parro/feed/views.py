from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..extensions import db
from ..models import Group, Membership, Student
from . import bp


@bp.route("/")
@login_required
def index():
    """List the groups the user may see this school year."""
    groups = policy.visible_groups(current_user)
    return render_template(
        "feed/index.html", groups=groups, children=policy.children(current_user)
    )


@bp.route("/<int:group_id>")
@login_required
def group(group_id: int):
    """Show one group."""
    group = db.get_or_404(Group, group_id)
    policy.require(policy.can_see_group(current_user, group))
    students = []
    if policy.is_staff(current_user):
        students = list(
            db.session.scalars(
                select(Student)
                .join(Membership)
                .where(Membership.group_id == group.id)
                .options(selectinload(Student.guardianships))
                .order_by(Student.first_name, Student.last_name)
            )
        )
    return render_template("feed/group.html", group=group, students=students)
