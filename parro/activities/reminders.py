"""Reminder mails, sent by `flask --app app activities remind` (daily, from cron).

- Guardians an activity waits for (the rule in waiting.py: a conference round
  without their child's booking, an invitation without an answer; volunteer calls
  and materials lists are optional, no nagging) get one reminder, from the day that
  is ACTIVITIES_REMIND_DAYS days before the deadline's date, once it is open for them.
- Guardians with a conference booking get one reminder the day before.

Every mail is recorded (ActivityReminder, unique per kind, activity, guardian
and day) in the transaction that queues it, so running the command again, or
twice at once, never sends a reminder twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import local_now, school_tz
from ..extensions import db
from ..models import Activity, ActivityReminder, Booking, Slot, User
from ..notifications import ACTIVITIES, notify
from . import waiting
from .common import is_open_for, local
from .conferences import guardians_of_booking

DEADLINE = "deadline"
DAY_BEFORE = "day_before"


def _send(kind: str, activity: Activity, user: User, day, subject, template: str, line,
          **context) -> bool:
    """Queue one reminder (as the user chose for activities) and record it, in one transaction.

    False when it went out before. A deadline reminder asks the user to act: with
    activities switched off it still comes, in the daily digest.
    """
    if db.session.scalar(
        select(ActivityReminder.id).where(
            ActivityReminder.kind == kind, ActivityReminder.activity_id == activity.id,
            ActivityReminder.user_id == user.id, ActivityReminder.day == day,
        )
    ):
        return False
    db.session.add(ActivityReminder(kind=kind, activity_id=activity.id, user_id=user.id, day=day))
    notify(user, ACTIVITIES, subject, template, line=line, path=f"/activiteiten/{activity.id}",
           must_act=kind == DEADLINE, user=user, activity=activity, title=activity.title,
           **context)
    try:
        db.session.commit()
    except IntegrityError:  # another run was faster; its mail is the one
        db.session.rollback()
        return False
    return True


def _deadline_reminders() -> int:
    sent = 0
    # Deadlines on or before the day N days from today (school dates, not hours).
    horizon = local(
        local_now().date() + timedelta(days=current_app.config["ACTIVITIES_REMIND_DAYS"] + 1),
        time(0, 0),
    )
    for (activity, user), children in waiting.guardians_waiting(horizon).items():
        if not user.is_active or not is_open_for(user, activity):
            continue
        day = activity.deadline.astimezone(school_tz()).date()
        sent += _send(DEADLINE, activity, user, day, _l("Herinnering: {title}"),
                      "activity_deadline", _l("{title}: u heeft nog niet gereageerd"),
                      children=children, deadline=activity.deadline)
    return sent


def _day_before_reminders() -> int:
    sent = 0
    tomorrow = local_now().date() + timedelta(days=1)
    start = local(tomorrow, time(0, 0))
    end = start + timedelta(days=1)
    bookings = db.session.scalars(
        select(Booking).join(Slot)
        .where(Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at)
    ).all()
    per_user: dict[tuple, list[Booking]] = defaultdict(list)
    for booking in bookings:
        for user in guardians_of_booking(booking):
            per_user[(user, booking.activity_id)].append(booking)
    for (user, _activity_id), theirs in per_user.items():
        activity = theirs[0].activity
        sent += _send(DAY_BEFORE, activity, user, tomorrow, _l("Morgen: {title}"),
                      "activity_day_before", _l("{title}: uw gesprek is morgen"), bookings=theirs)
    return sent


def send_reminders() -> tuple[int, int]:
    """Queue what is due now. Returns (deadline reminders, day-before reminders)."""
    return _deadline_reminders(), _day_before_reminders()
