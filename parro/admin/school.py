"""Administration of the school, school years, groups, students, the CSV import and the rollover.

Every route here is admin-only: the blueprint's before_request asks the policy.
"""

from __future__ import annotations

import base64
import binascii

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from wtforms.fields.choices import SelectChoice

from .. import media
from ..absence import service as absence_service
from ..auth import sso
from ..chat.availability import describe_hours, installation_default
from ..extensions import db
from ..forms import EmptyForm, add_error, form_status, show_error, showing_refusal
from ..inputs import int_arg
from ..models import Group, SchoolYear, Student, User
from ..policy import (
    can_administer_group,
    can_administer_student,
    can_administer_year,
    current_school,
)
from ..security import current_session_method
from . import bp, get_or_404, service
from .forms import (
    AssignTeacherForm,
    GroupForm,
    ImportConfirmForm,
    ImportForm,
    NewStudentForm,
    OfficeHoursForm,
    PlaceStudentForm,
    RolloverForm,
    SchoolForm,
    StudentForm,
    StudentSearchForm,
    YearForm,
)


def _year_label(year: SchoolYear) -> str:
    return f"{year.name} ({_('huidig')})" if year.is_current else year.name


def _group_choices(year: SchoolYear | None, empty_label=None) -> list[SelectChoice]:
    choices = [SelectChoice("", empty_label)] if empty_label else []
    if year is not None:
        choices += [SelectChoice(str(r.group.id), r.group.name) for r in service.year_groups(year)]
    return choices


def _group_of_year(group_id: int | None, year: SchoolYear | None) -> Group | None:
    group = db.session.get(Group, group_id) if group_id else None
    if group is None or year is None or group.school_year_id != year.id:
        return None
    return group


def _year(year_id: int) -> SchoolYear:
    return get_or_404(SchoolYear, year_id, can_administer_year)


def _group(group_id: int) -> Group:
    return get_or_404(Group, group_id, can_administer_group)


def _student(student_id: int) -> Student:
    return get_or_404(Student, student_id, can_administer_student)


# -- the school -------------------------------------------------------------------


@bp.route("/school", methods=["GET", "POST"])
def school_settings():
    """Show and change the school's name, contact details, leave info and code of conduct."""
    school = current_school()
    form = SchoolForm(obj=school, data=None if school else {"colour": "#1f6f8b"})
    if not sso.configured():
        del form.require_school_account
    staged = None
    if form.validate_on_submit() and _school_account_rule_ok(form, school) \
            and (staged := _logo(form)) is not False:
        try:
            service.save_school(
                form.name.data, form.phone.data, form.email.data, form.colour.data,
                form.leave_info.data, form.code_of_conduct.data, form.require_two_factor.data,
                require_school_account=form.require_school_account.data
                if "require_school_account" in form else None,
                photo_download=form.photo_download.data, sick_cutoff=form.sick_cutoff.data,
                chat_weekdays=form.chat_weekdays.data,
                chat_starts_at=form.chat_starts_at.data, chat_ends_at=form.chat_ends_at.data)
        except service.Invalid as exc:  # another school's name
            media.discard([staged] if staged is not None else [])
            show_error(form, exc)
            return _settings_page(form)
        if staged is not None or form.remove_logo.data:
            unused = service.set_logo(staged)
            if staged is not None:
                media.commit([staged])
            media.remove(unused)
        flash(_("De gegevens van de school zijn opgeslagen."), "success")
        return redirect(url_for("admin.school_settings"), 303)
    return _settings_page(form)


def _settings_page(form: SchoolForm):
    return render_template(
        "admin/school.html", form=form,
        default_sick_cutoff=absence_service.default_sick_cutoff(),
        default_chat_hours=describe_hours(installation_default()),
    ), form_status()


@bp.route("/school/openingstijden", methods=["GET", "POST"])
def office_hours():
    """Show and change when the office reads parents' messages."""
    school = current_school()
    form = OfficeHoursForm(data=None if request.method == "POST" or school is None else {
        "weekdays": sorted(int(d) for d in school.office_weekdays),
        "opens_at": school.office_opens_at,
        "closes_at": school.office_closes_at,
    })
    if form.validate_on_submit():
        with showing_refusal(form):
            service.save_office_hours(form.weekdays.data, form.opens_at.data,
                                      form.closes_at.data)
            flash(_("De openingstijden van de administratie zijn opgeslagen."), "success")
            return redirect(url_for("admin.office_hours"), 303)
    return render_template("admin/office_hours.html", form=form), form_status()


