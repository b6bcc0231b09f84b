"""Deleting a departed family: a page that lists what goes and what stays, then the deed."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import erasure, policy
from ..extensions import db
from ..forms import EmptyForm
from ..inputs import int_arg, int_list
from ..models import Student, User
from . import bp


def _start() -> Student | User:
    """The child (?leerling=) or guardian (?ouder=) the admin came from."""
    if (student_id := int_arg("leerling", request.values)) is not None:
        return db.get_or_404(Student, student_id)
    user = db.get_or_404(User, int_arg("ouder", request.values) or 0)
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
    status = 422 if request.method == "POST" else 200
    return render_template("admin/family_delete.html", start=start, plan=plan, form=form,
                           student_start=isinstance(start, Student)), status
