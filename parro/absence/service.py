"""Absence reports: the school calendar, the rules for reporting, the overviews, the export.

The rules come from the school documents: a sick report covers one school day
and is made again each day; it reaches the teacher before lessons when it comes
in before the cut-off (ABSENCE_SICK_CUTOFF, default 08:30), because on the day
itself the teacher looks only in the morning. Appointments are reported at least
ABSENCE_APPOINTMENT_MIN_SCHOOL_DAYS school days ahead (default 1: the school day
before). Leave (verlof) goes through the direction, never through this form.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import clock, policy
from ..calendar.days import closed_for_all, closed_reason, next_school_day, school_day_after
from ..extensions import db
from ..forms import FieldError
from ..models import (
    AbsenceKind,
    AbsencePreference,
    AbsenceReason,
    AbsenceReport,
    Group,
    Membership,
    School,
    Student,
    User,
)
from ..notifications import ABSENCE, notify

DEFAULT_REASONS = ("Huisarts", "Tandarts", "Ziekenhuis", "Orthodontist", "Overig")


class AbsenceError(FieldError):
    """A report the rules refuse."""


# -- configuration ------------------------------------------------------------


def default_sick_cutoff() -> time:
    """The installation's cut-off (ABSENCE_SICK_CUTOFF), for schools that set none."""
    value = current_app.config["ABSENCE_SICK_CUTOFF"]
    if isinstance(value, time):
        return value
    return datetime.strptime(str(value).strip().replace(".", ":"), "%H:%M").time()


def _school_of(of: School | Student | None) -> School | None:
    if isinstance(of, Student):
        return of.school
    return of


def sick_cutoff(of: School | Student | None = None) -> time:
    """The cut-off of a school, or of a child's own school; without one: the current school's.

    A school without its own (School.sick_cutoff None) has the installation's."""
    school = _school_of(of) if of is not None else policy.current_school()
    if school is not None and school.sick_cutoff is not None:
        return school.sick_cutoff
    return default_sick_cutoff()


def min_school_days() -> int:
    return int(current_app.config["ABSENCE_APPOINTMENT_MIN_SCHOOL_DAYS"])


def max_days_ahead() -> int:
    return int(current_app.config["ABSENCE_APPOINTMENT_MAX_DAYS_AHEAD"])


# -- the school calendar ------------------------------------------------------
# The days without school are the jaarkalender's (parro.calendar.days): one list.


def _group_ids(student: Student | None) -> list[int]:
    group = policy.current_group_of(student) if student is not None else None
    return [group.id] if group is not None else []


def _closed(day: date, student: Student | None) -> str | None:
    """Why the child's group has no school on `day` (its own school's calendar), or None."""
    group_ids = _group_ids(student)
    return closed_reason(day, group_ids[0] if group_ids else None,
                         school_id=student.school_id if student is not None else None)


def earliest_appointment_day(student: Student | None = None) -> date:
    """The first day a guardian may report an appointment for, today (at the child's own
    school)."""
    return school_day_after(clock.today(), min_school_days(), _group_ids(student),
                            student.school_id if student is not None else None)


def is_after_cutoff(of: School | Student | None = None) -> bool:
    """Whether it is past the cut-off of `of` (a school, or a child's own school)."""
    return clock.local_now().time() >= sick_cutoff(of)


def late_withdraw_until() -> time:
    return datetime.strptime(
        str(current_app.config["ABSENCE_LATE_WITHDRAW_UNTIL"]).strip().replace(".", ":"), "%H:%M"
    ).time()


def long_date(day: date) -> str:
    return format_date(day, "EEEE d MMMM")


# -- reporting ----------------------------------------------------------------


def wants_receipt(user: User) -> bool:
    pref = db.session.get(AbsencePreference, user.id)
    return bool(pref and pref.email_receipt)


def _remember_receipt_choice(user: User, email_receipt: bool) -> None:
    pref = db.session.get(AbsencePreference, user.id)
    if pref is None:
        db.session.add(AbsencePreference(user_id=user.id, email_receipt=email_receipt))
    else:
        pref.email_receipt = email_receipt


def active_sick_report(student: Student, day: date) -> AbsenceReport | None:
    return db.session.scalar(
        select(AbsenceReport).where(
            AbsenceReport.student_id == student.id,
            AbsenceReport.day == day,
            AbsenceReport.kind == AbsenceKind.SICK,
            AbsenceReport.withdrawn_at.is_(None),
        )
    )