def _logo(form: SchoolForm):
    """The uploaded logo, cleaned and stored aside; None without one; False (its message at
    the field) when it is refused."""
    upload = form.logo.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    try:
        return service.process_logo(upload)
    except service.Invalid as exc:
        show_error(form, exc)
        return False


def _school_account_rule_ok(form: SchoolForm, school) -> bool:
    """Requiring the school account is switched on only by an admin who signed in with it."""
    turning_on = ("require_school_account" in form and form.require_school_account.data
                  and not (school and school.require_school_account))
    if turning_on and current_session_method() != sso.METHOD:
        add_error(form.require_school_account, _(
            "Log eerst zelf in met de schoolaccount en zet dit dan aan: zo weet u zeker dat "
            "het inloggen werkt voordat wachtwoorden voor medewerkers niet meer werken."))
        return False
    return True


# -- school years -----------------------------------------------------------------


@bp.get("/jaren")
def years():
    """List the school years."""
    return render_template("admin/years.html", years=service.all_years(), form=EmptyForm())


@bp.route("/jaren/nieuw", methods=["GET", "POST"])
def year_new():
    """Create a school year."""
    form = YearForm()
    if request.method == "GET":
        defaults = service.next_year_defaults(service.current_year())
        if defaults:
            form.name.data, form.starts_on.data, form.ends_on.data = defaults
    if form.validate_on_submit():
        with showing_refusal(form):
            year = service.save_year(form.name.data, form.starts_on.data, form.ends_on.data)
            flash(_("Schooljaar %(name)s is aangemaakt.", name=year.name), "success")
            return redirect(url_for("admin.years"), 303)
    return render_template("admin/year_form.html", form=form, year=None), form_status()


@bp.route("/jaren/<int:year_id>", methods=["GET", "POST"])
def year_edit(year_id: int):
    """Change a school year's name or dates."""
    year = _year(year_id)
    form = YearForm(obj=year)
    if form.validate_on_submit():
        with showing_refusal(form):
            service.save_year(form.name.data, form.starts_on.data, form.ends_on.data, year)
            flash(_("Schooljaar %(name)s is opgeslagen.", name=year.name), "success")
            return redirect(url_for("admin.years"), 303)
    return render_template("admin/year_form.html", form=form, year=year), form_status()


@bp.post("/jaren/<int:year_id>/huidig")
def year_make_current(year_id: int):
    """Make this the current school year."""
    year = _year(year_id)
    if EmptyForm().validate_on_submit():
        service.make_current(year)
        flash(_("%(name)s is nu het huidige schooljaar. Ouders en leerkrachten zien de groepen "
                "van dit jaar.", name=year.name), "success")
    return redirect(url_for("admin.years"), 303)


# -- groups -------------------------------------------------------------------------


@bp.get("/groepen")
def groups():
    """List the groups of a school year with their teachers and number of students."""
    years = service.all_years()
    year = next((y for y in years if y.id == int_arg("jaar")), None)
    year = year or next((y for y in years if y.is_current), None) or (years[0] if years else None)
    return render_template(
        "admin/groups.html",
        years=years,
        year=year,
        rows=service.year_groups(year) if year else [],
        form=EmptyForm(),
    )


@bp.route("/jaren/<int:year_id>/groepen/nieuw", methods=["GET", "POST"])
def group_new(year_id: int):
    """Create a group in a school year."""
    year = _year(year_id)
    form = GroupForm()
    if form.validate_on_submit():
        with showing_refusal(form):
            group = service.save_group(year, form.name.data, form.grade.data)
            flash(_("%(name)s is aangemaakt. Koppel nu de leerkrachten.", name=group.name),
                  "success")
            return redirect(url_for("admin.group_edit", group_id=group.id), 303)
    return render_template("admin/group_new.html", form=form, year=year), form_status()


def _render_group(group: Group, form=None, assign=None, status=200):
    assign = assign or AssignTeacherForm(formdata=None)
    assign.teacher.choices = [SelectChoice("", _l("Kies een leerkracht"))] + [
        SelectChoice(str(u.id), f"{u.display_name} ({u.email})")
        for u in service.assignable_teachers(group)
    ]
    return render_template(
        "admin/group.html",
        group=group,
        form=form or GroupForm(formdata=None, obj=group),
        assign=assign,
        teachers=[a.user for a in group.teacher_assignments],
        students=service.group_students(group),
        button=EmptyForm(),
    ), status


