"""A family: all its data in one download, and deleting a departed family."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import erasure, policy
from ..forms import EmptyForm, form_status
from ..inputs import int_arg, int_list
from ..models import Student, User
from ..privacy import export
from . import bp, get_or_404


def _start() -> Student | User:
    """The child (?leerling=) or guardian (?ouder=) the admin came from, of this school."""
    if (student_id := int_arg("leerling", request.values)) is not None:
        return get_or_404(Student, student_id, policy.can_administer_student)
    user = get_or_404(User, int_arg("ouder", request.values), policy.is_admin_of_user)
    if not user.is_guardian:
        abort(404)
    return user


def _chosen() -> list[int] | None:
    if "kies" not in request.values:  # first visit: the plan's own choice
        return None
    return int_list("kind", request.values)


@bp.route("/gezin-verwijderen", methods=["GET", "POST"])
def delete_family():
    """Show what deleting a departed family removes; delete it on confirmation."""
    policy.require(policy.can_delete_family(current_user))
    start = _start()
    plan = erasure.plan(start, _chosen())
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        if plan.leaving:
            name = plan.family_name
            erasure.delete_family(plan, current_user._get_current_object())
            flash(_("Familie %(name)s is verwijderd.", name=name), "success")
            return redirect(url_for("admin.students"), 303)
        flash(_("Kies welke kinderen de school verlaten."), "error")
    return render_template("admin/family_delete.html", start=start, plan=plan, form=form,
                           student_start=isinstance(start, Student)), form_status()


@bp.post("/gezin-gegevens")
def export_family():
    """Inzage for a whole family: the download of each of its guardians, in one ZIP."""
    policy.require(policy.can_export_family(current_user))
    start = _start()
    if not EmptyForm().validate_on_submit():
        abort(400)
    guardians = erasure.guardians_of_family(start)
    if not guardians:
        flash(_("Dit gezin heeft geen ouders of verzorgers met een account."), "error")
        back = (url_for("admin.student_edit", student_id=start.id) if isinstance(start, Student)
                else url_for("admin.guardian", user_id=start.id))
        return redirect(back, 303)
    children = erasure.family_of(start)
    name = " / ".join(sorted({s.last_name for s in children})) or guardians[0].email
    return export.download_family(guardians, name)