def report_sick(user: User, student: Student, email_receipt: bool = False, *,
                by_phone: bool = False) -> AbsenceReport:
    """Report `student` sick for today and commit; AbsenceError when the rules refuse.

    `by_phone`: the office or a teacher records what a guardian phoned in; the
    guardians who asked for receipts get one.
    """
    today = clock.today()
    closed = _closed(today, student)
    if closed:
        raise AbsenceError(
            "student",
            _("Vandaag (%(day)s) is er geen school voor %(child)s (%(why)s). Ziek melden "
              "hoeft niet.", day=long_date(today), child=student.first_name, why=closed),
        )
    report = AbsenceReport(
        student=student,
        kind=AbsenceKind.SICK,
        day=today,
        reported_by=user,
        reported_at=clock.now(),
        after_cutoff=is_after_cutoff(student),
        by_phone=by_phone,
    )
    try:
        return _save(user, report, email_receipt)
    except IntegrityError:
        # The unique index on (child, day) for sick reports: someone was first.
        db.session.rollback()
        if active_sick_report(student, today) is None:
            raise
        raise AbsenceError(
            "student",
            _("%(child)s is vandaag al ziek gemeld. U hoeft niets meer te doen.",
              child=student.first_name),
        ) from None


def _save(user: User, report: AbsenceReport, email_receipt: bool) -> AbsenceReport:
    """Store the report, remember a guardian's receipt choice, send the receipts; commit."""
    if not report.by_phone:
        _remember_receipt_choice(user, email_receipt)
    db.session.add(report)
    db.session.flush()
    _send_receipts(user, report)
    db.session.commit()
    return report


def appointment_day_problem(day: date, student: Student | None = None,
                            by_phone: bool = False) -> str | None:
    """Why an appointment cannot be reported for `day` today, or None.

    A phoned-in appointment may be for today: the office hears it in the morning.
    """
    today = clock.today()
    if day < today:
        return _("Deze datum is al voorbij. Kies een datum in de toekomst.")
    if not by_phone:
        earliest = earliest_appointment_day(student)
        if day < earliest:
            return _("Een afspraak geeft u uiterlijk de schooldag ervoor door. De eerste dag die "
                     "nu nog kan is %(day)s. Is de afspraak eerder? Bel dan de school.",
                     day=long_date(earliest))
    if day > today + timedelta(days=max_days_ahead()):
        return _("Zo ver vooruit kunt u nog niets doorgeven. Kies een datum binnen %(n)s dagen.",
                 n=max_days_ahead())
    closed = _closed(day, student)
    if closed:
        return _("Op %(day)s is er geen school (%(why)s). Kies een schooldag.",
                 day=long_date(day), why=closed)
    return None


def report_appointment(
    user: User,
    student: Student,
    day: date,
    starts_at: time,
    ends_at: time,
    reason: AbsenceReason | None,
    note: str,
    email_receipt: bool = False,
    *,
    by_phone: bool = False,
) -> AbsenceReport:
    """Report an appointment and commit; AbsenceError when the rules refuse."""
    problem = appointment_day_problem(day, student, by_phone)
    if problem:
        raise AbsenceError("day", problem)
    if ends_at <= starts_at:
        raise AbsenceError("ends_at", _("De eindtijd moet na de begintijd liggen."))
    if reason is None or not reason.active or reason.school_id != student.school_id:
        raise AbsenceError("reason", _("Kies een reden uit de lijst."))
    report = AbsenceReport(
        student=student,
        kind=AbsenceKind.APPOINTMENT,
        day=day,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        note=note.strip(),
        reported_by=user,
        reported_at=clock.now(),
        by_phone=by_phone,
    )
    return _save(user, report, email_receipt)


def _send_receipts(user: User, report: AbsenceReport) -> None:
    """A receipt for whoever asked for one: the reporting guardian, or for a phoned-in
    report every guardian of the child who did."""
    if report.by_phone:
        recipients = [g.user for g in report.student.guardianships
                      if g.user.is_active and wants_receipt(g.user)]
    else:
        recipients = [user] if wants_receipt(user) else []
    if not recipients:
        return
    school = report.student.school  # the child's own school, which the guardian knows
    for recipient in recipients:
        notify(
            recipient,
            ABSENCE,
            _l("Bevestiging: absentie van {child} doorgegeven"),
            "absence_receipt",
            line=_l("De absentie van {child} op {day} is doorgegeven"),
            path="/absentie/",
            day=long_date(report.day),
            child=report.student.first_name,
            student=report.student,
            report=report,
            late_until=late_withdraw_until().strftime("%H:%M"),
            name=recipient.display_name,
            url=url_for("absence.index"),
            school=school,
        )


