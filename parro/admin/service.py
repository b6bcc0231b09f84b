"""The school's structure as the admin pages change it: each function is one transaction.

Functions raise `Invalid(field, message)` for input the database would refuse or
the school would regret; the view shows the message at that field and nothing
has been written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit, media
from ..clock import now, today
from ..extensions import db
from ..forms import FieldError
from ..inputs import as_id
from ..models import (
    Group,
    Guardianship,
    Membership,
    Role,
    School,
    SchoolYear,
    Student,
    TeacherAssignment,
    User,
    UserSession,
)
from ..policy import current_school, current_school_id, staff_of
from . import csv_import
from .csv_import import clean

PAGE_SIZE = 50


class Invalid(FieldError):
    """Input the school's administration refuses."""


def _commit(field: str | None, message) -> None:
    """Commit; a unique constraint that a concurrent request won becomes `Invalid`."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Invalid(field, message) from None


# -- the school -----------------------------------------------------------------


def clean_school_name(name: str | None) -> str:
    return " ".join((name or "").split())


def check_school_name(name: str, school_id: int | None = None) -> str:
    """The name as stored; refused when empty, too long or another school's already
    (whatever the capitals: the database's unique index on lower(name) says the same).
    `school_id`: the school being renamed, whose own name is no obstacle."""
    name = clean_school_name(name)
    if not name:
        raise Invalid("name", _l("Vul de naam van de school in."))
    if len(name) > 120:
        raise Invalid("name", _l("De naam van de school is te lang (hoogstens 120 tekens)."))
    taken = db.session.scalar(
        select(School.name).where(func.lower(School.name) == func.lower(name),
                                  School.id != (school_id or 0)).limit(1))
    if taken is not None:
        raise Invalid("name", _l("Er is al een school met de naam %(name)s. Kies een andere "
                                 "naam, bijvoorbeeld met de plaats erbij.", name=taken))
    return name


@contextlib.contextmanager
def committing_school(name: str, school_id: int | None = None):
    """Around the writes of a school with this name (new, or renamed: `school_id`), which
    it commits. Another school that took the name since check_school_name looked (two
    admins at once: the database's unique index refuses the second) is refused with
    check_school_name's message, and nothing is stored."""
    try:
        yield
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        check_school_name(name, school_id)
        raise Invalid("name", _l("Dat lukte niet: probeer het opnieuw.")) from None


def save_school(name: str, phone: str, email: str, colour: str, leave_info: str,
                code_of_conduct: str, require_two_factor: bool = False,
                require_school_account: bool | None = None,
                photo_download: bool = False, sick_cutoff: time | None = None,
                chat_weekdays=None, chat_starts_at: time | None = None,
                chat_ends_at: time | None = None) -> School:
    """Store the school's settings; `require_school_account` None leaves that rule as it is.
    A name another school has is refused (Invalid) and nothing is stored."""
    school = current_school() or School()
    name = check_school_name(name, school.id)
    if bool(school.require_two_factor) != require_two_factor:
        audit.record(audit.SECURITY, target=school, required=require_two_factor,
                     summary="Tweestapsverificatie voor medewerkers "
                             + ("verplicht" if require_two_factor else "niet meer verplicht"))
    school.require_two_factor = require_two_factor
    school.photo_download = photo_download
    school.sick_cutoff = sick_cutoff
    # Staff's default chat hours; each empty: the installation's.
    school.chat_weekdays = "".join(str(d) for d in sorted(set(chat_weekdays))) \
        if chat_weekdays else None
    school.chat_starts_at = chat_starts_at
    school.chat_ends_at = chat_ends_at
    if require_school_account is not None:
        set_school_account_required(school, require_school_account)
    school.name = name
    school.phone = (phone or "").strip()
    school.email = (email or "").strip().lower()
    school.colour = colour.lower()
    school.leave_info = (leave_info or "").strip()
    school.code_of_conduct = (code_of_conduct or "").strip()
    with committing_school(name, school.id):
        db.session.add(school)
    return school


LOGO_MAX_BYTES = 300 * 1024
LOGO_SIZE = 256


def process_logo(upload):
    """Clean an uploaded logo through the media pipeline (every bit of metadata goes; stored
    at most LOGO_SIZE px) and store it aside: a Staged, or Invalid at the field "logo".
    Call with no transaction open; set_logo() then commit it with media.commit()."""
    limits = dataclasses.replace(media.Limits.from_config(current_app.config), max_files=1,
                                 photo_bytes=LOGO_MAX_BYTES, display_size=LOGO_SIZE,
                                 thumb_size=LOGO_SIZE // 2, keep_originals=False)
    head = upload.stream.read(8)
    upload.stream.seek(0)
    if not (head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff")):
        raise Invalid("logo", _l("Kies een logo als PNG- of JPEG-bestand."))
    checked, errors = media.check([upload], limits, allowed=(media.PHOTO,))
    if errors:
        raise Invalid("logo", _l("Het logo mag hoogstens %(kb)d kB groot zijn.",
                                 kb=LOGO_MAX_BYTES // 1024)
                      if any("te groot" in str(e) for e in errors) else errors[0])
    try:
        [staged] = media.process(checked, limits)
    except media.UploadErrors as exc:
        raise Invalid("logo", exc.messages[0]) from None
    return staged


def set_logo(staged) -> list[str]:
    """Give the current school the processed logo (None: no logo) and commit; returns the
    keys of the files no longer used (remove them with media.remove after the commit)."""
    school = _require_school()
    old = [school.logo_key] if school.logo_key else []
    school.logo_key = staged.key if staged is not None else None
    school.logo_digest = staged.digest if staged is not None else None
    db.session.commit()
    return old


def save_office_hours(weekdays, opens_at, closes_at) -> School:
    """Store the office's opening hours (the school must exist)."""
    school = _require_school()
    school.office_weekdays = "".join(str(d) for d in sorted(set(weekdays)))
    school.office_opens_at = opens_at
    school.office_closes_at = closes_at
    db.session.commit()
    return school


def _require_school() -> School:
    school = current_school()
    if school is None:
        raise Invalid(None, _l("Vul eerst de gegevens van de school in (Beheer → School)."))
    return school


def set_school_account_required(school: School, required: bool) -> None:
    """Staff sign in only with the school account (or with a password again).

    Switching it on logs out every staff member who is logged in with a password.
    """
    if bool(school.require_school_account) == required:
        return
    ended = 0
    if required:
        staff = select(User.id).where(User.role.in_([Role.ADMIN, Role.TEACHER]),
                                      User.id.in_(staff_of(school.id)))
        ended = db.session.execute(
            delete(UserSession).where(UserSession.method == "password",
                                      UserSession.user_id.in_(staff))
        ).rowcount
    audit.record(audit.SECURITY, target=school, school_account_required=required,
                 sessions_ended=ended,
                 summary="Inloggen met de schoolaccount voor medewerkers "
                         + ("verplicht" if required else "niet meer verplicht"))
    school.require_school_account = required


# -- school years ---------------------------------------------------------------


def school_years():
    """The current school's years: the one way the admin pages find years."""
    return select(SchoolYear).where(SchoolYear.school_id == current_school_id())


def all_years() -> list[SchoolYear]:
    return list(db.session.scalars(school_years().order_by(SchoolYear.starts_on.desc())))


def current_year() -> SchoolYear | None:
    return db.session.scalar(school_years().where(SchoolYear.is_current))


def _check_year(name: str, starts: date, ends: date, year: SchoolYear | None = None) -> None:
    others = school_years().where(SchoolYear.id != (year.id if year else -1))
    if db.session.scalar(others.where(SchoolYear.name == name)) is not None:
        raise Invalid("name", _l("Er is al een schooljaar %(name)s.", name=name))
    overlap = db.session.scalar(
        others.where(SchoolYear.starts_on <= ends, SchoolYear.ends_on >= starts)
        .order_by(SchoolYear.starts_on)
        .limit(1)
    )
    if overlap is not None:
        raise Invalid("starts_on", _l(
            "Deze data overlappen met schooljaar %(name)s (%(start)s tot en met %(end)s).",
            name=overlap.name, start=format_date(overlap.starts_on),
            end=format_date(overlap.ends_on),
        ))


def save_year(name: str, starts: date, ends: date, year: SchoolYear | None = None) -> SchoolYear:
    """Create a school year of the current school (not the current year yet), or change `year`."""
    school = _require_school() if year is None else None
    name = name.strip()
    _check_year(name, starts, ends, year)
    if year is None:
        year = SchoolYear(school=school, is_current=False)
        db.session.add(year)
    year.name, year.starts_on, year.ends_on = name, starts, ends
    _commit("name", _l("Er is al een schooljaar %(name)s.", name=name))
    return year


def _set_current(year: SchoolYear) -> None:
    # Two statements, in this order: the partial unique index allows one current year.
    db.session.execute(
        update(SchoolYear)
        .where(SchoolYear.school_id == year.school_id, SchoolYear.is_current,
               SchoolYear.id != year.id)
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    year.is_current = True
    db.session.flush()


def make_current(year: SchoolYear) -> None:
    """From now on this year decides who sees which group."""
    _set_current(year)
    db.session.commit()


# -- groups -----------------------------------------------------------------------


@dataclass
class GroupRow:
    group: Group
    students: int


def year_groups(year: SchoolYear) -> list[GroupRow]:
    """The year's groups in school order, with their teachers and number of students."""
    counts = dict(
        db.session.execute(
            select(Membership.group_id, func.count())
            .where(Membership.school_year_id == year.id)
            .group_by(Membership.group_id)
        ).all()
    )
    groups = db.session.scalars(
        select(Group)
        .where(Group.school_year_id == year.id)
        .options(selectinload(Group.teacher_assignments).selectinload(TeacherAssignment.user))
        .order_by(Group.grade.is_(None), Group.grade, Group.name)
    )
    return [GroupRow(g, counts.get(g.id, 0)) for g in groups]


def _check_group_name(year: SchoolYear, name: str, group: Group | None = None) -> None:
    clash = db.session.scalar(
        select(Group.id).where(
            Group.school_year_id == year.id,
            func.lower(Group.name) == name.lower(),
            Group.id != (group.id if group else -1),
        )
    )
    if clash is not None:
        raise Invalid("name", _l("Er is in %(year)s al een groep met de naam %(name)s.",
                                 year=year.name, name=name))


def save_group(year: SchoolYear, name: str, grade: int | None,
               group: Group | None = None) -> Group:
    """Create a group in `year`, or rename `group` (of that year) and set its grade."""
    name = " ".join(name.split())
    _check_group_name(year, name, group)
    if group is None:
        group = Group(year=year)
        db.session.add(group)
    group.name, group.grade = name, grade
    _commit("name", _l("Er is in %(year)s al een groep met de naam %(name)s.",
                       year=year.name, name=name))
    return group


def group_students(group: Group) -> list[Student]:
    return list(
        db.session.scalars(
            select(Student)
            .join(Membership)
            .where(Membership.group_id == group.id)
            .order_by(Student.first_name, Student.last_name, Student.id)
        )
    )


def delete_group(group: Group) -> None:
    """Remove a group nobody is in (a typo, say); its teachers are unassigned."""
    if db.session.scalar(select(Membership.id).where(Membership.group_id == group.id).limit(1)):
        raise Invalid(None, _l("Er zitten leerlingen in deze groep (ook in het archief). "
                               "Verplaats ze eerst; een lege groep kunt u verwijderen."))
    audit.record(audit.GROUP_CHANGE, target=group,
                 summary=f"Lege groep {group.name} ({group.year.name}) verwijderd")
    db.session.delete(group)
    db.session.commit()


def assignable_teachers(group: Group) -> list[User]:
    """Staff of the group's school who can be added to it: not disabled, not assigned yet."""
    assigned = select(TeacherAssignment.user_id).where(TeacherAssignment.group_id == group.id)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role.in_([Role.TEACHER, Role.ADMIN]),
                User.id.in_(staff_of(group.year.school_id)),
                User.disabled.is_(False),
                User.id.not_in(assigned),
            )
            .order_by(User.name, User.email)
        )
    )


def _assignment(group: Group, user: User) -> TeacherAssignment | None:
    return db.session.scalar(select(TeacherAssignment).where(
        TeacherAssignment.group_id == group.id, TeacherAssignment.user_id == user.id))


def assign_teacher(group: Group, user: User) -> None:
    if not user.is_staff or user.disabled:
        raise Invalid("teacher", _l("Kies een leerkracht."))
    if _assignment(group, user) is None:
        db.session.add(TeacherAssignment(group=group, user=user))
        audit.record(audit.GROUP_CHANGE, target=group, teacher_id=user.id,
                     summary=f"{audit.person(user)} gekoppeld aan {group.name} "
                             f"({group.year.name})")
        _commit("teacher", _l("Deze leerkracht is al aan de groep gekoppeld."))


def unassign_teacher(group: Group, user: User) -> None:
    assignment = _assignment(group, user)
    if assignment is not None:
        db.session.delete(assignment)
        audit.record(audit.GROUP_CHANGE, target=group, teacher_id=user.id,
                     summary=f"{audit.person(user)} ontkoppeld van {group.name} "
                             f"({group.year.name})")
        db.session.commit()


# -- students -----------------------------------------------------------------------


@dataclass
class StudentPage:
    rows: list[tuple[Student, Group | None]]
    next_after: int | None  # the id to continue after, when there is more


def find_students(year: SchoolYear | None, q: str = "", group: str = "",
                  after: int | None = None) -> StudentPage:
    """Students by name or number, optionally of one group ("geen": in no group this year).

    Ordered by name and paged by key: page N costs the same as page 1.
    """
    membership = and_(
        Membership.student_id == Student.id,
        Membership.school_year_id == (year.id if year else -1),
    )
    query = (
        select(Student, Group)
        .where(Student.school_id == current_school_id())
        .outerjoin(Membership, membership)
        .outerjoin(Group, Group.id == Membership.group_id)
    )
    if group == "geen":
        query = query.where(Membership.id.is_(None))
    elif (group_id := as_id(group)) is not None:
        query = query.where(Membership.group_id == group_id)
    for word in q.split()[:5]:
        query = query.where(
            or_(
                Student.first_name.icontains(word, autoescape=True),
                Student.last_name.icontains(word, autoescape=True),
                Student.student_number.icontains(word, autoescape=True),
            )
        )
    if after is not None:
        last = db.session.get(Student, after)
        if last is not None:
            query = query.where(
                tuple_(Student.last_name, Student.first_name, Student.id)
                > tuple_(last.last_name, last.first_name, last.id)
            )
    rows = db.session.execute(
        query.order_by(Student.last_name, Student.first_name, Student.id).limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = [(s, g) for s, g in rows[:PAGE_SIZE]]
    return StudentPage(rows, rows[-1][0].id if more else None)


def _check_number(number: str, student: Student | None = None) -> None:
    """Student numbers are unique within a school (another school may use the same)."""
    clash = db.session.scalar(
        select(Student).where(
            Student.school_id == (student.school_id if student else current_school_id()),
            Student.student_number == number, Student.id != (student.id if student else -1)
        )
    )
    if clash is not None:
        raise Invalid("student_number", _l(
            "Leerlingnummer %(number)s hoort al bij %(name)s.", number=number,
            name=clash.full_name))


def create_student(number: str, first_name: str, last_name: str, group: Group | None) -> Student:
    school = _require_school()
    number = number.strip()
    _check_number(number)
    student = Student(school=school, student_number=number, first_name=clean(first_name),
                      last_name=clean(last_name))
    db.session.add(student)
    if group is not None:
        db.session.add(Membership(student=student, group=group, year=group.year))
    _commit("student_number", _l("Leerlingnummer %(number)s bestaat al.", number=number))
    return student


def update_student(student: Student, number: str, first_name: str, last_name: str) -> None:
    number = number.strip()
    _check_number(number, student)
    student.student_number = number
    student.first_name, student.last_name = clean(first_name), clean(last_name)
    _commit("student_number", _l("Leerlingnummer %(number)s bestaat al.", number=number))


def membership_in(student: Student, year: SchoolYear) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.student_id == student.id, Membership.school_year_id == year.id
        )
    )


def place_student(student: Student, group: Group) -> None:
    """Put the student in `group` for that group's year (moving them if already placed)."""
    membership = membership_in(student, group.year)
    if membership is None:
        db.session.add(Membership(student=student, group=group, year=group.year))
        summary = f"{student.full_name} geplaatst in {group.name} ({group.year.name})"
    elif membership.group_id == group.id:
        return
    else:
        summary = (f"{student.full_name} verplaatst van {membership.group.name} naar "
                   f"{group.name} ({group.year.name})")
        membership.group = group
    audit.record(audit.GROUP_CHANGE, target=student, summary=summary, group_id=group.id)
    _commit("group", _l("De leerling zit dit schooljaar al in een andere groep."))


def remove_from_year(student: Student, year: SchoolYear) -> None:
    """Take the student out of the year's group; earlier years stay as they were."""
    membership = membership_in(student, year)
    if membership is not None:
        audit.record(audit.GROUP_CHANGE, target=student, group_id=membership.group_id,
                     summary=f"{student.full_name} uit {membership.group.name} gehaald "
                             f"({year.name})")
        db.session.delete(membership)
        db.session.commit()


def student_history(student: Student) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .join(SchoolYear, SchoolYear.id == Membership.school_year_id)
            .where(Membership.student_id == student.id)
            .options(selectinload(Membership.group), selectinload(Membership.year))
            .order_by(SchoolYear.starts_on.desc())
        )
    )


