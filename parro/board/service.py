"""The board's work: figures per school, new schools, appointing and removing their admins.

The figures are counts only. Nothing here reads a post, a message, a chat's title or a
child's name: the board is not the school, and its admin sees how parro is used, not what
is said in it. They come from a few grouped queries for all schools together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, distinct, exists, func, select, union
from sqlalchemy.exc import IntegrityError

from .. import audit, policy
from ..absence.service import ensure_default_reasons
from ..admin.service import Invalid, check_school_name, committing_school
from ..auth import service as accounts
from ..clock import now
from ..extensions import db
from ..models import (
    Guardianship,
    OutboxMail,
    PushMessage,
    PushSubscription,
    Role,
    School,
    SchoolStaff,
    SchoolYear,
    Student,
    User,
)

DELIVERY_DAYS = 7  # the mail and push figures look back this many days


# -- figures ----------------------------------------------------------------------


@dataclass
class Delivery:
    sent: int = 0
    waiting: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.waiting + self.failed


@dataclass
class SchoolFigures:
    school: School
    year: str | None = None  # the current school year's name
    families: int = 0  # guardian accounts with a child at the school
    active: int = 0  # activated, not disabled: guardians and staff
    admins: int = 0
    mail: Delivery = field(default_factory=Delivery)
    push: Delivery = field(default_factory=Delivery)


@dataclass
class BoardFigures:
    schools: list[SchoolFigures]
    families: int = 0  # a family with children at two schools counts once here
    active: int = 0
    mail: Delivery = field(default_factory=Delivery)  # every mail of the installation
    mail_elsewhere: Delivery = field(default_factory=Delivery)  # not to anyone of a school
    push: Delivery = field(default_factory=Delivery)
    push_elsewhere: Delivery = field(default_factory=Delivery)


def _people_of_schools():
    """(user_id, school_id): staff where they work, guardians where their children are."""
    staff = select(SchoolStaff.user_id.label("user_id"), SchoolStaff.school_id.label("school_id"))
    guardians = (select(Guardianship.user_id, Student.school_id)
                 .join(Student, Student.id == Guardianship.student_id))
    return union(staff, guardians).subquery("people")


def _status_sums(row_model, extra=None):
    """sent / waiting / failed of an outbox row model, as three sums (within `extra` if given)."""
    sent = row_model.sent_at.is_not(None)
    failed = and_(row_model.sent_at.is_(None), row_model.failed_at.is_not(None))
    waiting = and_(row_model.sent_at.is_(None), row_model.failed_at.is_(None))
    conds = (sent, waiting, failed)
    if extra is not None:
        conds = tuple(and_(cond, extra) for cond in conds)
    return [func.coalesce(func.sum(case((cond, 1), else_=0)), 0) for cond in conds]


def figures() -> BoardFigures:
    """Every school with its figures, and the board's totals: six queries in all."""
    schools = list(db.session.scalars(select(School).order_by(School.name, School.id)))
    rows = {school.id: SchoolFigures(school) for school in schools}
    for school_id, name in db.session.execute(
            select(SchoolYear.school_id, SchoolYear.name).where(SchoolYear.is_current)):
        if school_id in rows:
            rows[school_id].year = name

    people = _people_of_schools()
    works = and_(User.active.is_(True), User.disabled.is_(False),
                 User.role.in_([Role.GUARDIAN, Role.TEACHER, Role.ADMIN]))
    families = func.count(distinct(case((User.role == Role.GUARDIAN, User.id))))
    active = func.count(distinct(case((works, User.id))))
    admins = func.count(distinct(case((User.role == Role.ADMIN, User.id))))
    for school_id, n_families, n_active, n_admins in db.session.execute(
            select(people.c.school_id, families, active, admins)
            .join(User, User.id == people.c.user_id).group_by(people.c.school_id)):
        if school_id in rows:
            rows[school_id].families = n_families
            rows[school_id].active = n_active
            rows[school_id].admins = n_admins
    n_families, n_active = db.session.execute(
        select(families, active).join(people, User.id == people.c.user_id)).one()

    since = now() - timedelta(days=DELIVERY_DAYS)
    # Mail is addressed to an address: tied to a school through the account with it.
    mail, mail_total, mail_elsewhere = _deliveries(
        OutboxMail, User, User.email == OutboxMail.recipient, User.id, people, since)
    # A push goes to a device, which is its user's.
    push, push_total, push_elsewhere = _deliveries(
        PushMessage, PushSubscription, PushSubscription.id == PushMessage.subscription_id,
        PushSubscription.user_id, people, since)
    for school_id, row in rows.items():
        row.mail = mail.get(school_id, Delivery())
        row.push = push.get(school_id, Delivery())

    return BoardFigures(
        schools=list(rows.values()), families=n_families, active=n_active,
        mail=mail_total, mail_elsewhere=mail_elsewhere,
        push=push_total, push_elsewhere=push_elsewhere,
    )


def _deliveries(model, via, on, owner, people, since):
    """Sent / waiting / failed of the outbox rows `model` since `since`: per school, in all,
    and of those to nobody of a school (two queries). A row reaches the id of the user it
    goes to, `owner`, through `via` joined `on`."""
    recent = model.created_at >= since
    per_school = {
        school_id: Delivery(*map(int, counts)) for school_id, *counts in db.session.execute(
            select(people.c.school_id, *_status_sums(model)).join(via, on)
            .join(people, people.c.user_id == owner)
            .where(recent).group_by(people.c.school_id))
    }
    tied = exists().where(people.c.user_id == owner)
    counts = db.session.execute(
        select(*_status_sums(model), *_status_sums(model, ~tied)).outerjoin(via, on)
        .where(recent)).one()
    return per_school, Delivery(*map(int, counts[:3])), Delivery(*map(int, counts[3:]))


