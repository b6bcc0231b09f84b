"""The board's pages: its schools with their figures, a new school, a school's admins.

Every route here is the board admin's: the blueprint's before_request asks the policy.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import policy
from ..clock import today
from ..extensions import db
from ..forms import EmptyForm, form_status, showing_refusal
from ..models import Role, School, User
from . import bp, service
from .forms import AppointAdminForm, NewSchoolForm


@bp.before_request
@login_required
def _board_only():
    policy.require(policy.can_run_board(current_user))


def _me() -> User:
    return current_user._get_current_object()


@bp.get("/")
def index():
    """The board's schools, each with its families, active accounts and deliveries."""
    return render_template("board/index.html", figures=service.figures(),
                           days=service.DELIVERY_DAYS)


@bp.route("/scholen/nieuw", methods=["GET", "POST"])
def school_new():
    """Add a school, with its current school year."""
    form = NewSchoolForm()
    if request.method == "GET":
        form.year_name.data, form.starts_on.data, form.ends_on.data = \
            service.school_year_of(today())
    if form.validate_on_submit():
        with showing_refusal(form):
            school = service.create_school(form.name.data, form.year_name.data,
                                           form.starts_on.data, form.ends_on.data)
            flash(_("%(school)s is aangemaakt, met schooljaar %(year)s. Benoem nu de eerste "
                    "beheerder van de school.", school=school.name, year=form.year_name.data),
                  "success")
            return redirect(url_for("board.school_admins", school_id=school.id), 303)
    return render_template("board/school_new.html", form=form), form_status()


@bp.route("/scholen/<int:school_id>/beheerders", methods=["GET", "POST"])
def school_admins(school_id: int):
    """A school's admins; appoint one by e-mail address."""
    school = db.get_or_404(School, school_id)
    form = AppointAdminForm()
    if form.validate_on_submit():
        with showing_refusal(form):
            appointed = service.appoint_admin(school, form.email.data, form.name.data or "",
                                              _me(), form.locale.data)
            if appointed.invited:
                flash(_("%(email)s is uitgenodigd als beheerder van %(school)s: de uitnodiging "
                        "is verstuurd.", email=appointed.user.email, school=school.name),
                      "success")
            else:
                flash(_("%(name)s had al een account als beheerder en is nu ook beheerder van "
                        "%(school)s. Met Andere school wisselt %(name)s tussen de scholen.",
                        name=appointed.user.display_name, school=school.name), "success")
            return redirect(url_for("board.school_admins", school_id=school.id), 303)
    return render_template("board/school_admins.html", school=school, form=form,
                           admins=service.admins_of(school)), form_status()


@bp.post("/scholen/<int:school_id>/beheerders/<int:user_id>/verwijderen")
def remove_admin(school_id: int, user_id: int):
    """The admin no longer works at this school (their account stays)."""
    school = db.get_or_404(School, school_id)
    user = db.get_or_404(User, user_id)
    if user.role != Role.ADMIN:
        abort(404)
    if EmptyForm().validate_on_submit():
        if service.remove_admin(school, user, _me()):
            message = _("%(name)s is geen beheerder meer van %(school)s.",
                        name=user.display_name, school=school.name)
            if not service.still_works_somewhere(user):
                message += " " + _("Het account hoort nu bij geen enkele school meer en kan "
                                   "niets meer zien.")
            flash(message, "success")
        else:
            flash(_("%(name)s was geen beheerder van %(school)s.", name=user.display_name,
                    school=school.name), "info")
    return redirect(url_for("board.school_admins", school_id=school.id), 303)
