"""The activity planner's rules. Each action is one transaction and commits.

An action a user may not do *now* (too late, slot taken, place full) raises
ActivityError with a message for that user; the view shows it. Whether the
user may do it at all is the policy's question, asked by the view before.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import format_date, format_time, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import policy
from ..clock import now, school_tz
from ..database import UTCDateTime, set_loaded
from ..extensions import db
from ..layout import NOW, USER_ID
from ..models import (
    Activity,
    ActivityKind,
    Answer,
    Booking,
    Group,
    Guardianship,
    Item,
    Membership,
    Pledge,
    Response,
    Role,
    SchoolYear,
    SeparateBookings,
    Shift,
    SignUp,
    Slot,
    Student,
    User,
)
from ..models.activity import activity_group
from ..notifications import ACTIVITIES, notify

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


# -- time ---------------------------------------------------------------------


def local(day: date, at: time) -> datetime:
    """A wall-clock time at school, as an aware datetime in UTC."""
    return datetime.combine(day, at, tzinfo=school_tz()).astimezone(UTC)


def hhmm(moment) -> str:
    return format_time(moment, "HH:mm")


def when(moment: datetime) -> str:
    """'maandag 2 maart om 15:20' in the user's language and the school's time zone."""
    return _when(moment, str(get_locale()), current_app.config["TIMEZONE"])


@functools.lru_cache(maxsize=4096)
def _when(moment: datetime, locale: str, timezone: str) -> str:
    # Remembered: a feed page shows a deadline per activity, and formatting one costs
    # more than the rest of its card. The language and time zone are the key's.
    return _("%(day)s om %(time)s", day=format_date(moment, "EEEE d MMMM"), time=hhmm(moment))


# -- planning a conference round ----------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    start: time
    end: time
    breaks: tuple[tuple[time, time], ...] = ()


def parse_breaks(text: str) -> tuple[tuple[time, time], ...]:
    """'12:00-12:30, 15:15-15:30' → ((12:00, 12:30), (15:15, 15:30)); ValueError if unreadable."""
    result = []
    for written in text.replace(";", ",").split(","):
        part = written.strip().replace("–", "-").replace(".", ":")
        if not part:
            continue
        try:
            start, end = (datetime.strptime(p.strip(), "%H:%M").time() for p in part.split("-"))
        except ValueError:
            raise ValueError(
                _("Schrijf een pauze als begin en eind, bijvoorbeeld 15:30-15:45.")
            ) from None
        if end <= start:
            raise ValueError(_("Een pauze moet eindigen na het begin (%(part)s).", part=part))
        result.append((start, end))
    return tuple(sorted(result))


def _minutes(a: time, b: time) -> int:
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)


def _plus(t: time, minutes: int) -> time:
    total = t.hour * 60 + t.minute + minutes
    return time(total // 60, total % 60)


def plan_slots(days: list[Day], minutes: int) -> list[tuple[datetime, datetime]]:
    """The slots of these days, or PlanError naming the day (row) and field at fault."""
    if not days:
        raise PlanError(_("Vul minstens één dag in met een begin- en eindtijd."), "days", 0)
    if not 5 <= minutes <= 120:
        raise PlanError(_("Kies een gesprekslengte tussen 5 en 120 minuten."), "slot_minutes")
    slots = []
    for row, d in enumerate(days):
        if d.end <= d.start:
            raise PlanError(_("De eindtijd moet na de begintijd liggen."), "end", row)
        cursor = d.start
        segments = []
        for b_start, b_end in d.breaks:
            if b_start < d.start or b_end > d.end:
                raise PlanError(
                    _("De pauze %(b)s valt niet binnen %(start)s–%(end)s.",
                      b=f"{b_start:%H:%M}-{b_end:%H:%M}", start=f"{d.start:%H:%M}",
                      end=f"{d.end:%H:%M}"),
                    "breaks", row,
                )
            if b_start < cursor:
                raise PlanError(_("Twee pauzes overlappen elkaar."), "breaks", row)
            segments.append((cursor, b_start))
            cursor = b_end
        segments.append((cursor, d.end))
        for a, b in segments:
            length = _minutes(a, b)
            if length == 0:
                continue
            if length % minutes:
                fits = length // minutes
                if fits == 0:
                    message = _(
                        "Van %(a)s tot %(b)s past geen gesprek van %(n)s minuten.",
                        a=f"{a:%H:%M}", b=f"{b:%H:%M}", n=minutes,
                    )
                else:
                    message = _(
                        "Van %(a)s tot %(b)s passen geen hele gesprekken van %(n)s minuten: "
                        "er blijven %(rest)s minuten over. Laat dit blok bijvoorbeeld om "
                        "%(end)s eindigen.",
                        a=f"{a:%H:%M}", b=f"{b:%H:%M}", n=minutes, rest=length % minutes,
                        end=f"{_plus(a, fits * minutes):%H:%M}",
                    )
                raise PlanError(message, "breaks" if d.breaks else "end", row)
            t = a
            while t < b:
                slots.append((local(d.day, t), local(d.day, _plus(t, minutes))))
                t = _plus(t, minutes)
    for row, d in enumerate(days):
        for other_row, o in enumerate(days[:row]):
            if o.day == d.day and d.start < o.end and o.start < d.end:
                raise PlanError(
                    _("Deze tijden overlappen met dag %(n)s (%(start)s–%(end)s op dezelfde datum).",
                      n=other_row + 1, start=f"{o.start:%H:%M}", end=f"{o.end:%H:%M}"),
                    "start", row,
                )
    if len(slots) > current_app.config["ACTIVITIES_MAX_SLOTS"]:
        raise PlanError(
            _("Dat zijn %(n)s gesprekken; meer dan %(max)s in één ronde kan niet.",
              n=len(slots), max=current_app.config["ACTIVITIES_MAX_SLOTS"]),
            "slot_minutes",
        )
    return sorted(slots)


# -- creating and deleting ------------------------------------------------------


def _new_activity(user: User, kind: ActivityKind, groups: list[Group], **fields) -> Activity:
    activity = Activity(kind=kind, created_by_id=user.id, **fields)
    activity.groups = list(groups)
    db.session.add(activity)
    return activity


def create_conference(user, groups, *, title, description, location, days, minutes,
                      opens_at, deadline, early_days) -> Activity:
    activity = _new_activity(
        user, ActivityKind.CONFERENCE, groups, title=title, description=description,
        location=location, opens_at=opens_at, deadline=deadline, early_days=early_days,
        slot_minutes=minutes,
    )
    activity.slots = [Slot(starts_at=a, ends_at=b) for a, b in plan_slots(days, minutes)]
    activity.starts_at = activity.slots[0].starts_at
    activity.ends_at = activity.slots[-1].ends_at
    db.session.commit()
    return activity


def create_volunteer(user, groups, *, title, description, location, deadline, shifts) -> Activity:
    """shifts: (title, starts_at or None, ends_at or None, places)."""
    activity = _new_activity(
        user, ActivityKind.VOLUNTEER, groups, title=title, description=description,
        location=location, deadline=deadline,
    )
    activity.shifts = [
        Shift(position=i, title=t, starts_at=a, ends_at=b, places=p)
        for i, (t, a, b, p) in enumerate(shifts)
    ]
    starts = [s.starts_at for s in activity.shifts if s.starts_at]
    activity.starts_at = min(starts) if starts else None
    db.session.commit()
    return activity


def create_materials(user, groups, *, title, description, deadline, items) -> Activity:
    """items: (name, needed)."""
    activity = _new_activity(
        user, ActivityKind.MATERIALS, groups, title=title, description=description,
        deadline=deadline,
    )
    activity.items = [Item(position=i, name=n, needed=q) for i, (n, q) in enumerate(items)]
    db.session.commit()
    return activity


def create_invitation(user, groups, *, title, description, location, starts_at, ends_at,
                      deadline) -> Activity:
    activity = _new_activity(
        user, ActivityKind.INVITATION, groups, title=title, description=description,
        location=location, starts_at=starts_at, ends_at=ends_at, deadline=deadline,
    )
    db.session.commit()
    return activity


def first_moment(activity: Activity) -> datetime | None:
    """When a conference round or an invited event begins: reacting must close before it."""
    if activity.is_conference:
        return activity.slots[0].starts_at if activity.slots else None
    return activity.starts_at


def update_activity(activity: Activity, form) -> None:
    activity.title = form.title.data.strip()
    activity.description = (form.description.data or "").strip()
    activity.location = (form.location.data or "").strip()
    activity.deadline = form.deadline_at()
    db.session.commit()


def delete_activity(activity: Activity) -> None:
    db.session.delete(activity)
    db.session.commit()


# -- who takes part -------------------------------------------------------------


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
    """The user's own children that take part in this activity."""
    ids = policy.activity_group_ids(activity)
    if not ids or not user.is_authenticated or not user.is_guardian:
        return []
    year = policy.current_year()
    return list(
        db.session.scalars(
            select(Student)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Membership, Membership.student_id == Student.id)
            .where(
                Guardianship.user_id == user.id,
                Membership.group_id.in_(ids),
                Membership.school_year_id == (year.id if year else None),
            )
            .order_by(Student.first_name)
        )
    )


