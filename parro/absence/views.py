from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import clock, policy
from ..extensions import db
from ..forms import EmptyForm, add_error, show_error
from ..htmx import wants_fragment
from ..models import AbsenceReason, AbsenceReport, School, Student
from ..notifications import ABSENCE, DIRECT, mail_mode
from . import bp, service
from .forms import AppointmentForm, FilterForm, ReasonForm, SickForm, WithdrawForm

bp.add_app_template_global(service.reporter_label, "absence_reporter")


def _child_choices(children, label=lambda child: child.full_name) -> list[tuple]:
    """The children to choose from, after an empty first choice: none is chosen for you."""
    return [("", _("Kies een kind")), *[(c.id, label(c)) for c in children]]


def _forms(children, sick=None, appointment=None, receipt=False, label=None,
           school_ids=None):
    if sick is None:
        sick = SickForm(prefix="sick", formdata=None, email_receipt=receipt)
    if appointment is None:
        appointment = AppointmentForm(prefix="appt", formdata=None, email_receipt=receipt)
    for form in (sick, appointment):
        form.student.choices = _child_choices(children, *([label] if label else []))
    appointment.reason.choices = _reason_choices(school_ids)
    return sick, appointment


def _reason_choices(school_ids) -> list[tuple]:
    """The reasons to choose from: the school's, or those of each child's own school, named
    with their school when the children go to more than one."""
    reasons = service.active_reasons(school_ids)
    if school_ids is None or len(set(school_ids)) < 2:
        return [(r.id, r.name) for r in reasons]
    names = dict(db.session.execute(
        select(School.id, School.name).where(School.id.in_(set(school_ids)))).all())
    return [(r.id, f"{r.name} ({names[r.school_id]})") for r in reasons]


def _guardian_forms(children, sick=None, appointment=None):
    return _forms(children, sick, appointment, receipt=service.wants_receipt(current_user),
                  school_ids={child.school_id for child in children})


def _guardian_page(children, sick, appointment, status=200):
    upcoming, earlier = service.reports_of_children(current_user)
    today = clock.today()
    sick_today = {
        r.student_id for r in upcoming if r.day == today and r.is_sick and not r.is_withdrawn
    }
    return render_template(
        "absence/index.html",
        children=children,
        sick_today=sick_today,
        sick_form=sick,
        appointment_form=appointment,
        upcoming=upcoming,
        earlier=earlier,
        today=today,
        today_closed=_closed_for_family(today),
        **_cutoffs(children),
        late_until=service.late_withdraw_until(),
        earliest=_earliest(children),
        withdraw_rule=service.withdraw_rule,
        FREELY=service.FREELY,
        WITH_NOTE=service.WITH_NOTE,
        withdraw_form=WithdrawForm(formdata=None),
        # How to ask for leave: each child's own school's way (a family may have two).
        leave_schools=list(dict.fromkeys(child.school for child in children))
        or [policy.current_school()],
    ), status


def _cutoffs(children) -> dict:
    """Each child's own school's cut-off: one line when they are the same (or there is no
    child), otherwise a line per child (`child_cutoffs`: child, time, whether it is past)."""
    per_child = [(child, service.sick_cutoff(child), service.is_after_cutoff(child))
                 for child in children]
    if len({cutoff for _, cutoff, _ in per_child}) > 1:
        return {"child_cutoffs": per_child, "cutoff": None, "after_cutoff": False}
    if per_child:
        _, cutoff, after = per_child[0]
        # Whom to call when it is urgent: each child's school (a family may have two).
        return {"child_cutoffs": None, "cutoff": cutoff, "after_cutoff": after,
                "cutoff_schools": list(dict.fromkeys(child.school for child in children))}
    return {"child_cutoffs": None, "cutoff": service.sick_cutoff(),
            "after_cutoff": service.is_after_cutoff()}


def _closed_for_family(day):
    """Why none of the guardian's children has school on `day` (each at their own school's
    calendar), or None when one of them has."""
    per_school: dict[int, list[int]] = {}
    for child, group in policy.family(current_user):
        if group is not None:
            per_school.setdefault(child.school_id, []).append(group.id)
    if not per_school:
        return service.closed_for_all(day, [])
    reasons = [service.closed_for_all(day, ids, school_id=school_id)
               for school_id, ids in per_school.items()]
    return reasons[0] if all(reasons) else None


