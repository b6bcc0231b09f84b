"""When staff read chats: working days and hours, chat switched off, the next working period.

All of it in the school's time zone (parro.clock.local_now): "08:00" means eight in
the morning at school, also for a parent abroad.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Availability, Conversation, User
from ..sql import IDS, prebuilt


def default_availability(user_id: int | None = None) -> Availability:
    """The school's default hours (not added to the session)."""
    cfg = current_app.config
    return Availability(
        user_id=user_id,
        weekdays=cfg["CHAT_DEFAULT_WEEKDAYS"],
        starts_at=time.fromisoformat(cfg["CHAT_DEFAULT_START"]),
        ends_at=time.fromisoformat(cfg["CHAT_DEFAULT_END"]),
        chat_off=False,
        off_message="",
        off_until=None,
    )


def availability_of(user: User) -> Availability:
    return db.session.get(Availability, user.id) or default_availability(user.id)


def set_availability(user: User, *, weekdays, starts_at: time, ends_at: time, chat_off: bool,
                     off_until: date | None, off_message: str | None) -> None:
    """Store one's working days and hours, or chat switched off until a day."""
    row = db.session.get(Availability, user.id)
    if row is None:
        row = Availability(user_id=user.id)
        db.session.add(row)
    row.weekdays = "".join(str(d) for d in sorted(set(weekdays)))
    row.starts_at = starts_at
    row.ends_at = ends_at
    row.chat_off = chat_off
    row.off_until = off_until if chat_off else None
    row.off_message = (off_message or "").strip()
    db.session.commit()


@prebuilt
def _of_users():
    return select(Availability).where(Availability.user_id.in_(IDS))


def availabilities(users: list[User]) -> dict[int, Availability]:
    ids = [u.id for u in users]
    found = {
        a.user_id: a for a in db.session.scalars(_of_users(), {"ids": ids})
    } if ids else {}
    return {i: found.get(i) or default_availability(i) for i in ids}


def is_off(av: Availability, day: date) -> bool:
    """Chat switched off on this (local) day; off_until is the last day off."""
    return av.chat_off and (av.off_until is None or day <= av.off_until)


def working_at(av: Availability, local: datetime) -> bool:
    return local.isoweekday() in av.days and av.starts_at <= local.time() < av.ends_at


def period_start(av: Availability, local: datetime) -> datetime | None:
    """The start of the working period `local` falls in, or None outside working hours."""
    if not working_at(av, local):
        return None
    return datetime.combine(local.date(), av.starts_at, tzinfo=local.tzinfo)


def next_period_start(av: Availability, local: datetime) -> datetime | None:
    """When the next working period at or after `local` starts (now, if it is running)."""
    if av.starts_at >= av.ends_at:
        return None
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.isoweekday() not in av.days:
            continue
        start = datetime.combine(day, av.starts_at, tzinfo=local.tzinfo)
        if offset == 0:
            if local.time() >= av.ends_at:
                continue
            if local.time() >= av.starts_at:
                return local
        return start
    return None


@dataclass
class StaffStatus:
    user: User | None  # None: the office (administratie), by its opening hours
    available: bool  # working now and chat on
    chat_off: bool
    off_message: str
    reads_from: datetime | None  # local; when they read again; None when now or unknown

    @property
    def name(self) -> str:
        return self.user.display_name if self.user is not None else _("De administratie")


def status_of(user: User, av: Availability, local: datetime) -> StaffStatus:
    if is_off(av, local.date()):
        resume = None
        if av.off_until is not None:
            day_after = datetime.combine(av.off_until + timedelta(days=1), time(0), local.tzinfo)
            resume = next_period_start(av, day_after)
        return StaffStatus(user, False, True, av.off_message, resume)
    if working_at(av, local):
        return StaffStatus(user, True, False, "", None)
    return StaffStatus(user, False, False, "", next_period_start(av, local))


def staff_statuses(conversation: Conversation, people: list | None = None) -> list[StaffStatus]:
    """The availability of each staff member in the conversation (both of a job-sharing pair).

    `people`: its members, when the caller has already loaded them.
    """
    from .service import members

    staff = [u for u in (members(conversation) if people is None else people) if u.is_staff]
    avs = availabilities(staff)
    local = clock.local_now()
    return [status_of(u, avs[u.id], local) for u in staff]


def office_hours(school) -> Availability:
    """The office's opening hours (a school setting) as an availability (not in the session)."""
    if school is None:
        return default_availability()
    return Availability(weekdays=school.office_weekdays, starts_at=school.office_opens_at,
                        ends_at=school.office_closes_at, chat_off=False, off_message="",
                        off_until=None)


def describe_hours(av: Availability) -> str:
    """'maandag t/m vrijdag, 08:30–16:00' (days in a row) or 'maandag, woensdag, 08:30–12:00'."""
    days = sorted(av.days)
    monday = date(2024, 1, 1)  # any Monday: only the weekday's name is used

    def name(day: int) -> str:
        return format_date(monday + timedelta(days=day - 1), "EEEE")

    if not days:
        return _("geen vaste dagen")
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        named = _("%(first)s t/m %(last)s", first=name(days[0]), last=name(days[-1]))
    else:
        named = ", ".join(name(d) for d in days)
    return f"{named}, {format_time(av.starts_at, 'HH:mm')}–{format_time(av.ends_at, 'HH:mm')}"


def office_statuses(school) -> list[StaffStatus]:
    """Whether the office reads now, or from when: shown like a teacher's availability."""
    return [status_of(None, office_hours(school), clock.local_now())]


def chat_closed(conversation: Conversation, statuses: list[StaffStatus] | None = None) -> bool:
    """Every staff member in it has switched chat off: guardians cannot write."""
    statuses = staff_statuses(conversation) if statuses is None else statuses
    return bool(statuses) and all(s.chat_off for s in statuses)


def earliest_reading(statuses: list[StaffStatus]) -> datetime | None:
    """When a guardian's message will be read, if nobody is available now."""
    if any(s.available for s in statuses):
        return None
    moments = [s.reads_from for s in statuses if s.reads_from is not None]
    return min(moments) if moments else None


def when(moment: datetime) -> str:
    """'vandaag om 08:00', 'morgen om 08:00', 'maandag 3 maart om 08:00'."""
    local = moment.astimezone(clock.school_tz())
    day = local.date()
    at = format_time(local, "HH:mm")
    today = clock.today()
    if day == today:
        return _("vandaag om %(time)s", time=at)
    if day == today + timedelta(days=1):
        return _("morgen om %(time)s", time=at)
    return _("%(day)s om %(time)s", day=format_date(day, "EEEE d MMMM"), time=at)