# -- the CSV import ---------------------------------------------------------------


class StalePlan(Exception):
    """The database changed between preview and confirm: the plan is not the one shown."""

    def __init__(self, plan: csv_import.Plan):
        super().__init__("stale import plan")
        self.plan = plan


def load_existing(year: SchoolYear) -> csv_import.Existing:
    """What the planner needs to know, in five queries whatever the size of the school."""
    existing = csv_import.Existing()
    # Student numbers are the school's own: another school's child with the same number is
    # another child. Accounts (by e-mail) are the installation's: one parent, one account.
    for sid, number, first, last in db.session.execute(
        select(Student.id, Student.student_number, Student.first_name, Student.last_name)
        .where(Student.school_id == year.school_id)
    ):
        existing.students[number] = csv_import.StudentState(sid, first, last)
    existing.placements = dict(
        db.session.execute(
            select(Membership.student_id, Membership.group_id).where(
                Membership.school_year_id == year.id
            )
        ).all()
    )
    for gid, name, grade in db.session.execute(
        select(Group.id, Group.name, Group.grade).where(Group.school_year_id == year.id)
    ):
        existing.groups[csv_import.name_key(name)] = csv_import.GroupState(gid, name, grade)
    for uid, email, role in db.session.execute(select(User.id, User.email, User.role)):
        existing.accounts[email] = csv_import.AccountState(uid, role != Role.GUARDIAN)
    existing.links = {
        (uid, sid)
        for uid, sid in db.session.execute(
            select(Guardianship.user_id, Guardianship.student_id)
            .join(Student, Student.id == Guardianship.student_id)
            .where(Student.school_id == year.school_id))
    }
    return existing