def has_several_children(user: User) -> bool:
    """A family with more than one child at school this year books conferences earlier."""
    year = policy.current_year()
    if year is None or not user.is_authenticated or not user.is_guardian:
        return False
    count = policy.per_request(
        f"children_this_year_{user.id}",
        lambda: db.session.scalar(
            select(func.count(func.distinct(Membership.student_id)))
            .join(Guardianship, Guardianship.student_id == Membership.student_id)
            .where(Guardianship.user_id == user.id, Membership.school_year_id == year.id)
        ),
    )
    return count > 1


def opens_for(user: User, activity: Activity) -> datetime | None:
    """When this user may start: earlier for families with several children."""
    if activity.opens_at is None:
        return None
    if activity.is_conference and activity.early_days and has_several_children(user):
        return activity.opens_at - timedelta(days=activity.early_days)
    return activity.opens_at


def is_open_for(user: User, activity: Activity) -> bool:
    start = opens_for(user, activity)
    return (start is None or now() >= start) and not activity.is_closed()


def _check_open(user: User, activity: Activity) -> None:
    """Guardians act between opening and deadline; staff of the activity at any time."""
    if policy.can_manage_activity(user, activity):
        return
    if activity.is_closed():
        raise ActivityError(
            _("Aanmelden en wijzigen kon tot %(when)s. Wilt u nog iets veranderen? Neem dan "
              "contact op met de leerkracht.", when=when(activity.deadline))
        )
    start = opens_for(user, activity)
    if start is not None and now() < start:
        raise ActivityError(_("U kunt inschrijven vanaf %(when)s.", when=when(start)))


