"""Calendar files (RFC 5545) for bookings, shifts and events, and private subscriptions.

Times are written in the school's time zone with its VTIMEZONE, so a phone
abroad still shows the talk at the right moment. A UID names the booking (or
sign-up, or event), not the file: downloading again, or a move, updates the
same calendar entry (SEQUENCE counts the moves).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..calendar import service as calendar_service
from ..clock import now, school_tz
from ..extensions import db
from ..models import (
    Activity,
    ActivityKind,
    Answer,
    Booking,
    CalendarFeed,
    CalendarItem,
    Guardianship,
    Response,
    Shift,
    SignUp,
    Slot,
    User,
)
from .conferences import my_bookings

# icalendar is imported where a file is written: a page never needs it (README, Performance).
if TYPE_CHECKING:
    from icalendar import Event

HISTORY = timedelta(days=60)  # a subscription also lists what was up to this long ago
CALENDAR_AHEAD = timedelta(days=400)  # and the jaarkalender this far ahead


def _host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "parro"


def _event(uid: str, summary: str, start, end, location: str = "", description: str = "",
           url: str | None = None, sequence: int | None = 0) -> Event:
    """A timed event, or with `start` a date an all-day one (`end` the day after the last
    day, RFC 5545) that makes nobody busy (a holiday)."""
    from icalendar import Event

    event = Event()
    event.add("uid", f"{uid}@{_host()}")
    event.add("dtstamp", now())
    if sequence is not None:
        event.add("sequence", sequence)
    event.add("summary", summary)
    if isinstance(start, datetime):
        tz = school_tz()
        event.add("dtstart", start.astimezone(tz))
        event.add("dtend", (end or start + timedelta(hours=1)).astimezone(tz))
    else:
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("transp", "TRANSPARENT")
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    return event


def _link(activity: Activity) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(
        "activities.show", activity_id=activity.id
    )


def booking_event(booking: Booking, for_staff: bool = False) -> Event:
    activity = booking.activity
    who = booking.student.full_name if for_staff else booking.student.first_name
    return _event(
        f"booking-{booking.id}",
        _("%(title)s: %(child)s", title=activity.title, child=who),
        booking.slot.starts_at, booking.slot.ends_at, activity.location,
        activity.description, _link(activity), booking.sequence,
    )


def signup_event(signup: SignUp) -> Event | None:
    shift = signup.shift
    if shift.starts_at is None:
        return None
    activity = shift.activity
    return _event(
        f"signup-{signup.id}", f"{activity.title}: {shift.title}", shift.starts_at,
        shift.ends_at, activity.location, activity.description, _link(activity),
    )


def activity_event(activity: Activity) -> Event | None:
    if activity.starts_at is None:
        return None
    return _event(
        f"activity-{activity.id}", activity.title, activity.starts_at, activity.ends_at,
        activity.location, activity.description, _link(activity),
    )


def calendar_item_event(item: CalendarItem) -> Event:
    """A jaarkalender item: all day or timed."""
    if item.all_day:
        return _event(f"calendar-{item.id}", item.title, item.starts_on,
                      item.ends_on + timedelta(days=1), item.location, item.description,
                      sequence=None)
    tz = school_tz()
    return _event(
        f"calendar-{item.id}", item.title,
        datetime.combine(item.starts_on, item.starts_at, tzinfo=tz),
        datetime.combine(item.ends_on, item.ends_at, tzinfo=tz),
        item.location, item.description,
    )


def to_ics(events, name: str | None = None) -> bytes:
    from icalendar import Calendar, vText

    cal = Calendar()
    cal.add("prodid", "-//parro//activiteiten//NL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        # Not a standard property, so icalendar does not escape it by itself: as text,
        # on one line (a school name with a line break must not add lines to the file).
        cal.add("x-wr-calname", vText(" ".join(name.split())))
        cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for event in events:
        if event is not None:
            cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


# -- the private subscription -------------------------------------------------------


def _secret(feed: CalendarFeed) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"calendar:{feed.user_id}:{feed.nonce}".encode(), hashlib.sha256)
    return urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(user: User) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def feed_token(feed: CalendarFeed) -> str | None:
    """The token of the URL, or None when the secret key changed since it was made."""
    token = _secret(feed)
    return token if hmac.compare_digest(_hash(token), feed.token_hash) else None


def create_feed(user: User) -> CalendarFeed:
    """A new private URL; an old one stops working."""
    old = feed_of(user)
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    feed = CalendarFeed(user_id=user.id, nonce=secrets.token_hex(16))
    feed.token_hash = _hash(_secret(feed))
    db.session.add(feed)
    db.session.commit()
    return feed


def revoke_feed(user: User) -> None:
    feed = feed_of(user)
    if feed is not None:
        db.session.delete(feed)
        db.session.commit()


def user_for_token(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token))
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def events_for(user: User) -> list[Event]:
    """Everything in the user's own calendar: never anyone else's bookings."""
    since = now() - HISTORY
    today = since.astimezone(school_tz()).date()
    events = [
        calendar_item_event(item)
        for item in calendar_service.items_between(user, today, today + CALENDAR_AHEAD)
    ]
    if user.is_guardian:
        events += [booking_event(b) for b in my_bookings(user) if b.slot.ends_at >= since]
        signups = db.session.scalars(
            select(SignUp).join(Shift)
            .where(SignUp.user_id == user.id, Shift.starts_at.is_not(None),
                   Shift.starts_at >= since)
            .options(selectinload(SignUp.shift).selectinload(Shift.activity))
        )
        events += [signup_event(s) for s in signups]
        going = db.session.scalars(
            select(Activity).distinct()
            .join(Response, Response.activity_id == Activity.id)
            .join(Guardianship, Guardianship.student_id == Response.student_id)
            .where(Guardianship.user_id == user.id, Response.answer != Answer.NO,
                   Activity.starts_at >= since)
        )
        events += [activity_event(a) for a in going]
    elif user.is_staff:
        for activity in db.session.scalars(
            select(Activity).where(Activity.starts_at >= since)
            .options(selectinload(Activity.groups))
        ):
            if not policy.can_manage_activity(user, activity):
                continue
            if activity.kind == ActivityKind.CONFERENCE:
                bookings = db.session.scalars(
                    select(Booking).join(Slot).where(Booking.activity_id == activity.id)
                    .order_by(Slot.starts_at)
                )
                events += [booking_event(b, for_staff=True) for b in bookings]
            elif activity.kind == ActivityKind.INVITATION:
                events.append(activity_event(activity))
            elif activity.kind == ActivityKind.VOLUNTEER:
                events += [
                    _event(f"shift-{s.id}", f"{activity.title}: {s.title}", s.starts_at,
                           s.ends_at, activity.location, "", _link(activity))
                    for s in activity.shifts if s.starts_at
                ]
    return [e for e in events if e is not None]