@bp.route("/groepen/<int:group_id>", methods=["GET", "POST"])
def group_edit(group_id: int):
    """Show a group: rename it, its teachers and its students."""
    group = _group(group_id)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        with showing_refusal(form):
            service.save_group(group.year, form.name.data, form.grade.data, group)
            flash(_("%(name)s is opgeslagen.", name=group.name), "success")
            return redirect(url_for("admin.group_edit", group_id=group.id), 303)
    return _render_group(group, form=form, status=form_status())


@bp.post("/groepen/<int:group_id>/leerkrachten")
def group_assign(group_id: int):
    """Assign a teacher to the group."""
    group = _group(group_id)
    form = AssignTeacherForm()
    form.teacher.choices = [SelectChoice("", "")] + [
        SelectChoice(str(u.id), u.email) for u in service.assignable_teachers(group)
    ]
    if form.validate_on_submit():
        teacher = db.session.get(User, form.teacher.data)
        with showing_refusal(form):
            service.assign_teacher(group, teacher)
            flash(_("%(teacher)s is gekoppeld aan %(group)s.", teacher=teacher.display_name,
                    group=group.name), "success")
            return redirect(url_for("admin.group_edit", group_id=group.id), 303)
    return _render_group(group, assign=form, status=422)


@bp.post("/groepen/<int:group_id>/leerkrachten/<int:user_id>/ontkoppelen")
def group_unassign(group_id: int, user_id: int):
    """Take a teacher off the group."""
    group = _group(group_id)
    # One of the group's teachers (anyone else, of another school too, is not found here).
    teacher = next((a.user for a in group.teacher_assignments if a.user_id == user_id), None)
    if teacher is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        service.unassign_teacher(group, teacher)
        flash(_("%(teacher)s is niet meer gekoppeld aan %(group)s.",
                teacher=teacher.display_name, group=group.name), "success")
    return redirect(url_for("admin.group_edit", group_id=group.id), 303)


@bp.post("/groepen/<int:group_id>/verwijderen")
def group_delete(group_id: int):
    """Delete an empty group."""
    group = _group(group_id)
    year_id, name = group.school_year_id, group.name
    if EmptyForm().validate_on_submit():
        try:
            service.delete_group(group)
        except service.Invalid as exc:
            flash(str(exc.message), "error")
            return redirect(url_for("admin.group_edit", group_id=group.id), 303)
        flash(_("%(name)s is verwijderd.", name=name), "success")
    return redirect(url_for("admin.groups", jaar=year_id), 303)


# -- students -----------------------------------------------------------------------


@bp.get("/leerlingen")
def students():
    """List students by group, or find them by name or student number."""
    year = service.current_year()
    form = StudentSearchForm(request.args)
    form.groep.choices = [SelectChoice("", _l("Alle leerlingen"))] + _group_choices(year) + [
        SelectChoice("geen", _l("Dit schooljaar in geen groep"))
    ]
    form.validate()
    q = (form.q.data or "")[:100]
    page = service.find_students(year, q=q, group=form.groep.data or "",
                                 after=int_arg("na"))
    more_url = None
    if page.next_after:
        more_url = url_for("admin.students", q=q or None, groep=form.groep.data or None,
                           na=page.next_after)
    return render_template("admin/students.html", form=form, page=page, year=year,
                           more_url=more_url, first_page="na" not in request.args)


@bp.route("/leerlingen/nieuw", methods=["GET", "POST"])
def student_new():
    """Add a student, optionally in a group of the current year."""
    year = service.current_year()
    form = NewStudentForm()
    form.group.choices = _group_choices(year, _l("Nog geen groep"))
    if request.method == "GET":
        form.group.data = int_arg("groep")
    if form.validate_on_submit():
        with showing_refusal(form):
            student = service.create_student(
                form.student_number.data, form.first_name.data, form.last_name.data,
                _group_of_year(form.group.data, year),
            )
            flash(_("%(name)s is toegevoegd.", name=student.full_name), "success")
            return redirect(url_for("admin.student_edit", student_id=student.id), 303)
    return render_template("admin/student_new.html", form=form, year=year), form_status()


