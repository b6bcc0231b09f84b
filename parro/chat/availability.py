"""When staff read chats: working days and hours, chat switched off, the next working period.

All of it in the school's time zone (parro.clock.local_now): "08:00" means eight in
the morning at school, also for a parent abroad.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, has_request_context
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from .. import clock, policy
from ..extensions import db
from ..models import Availability, Conversation, School, SchoolStaff, User
from ..sql import IDS, prebuilt


def default_hours(school: School | None) -> tuple[str, time, time]:
    """The working days and hours of staff who set none: the school's own, else the
    installation's (CHAT_DEFAULT_WEEKDAYS, _START, _END), each on its own."""
    cfg = current_app.config
    weekdays = cfg["CHAT_DEFAULT_WEEKDAYS"]
    starts_at = time.fromisoformat(cfg["CHAT_DEFAULT_START"])
    ends_at = time.fromisoformat(cfg["CHAT_DEFAULT_END"])
    if school is not None:
        weekdays = school.chat_weekdays if school.chat_weekdays is not None else weekdays
        starts_at = school.chat_starts_at if school.chat_starts_at is not None else starts_at
        ends_at = school.chat_ends_at if school.chat_ends_at is not None else ends_at
    return weekdays, starts_at, ends_at


def _hours(weekdays: str, starts_at: time, ends_at: time,
           user_id: int | None = None) -> Availability:
    """These days and hours, with chat on, as an availability (not added to the session)."""
    return Availability(user_id=user_id, weekdays=weekdays, starts_at=starts_at, ends_at=ends_at,
                        chat_off=False, off_message="", off_until=None)


def installation_default() -> Availability:
    """The installation's default hours (config CHAT_DEFAULT_*), for schools without their own."""
    return _hours(*default_hours(None))


def default_availability(user_id: int | None = None,
                         school: School | None = None) -> Availability:
    """The default hours of `school` (not added to the session); without one, those of the
    current school (policy.current_school(): the browser's, or the first one)."""
    return _hours(*default_hours(school if school is not None else policy.current_school()),
                  user_id=user_id)


def _default_schools(user_ids: list[int]) -> dict[int, School | None]:
    """Whose defaults a staff member without hours of their own has: the school the browser
    works in for the logged-in user, else the first school they work at."""
    found: dict[int, School | None] = {}
    if has_request_context() and current_user.is_authenticated and current_user.id in user_ids:
        found[current_user.id] = policy.current_school()
    rest = [i for i in user_ids if i not in found]
    if rest:
        firsts = db.session.execute(
            select(SchoolStaff.user_id, func.min(SchoolStaff.school_id))
            .where(SchoolStaff.user_id.in_(rest)).group_by(SchoolStaff.user_id)
        )
        for user_id, school_id in firsts:
            found[user_id] = db.session.get(School, school_id)
    return found


def availability_of(user: User, school: School | None = None) -> Availability:
    """A staff member's hours: their own, or the defaults of `school` (without one: of the
    school they work in now, see _default_schools)."""
    row = db.session.get(Availability, user.id)
    return row if row is not None else _defaults([user.id], school)[user.id]


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


def availabilities(users: list[User], school: School | None = None) -> dict[int, Availability]:
    """Each user's hours: their own, or the defaults of `school` (a conversation's school);
    without one, of the school each works in (see _default_schools)."""
    ids = [u.id for u in users]
    found = {
        a.user_id: a for a in db.session.scalars(_of_users(), {"ids": ids})
    } if ids else {}
    missing = [i for i in ids if i not in found]
    if missing:
        found.update(_defaults(missing, school))
    return {i: found[i] for i in ids}


def _defaults(user_ids: list[int], school: School | None) -> dict[int, Availability]:
    """The default hours of staff who set none: `school`'s, or (without one) those of the
    school each works in (_default_schools)."""
    schools = {i: school for i in user_ids} if school is not None \
        else _default_schools(user_ids)
    return {i: default_availability(i, schools.get(i) or policy.current_school())
            for i in user_ids}


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


def staff_statuses(conversation: Conversation, people: list | None = None,
                   school: School | None = None) -> list[StaffStatus]:
    """The availability of each staff member in the conversation (both of a job-sharing pair).

    `people`: its members, when the caller has already loaded them; `school`: the
    conversation's school, when the caller has loaded it (its defaults hold for staff who
    set no hours of their own).
    """
    from .service import members

    staff = [u for u in (members(conversation) if people is None else people) if u.is_staff]
    if school is None and conversation.school_id is not None:
        school = db.session.get(School, conversation.school_id)
    avs = availabilities(staff, school)
    local = clock.local_now()
    return [status_of(u, avs[u.id], local) for u in staff]


def office_hours(school) -> Availability:
    """The office's opening hours (a school setting) as an availability (not in the session)."""
    if school is None:
        return default_availability()
    return _hours(school.office_weekdays, school.office_opens_at, school.office_closes_at)


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
    if statuses is None:
        # Only switched-off hours of their own count: no defaults needed.
        from .service import members

        staff = [u for u in members(conversation) if u.is_staff]
        ids = [u.id for u in staff]
        own = {a.user_id: a for a in db.session.scalars(_of_users(), {"ids": ids})} if ids \
            else {}
        today = clock.local_now().date()
        return bool(staff) and all(u.id in own and is_off(own[u.id], today) for u in staff)
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