def import_plan(data: bytes, year: SchoolYear) -> csv_import.Plan:
    return csv_import.plan(data, load_existing(year))


def apply_import(data: bytes, year: SchoolYear, digest: str) -> csv_import.Plan:
    """Carry out the previewed plan in one transaction, with a bounded number of statements.

    The plan is recomputed from the same bytes; if it differs from the preview
    (someone changed the data meanwhile) nothing happens and StalePlan says so.
    """
    school = year.school
    existing = load_existing(year)
    plan = csv_import.plan(data, existing)
    if not plan.ok:
        return plan
    if plan.digest() != digest:
        raise StalePlan(plan)

    try:
        _write_plan(plan, existing, year, school)
        changed = (plan.count("new"), plan.count("changed"), len(plan.new_groups),
                   len(plan.new_accounts), plan.links)
        if any(changed):  # importing the same file again changes nothing: nothing to log
            audit.record(
                audit.GROUP_CHANGE, target=year,
                summary=f"Import in {year.name}: {changed[0]} nieuwe leerlingen, {changed[1]} "
                        f"gewijzigd, {changed[2]} nieuwe groepen, {changed[3]} nieuwe "
                        f"ouderaccounts, {changed[4]} ouders gekoppeld",
                new=changed[0], changed=changed[1], groups=changed[2], accounts=changed[3],
                links=changed[4],
            )
        db.session.commit()
    except IntegrityError:
        # Another import or admin created the same student or account at this moment.
        db.session.rollback()
        raise StalePlan(import_plan(data, year)) from None
    return plan