def reporter_label(report: AbsenceReport, translate: bool = True) -> str:
    """Who reported: the guardian's name, or "administratie, telefonisch" / "<teacher>,
    telefonisch" for a report phoned in. `translate` False gives the Dutch (the CSV)."""
    who = report.reported_by
    if not report.by_phone:
        return who.display_name if who else ""
    if who is None or who.is_admin:
        return _("administratie, telefonisch") if translate else "administratie, telefonisch"
    if translate:
        return _("%(name)s, telefonisch", name=who.display_name)
    return f"{who.display_name}, telefonisch"


# Whether (and how) a guardian may still withdraw a report.
FREELY, WITH_NOTE = "freely", "with_note"


def withdraw_rule(report: AbsenceReport) -> str | None:
    """FREELY before the day starts (a later day, or today before the cut-off); WITH_NOTE
    today after the cut-off until ABSENCE_LATE_WITHDRAW_UNTIL (the teacher gets the note);
    None after that, or for a withdrawn report."""
    if report.is_withdrawn:
        return None
    today = clock.today()
    if report.day > today or (report.day == today and not is_after_cutoff(report.student)):
        return FREELY
    if report.day == today and clock.local_now().time() < late_withdraw_until():
        return WITH_NOTE
    return None


def withdraw(user: User, report: AbsenceReport, note: str = "") -> None:
    """Withdraw a report and commit; it stays, marked with who, when and the note."""
    rule = withdraw_rule(report)
    note = " ".join(note.split())
    if rule is None:
        if report.is_withdrawn:
            raise AbsenceError("", _("Deze melding was al ingetrokken."))
        raise AbsenceError(
            "",
            _("Deze melding kan niet meer worden ingetrokken: de ochtend is voorbij. "
              "Vergist? Bel de school."),
        )
    if rule == WITH_NOTE and not note:
        raise AbsenceError(
            "note",
            _("De lessen zijn al begonnen. Schrijf de leerkracht kort waarom u de melding "
              "intrekt, bijvoorbeeld: ‘Hij voelt zich beter en komt om 10:00.’"),
        )
    result = db.session.execute(
        update(AbsenceReport)
        .where(AbsenceReport.id == report.id, AbsenceReport.withdrawn_at.is_(None))
        .values(withdrawn_at=clock.now(), withdrawn_by_id=user.id, withdrawn_note=note[:500])
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise AbsenceError("", _("Deze melding was al ingetrokken."))
    db.session.commit()


# -- what people see ----------------------------------------------------------


def _load():
    return (
        joinedload(AbsenceReport.student),
        joinedload(AbsenceReport.reason),
        joinedload(AbsenceReport.reported_by),
        joinedload(AbsenceReport.withdrawn_by),
    )


def _membership_this_year():
    """How a report joins its child's Membership of the current school year (none without one)."""
    year = policy.current_year()
    return and_(Membership.student_id == AbsenceReport.student_id,
                Membership.school_year_id == (year.id if year else None))


def reports_of_children(user: User, past_days: int = 30) -> tuple[list, list]:
    """A guardian's reports about their children: (today and later, earlier ones)."""
    today = clock.today()
    ids = [s.id for s in policy.children(user)]
    if not ids:
        return [], []
    rows = list(
        db.session.scalars(
            select(AbsenceReport)
            .options(*_load())
            .where(
                AbsenceReport.student_id.in_(ids),
                AbsenceReport.day >= today - timedelta(days=past_days),
            )
            .order_by(AbsenceReport.day, AbsenceReport.starts_at, AbsenceReport.id)
        )
    )
    upcoming = [r for r in rows if r.day >= today]
    earlier = [r for r in reversed(rows) if r.day < today]
    return upcoming, earlier


def recordable_children(user: User) -> list[tuple[Student, Group]]:
    """The children whose phoned-in reports the user may record: the office all children
    in a group this year, a teacher those of their own groups; by group, then name."""
    year = policy.current_year()
    if year is None:
        return []
    query = (
        select(Student, Group)
        .join(Membership, Membership.student_id == Student.id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.school_year_id == year.id)
        .order_by(Group.grade, Group.name, Student.first_name, Student.last_name)
    )
    if not policy.is_admin(user):
        query = query.where(Group.id.in_(policy.taught_group_ids(user)))
    return [(student, group) for student, group in db.session.execute(query).all()]


@dataclass
class GroupDay:
    group: Group
    reports: list[AbsenceReport]


def absences_on(day: date, groups: list[Group], kinds=tuple(AbsenceKind)) -> list[GroupDay]:
    """The reports on `day` for each of `groups` (this year's members).

    Withdrawn ones are left out, except those a guardian withdrew after the cut-off
    with a note: the teacher may have read the report already and must see the note.
    """
    if not groups:
        return []
    rows = db.session.execute(
        select(AbsenceReport, Membership.group_id)
        .join(Membership, _membership_this_year())
        .join(Student, Student.id == AbsenceReport.student_id)
        .options(joinedload(AbsenceReport.reason), joinedload(AbsenceReport.student),
                 joinedload(AbsenceReport.reported_by))
        .where(
            Membership.group_id.in_([g.id for g in groups]),
            AbsenceReport.day == day,
            AbsenceReport.kind.in_(list(kinds)),
            or_(AbsenceReport.withdrawn_at.is_(None), AbsenceReport.withdrawn_note != ""),
        )
        .order_by(AbsenceReport.starts_at.nulls_first(), Student.first_name, Student.last_name)
    ).all()
    per_group: dict[int, list[AbsenceReport]] = {g.id: [] for g in groups}
    for report, group_id in rows:
        per_group[group_id].append(report)
    return [GroupDay(g, per_group[g.id]) for g in groups]


def teacher_overview(user: User) -> dict:
    """Today's absences and the next school day's appointments for the user's groups."""
    groups = [g for g in policy.visible_groups(user) if policy.can_see_absences_of_group(user, g)]
    today = clock.today()
    group_ids = [g.id for g in groups]
    following = next_school_day(today, group_ids)
    return {
        "groups": groups,
        "today": today,
        "today_closed": closed_for_all(today, group_ids),
        "today_groups": absences_on(today, groups),
        "next_day": following,
        "next_is_tomorrow": following == today + timedelta(days=1),
        "next_groups": absences_on(following, groups, kinds=(AbsenceKind.APPOINTMENT,)),
        "cutoff": sick_cutoff(policy.current_school()),  # the teacher's groups are of this school
        "updated_at": clock.now(),
    }


# -- the office ---------------------------------------------------------------


SICK_FILTER = "sick"
SEARCH_LIMIT = 500


def search(
    date_from: date | None,
    date_to: date | None,
    group_id: int | None = None,
    reason: str = "",
    include_withdrawn: bool = False,
    limit: int | None = None,
) -> list[tuple[AbsenceReport, Group | None]]:
    """All reports matching the filters, with the child's group this year, in date order.

    `reason` is "" (all), "sick", or the id of an appointment reason.
    """
    query = (
        select(AbsenceReport, Group)
        .join(Student, Student.id == AbsenceReport.student_id)
        .where(Student.school_id == policy.current_school_id())
        .outerjoin(Membership, _membership_this_year())
        .outerjoin(Group, Group.id == Membership.group_id)
        .options(*_load())
        .order_by(
            AbsenceReport.day,
            Group.grade,
            Group.name,
            Student.last_name,
            Student.first_name,
            AbsenceReport.starts_at.nulls_first(),
            AbsenceReport.id,
        )
    )
    if date_from:
        query = query.where(AbsenceReport.day >= date_from)
    if date_to:
        query = query.where(AbsenceReport.day <= date_to)
    if group_id:
        query = query.where(Membership.group_id == group_id)
    if reason == SICK_FILTER:
        query = query.where(AbsenceReport.kind == AbsenceKind.SICK)
    elif reason:
        query = query.where(AbsenceReport.reason_id == int(reason))
    if not include_withdrawn:
        query = query.where(AbsenceReport.withdrawn_at.is_(None))
    if limit:
        query = query.limit(limit)
    return [(report, group) for report, group in db.session.execute(query).all()]


CSV_COLUMNS = (
    "leerlingnummer",
    "naam",
    "groep",
    "datum",
    "van",
    "tot",
    "reden",
    "gemeld_door",
    "gemeld_op",
)


def _cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet
    # (a guardian chooses their own name): a leading apostrophe keeps it text.
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def export_csv(rows: list[tuple[AbsenceReport, Group | None]]) -> str:
    """The absences as CSV for the student administration system.

    The format is stable; a change is a new column at the end, never a moved one.

    - Encoding UTF-8 with a byte order mark (so Excel shows ë and Ş), lines end in CRLF.
    - Separator: semicolon (;), as Dutch Excel expects. Fields that contain a
      semicolon, a double quote or a line break are enclosed in double quotes,
      and a double quote inside is doubled (RFC 4180): `"Zoë ""Zo"" de Wit; jr."`.
    - One header row, then one row per report, ordered by date, group, name, start time.
      Withdrawn reports are not exported.
    - Columns:
      leerlingnummer  the student number of the student administration system
      naam            first name and last name, as in parro
      groep           the child's group this school year (empty if none)
      datum           the day of the absence, YYYY-MM-DD
      van, tot        HH:MM (24 hours, school time) for an appointment; both empty for
                      sick, which means the whole day
      reden           "Ziek" for a sick report, otherwise the appointment reason as the
                      school named it ("Huisarts", "Tandarts" ...)
      gemeld_door     the name of the guardian who reported it (empty if the account is gone);
                      for a report phoned in to the school "administratie, telefonisch" (the
                      office recorded it) or "<name of the teacher>, telefonisch"
      gemeld_op       when it was reported, YYYY-MM-DD HH:MM in the school's time zone
    - A text cell that would start with =, +, - or @ gets a leading apostrophe (')
      so that no spreadsheet runs it as a formula.
    """
    tz = clock.school_tz()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for report, group in rows:
        writer.writerow(
            [
                _cell(report.student.student_number),
                _cell(report.student.full_name),
                _cell(group.name if group else ""),
                report.day.isoformat(),
                report.starts_at.strftime("%H:%M") if report.starts_at else "",
                report.ends_at.strftime("%H:%M") if report.ends_at else "",
                "Ziek" if report.is_sick else _cell(report.reason.name if report.reason else ""),
                _cell(reporter_label(report, translate=False)),
                report.reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return out.getvalue()


# -- what the office configures -----------------------------------------------


def all_reasons(school_ids=None) -> list[AbsenceReason]:
    """The reasons of these schools (default: the one the request works in)."""
    ids = [policy.current_school_id()] if school_ids is None else list(school_ids)
    return list(
        db.session.scalars(
            select(AbsenceReason)
            .where(AbsenceReason.school_id.in_(ids))
            .order_by(AbsenceReason.school_id, AbsenceReason.position, AbsenceReason.name)
        )
    )


def active_reasons(school_ids=None) -> list[AbsenceReason]:
    return [r for r in all_reasons(school_ids) if r.active]


def ensure_default_reasons(school: School) -> None:
    """Give a school without any reasons the usual ones."""
    if db.session.scalar(select(AbsenceReason.id).where(AbsenceReason.school_id == school.id)
                         .limit(1)) is None:
        for position, name in enumerate(DEFAULT_REASONS):
            db.session.add(AbsenceReason(school_id=school.id, name=name, position=position))
        db.session.flush()


def add_reason(name: str) -> AbsenceReason:
    name = " ".join(name.split())
    if name.casefold() in ("ziek", "sick"):
        raise AbsenceError(
            "name", _("Ziek is er altijd al: ouders kiezen het met de knop Ziek melden.")
        )
    school_id = policy.current_school().id
    existing = db.session.scalar(
        select(AbsenceReason).where(AbsenceReason.school_id == school_id,
                                    func.lower(AbsenceReason.name) == name.lower())
    )
    if existing is not None:
        raise AbsenceError("name", _("Deze reden bestaat al."))
    position = (db.session.scalar(select(func.max(AbsenceReason.position))
                                  .where(AbsenceReason.school_id == school_id)) or 0) + 1
    reason = AbsenceReason(school_id=school_id, name=name, position=position)
    db.session.add(reason)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AbsenceError("name", _("Deze reden bestaat al.")) from None
    return reason


def set_reason_active(reason: AbsenceReason, active: bool) -> None:
    reason.active = active
    db.session.commit()
