from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import policy
from ..admin.people import invite_again
from ..auth import service
from ..extensions import db
from ..forms import EmptyForm, add_error
from ..models import Guardianship, Student, User
from . import bp
from .forms import InviteGuardianForm


def _page(student: Student, invite_form: InviteGuardianForm | None = None):
    can_invite = policy.can_invite_guardian(current_user, student)
    pending = []
    if can_invite:
        waiting = [gs.user for gs in student.guardianships if not gs.user.active]
        latest = service.latest_invitations(u.id for u in waiting)
        pending = [(u, latest.get(u.id)) for u in waiting]
    return render_template(
        "students/show.html",
        student=student,
        group=policy.current_group_of(student),
        show_contacts=policy.can_see_guardian_contacts(current_user, student),
        can_invite=can_invite,
        invite_form=invite_form or (InviteGuardianForm() if can_invite else None),
        pending=pending,
    )


@bp.route("/<int:student_id>")
@login_required
def show(student_id: int):
    """Show a child: group and guardians (contact details for staff only)."""
    student = db.get_or_404(Student, student_id)
    policy.require(policy.can_view_student(current_user, student))
    return _page(student)


@bp.post("/<int:student_id>/uitnodigen")
@login_required
def invite(student_id: int):
    """Invite a guardian of this child by email."""
    student = db.get_or_404(Student, student_id)
    policy.require(policy.can_invite_guardian(current_user, student))
    form = InviteGuardianForm()
    if form.validate_on_submit():
        try:
            result = service.invite_guardian(
                student, form.email.data, current_user._get_current_object(), form.locale.data
            )
        except service.AccountError as exc:
            add_error(form.email, str(exc))
        else:
            flash(*_invite_message(result, student))
            return redirect(url_for("students.show", student_id=student.id), 303)
    return _page(student, invite_form=form), 422


def _invite_message(result: service.InviteResult, student: Student) -> tuple[str, str]:
    email, child = result.user.email, student.first_name
    if result.outcome is service.Outcome.CHILD_ADDED:
        return _(
            "%(email)s had al een account. %(child)s is daaraan toegevoegd, "
            "en de ouder heeft daarover een e-mail gekregen.", email=email, child=child
        ), "success"
    if result.outcome is service.Outcome.ALREADY_LINKED:
        return _("%(email)s is al gekoppeld aan %(child)s. Er is niets veranderd.",
                 email=email, child=child), "info"
    return _(
        "De uitnodiging is verstuurd naar %(email)s. "
        "De link in de e-mail is %(days)d dagen geldig.",
        email=email, days=current_app.config["INVITATION_DAYS"],
    ), "success"


@bp.post("/<int:student_id>/uitnodigen/<int:user_id>/opnieuw")
@login_required
def resend_invitation(student_id: int, user_id: int):
    """Send a guardian of this child a fresh activation link."""
    student = db.get_or_404(Student, student_id)
    policy.require(policy.can_invite_guardian(current_user, student))
    guardian = db.session.scalar(
        select(User)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(User.id == user_id, Guardianship.student_id == student.id)
    )
    if guardian is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        invite_again(guardian)
    return redirect(url_for("students.show", student_id=student.id), 303)
