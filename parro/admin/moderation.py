"""The moderation queue (meldingen) and the audit log (logboek)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from .. import audit, policy
from ..clock import school_tz
from ..extensions import db
from ..forms import EmptyForm
from ..inputs import as_id
from ..models import AuditEvent, Report, User
from ..moderation import service
from ..moderation.forms import HandleReportForm
from . import bp, get_or_404
from .forms import AuditFilterForm

LOG_PAGE_SIZE = 50

ACTION_LABELS = {
    audit.LOGIN: _l("Ingelogd"),
    audit.LOGIN_FAILED: _l("Mislukte inlogpoging"),
    audit.INVITATION: _l("Uitnodiging"),
    audit.ROLE_CHANGE: _l("Rol of account gewijzigd"),
    audit.GROUP_CHANGE: _l("Groepsindeling gewijzigd"),
    audit.CONSENT_CHANGE: _l("Toestemming gewijzigd"),
    audit.EXPORT: _l("Gegevens gedownload"),
    audit.DELETION: _l("Verwijderd"),
    audit.MODERATION: _l("Melding of moderatie"),
    audit.SECURITY: _l("Beveiliging"),
    audit.RETENTION: _l("Opgeruimd (bewaartermijn)"),
    audit.SCHOOL_ACCOUNT: _l("Schoolaccount gekoppeld of ontkoppeld"),
    audit.SCHOOL: _l("School toegevoegd door het bestuur"),
}


# -- meldingen ----------------------------------------------------------------------


def _queue(forms: dict[int, HandleReportForm] | None = None, status: int = 200):
    school_id = policy.current_school_id()
    reports = service.open_reports(school_id)
    forms = forms or {}
    return render_template(
        "admin/reports.html",
        reports=reports,
        forms={r.id: forms.get(r.id) or HandleReportForm(formdata=None) for r in reports},
        context={r.id: service.message_context(r.message) for r in reports if r.message_id},
        hidden=service.hidden_reports(school_id), unhide_form=EmptyForm(formdata=None),
    ), status


@bp.get("/meldingen")
def reports():
    """Show the open reports, oldest first, each with the reported item in context."""
    policy.require(policy.can_moderate(current_user))
    return _queue()


@bp.post("/meldingen/<int:report_id>")
def handle_report(report_id: int):
    """Hide the reported item or let it stand, with an answer for the reporter."""
    policy.require(policy.can_moderate(current_user))
    report = get_or_404(Report, report_id, policy.can_handle_report)
    form = HandleReportForm()
    if not form.validate_on_submit():
        return _queue({report.id: form}, 422)
    hide = form.decision.data == "hide"
    try:
        service.handle(report, current_user._get_current_object(), hide, form.answer.data,
                       form.author_answer.data)
    except service.AlreadyHandled:
        flash(_("Deze melding is al afgehandeld, misschien door een andere beheerder."), "info")
    else:
        flash(_("Het bericht is verborgen. De schrijver en wie het meldde krijgen een e-mail.")
              if hide else _("De melding is afgehandeld; het bericht blijft staan. Wie het "
                             "meldde krijgt uw antwoord per e-mail."), "success")
    return redirect(url_for("admin.reports"), 303)


@bp.post("/meldingen/<int:report_id>/weer-tonen")
def unhide_report(report_id: int):
    """Show a post or message the school hid again (undo), audit-logged."""
    policy.require(policy.can_moderate(current_user))
    report = get_or_404(Report, report_id, policy.can_handle_report)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.unhide(report, current_user._get_current_object())
    except service.NotHidden:
        flash(_("Dit bericht is niet (meer) verborgen."), "info")
    else:
        flash(_("Het bericht is weer zichtbaar voor iedereen die het mag zien."), "success")
    return redirect(url_for("admin.reports"), 303)


# -- logboek ------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    """Midnight at the school of this day, as the moment it is."""
    return datetime.combine(day, time(0), tzinfo=school_tz())


def log_page(action: str = "", person: str = "", since: date | None = None,
             until: date | None = None, before: int | None = None,
             size: int = LOG_PAGE_SIZE) -> tuple[list[AuditEvent], int | None]:
    """The current school's events newest first, filtered, paged by id; returns them and the
    id to continue before."""
    query = select(AuditEvent).where(AuditEvent.school_id == policy.current_school_id())
    if action:
        query = query.where(AuditEvent.action == action)
    for word in person.split()[:5]:
        query = query.where(
            or_(
                AuditEvent.actor_name.icontains(word, autoescape=True),
                AuditEvent.summary.icontains(word, autoescape=True),
                AuditEvent.actor_id.in_(
                    select(User.id).where(User.email.icontains(word, autoescape=True))
                ),
            )
        )
    if since is not None:
        query = query.where(AuditEvent.created_at >= _start_of(since))
    if until is not None:
        query = query.where(AuditEvent.created_at < _start_of(until + timedelta(days=1)))
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(size + 1)))
    more = len(events) > size
    events = events[:size]
    return events, (events[-1].id if more else None)


@bp.get("/logboek")
def audit_log():
    """List who did what and when, newest first, with filters."""
    policy.require(policy.can_read_audit_log(current_user))
    form = AuditFilterForm(request.args)
    form.actie.choices = [SelectChoice("", _l("Alle acties"))] + [
        SelectChoice(action, label) for action, label in ACTION_LABELS.items()
    ]
    if not form.validate():
        return render_template("admin/audit_log.html", form=form, events=[], labels=ACTION_LABELS,
                               more_url=None, first_page=True), 422
    before = request.args.get("voor", "")
    if before and as_id(before) is None:
        abort(400)
    filters = {
        "actie": form.actie.data or None,
        "wie": (form.wie.data or "").strip() or None,
        "van": request.args.get("van") or None,
        "tot": request.args.get("tot") or None,
    }
    events, next_before = log_page(
        form.actie.data or "", filters["wie"] or "", form.van.data, form.tot.data,
        int(before) if before else None,
    )
    more_url = url_for("admin.audit_log", voor=next_before, **filters) if next_before else None
    return render_template("admin/audit_log.html", form=form, events=events, labels=ACTION_LABELS,
                           more_url=more_url, first_page=not before,
                           reset_url=url_for("admin.audit_log", **filters))