def _render_student(student: Student, form=None, place=None, status=200):
    year = service.current_year()
    membership = service.membership_in(student, year) if year else None
    place = place or PlaceStudentForm(formdata=None)
    place.group.choices = _group_choices(year, _l("Kies een groep"))
    if place.group.data is None and membership is not None:
        place.group.data = membership.group_id
    return render_template(
        "admin/student.html",
        student=student,
        year=year,
        membership=membership,
        form=form or StudentForm(formdata=None, obj=student),
        place=place,
        history=service.student_history(student),
        button=EmptyForm(),
    ), status


@bp.route("/leerlingen/<int:student_id>", methods=["GET", "POST"])
def student_edit(student_id: int):
    """Show a student for the administration: number, names, group, history."""
    student = _student(student_id)
    form = StudentForm(obj=student)
    if form.validate_on_submit():
        with showing_refusal(form):
            service.update_student(student, form.student_number.data, form.first_name.data,
                                   form.last_name.data)
            flash(_("De gegevens van %(name)s zijn opgeslagen.", name=student.full_name),
                  "success")
            return redirect(url_for("admin.student_edit", student_id=student.id), 303)
    return _render_student(student, form=form, status=form_status())


@bp.post("/leerlingen/<int:student_id>/groep")
def student_place(student_id: int):
    """Move the student to another group of the current year (or place them in one)."""
    student = _student(student_id)
    year = service.current_year()
    form = PlaceStudentForm()
    form.group.choices = _group_choices(year, _l("Kies een groep"))
    if form.validate_on_submit():
        group = _group_of_year(form.group.data, year)
        with showing_refusal(form):
            service.place_student(student, group)
            flash(_("%(name)s zit nu in %(group)s.", name=student.full_name, group=group.name),
                  "success")
            return redirect(url_for("admin.student_edit", student_id=student.id), 303)
    return _render_student(student, place=form, status=422)


@bp.post("/leerlingen/<int:student_id>/uitschrijven")
def student_remove(student_id: int):
    """Take the student out of their group in the current year."""
    student = _student(student_id)
    year = service.current_year()
    if EmptyForm().validate_on_submit() and year is not None:
        service.remove_from_year(student, year)
        flash(_("%(name)s zit in %(year)s niet meer in een groep. Eerdere jaren blijven "
                "bewaard.", name=student.full_name, year=year.name), "success")
    return redirect(url_for("admin.student_edit", student_id=student.id), 303)


# -- the CSV import -------------------------------------------------------------------


def _import_form(from_request=True) -> ImportForm:
    form = ImportForm() if from_request else ImportForm(formdata=None)
    form.year.choices = [SelectChoice(str(y.id), _year_label(y)) for y in service.import_years()]
    return form


def _render_upload(form, problems=(), status=200):
    return render_template("admin/import.html", form=form, problems=problems), status


def _render_preview(plan, year: SchoolYear, data: bytes, stale=False):
    confirm = ImportConfirmForm(
        formdata=None,
        data={"content": base64.b64encode(data).decode(), "year": year.id,
              "digest": plan.digest()},
    )
    return render_template("admin/import_preview.html", plan=plan, year=year, confirm=confirm,
                           stale=stale), 422 if stale else 200


@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    """Upload a students CSV and show what importing it would do."""
    form = _import_form()
    if request.method == "GET":
        current = service.current_year()
        form.year.data = int_arg("jaar") or (current.id if current else None)
    if form.validate_on_submit():
        year = _year(form.year.data)
        data = form.file.data.read()
        plan = service.import_plan(data, year)
        if not plan.ok:
            return _render_upload(form, plan.problems, 422)
        return _render_preview(plan, year, data)
    return _render_upload(form, status=form_status())