# -- conference bookings ----------------------------------------------------------


def slot_taken_message() -> str:
    return _("Dit tijdstip is net door iemand anders gekozen. Kies een ander tijdstip.")


def is_separate(activity: Activity, student: Student) -> bool:
    return db.session.scalar(
        select(SeparateBookings.id).where(
            SeparateBookings.activity_id == activity.id, SeparateBookings.student_id == student.id
        )
    ) is not None


def booking_for(activity: Activity, student: Student, guardian: User | None) -> Booking | None:
    """The child's booking in this round (the guardian's own one when separate)."""
    query = select(Booking).where(
        Booking.activity_id == activity.id, Booking.student_id == student.id
    )
    if guardian is not None:
        query = query.where(Booking.guardian_id == guardian.id)
    else:
        query = query.where(Booking.guardian_id.is_(None))
    return db.session.scalar(query)


def _party(user: User, activity: Activity, student: Student, guardian: User | None):
    """Whose booking this is: None for the whole family, or one guardian when separate."""
    if not is_separate(activity, student):
        return None
    if policy.is_guardian_of(user, student):
        return user
    if guardian is None or not policy.is_guardian_of(guardian, student):
        raise ActivityError(
            _("Voor %(child)s mag elke ouder apart boeken: kies voor welke ouder dit gesprek is.",
              child=student.first_name)
        )
    return guardian


def _check_slot(slot: Slot, keep: Booking | None = None) -> None:
    if slot.starts_at <= now():
        raise ActivityError(_("Dit tijdstip is al voorbij. Kies een later tijdstip."))
    if slot.blocked:
        raise ActivityError(
            _("Op dit tijdstip kan geen gesprek worden gepland. Kies een ander tijdstip.")
        )
    if slot.booking is not None and slot.booking is not keep:
        raise ActivityError(slot_taken_message())