# -- schools ----------------------------------------------------------------------


def school_year_of(day: date) -> tuple[str, date, date]:
    """The school year a day falls in (1 August to 31 July): its name and dates."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}", date(first, 8, 1), date(first + 1, 7, 31)


def check_year(name: str, starts: date, ends: date) -> str:
    name = (name or "").strip()
    match = re.fullmatch(r"(\d{4})-(\d{4})", name)
    if not match:
        raise Invalid("year_name", _l("Schrijf het schooljaar als 2027-2028."))
    if int(match.group(2)) != int(match.group(1)) + 1:
        raise Invalid("year_name", _l("Een schooljaar loopt over twee opeenvolgende jaren, "
                                      "bijvoorbeeld 2027-2028."))
    if ends <= starts:
        raise Invalid("ends_on", _l("De laatste dag moet na de eerste dag liggen."))
    return name


def create_school(name: str, year_name: str, starts: date, ends: date) -> School:
    """A new school with its current school year and the usual absence reasons."""
    name = check_school_name(name)
    year_name = check_year(year_name, starts, ends)
    with committing_school(name):
        school = School(name=name)
        db.session.add(school)
        db.session.flush()
        db.session.add(SchoolYear(school_id=school.id, name=year_name, starts_on=starts,
                                  ends_on=ends, is_current=True))
        ensure_default_reasons(school)
        audit.record(audit.SCHOOL, target=school, school_id=school.id,
                     summary=f"School {name} toegevoegd, met schooljaar {year_name}")
    policy.forget_school_count()
    return school


# -- the admins of a school ---------------------------------------------------------


def admins_of(school: School) -> list[User]:
    return list(db.session.scalars(
        select(User).join(SchoolStaff, SchoolStaff.user_id == User.id)
        .where(SchoolStaff.school_id == school.id, User.role == Role.ADMIN)
        .order_by(User.name, User.email)))


def appointment_problem(email: str, school: School | None) -> str | None:
    """Why this address cannot become an admin (of `school`), or None when it can."""
    user = accounts.user_by_email(email)
    if user is None:
        return None
    if user.is_guardian:
        return str(_l("Dit e-mailadres hoort bij een ouder of verzorger. Een beheerder heeft een "
                      "eigen account als medewerker nodig: gebruik een ander e-mailadres, "
                      "bijvoorbeeld dat van de school."))
    if user.is_board_admin:
        return str(_l("Dit e-mailadres hoort bij een beheerder van het schoolbestuur. Een "
                      "beheerder van een school heeft een eigen account nodig."))
    if user.is_teacher:
        return str(_l("Dit e-mailadres hoort bij een leerkracht. Een medewerker heeft op elke "
                      "school dezelfde rol: maak de leerkracht eerst beheerder (Beheer → "
                      "Medewerkers) of gebruik een ander e-mailadres."))
    if user.disabled:
        return str(_l("Het account van dit e-mailadres is uitgeschakeld. Schakel het eerst weer "
                      "in (Beheer → Medewerkers bij de school van dit account)."))
    if school is not None and accounts.works_at(user, school):
        return str(_l("%(name)s is al beheerder van %(school)s.", name=user.display_name,
                      school=school.name))
    return None


@dataclass
class Appointed:
    user: User
    invited: bool  # a new account, which got an invitation


def appoint_admin(school: School, email: str, name: str, by: User | None,
                  locale: str = "nl") -> Appointed:
    """Make `email` an admin of `school`: a new address gets an admin account and an
    invitation; an existing admin's account also works at this school from now on."""
    problem = appointment_problem(email, school)
    if problem:
        raise Invalid("email", problem)
    user = accounts.user_by_email(email)
    if user is None:
        try:
            user = accounts.invite_staff(email, name, Role.ADMIN, invited_by=by, locale=locale,
                                         school=school)
        except accounts.AccountError as exc:
            raise Invalid("email", str(exc)) from None
        _record(school, by, user, f"{audit.person(user)} uitgenodigd als beheerder van "
                f"{school.name}")
        db.session.commit()
        return Appointed(user, invited=True)
    db.session.add(SchoolStaff(user_id=user.id, school_id=school.id))
    _record(school, by, user, f"{audit.person(user)} is nu ook beheerder van {school.name}")
    try:
        db.session.commit()
    except IntegrityError:  # appointed at this moment by someone else
        db.session.rollback()
    return Appointed(user, invited=False)


def remove_admin(school: School, user: User, by: User | None) -> bool:
    """`user` no longer works at `school`; False when they did not."""
    row = db.session.scalar(select(SchoolStaff).where(
        SchoolStaff.user_id == user.id, SchoolStaff.school_id == school.id))
    if row is None:
        return False
    db.session.delete(row)
    accounts.drop_from_school([user.id], school.id)
    _record(school, by, user, f"{audit.person(user)} is geen beheerder meer van {school.name}")
    db.session.commit()
    return True


def still_works_somewhere(user: User) -> bool:
    return db.session.scalar(
        select(SchoolStaff.id).where(SchoolStaff.user_id == user.id).limit(1)) is not None


def _record(school: School, by: User | None, user: User, summary: str) -> None:
    audit.record(audit.ROLE_CHANGE, actor=by, target=user, summary=summary,
                 school_id=school.id, board=True)  # the school's own log shows it