def _earliest(children):
    """The first day an appointment can be reported for: the child's, for one child; for
    children at more than one school, the soonest of the schools' (each its own calendar)."""
    schools = {child.school_id: child for child in children}
    if len(schools) > 1:
        return min(service.earliest_appointment_day(child) for child in schools.values())
    return service.earliest_appointment_day(children[0] if len(children) == 1 else None)


@bp.route("/")
@login_required
def index():
    """Show a guardian the absence forms and their reports; send staff to their overview."""
    if policy.can_manage_absences(current_user):
        return redirect(url_for("absence.office"))
    if policy.can_see_absence_overview(current_user):
        return redirect(url_for("absence.overview"))
    policy.require(policy.is_guardian(current_user))
    children = policy.reportable_children(current_user)
    sick, appointment = _guardian_forms(children)
    return _guardian_page(children, sick, appointment)


def _submitted_child(form, allowed=policy.can_report_absence) -> Student | None:
    """The child the form names, if the user may report for it (else the form says so)."""
    if not form.validate_on_submit():
        return None
    student = db.session.get(Student, form.student.data)
    if student is None or not allowed(current_user, student):
        add_error(form.student, str(form.wrong_child))
        return None
    return student


def _report(form, record, allowed=policy.can_report_absence) -> AbsenceReport | None:
    """`record(child)` for the form's child; None, with the reason on the form, if refused."""
    student = _submitted_child(form, allowed)
    if student is None:
        return None
    try:
        return record(student)
    except service.AbsenceError as error:
        show_error(form, error, form.student)
        return None


def _appointment(form: AppointmentForm) -> dict:
    """The appointment form's answers, as service.report_appointment takes them."""
    return {"day": form.day.data, "starts_at": form.starts_at.data,
            "ends_at": form.ends_at.data, "note": form.note.data or "",
            "reason": db.session.get(AbsenceReason, form.reason.data)}


@bp.post("/ziek")
@login_required
def report_sick():
    """Report a child sick for today."""
    policy.require(policy.is_guardian(current_user))
    children = policy.reportable_children(current_user)
    sick, appointment = _guardian_forms(children, sick=SickForm(prefix="sick"))
    report = _report(sick, lambda child: service.report_sick(
        current_user, child, sick.email_receipt.data))
    if report is not None:
        return _confirm(report)
    return _guardian_page(children, sick, appointment, status=422)


@bp.post("/afspraak")
@login_required
def report_appointment():
    """Report an appointment on a later school day."""
    policy.require(policy.is_guardian(current_user))
    children = policy.reportable_children(current_user)
    sick, appointment = _guardian_forms(children, appointment=AppointmentForm(prefix="appt"))
    report = _report(appointment, lambda child: service.report_appointment(
        current_user, child, email_receipt=appointment.email_receipt.data,
        **_appointment(appointment)))
    if report is not None:
        return _confirm(report)
    if appointment.day.data and not appointment.day.errors:
        # Say everything at once: a wrong date next to a wrong time. (When the service
        # refused, it checked the day first: a wrong day is already on the form.)
        problem = service.appointment_day_problem(appointment.day.data,
                                                  db.session.get(Student, appointment.student.data
                                                                 or 0))
        if problem:
            add_error(appointment.day, problem)
    return _guardian_page(children, sick, appointment, status=422)