def _write_plan(plan: csv_import.Plan, existing: csv_import.Existing, year: SchoolYear,
                school: School) -> None:
    """The plan's inserts and updates, a statement (or a batch) per kind, never per row."""
    group_ids = {key: g.id for key, g in existing.groups.items()}
    if plan.new_groups:
        created = db.session.execute(
            insert(Group).returning(Group.id, Group.name),
            [{"school_year_id": year.id, "name": g.name, "grade": g.grade}
             for g in plan.new_groups.values()],
        ).all()
        group_ids.update({csv_import.name_key(name): gid for gid, name in created})

    student_ids = {row.number: row.student_id for row in plan.rows if row.student_id}
    new_students = [row for row in plan.rows if row.is_new]
    if new_students:
        created = db.session.execute(
            insert(Student).returning(Student.id, Student.student_number),
            [{"school_id": school.id, "student_number": r.number, "first_name": r.first_name,
              "last_name": r.last_name, "created_at": now()} for r in new_students],
        ).all()
        student_ids.update({number: sid for sid, number in created})

    renamed = [row for row in plan.rows if row.name_changed]
    if renamed:
        db.session.execute(
            update(Student.__table__)
            .where(Student.__table__.c.id == bindparam("sid"))
            .values(first_name=bindparam("first"), last_name=bindparam("last")),
            [{"sid": r.student_id, "first": r.first_name, "last": r.last_name} for r in renamed],
        )

    moved = [r for r in plan.rows if r.group_changed and r.old_group_name is not None]
    if moved:
        table = Membership.__table__
        db.session.execute(
            update(table)
            .where(table.c.student_id == bindparam("sid"), table.c.school_year_id == year.id)
            .values(group_id=bindparam("gid")),
            [{"sid": r.student_id, "gid": group_ids[r.group_key]} for r in moved],
        )
    placed = [r for r in plan.rows if r.is_new or (r.group_changed and r.old_group_name is None)]
    if placed:
        db.session.execute(
            insert(Membership.__table__),
            [{"student_id": student_ids[r.number], "group_id": group_ids[r.group_key],
              "school_year_id": year.id} for r in placed],
        )

    account_ids: dict[str, int] = {}
    if plan.new_accounts:
        moment = now()
        created = db.session.execute(
            insert(User).returning(User.id, User.email),
            [{"email": email, "name": name, "role": Role.GUARDIAN, "active": False,
              "disabled": False, "password_hash": None, "locale": "nl", "created_at": moment}
             for email, name in plan.new_accounts.items()],
        ).all()
        account_ids = {email: uid for uid, email in created}

    links = {
        (g.account_id or account_ids[g.email], student_ids[row.number])
        for row in plan.rows
        for g in row.guardians
        if g.link
    }
    if links:
        moment = now()
        db.session.execute(
            insert(Guardianship.__table__),
            [{"user_id": uid, "student_id": sid, "created_at": moment} for uid, sid in links],
        )


