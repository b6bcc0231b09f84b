"""What every kind of activity shares: the user's errors, times, who takes part, when it opens.

The kinds have a module each (conferences, volunteers, materials, invitations);
overview lists them, waiting holds the rule of what waits for a guardian.
Each action is one transaction and commits. An action a user may not do *now*
(too late, slot taken, place full) raises ActivityError with a message for
that user; the blueprint's error handler shows it. Whether the user may do it
at all is the policy's question, asked by the view before.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import policy
from ..clock import now, school_tz
from ..extensions import db
from ..models import (
    Activity,
    ActivityKind,
    Booking,
    Group,
    Guardianship,
    Item,
    Membership,
    Pledge,
    Response,
    Shift,
    SignUp,
    Slot,
    Student,
    User,
)

KIND_LABELS = {
    ActivityKind.CONFERENCE: _l("Oudergesprekken"),
    ActivityKind.VOLUNTEER: _l("Hulpouders gezocht"),
    ActivityKind.MATERIALS: _l("Spullen gevraagd"),
    ActivityKind.INVITATION: _l("Uitnodiging"),
}


class ActivityError(Exception):
    """What the user asked cannot be done now; str(error) tells them why."""


class PlanError(ActivityError):
    """A conference plan that does not work; `field` and `row` say where."""

    def __init__(self, message: str, field: str | None = None, row: int | None = None):
        super().__init__(message)
        self.field = field
        self.row = row


# -- time --------------------------------------------------------------------------------


def local(day: date, at: time) -> datetime:
    """A wall-clock time at school, as an aware datetime in UTC."""
    return datetime.combine(day, at, tzinfo=school_tz()).astimezone(UTC)


def hhmm(moment: datetime) -> str:
    """'15:20' at school, the same in Dutch and English. Not Babel's format_time: that
    took most of a millisecond a call, and a round's page shows hundreds of slots."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(school_tz()).strftime("%H:%M")


def when(moment: datetime) -> str:
    """'maandag 2 maart om 15:20' in the user's language and the school's time zone."""
    return _when(moment, str(get_locale()), current_app.config["TIMEZONE"])


@functools.lru_cache(maxsize=4096)
def _when(moment: datetime, locale: str, timezone: str) -> str:
    # Remembered: a feed page shows a deadline per activity, and formatting one costs
    # more than the rest of its card. The language and time zone are the key's.
    return _("%(day)s om %(time)s", day=format_date(moment, "EEEE d MMMM"), time=hhmm(moment))


# -- creating, changing and deleting -----------------------------------------------------


def new_activity(user: User, kind: ActivityKind, groups: list[Group], **fields) -> Activity:
    activity = Activity(kind=kind, created_by_id=user.id, **fields)
    activity.groups = list(groups)
    db.session.add(activity)
    return activity


def first_moment(activity: Activity) -> datetime | None:
    """When a conference round or an invited event begins: reacting must close before it."""
    if activity.is_conference:
        return activity.slots[0].starts_at if activity.slots else None
    return activity.starts_at


def update_activity(activity: Activity, form) -> int:
    """Store the changes; the families who already answered (booked, signed up, pledged,
    replied) are told what changed, each by the channel they chose for activities, in the
    same transaction. Commits; returns how many people were told."""
    from ..notifications import ACTIVITIES, notify

    values = form.fields()  # title, description, location and deadline
    before = {key: getattr(activity, key) for key in values}
    for key, value in values.items():
        setattr(activity, key, value)
    changed = [key for key, old in before.items() if getattr(activity, key) != old]
    told = answered_families(activity) if changed else []
    for user in told:
        notify(
            user, ACTIVITIES, _l("Aangepast: {title}"), "activity_changed",
            line=_l("{title}: de school heeft de activiteit aangepast"),
            path=f"/activiteiten/{activity.id}",
            title=activity.title, user=user, activity=activity, changed=changed,
            old_title=before["title"], old_location=before["location"],
            old_deadline=before["deadline"],
        )
    db.session.commit()
    return len(told)


