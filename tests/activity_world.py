"""Activities in the World of tests/world.py, for the authorization table.

Each function freezes the clock on Monday 1 March 2027 (before every deadline),
adds what one route needs to the world's groep A and returns the URL arguments.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from parro import clock
from parro.extensions import db
from parro.models import Booking, SignUp

from .factories import make_conference, make_invitation, make_materials, make_volunteer


def _monday():
    clock.set_now(datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))


def conference(w):
    _monday()
    return make_conference(w.group)


def booked_conference(w):
    activity = conference(w)
    booking = Booking(slot=activity.slots[0], student=w.student, booked_by_id=w.guardian.id)
    db.session.add(booking)
    db.session.flush()
    return activity, booking


def activity_args(w):
    w.activity = conference(w)
    return {"activity_id": w.activity.id}


def booking_args(w):
    w.activity, booking = booked_conference(w)
    return {"booking_id": booking.id}


def book_form(w):
    """Form data is built after the URL arguments: the round exists by then."""
    return {"child_id": w.student.id, "slot_id": w.activity.slots[0].id}


def move_form(w):
    return {"slot_id": w.activity.slots[1].id}


def volunteer(w):
    _monday()
    return make_volunteer(w.group)


def signup(w):
    activity = volunteer(w)
    s = SignUp(shift=activity.shifts[0], user_id=w.guardian.id)
    activity.shifts[0].taken = 1
    db.session.add(s)
    db.session.flush()
    return s


def materials(w):
    _monday()
    return make_materials(w.group)


def invitation(w):
    _monday()
    return make_invitation(w.group)


def conference_form(w):
    return {
        "title": "Oudergesprekken", "groups": [str(w.group.id)],
        "days-0-date": "2027-03-10", "days-0-start": "14:00", "days-0-end": "15:00",
        "slot_minutes": "10", "early_days": "0",
        "deadline_date": "2027-03-08", "deadline_time": "23:59",
    }
