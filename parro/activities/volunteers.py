"""Volunteer calls: tasks or shifts with a number of places that guardians sign up for."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Activity, ActivityKind, Shift, SignUp, User
from .common import ActivityError, check_open, new_activity


def create_volunteer(user, groups, *, shifts, **fields) -> Activity:
    """shifts: (title, starts_at or None, ends_at or None, places); fields: the activity's
    title, description, location and deadline."""
    activity = new_activity(user, ActivityKind.VOLUNTEER, groups, **fields)
    activity.shifts = [
        Shift(position=i, title=t, starts_at=a, ends_at=b, places=p)
        for i, (t, a, b, p) in enumerate(shifts)
    ]
    starts = [s.starts_at for s in activity.shifts if s.starts_at]
    activity.starts_at = min(starts) if starts else None
    db.session.commit()
    return activity


def sign_up(user: User, shift: Shift) -> SignUp:
    """Take a place. The conditional UPDATE takes the row lock: of two guardians who
    want the last place, the second waits, then finds the counter full."""
    check_open(user, shift.activity)
    if db.session.scalar(
        select(SignUp.id).where(SignUp.shift_id == shift.id, SignUp.user_id == user.id)
    ):
        raise ActivityError(_("U staat al ingeschreven voor deze taak."))
    raised = db.session.execute(
        update(Shift)
        .where(Shift.id == shift.id, Shift.taken < Shift.places)
        .values(taken=Shift.taken + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not raised:
        db.session.rollback()
        raise ActivityError(_("Deze taak is helaas al vol."))
    signup = SignUp(shift_id=shift.id, user_id=user.id)
    db.session.add(signup)
    try:
        db.session.commit()
    except IntegrityError:  # the same guardian twice at once: the counter rolls back too
        db.session.rollback()
        raise ActivityError(_("U staat al ingeschreven voor deze taak.")) from None
    return signup


def withdraw(user: User, signup: SignUp) -> None:
    check_open(user, signup.shift.activity)
    shift_id = signup.shift_id
    db.session.delete(signup)
    db.session.flush()
    db.session.execute(
        update(Shift).where(Shift.id == shift_id).values(taken=Shift.taken - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
