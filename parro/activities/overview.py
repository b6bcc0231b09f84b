"""The lists of activities: a guardian's overview, a teacher's with how far each has come,
the count in the navigation, and the activities between the group feed's posts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import policy
from ..clock import now
from ..database import UTCDateTime
from ..extensions import db
from ..models import Activity, ActivityKind, Answer, Group, Role, User
from ..models.activity import activity_group
from ..sql import GROUP_IDS, LIMIT, NOW, USER_ID, prebuilt
from . import waiting
from .common import is_open_for, opens_for, participants, when
from .conferences import my_bookings, not_booked
from .invitations import answer_text

# -- overviews ---------------------------------------------------------------------------


@dataclass
class Rate:
    done: int
    total: int
    label: str

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def response_rate(activity: Activity) -> Rate:
    """How far the activity has come, for the teacher's overview."""
    if activity.kind == ActivityKind.CONFERENCE:
        total = len(participants(activity))
        done = total - sum(1 for m in not_booked(activity) if not m.guardians)
        label = _("%(done)s van %(total)s kinderen ingeschreven")
    elif activity.kind == ActivityKind.INVITATION:
        total, done = len(participants(activity)), len(activity.responses)
        label = _("%(done)s van %(total)s gezinnen hebben geantwoord")
    elif activity.kind == ActivityKind.VOLUNTEER:
        total = sum(s.places for s in activity.shifts)
        done = sum(s.taken for s in activity.shifts)
        label = _("%(done)s van %(total)s plaatsen gevuld")
    else:
        total = sum(i.needed for i in activity.items)
        done = sum(i.pledged for i in activity.items)
        label = _("%(done)s van %(total)s toegezegd")
    return Rate(done, total, label % {"done": done, "total": total})


def visible_activities(user: User) -> list[Activity]:
    """Activities of the user's groups this year, soonest deadline first."""
    ids = policy.visible_group_ids(user)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Activity)
            .where(Activity.id.in_(
                select(Activity.id).join(Activity.groups).where(Group.id.in_(ids))
            ))
            .options(selectinload(Activity.groups))
            .order_by(Activity.deadline, Activity.id)
        )
    )


@dataclass
class Mine:
    """One thing a guardian signed up for, as a line on the overview."""

    activity: Activity
    text: str
    ics: str | None = None  # endpoint arguments for the .ics link
    ics_args: dict = field(default_factory=dict)
    starts_at: datetime | None = None


