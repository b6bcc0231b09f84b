"""Invitations: an event the families answer yes, no or maybe for, with how many people."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..extensions import db
from ..models import Activity, ActivityKind, Answer, Response, Student, User
from .common import ActivityError, check_open, new_activity, participants


def create_invitation(user, groups, **fields) -> Activity:
    """fields: the activity's title, description, location, deadline, starts_at, ends_at."""
    activity = new_activity(user, ActivityKind.INVITATION, groups, **fields)
    db.session.commit()
    return activity


def respond(user: User, activity: Activity, student: Student, answer: Answer,
            people: int) -> Response:
    """The family's answer for this child; a second answer replaces the first."""
    check_open(user, activity)
    people = people if answer != Answer.NO else 0
    for _attempt in range(2):
        row = db.session.scalar(
            select(Response).where(
                Response.activity_id == activity.id, Response.student_id == student.id
            )
        )
        if row is None:
            row = Response(activity_id=activity.id, student_id=student.id)
            db.session.add(row)
        row.answer = answer
        row.people = people
        row.answered_by_id = user.id
        row.updated_at = now()
        try:
            db.session.commit()
            return row
        except IntegrityError:  # the other guardian answered at the same moment: update theirs
            db.session.rollback()
    raise ActivityError(_("Dat lukte niet. Probeer het opnieuw."))


def answer_text(response: Response, staff: bool = False) -> str:
    if staff:
        if response.answer == Answer.NO:
            return _("nee")
        word = _("ja") if response.answer == Answer.YES else _("misschien")
        return ngettext("%(word)s, %(num)s persoon", "%(word)s, %(num)s personen",
                        response.people, word=word)
    if response.answer == Answer.YES:
        return ngettext("U komt, met %(num)s persoon", "U komt, met %(num)s personen",
                        response.people)
    if response.answer == Answer.MAYBE:
        return _("U komt misschien")
    return _("U komt niet")


@dataclass
class Totals:
    yes: int = 0
    no: int = 0
    maybe: int = 0
    people: int = 0
    maybe_people: int = 0


def invitation_totals(activity: Activity) -> Totals:
    totals = Totals()
    for r in activity.responses:
        setattr(totals, r.answer.value, getattr(totals, r.answer.value) + 1)
        if r.answer == Answer.YES:
            totals.people += r.people
        elif r.answer == Answer.MAYBE:
            totals.maybe_people += r.people
    return totals


def not_answered(activity: Activity) -> list[Student]:
    answered = {r.student_id for r in activity.responses}
    return [s for s in participants(activity) if s.id not in answered]