def _confirm(report: AbsenceReport) -> Response:
    """Thank the guardian for the report, and back to the absence page."""
    child = report.student.first_name
    if report.is_sick:
        flash(_("Dank u wel. %(child)s is ziek gemeld voor vandaag. Beterschap!", child=child),
              "success")
        if report.after_cutoff:
            phone = report.student.school.phone  # the child's school's, not the current one's
            cutoff = service.sick_cutoff(report.student).strftime("%H:%M")
            flash(
                _("Let op: het is na %(time)s. De leerkracht ziet uw melding misschien pas na "
                  "de lessen. Is het dringend? Bel dan de school: %(phone)s.",
                  time=cutoff, phone=phone)
                if phone else
                _("Let op: het is na %(time)s. De leerkracht ziet uw melding misschien pas na "
                  "de lessen. Is het dringend? Bel dan de school.", time=cutoff),
                "warning",
            )
    else:
        flash(
            _("Dank u wel. De afspraak van %(child)s op %(day)s van %(start)s tot %(end)s is "
              "doorgegeven aan de leerkracht.",
              child=child, day=service.long_date(report.day),
              start=report.starts_at.strftime("%H:%M"), end=report.ends_at.strftime("%H:%M")),
            "success",
        )
    if service.wants_receipt(current_user) and mail_mode(current_user, ABSENCE) == DIRECT:
        flash(_("U krijgt ook een bevestiging per e-mail."), "info")
    return redirect(url_for("absence.index"), 303)


@bp.post("/<int:report_id>/intrekken")
@login_required
def withdraw(report_id: int):
    """Withdraw a report that has not started yet."""
    report = db.get_or_404(AbsenceReport, report_id)
    policy.require(policy.can_withdraw_absence(current_user, report))
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            service.withdraw(current_user, report, form.note.data or "")
        except service.AbsenceError as error:
            flash(error.message, "error")
        else:
            if report.withdrawn_note:
                flash(_("De melding is ingetrokken. De leerkracht ziet uw bericht in het "
                        "overzicht van vandaag."), "success")
            else:
                flash(_("De melding is ingetrokken."), "success")
    else:
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
    return redirect(url_for("absence.index") + "#meldingen", 303)


# -- reports phoned in to the school ------------------------------------------


def _phoned_forms(sick=None, appointment=None):
    rows = service.recordable_children(current_user)
    groups = {student.id: group.name for student, group in rows}
    sick, appointment = _forms(
        [student for student, _group in rows], sick, appointment,
        label=lambda child: f"{child.full_name} ({groups[child.id]})",
    )
    for form in (sick, appointment):
        form.wrong_child = _("Kies een kind uit uw eigen groepen.")
    return sick, appointment


def _phoned_page(sick, appointment, status=200):
    return render_template(
        "absence/phoned.html", sick_form=sick, appointment_form=appointment,
        today=clock.today(),
    ), status


def _record_phoned(sick, appointment, form, record):
    """`record(child)` for the child `form` names, if the user may record it, and say so; the
    forms again, with the reason, if refused."""
    report = _report(form, record, policy.can_record_phoned_absence)
    if report is None:
        return _phoned_page(sick, appointment, status=422)
    child = report.student.full_name
    if report.is_sick:
        flash(_("%(child)s staat ziek gemeld voor vandaag, telefonisch doorgegeven.",
                child=child), "success")
    else:
        flash(_("De afspraak van %(child)s op %(day)s van %(start)s tot %(end)s staat genoteerd.",
                child=child, day=service.long_date(report.day),
                start=report.starts_at.strftime("%H:%M"), end=report.ends_at.strftime("%H:%M")),
              "success")
    return redirect(url_for("absence.phoned"), 303)


@bp.route("/telefonisch")
@login_required
def phoned():
    """Show the forms for a sick report or appointment a guardian phoned in."""
    policy.require(policy.can_record_phoned_absences(current_user))
    return _phoned_page(*_phoned_forms())


@bp.post("/telefonisch/ziek")
@login_required
def phoned_sick():
    """Record a sick report a guardian phoned in."""
    policy.require(policy.can_record_phoned_absences(current_user))
    sick, appointment = _phoned_forms(sick=SickForm(prefix="sick"))
    return _record_phoned(sick, appointment, sick, lambda child: service.report_sick(
        current_user, child, by_phone=True))


@bp.post("/telefonisch/afspraak")
@login_required
def phoned_appointment():
    """Record an appointment a guardian phoned in."""
    policy.require(policy.can_record_phoned_absences(current_user))
    sick, appointment = _phoned_forms(appointment=AppointmentForm(prefix="appt"))
    return _record_phoned(sick, appointment, appointment, lambda child: service.report_appointment(
        current_user, child, by_phone=True, **_appointment(appointment)))