def guardian_overview(
    user: User,
) -> tuple[list[tuple[Activity, str]], list[tuple[Activity, str]], list[Mine]]:
    """(what waits for the guardian, what else is open, what they signed up for).

    Waiting: the rule in waiting.py, which the menu's count counts too, so the
    page lists exactly as many. Also open: volunteer calls and materials lists
    they have not answered yet while help is needed (optional: never counted).
    """
    waiting_items: list[tuple[Activity, str]] = []
    optional: list[tuple[Activity, str]] = []
    mine: list[Mine] = []
    moment = now()
    waiting_for = waiting.children_waiting(user)
    bookings = defaultdict(list)
    for b in my_bookings(user):
        bookings[b.activity_id].append(b)
    children = [child for child, _group in policy.family(user)]
    for activity in visible_activities(user):
        todo = None
        waits = waiting_for.get(activity.id)
        if activity.kind == ActivityKind.CONFERENCE:
            if waits:
                todo = _("Plan een gesprek voor %(child)s", child=waits[0].first_name)
            for b in bookings[activity.id]:
                if b.slot.ends_at > moment:
                    mine.append(Mine(activity,
                                     _("Gesprek voor %(child)s: %(when)s",
                                       child=b.student.first_name, when=when(b.slot.starts_at)),
                                     "activities.booking_ics", {"booking_id": b.id},
                                     b.slot.starts_at))
        elif activity.kind == ActivityKind.INVITATION:
            if waits:
                todo = _("Laat weten of u komt")
            if activity.starts_at is None or activity.starts_at > moment:
                answers = {r.student_id: r for r in activity.responses}
                for r in (answers[c.id] for c in children if c.id in answers):
                    ics = "activities.event_ics" if r.answer != Answer.NO else None
                    mine.append(Mine(activity, answer_text(r), ics,
                                     {"activity_id": activity.id}, activity.starts_at))
        elif activity.kind == ActivityKind.VOLUNTEER:
            taken = [(s, su) for s in activity.shifts for su in s.signups if su.user_id == user.id]
            for s, signup in taken:
                mine.append(Mine(activity, _("U helpt mee: %(task)s", task=s.title),
                                 "activities.signup_ics" if s.starts_at else None,
                                 {"signup_id": signup.id}, s.starts_at))
            if not taken and any(s.remaining > 0 for s in activity.shifts):
                todo = _("Er zijn nog plaatsen vrij")
        else:
            pledged = [(i, p) for i in activity.items for p in i.pledges if p.user_id == user.id]
            for i, p in pledged:
                mine.append(Mine(activity,
                                 _("U neemt mee: %(n)s × %(item)s", n=p.quantity, item=i.name)))
            if not pledged and any(i.remaining > 0 for i in activity.items):
                todo = _("Er is nog iets nodig")
        if todo and not is_open_for(user, activity):
            todo = None if activity.is_closed() else _(
                "Inschrijven kan vanaf %(when)s", when=when(opens_for(user, activity)))
        if todo:
            (waiting_items if waits else optional).append((activity, todo))
    mine.sort(key=lambda m: (m.starts_at is None, m.starts_at or moment))
    return waiting_items, optional, mine


def open_count(role: Role):
    """The count next to "Activiteiten", as a scalar subquery (one statement with the others).

    Guardians: the activities waiting for them (waiting.py). Staff: the
    activities they manage that are open now. Built with the bind parameters
    user_id and now, the same for every user of the role.
    """
    if role == Role.GUARDIAN:
        return waiting.count_for(USER_ID, NOW)
    in_groups = Activity.id.in_(
        select(activity_group.c.activity_id).where(
            activity_group.c.group_id.in_(policy.visible_groups_select(role))
        )
    )
    return select(func.count()).select_from(Activity).where(
        in_groups, Activity.deadline > NOW,
        or_(Activity.opens_at.is_(None), Activity.opens_at <= NOW),
    ).scalar_subquery()


def managed_activities(user: User) -> list[tuple[Activity, Rate]]:
    """A teacher's activities (an admin's: all of this year) with how far each has come."""
    return [(a, response_rate(a)) for a in visible_activities(user)
            if policy.can_manage_activity(user, a)]


# -- the group feed ----------------------------------------------------------------------


def activities_for_feed(group_ids, newer_than: datetime | None = None,
                        not_after: datetime | None = None, limit: int = 20) -> list[Activity]:
    """Activities of these groups announced in a stretch of the feed, newest first.

    The feed shows each activity between the posts around the moment it was
    created: a page passes the time span its posts cover (`newer_than` its
    oldest post when more pages follow, `not_after` the newest moment before the
    page), so every activity appears on exactly one page.
    """
    if not group_ids:
        return []
    values = {"group_ids": sorted(group_ids), "newer_than": newer_than, "not_after": not_after,
              "limit": limit}
    statement = _feed_statement(newer_than is not None, not_after is not None)
    return list(db.session.scalars(statement, values).unique())


@prebuilt
def _feed_statement(newer: bool, not_after: bool):
    """On every feed page: the activities with their groups."""
    query = (
        select(Activity)
        .options(joinedload(Activity.groups))
        .where(Activity.id.in_(
            select(Activity.id).join(Activity.groups)
            .where(Group.id.in_(GROUP_IDS))
        ))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(LIMIT)
    )
    if newer:
        query = query.where(Activity.created_at > bindparam("newer_than", type_=UTCDateTime()))
    if not_after:
        query = query.where(Activity.created_at <= bindparam("not_after", type_=UTCDateTime()))
    return query
