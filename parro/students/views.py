from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from .. import policy
from ..extensions import db
from ..models import Student
from . import bp


@bp.route("/<int:student_id>")
@login_required
def show(student_id: int):
    """Show a child: group and guardians (contact details for staff only)."""
    student = db.get_or_404(Student, student_id)
    policy.require(policy.can_view_student(current_user, student))
    return render_template(
        "students/show.html",
        student=student,
        group=policy.current_group_of(student),
        show_contacts=policy.can_see_guardian_contacts(current_user, student),
        can_invite=policy.can_invite_guardian(current_user, student),
    )