@bp.route("/overzicht")
@login_required
def overview():
    """Show today's absences and the next school day's appointments of the user's groups."""
    policy.require(policy.can_see_absence_overview(current_user))
    data = service.teacher_overview(current_user)
    if wants_fragment():
        return render_template("absence/_today.html", **data)
    return render_template("absence/overview.html", **data)


def teacher_home():
    """The teacher's home page: the morning overview and their groups."""
    return render_template("home.html", **service.teacher_overview(current_user))


# -- the office ---------------------------------------------------------------


def _filter_form() -> FilterForm:
    today = clock.today()
    form = FilterForm(formdata=request.args if request.args else None,
                      date_from=today, date_to=today)
    year = policy.current_year()
    groups = year.groups if year else []
    form.group.choices = [("", _("Alle groepen"))] + [(str(g.id), g.name) for g in groups]
    form.reason.choices = (
        [("", _("Alle redenen")), (service.SICK_FILTER, _("Ziek"))]
        + [(str(r.id), r.name) for r in service.all_reasons()]
    )
    return form


def _search(form: FilterForm, limit=None):
    return service.search(
        form.date_from.data,
        form.date_to.data,
        group_id=int(form.group.data) if form.group.data else None,
        reason=form.reason.data or "",
        include_withdrawn=form.withdrawn.data,
        limit=limit,
    )


@bp.route("/administratie")
@login_required
def office():
    """List all absences with filters for the office."""
    policy.require(policy.can_manage_absences(current_user))
    form = _filter_form()
    if request.args and not form.validate():
        return render_template("absence/office.html", form=form, rows=None), 422
    rows = _search(form, limit=service.SEARCH_LIMIT + 1)
    return render_template(
        "absence/office.html",
        form=form,
        rows=rows[: service.SEARCH_LIMIT],
        truncated=len(rows) > service.SEARCH_LIMIT,
        limit=service.SEARCH_LIMIT,
        export_args=request.args.to_dict(),
    )


@bp.route("/administratie/export.csv")
@login_required
def export():
    """Download the filtered absences as CSV for the student administration system."""
    policy.require(policy.can_manage_absences(current_user))
    form = _filter_form()
    if request.args and not form.validate():
        return render_template("absence/office.html", form=form, rows=None), 422
    body = service.export_csv(_search(form))
    start = form.date_from.data.isoformat() if form.date_from.data else "begin"
    end = form.date_to.data.isoformat() if form.date_to.data else "eind"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="absenties_{start}_{end}.csv"',
        },
    )


def _settings_page(reason_form=None, status=200):
    return render_template(
        "absence/settings.html",
        reasons=service.all_reasons(),
        reason_form=reason_form or ReasonForm(formdata=None),
        button_form=EmptyForm(),
    ), status


@bp.route("/beheer")
@login_required
def settings():
    """Show the appointment reasons (the days without school are in the calendar)."""
    policy.require(policy.can_manage_absences(current_user))
    return _settings_page()


@bp.post("/beheer/redenen")
@login_required
def add_reason():
    """Add an appointment reason guardians can choose."""
    policy.require(policy.can_manage_absences(current_user))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            reason = service.add_reason(form.name.data)
        except service.AbsenceError as error:
            add_error(form.name, error.message)
        else:
            flash(_("De reden %(name)s is toegevoegd.", name=reason.name), "success")
            return redirect(url_for("absence.settings"), 303)
    return _settings_page(reason_form=form, status=422)


@bp.post("/beheer/redenen/<int:reason_id>")
@login_required
def toggle_reason(reason_id: int):
    """Hide a reason from the form, or offer it again."""
    policy.require(policy.can_manage_absences(current_user))
    reason = db.get_or_404(AbsenceReason, reason_id)
    policy.require(policy.is_admin_of(current_user, reason.school_id))
    if EmptyForm().validate_on_submit():
        service.set_reason_active(reason, not reason.active)
        if reason.active:
            flash(_("Ouders kunnen %(name)s weer kiezen.", name=reason.name), "success")
        else:
            flash(_("%(name)s staat niet meer in de lijst voor ouders. Eerdere meldingen houden "
                    "deze reden.", name=reason.name), "success")
    return redirect(url_for("absence.settings"), 303)