def import_years() -> list[SchoolYear]:
    """The years an import may go into: the current one and any later one."""
    current = current_year()
    query = school_years().order_by(SchoolYear.starts_on)
    if current is not None:
        query = query.where(SchoolYear.starts_on >= current.starts_on)
    return list(db.session.scalars(query))


# -- the yearly rollover ------------------------------------------------------------


@dataclass
class Move:
    group: Group
    students: int
    new_name: str
    new_grade: int


@dataclass
class RolloverPlan:
    moves: list[Move] = field(default_factory=list)
    leaving: list[GroupRow] = field(default_factory=list)  # groep 8: they leave the school
    unmoved: list[GroupRow] = field(default_factory=list)  # no grade: not moved

    @property
    def moving_students(self) -> int:
        return sum(m.students for m in self.moves)

    @property
    def leaving_students(self) -> int:
        return sum(r.students for r in self.leaving)

    @property
    def created(self) -> list[Move]:
        """The groups the new year gets, with their students."""
        return [m for m in self.moves if m.students]

    @property
    def left_empty(self) -> list[Move]:
        """Groups the new year gets without a single student (their group was empty)."""
        return [m for m in self.moves if not m.students]

    @property
    def missing_grades(self) -> list[int]:
        """Grades the school has now that no group moves into (groep 1, mostly): the new
        year has no group for them until the office makes one or imports."""
        now = {m.group.grade for m in self.moves} | {r.group.grade for r in self.leaving}
        return sorted(now - {m.new_grade for m in self.moves})

    @property
    def clashes(self) -> list[str]:
        """New names that two groups would both get."""
        seen = Counter(move.new_name.lower() for move in self.moves)
        return sorted({m.new_name for m in self.moves if seen[m.new_name.lower()] > 1})


