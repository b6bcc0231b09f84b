"""What is waiting for a guardian: one rule for the overview, the menu count and the reminders.

An activity waits for a guardian's answer about a child of theirs in its groups
this school year, until its deadline:
- a conference round, while the child has no booking: the family's one, or,
  when the teacher allowed each guardian a booking of their own, this guardian's;
- an invitation, while nobody answered for the child.
Volunteer calls and materials lists are optional: they never wait for anyone.

The rule is one statement, `_waiting`; the overview asks it for one guardian,
the navigation counts it inside the layout's single query, and the reminders
ask it for every guardian at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select

from ..clock import now
from ..extensions import db
from ..models import (
    Activity,
    ActivityKind,
    Booking,
    Guardianship,
    Membership,
    Response,
    SchoolYear,
    Student,
    User,
)
from ..models.activity import activity_group


def _waiting(*columns, moment):
    """SELECT `columns` for each (activity, guardian, child) the rule says still waits.

    `moment` is a datetime or a bind parameter; the columns may name Activity,
    Guardianship and Membership, which the statement joins.
    """
    this_year = select(SchoolYear.id).where(SchoolYear.is_current)  # at each child's school
    booked = exists(select(Booking.id).where(
        Booking.activity_id == Activity.id,
        Booking.student_id == Guardianship.student_id,
        or_(Booking.guardian_id.is_(None), Booking.guardian_id == Guardianship.user_id),
    ).correlate_except(Booking))
    answered = exists(select(Response.id).where(
        Response.activity_id == Activity.id, Response.student_id == Guardianship.student_id
    ).correlate_except(Response))
    return (
        select(*columns)
        .select_from(Guardianship)
        .join(Membership, and_(Membership.student_id == Guardianship.student_id,
                               Membership.school_year_id.in_(this_year)))
        .join(activity_group, activity_group.c.group_id == Membership.group_id)
        .join(Activity, Activity.id == activity_group.c.activity_id)
        .where(
            Activity.deadline > moment,
            or_(and_(Activity.kind == ActivityKind.CONFERENCE, ~booked),
                and_(Activity.kind == ActivityKind.INVITATION, ~answered)),
        )
    )


def count_for(user_id, moment):
    """How many activities wait for the guardian, as a scalar subquery (the menu's count).

    `user_id` and `moment` may be bind parameters, so the statement is built once.
    """
    return _waiting(
        func.count(func.distinct(Activity.id)), moment=moment
    ).where(Guardianship.user_id == user_id).scalar_subquery()


def children_waiting(user: User) -> dict[int, list[Student]]:
    """Per activity id: the guardian's children it waits for, by first name (the overview)."""
    result: dict[int, list[Student]] = defaultdict(list)
    rows = db.session.execute(
        _waiting(Activity.id, Student, moment=now())
        .join(Student, Student.id == Guardianship.student_id)
        .where(Guardianship.user_id == user.id)
        .order_by(Student.first_name, Student.last_name)
    )
    for activity_id, student in rows:
        result[activity_id].append(student)
    return dict(result)


def guardians_waiting(deadline_before: datetime) -> dict[tuple[Activity, User], list[Student]]:
    """Every guardian an activity waits for, with the children (the reminders).

    Only activities whose deadline comes before `deadline_before`; in the order
    of the activities, then the guardians, then the children's first names.
    """
    result: dict[tuple[Activity, User], list[Student]] = defaultdict(list)
    rows = db.session.execute(
        _waiting(Activity, User, Student, moment=now())
        .join(User, User.id == Guardianship.user_id)
        .join(Student, Student.id == Guardianship.student_id)
        .where(Activity.deadline < deadline_before)
        .order_by(Activity.id, User.id, Student.first_name, Student.last_name)
    )
    for activity, user, student in rows:
        result[(activity, user)].append(student)
    return dict(result)