def book(user: User, slot: Slot, student: Student, guardian: User | None = None) -> Booking:
    """Book the slot for the child; the policy has said the user may."""
    activity = slot.activity
    _check_open(user, activity)
    party = _party(user, activity, student, guardian)
    existing = booking_for(activity, student, party)
    if existing is not None:
        raise ActivityError(_already_booked(student, existing))
    _check_slot(slot)
    for_family = not policy.is_guardian_of(user, student)
    booking = Booking(
        slot=slot, student=student, guardian_id=party.id if party else None,
        booked_by_id=user.id,
    )
    db.session.add(booking)
    try:
        db.session.flush()
        if for_family:
            _notify(booking, "activity_booked")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        # Someone was faster. Which constraint refused: the child's one booking, or the slot?
        existing = booking_for(activity, student, party)
        if existing is not None:
            raise ActivityError(_already_booked(student, existing)) from None
        raise ActivityError(slot_taken_message()) from None
    return booking


def _already_booked(student: Student, booking: Booking) -> str:
    return _(
        "Voor %(child)s staat al een gesprek op %(when)s. Wilt u een ander tijdstip? Kies dan "
        "‘Ander tijdstip’ bij dat gesprek.",
        child=student.first_name, when=when(booking.slot.starts_at),
    )


def move(user: User, booking: Booking, slot: Slot) -> Booking:
    """Move a booking to another free slot of the same round."""
    if slot.activity_id != booking.activity_id:
        raise ActivityError(_("Dit tijdstip hoort niet bij deze gespreksronde."))
    _check_open(user, booking.activity)
    if slot.id == booking.slot_id:
        return booking
    _check_slot(slot, keep=booking)
    for_family = not policy.is_guardian_of(user, booking.student)
    booking.slot = slot
    booking.sequence += 1
    booking.updated_at = now()
    try:
        db.session.flush()
        if for_family:
            _notify(booking, "activity_moved")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ActivityError(slot_taken_message()) from None
    return booking


def cancel(user: User, booking: Booking) -> None:
    _check_open(user, booking.activity)
    if not policy.is_guardian_of(user, booking.student):
        _notify(booking, "activity_cancelled")
    db.session.delete(booking)
    db.session.commit()


def set_blocked(slot: Slot, blocked: bool) -> None:
    """Take a slot out (a break) or put it back; a booked slot cannot be taken out."""
    if blocked and slot.booking is not None:
        raise ActivityError(
            _("Op dit tijdstip staat al een gesprek. Verplaats of annuleer dat eerst.")
        )
    slot.blocked = blocked
    db.session.commit()


def set_separate(activity: Activity, student: Student, on: bool) -> None:
    """Allow (or no longer allow) each guardian of the child a booking of their own."""
    row = db.session.scalar(
        select(SeparateBookings).where(
            SeparateBookings.activity_id == activity.id, SeparateBookings.student_id == student.id
        )
    )
    bookings = list(
        db.session.scalars(
            select(Booking).where(
                Booking.activity_id == activity.id, Booking.student_id == student.id
            )
        )
    )
    if on and row is None:
        db.session.add(SeparateBookings(activity_id=activity.id, student_id=student.id))
        for b in bookings:  # the family's booking becomes that of the guardian who made it
            guardian_ids = [gs.user_id for gs in student.guardianships]
            b.guardian_id = b.booked_by_id if b.booked_by_id in guardian_ids else (
                guardian_ids[0] if guardian_ids else None
            )
    elif not on and row is not None:
        if len(bookings) > 1:
            raise ActivityError(
                _("Voor %(child)s staan al %(n)s gesprekken. Annuleer er eerst één, dan kan "
                  "dit uit.", child=student.first_name, n=len(bookings))
            )
        for b in bookings:
            b.guardian_id = None
        db.session.delete(row)
    db.session.commit()