@bp.post("/import/bevestigen")
def import_confirm():
    """Import the previewed file, all of it or nothing."""
    form = ImportConfirmForm()
    allowed = {str(y.id): y for y in service.import_years()}
    year = allowed.get(form.year.data or "")
    try:
        data = base64.b64decode(form.content.data or "", validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not form.validate_on_submit() or year is None or not data:
        upload = _import_form(from_request=False)
        upload.form_errors.append(_l("Het voorbeeld kon niet worden gelezen. Kies het bestand "
                                     "opnieuw."))
        return _render_upload(upload, status=422)
    try:
        plan = service.apply_import(data, year, form.digest.data)
    except service.StalePlan as exc:
        return _render_preview(exc.plan, year, data, stale=True)
    if not plan.ok:
        return _render_upload(_import_form(from_request=False), plan.problems, 422)
    flash(_("Import in %(year)s klaar: %(new)s nieuwe leerlingen, %(changed)s gewijzigd, "
            "%(same)s ongewijzigd, %(groups)s nieuwe groepen, %(accounts)s nieuwe "
            "ouderaccounts, %(links)s ouders gekoppeld.",
            year=year.name, new=plan.count("new"), changed=plan.count("changed"),
            same=plan.count("unchanged"), groups=len(plan.new_groups),
            accounts=len(plan.new_accounts), links=plan.links), "success")
    if plan.new_accounts:
        flash(_("Er zijn geen uitnodigingen verstuurd. Nieuwe ouders kunnen pas inloggen als ze "
                "zijn uitgenodigd: gebruik op de pagina Beheer → Ouders en verzorgers de knop "
                "‘Uitnodigen: alle ouders zonder account’."), "info")
    if not year.is_current:
        flash(_("%(name)s is nog niet het huidige schooljaar. Maak het huidig bij Schooljaren "
                "als de nieuwe indeling klopt.", name=year.name), "info")
    return redirect(url_for("admin.groups", jaar=year.id), 303)


# -- the yearly rollover -----------------------------------------------------------


def _render_rollover(form, current, status=200, preview=False):
    """The rollover's form, or with `preview` what it will do."""
    return render_template("admin/rollover_preview.html" if preview else "admin/rollover.html",
                           form=form, current=current, early=service.ends_later(current),
                           plan=service.rollover_plan(current) if preview else None), status


def _early_needs_yes(form, current) -> bool:
    """Making the new year current while this one runs on: only with the box ticked."""
    return (form.mode.data == "move" and form.make_current.data
            and service.ends_later(current) and not form.early.data)


@bp.route("/overgang", methods=["GET", "POST"])
def rollover():
    """Prepare the move to a new school year and preview what it will do."""
    current = service.current_year()
    form = RolloverForm()
    if request.method == "GET":
        defaults = service.next_year_defaults(current)
        if defaults:
            form.name.data, form.starts_on.data, form.ends_on.data = defaults
    if current is not None and form.validate_on_submit():
        with showing_refusal(form):
            service.check_new_year(form.name.data, form.starts_on.data, form.ends_on.data)
            return _render_rollover(form, current, preview=True)
    return _render_rollover(form, current, form_status())


@bp.post("/overgang/bevestigen")
def rollover_confirm():
    """Create the new school year; move the groups up or leave it empty for an import."""
    current = service.current_year()
    form = RolloverForm()
    if current is not None and form.validate_on_submit():
        move = form.mode.data == "move"
        if _early_needs_yes(form, current):
            add_error(form.early, _(
                "Schooljaar %(name)s loopt nog tot en met %(day)s. Vink aan dat u toch nu "
                "wilt overgaan, of maak het nieuwe jaar nog niet huidig.",
                name=current.name, day=format_date(current.ends_on, "d MMMM y")))
            return _render_rollover(form, current, 422, preview=True)
        with showing_refusal(form):
            year = service.start_new_year(form.name.data, form.starts_on.data,
                                          form.ends_on.data, move_groups=move,
                                          make_it_current=move and form.make_current.data)
            if not move:
                flash(_("Schooljaar %(name)s is aangemaakt, nog zonder groepen. Importeer nu de "
                        "nieuwe indeling en maak het jaar daarna huidig bij Schooljaren.",
                        name=year.name), "success")
                return redirect(url_for("admin.import_upload", jaar=year.id), 303)
            if year.is_current:
                flash(_("Schooljaar %(name)s is begonnen: de groepen zijn een groep omhoog "
                        "gegaan. Koppel nu de leerkrachten aan de nieuwe groepen.",
                        name=year.name), "success")
            else:
                flash(_("Schooljaar %(name)s staat klaar met de nieuwe groepen. Koppel de "
                        "leerkrachten en maak het jaar huidig bij Schooljaren (vanaf %(day)s).",
                        name=year.name, day=format_date(year.starts_on)), "success")
            return redirect(url_for("admin.groups", jaar=year.id), 303)
    return _render_rollover(form, current, 422)