def answered_families(activity: Activity) -> list[User]:
    """Everyone who already answered: the guardians of the children booked for or replied
    for, and the parents who signed up or pledged; active accounts, each once."""
    students = select(Booking.student_id).where(Booking.activity_id == activity.id).union(
        select(Response.student_id).where(Response.activity_id == activity.id))
    guardians = select(Guardianship.user_id).where(Guardianship.student_id.in_(students))
    helpers = select(SignUp.user_id).join(Shift, Shift.id == SignUp.shift_id).where(
        Shift.activity_id == activity.id).union(
        select(Pledge.user_id).join(Item, Item.id == Pledge.item_id).where(
            Item.activity_id == activity.id))
    return list(db.session.scalars(
        select(User).where(
            or_(User.id.in_(guardians), User.id.in_(helpers)),
            User.active.is_(True), User.disabled.is_(False),
        ).order_by(User.id)
    ))


def delete_activity(activity: Activity) -> None:
    db.session.delete(activity)
    db.session.commit()


# -- who takes part, and from when -------------------------------------------------------


def participants(activity: Activity) -> list[Student]:
    """The children of the activity's groups, with their guardians loaded (once per request)."""
    ids = policy.activity_group_ids(activity)
    return policy.per_request(
        f"activity_participants_{activity.id}",
        lambda: list(
            db.session.scalars(
                select(Student)
                .join(Membership)
                .where(Membership.group_id.in_(ids or {-1}))
                .options(selectinload(Student.guardianships).selectinload(Guardianship.user))
                .order_by(Student.first_name, Student.last_name)
            )
        ),
    )


def preload(activity: Activity) -> Activity:
    """Load what the activity's page shows in a few queries, whatever its size."""
    options = {
        ActivityKind.CONFERENCE: selectinload(Activity.slots).selectinload(Slot.booking).options(
            selectinload(Booking.student).selectinload(Student.guardianships)
            .selectinload(Guardianship.user),
            selectinload(Booking.guardian),
        ),
        ActivityKind.VOLUNTEER: selectinload(Activity.shifts).selectinload(Shift.signups)
        .selectinload(SignUp.user),
        ActivityKind.MATERIALS: selectinload(Activity.items).selectinload(Item.pledges)
        .selectinload(Pledge.user),
        ActivityKind.INVITATION: selectinload(Activity.responses).selectinload(Response.student),
    }[activity.kind]
    return db.session.scalars(
        select(Activity).where(Activity.id == activity.id)
        .options(options, selectinload(Activity.groups), selectinload(Activity.separate))
        .execution_options(populate_existing=True)
    ).one()


def children_in(user: User, activity: Activity) -> list[Student]:
    """The user's own children that take part in this activity (from policy.family(): no
    statement of its own)."""
    ids = policy.activity_group_ids(activity)
    if not ids or not user.is_authenticated or not user.is_guardian:
        return []
    return [student for student, group in policy.family(user)
            if group is not None and group.id in ids]


def has_several_children(user: User, activity: Activity) -> bool:
    """A family with more than one child at the activity's school this year books
    conferences earlier (a child at another school of the board does not count there)."""
    if not user.is_authenticated or not user.is_guardian:
        return False
    years = {group.school_year_id for group in activity.groups}
    return len({student.id for student, group in policy.family(user)
                if group is not None and group.school_year_id in years}) > 1


def opens_for(user: User, activity: Activity) -> datetime | None:
    """When this user may start: earlier for families with several children."""
    if activity.opens_at is None:
        return None
    if activity.is_conference and activity.early_days and has_several_children(user, activity):
        return activity.opens_at - timedelta(days=activity.early_days)
    return activity.opens_at


def is_open_for(user: User, activity: Activity) -> bool:
    start = opens_for(user, activity)
    return (start is None or now() >= start) and not activity.is_closed()


def check_open(user: User, activity: Activity) -> None:
    """Guardians act between opening and deadline; staff of the activity at any time."""
    if policy.can_manage_activity(user, activity):
        return
    if activity.is_closed():
        raise ActivityError(
            _("Inschrijven en wijzigen kon tot %(when)s. Wilt u nog iets veranderen? Neem dan "
              "contact op met de leerkracht.", when=when(activity.deadline))
            if activity.kind == ActivityKind.CONFERENCE else
            _("Aanmelden en wijzigen kon tot %(when)s. Wilt u nog iets veranderen? Neem dan "
              "contact op met de leerkracht.", when=when(activity.deadline))
        )
    start = opens_for(user, activity)
    if start is not None and now() < start:
        raise ActivityError(_("U kunt inschrijven vanaf %(when)s.", when=when(start)))