def _notify(booking: Booking, template: str) -> None:
    """Tell the guardians when the teacher booked, moved or cancelled for them."""
    subjects = {
        "activity_booked": _l("Gesprek gepland: {title}"),
        "activity_moved": _l("Gesprek verplaatst: {title}"),
        "activity_cancelled": _l("Gesprek geannuleerd: {title}"),
    }
    lines = {  # for the daily digest
        "activity_booked": _l("{title}: de leerkracht plande een gesprek voor {child}"),
        "activity_moved": _l("{title}: het gesprek voor {child} is verplaatst"),
        "activity_cancelled": _l("{title}: het gesprek voor {child} is geannuleerd"),
    }
    activity = booking.slot.activity
    for guardian in _guardians_of_booking(booking):
        notify(
            guardian, ACTIVITIES, subjects[template], template,
            line=lines[template],
            path=f"/activiteiten/{activity.id}",
            title=activity.title, user=guardian, student=booking.student, activity=activity,
            slot=booking.slot, child=booking.student.first_name,
        )


def _guardians_of_booking(booking: Booking) -> list[User]:
    if booking.guardian_id is not None:
        users = [db.session.get(User, booking.guardian_id)]
    else:
        users = [gs.user for gs in booking.student.guardianships]
    return [u for u in users if u is not None and u.is_active]


@dataclass
class SlotView:
    slot: Slot
    hint: str | None = None  # "sluit aan op uw gesprek voor Lotte om 15:20"
    clash: str | None = None  # "tegelijk met uw gesprek voor Lotte om 15:20"


def my_bookings(user: User) -> list[Booking]:
    """Every conference booking of this guardian's children that the guardian shares."""
    if not user.is_authenticated or not user.is_guardian:
        return []
    return list(
        db.session.scalars(
            select(Booking)
            .join(Guardianship, Guardianship.student_id == Booking.student_id)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Guardianship.user_id == user.id,
                (Booking.guardian_id.is_(None)) | (Booking.guardian_id == user.id),
            )
            .options(selectinload(Booking.slot), selectinload(Booking.student),
                     selectinload(Booking.activity))
            .order_by(Slot.starts_at)
        )
    )


def slot_views(user: User, activity: Activity, exclude: Booking | None = None) -> dict:
    """The round's slots by day, free ones marked when they sit next to the user's other talks."""
    gap = timedelta(minutes=current_app.config["ACTIVITIES_ADJACENT_MINUTES"])
    others = [b for b in my_bookings(user) if b is not exclude]
    days: dict[date, list[SlotView]] = defaultdict(list)
    for slot in activity.slots:
        view = SlotView(slot)
        if slot.is_free():
            for other in others:
                o = other.slot
                label = {"child": other.student.first_name, "time": hhmm(o.starts_at)}
                if slot.starts_at < o.ends_at and o.starts_at < slot.ends_at:
                    view.clash = _("tegelijk met uw gesprek voor %(child)s om %(time)s", **label)
                elif timedelta(0) <= slot.starts_at - o.ends_at <= gap or (
                    timedelta(0) <= o.starts_at - slot.ends_at <= gap
                ):
                    view.hint = _("sluit aan op uw gesprek voor %(child)s om %(time)s", **label)
        days[slot.starts_at.astimezone(school_tz()).date()].append(view)
    return dict(days)


@dataclass
class Missing:
    student: Student
    guardians: list[User] = field(default_factory=list)  # when separate: who has not booked


def not_booked(activity: Activity) -> list[Missing]:
    """Children (or, when separate, guardians) without a booking in this round."""
    booked = defaultdict(set)
    for b in db.session.scalars(select(Booking).where(Booking.activity_id == activity.id)):
        booked[b.student_id].add(b.guardian_id)
    separate = {s.student_id for s in activity.separate}
    result = []
    for student in participants(activity):
        if student.id in separate:
            missing = [gs.user for gs in student.guardianships
                       if gs.user_id not in booked[student.id]]
            if missing:
                result.append(Missing(student, missing))
        elif not booked[student.id]:
            result.append(Missing(student))
    return result


# -- volunteers -------------------------------------------------------------------