CLASH_MESSAGE = _l("Twee groepen zouden na de overgang dezelfde naam krijgen. Geef de groepen "
                   "eerst verschillende namen.")


def moved_up_name(name: str, grade: int) -> str:
    """'Groep 3' → 'Groep 4', '3A' → '4A'; a name without its grade number stays."""
    return re.sub(rf"(?<!\d){grade}(?!\d)", str(grade + 1), name, count=1)


def rollover_plan(year: SchoolYear) -> RolloverPlan:
    plan = RolloverPlan()
    for row in year_groups(year):
        grade = row.group.grade
        if grade is None:
            plan.unmoved.append(row)
        elif grade >= 8:
            plan.leaving.append(row)
        else:
            plan.moves.append(Move(row.group, row.students, moved_up_name(row.group.name, grade),
                                   grade + 1))
    return plan


def next_year_defaults(year: SchoolYear | None) -> tuple[str, date, date] | None:
    if year is None or not re.match(r"^\d{4}-\d{4}$", year.name):
        return None
    first = int(year.name[:4]) + 1
    starts = year.ends_on + timedelta(days=1)
    try:
        ends = starts.replace(year=starts.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        ends = starts + timedelta(days=364)
    return f"{first}-{first + 1}", starts, ends


def ends_later(year: SchoolYear | None) -> bool:
    """Whether this (current) school year has not ended yet: moving on now needs a yes."""
    return year is not None and today() <= year.ends_on


def check_new_year(name: str, starts: date, ends: date) -> SchoolYear:
    """Raise Invalid unless a year with these details can follow the current one."""
    current = current_year()
    if current is None:
        raise Invalid(None, _l("Er is geen huidig schooljaar om vanuit over te gaan. "
                               "Maak een schooljaar aan onder Schooljaren."))
    if starts <= current.starts_on:
        raise Invalid("starts_on", _l("Het nieuwe schooljaar moet na het huidige (%(name)s) "
                                      "beginnen.", name=current.name))
    _check_year(name.strip(), starts, ends)
    return current


def start_new_year(name: str, starts: date, ends: date, move_groups: bool,
                   make_it_current: bool) -> SchoolYear:
    """Create the next school year; with move_groups, every group moves up with its students.

    Last year's memberships stay as the archive. Teachers are not carried over.
    """
    school = _require_school()
    current = check_new_year(name, starts, ends)
    name = name.strip()
    plan = rollover_plan(current) if move_groups else RolloverPlan()
    if plan.clashes:
        raise Invalid(None, CLASH_MESSAGE)
    year = SchoolYear(school=school, name=name, starts_on=starts, ends_on=ends, is_current=False)
    try:
        db.session.add(year)
        db.session.flush()
        table = Membership.__table__
        for move in plan.moves:
            group = Group(year=year, name=move.new_name, grade=move.new_grade)
            db.session.add(group)
            db.session.flush()
            db.session.execute(
                insert(table).from_select(
                    ["student_id", "group_id", "school_year_id"],
                    select(table.c.student_id, literal(group.id), literal(year.id)).where(
                        table.c.group_id == move.group.id
                    ),
                )
            )
        if move_groups and make_it_current:
            _set_current(year)
        audit.record(
            audit.GROUP_CHANGE, target=year,
            summary=f"Nieuw schooljaar {name}: " + (
                f"{len(plan.moves)} groepen met {plan.moving_students} leerlingen een groep "
                f"omhoog, {plan.leaving_students} leerlingen van groep 8 vertrokken"
                if move_groups else "leeg begonnen, voor een import"),
            groups=len(plan.moves), students=plan.moving_students,
            leaving=plan.leaving_students, current=year.is_current,
        )
        db.session.commit()
    except IntegrityError:
        # A second click, or another admin, created the year at the same moment.
        db.session.rollback()
        raise Invalid("name", _l("Er is al een schooljaar %(name)s.", name=name)) from None
    return year