def sign_up(user: User, shift: Shift) -> SignUp:
    """Take a place. The conditional UPDATE takes the row lock: of two guardians who
    want the last place, the second waits, then finds the counter full."""
    _check_open(user, shift.activity)
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
    _check_open(user, signup.shift.activity)
    shift_id = signup.shift_id
    db.session.delete(signup)
    db.session.flush()
    db.session.execute(
        update(Shift).where(Shift.id == shift_id).values(taken=Shift.taken - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# -- materials ----------------------------------------------------------------------


def pledge(user: User, item: Item, quantity: int) -> Pledge | None:
    """Set how many of the item this guardian brings (0 takes the pledge back).

    The counter moves by the difference in one conditional UPDATE, so two
    guardians pledging the last ones at once cannot both succeed; the CHECK
    constraint (pledged <= needed) is the backstop.
    """
    _check_open(user, item.activity)
    mine = db.session.scalar(
        select(Pledge).where(Pledge.item_id == item.id, Pledge.user_id == user.id)
    )
    delta = quantity - (mine.quantity if mine else 0)
    if delta:
        moved = db.session.execute(
            update(Item)
            .where(Item.id == item.id, Item.pledged + delta <= Item.needed,
                   Item.pledged + delta >= 0)
            .values(pledged=Item.pledged + delta)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            db.session.rollback()
            db.session.refresh(item)
            room = item.remaining + (mine.quantity if mine else 0)
            if room <= 0:
                raise ActivityError(
                    _("Van %(item)s is al genoeg toegezegd. Dank u wel!", item=item.name)
                )
            raise ActivityError(
                ngettext("Er is nog %(num)s %(item)s nodig; meer toezeggen kan niet.",
                         "Er zijn nog %(num)s %(item)s nodig; meer toezeggen kan niet.",
                         room, item=item.name)
            )
    if quantity == 0:
        if mine is not None:
            db.session.delete(mine)
        mine = None
    elif mine is None:
        mine = Pledge(item_id=item.id, user_id=user.id, quantity=quantity)
        db.session.add(mine)
    else:
        mine.quantity = quantity
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ActivityError(
            _("Dat lukte niet tegelijk met een andere wijziging. Probeer het opnieuw.")
        ) from None
    return mine


# -- invitations --------------------------------------------------------------------


def respond(user: User, activity: Activity, student: Student, answer: Answer,
            people: int) -> Response:
    """The family's answer for this child; a second answer replaces the first."""
    _check_open(user, activity)
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


# -- overviews --------------------------------------------------------------------------


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
        missing = sum(1 for m in not_booked(activity) if not m.guardians)
        done = total - missing
        return Rate(done, total,
                    _("%(done)s van %(total)s kinderen ingepland", done=done, total=total))
    if activity.kind == ActivityKind.INVITATION:
        total = len(participants(activity))
        done = len(activity.responses)
        return Rate(done, total, _("%(done)s van %(total)s gezinnen hebben geantwoord",
                                   done=done, total=total))
    if activity.kind == ActivityKind.VOLUNTEER:
        total = sum(s.places for s in activity.shifts)
        done = sum(s.taken for s in activity.shifts)
        return Rate(done, total,
                    _("%(done)s van %(total)s plaatsen gevuld", done=done, total=total))
    total = sum(i.needed for i in activity.items)
    done = sum(i.pledged for i in activity.items)
    return Rate(done, total, _("%(done)s van %(total)s toegezegd", done=done, total=total))


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


def guardian_overview(user: User) -> tuple[list[tuple[Activity, str]], list[Mine]]:
    """(what is open for the guardian and why, what they signed up for)."""
    open_items: list[tuple[Activity, str]] = []
    mine: list[Mine] = []
    moment = now()
    for activity in visible_activities(user):
        children = children_in(user, activity)
        todo = None
        if activity.kind == ActivityKind.CONFERENCE:
            for child in children:
                party = user if is_separate(activity, child) else None
                b = booking_for(activity, child, party)
                if b is None:
                    todo = todo or _("Plan een gesprek voor %(child)s", child=child.first_name)
                elif b.slot.ends_at > moment:
                    mine.append(Mine(activity,
                                     _("Gesprek voor %(child)s: %(when)s",
                                       child=child.first_name, when=when(b.slot.starts_at)),
                                     "activities.booking_ics", {"booking_id": b.id},
                                     b.slot.starts_at))
        elif activity.kind == ActivityKind.INVITATION:
            answers = {r.student_id: r for r in activity.responses}
            for child in children:
                r = answers.get(child.id)
                if r is None:
                    todo = todo or _("Laat weten of u komt")
                elif activity.starts_at is None or activity.starts_at > moment:
                    ics = "activities.event_ics" if r.answer != Answer.NO else None
                    mine.append(Mine(activity, answer_text(r), ics,
                                     {"activity_id": activity.id}, activity.starts_at))
        elif activity.kind == ActivityKind.VOLUNTEER:
            taken = [s for s in activity.shifts for su in s.signups if su.user_id == user.id]
            for s in taken:
                signup = next(su for su in s.signups if su.user_id == user.id)
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
        if todo and is_open_for(user, activity):
            open_items.append((activity, todo))
        elif todo and not activity.is_closed():
            start = opens_for(user, activity)
            open_items.append((activity, _("Inschrijven kan vanaf %(when)s", when=when(start))))
    mine.sort(key=lambda m: (m.starts_at is None, m.starts_at or moment))
    return open_items, mine


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


def open_count(role: Role):
    """The count next to "Activiteiten", as a scalar subquery (one statement with the others).

    Guardians: what waits for their answer until its deadline: a conference round
    in which a child of theirs has no booking (their own one when the teacher
    allowed separate bookings), an invitation without an answer for a child.
    Volunteer calls and materials lists are optional and not counted (as in the
    reminder mails). Staff: the activities they manage that are open now.

    Built with the bind parameters user_id and now, the same for every user of the role.
    """
    in_groups = Activity.id.in_(
        select(activity_group.c.activity_id).where(
            activity_group.c.group_id.in_(policy.visible_groups_select(role))
        )
    )
    count = select(func.count()).select_from(Activity).where(in_groups, Activity.deadline > NOW)
    if role != Role.GUARDIAN:
        return count.where(
            or_(Activity.opens_at.is_(None), Activity.opens_at <= NOW)
        ).scalar_subquery()
    year = select(SchoolYear.id).where(SchoolYear.is_current).scalar_subquery()
    # The user's children in the activity's groups this year …
    children = (
        select(Membership.student_id)
        .join(Guardianship, Guardianship.student_id == Membership.student_id)
        .join(activity_group, activity_group.c.group_id == Membership.group_id)
        .where(
            Guardianship.user_id == USER_ID,
            Membership.school_year_id == year,
            activity_group.c.activity_id == Activity.id,
        )
    )
    # … one of whom has no answer, or no booking.
    unanswered = children.where(~exists(
        select(Response.id).where(
            Response.activity_id == Activity.id, Response.student_id == Membership.student_id
        ).correlate_except(Response)
    ))
    unbooked = children.where(~exists(
        select(Booking.id).where(
            Booking.activity_id == Activity.id,
            Booking.student_id == Membership.student_id,
            or_(Booking.guardian_id.is_(None), Booking.guardian_id == USER_ID),
        ).correlate_except(Booking)
    ))
    return count.where(or_(
        and_(Activity.kind == ActivityKind.INVITATION, exists(unanswered)),
        and_(Activity.kind == ActivityKind.CONFERENCE, exists(unbooked)),
    )).scalar_subquery()


def managed_activities(user: User) -> list[tuple[Activity, Rate]]:
    """A teacher's activities (an admin's: all of this year) with how far each has come."""
    return [(a, response_rate(a)) for a in visible_activities(user)
            if policy.can_manage_activity(user, a)]


# -- the group feed ---------------------------------------------------------------------


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
    activities = list(db.session.scalars(statement, values))
    _with_groups(activities)
    return activities


_GROUPS_OF = (
    select(activity_group.c.activity_id, Group)
    .join(Group, Group.id == activity_group.c.group_id)
    .where(activity_group.c.activity_id.in_(bindparam("ids", expanding=True)))
    .order_by(Group.grade, Group.name)
)


def _with_groups(activities: list[Activity]) -> None:
    if activities:
        rows = db.session.execute(_GROUPS_OF, {"ids": [a.id for a in activities]})
        set_loaded(activities, "groups", rows)


@functools.cache
def _feed_statement(newer: bool, not_after: bool):
    """Built once per shape (it is on every feed page), with bind parameters."""
    query = (
        select(Activity)
        .where(Activity.id.in_(
            select(Activity.id).join(Activity.groups)
            .where(Group.id.in_(bindparam("group_ids", expanding=True)))
        ))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(bindparam("limit"))
    )
    if newer:
        query = query.where(Activity.created_at > bindparam("newer_than", type_=UTCDateTime()))
    if not_after:
        query = query.where(Activity.created_at <= bindparam("not_after", type_=UTCDateTime()))
    return query
