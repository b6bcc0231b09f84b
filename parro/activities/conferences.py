"""Parent-teacher conferences: planning a round's slots, and booking, moving, cancelling them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, inspect, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import policy
from ..clock import now, school_tz
from ..database import end_reads, keeping_loaded, writer_transactions
from ..extensions import db
from ..models import (
    Activity,
    ActivityKind,
    Booking,
    Guardianship,
    SeparateBookings,
    Slot,
    Student,
    TeacherAssignment,
    User,
)
from ..notifications import ACTIVITIES, notify
from ..sql import USER_ID, prebuilt
from .common import (
    ActivityError,
    PlanError,
    check_open,
    hhmm,
    local,
    new_activity,
    participants,
    when,
)

# -- planning a round --------------------------------------------------------------------


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
            if length % minutes and not d.breaks:
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
                raise PlanError(message, "end", row)
            # With breaks, each is fitted to the talks: it starts when the last whole talk
            # before it ends, and the talks after it start when it ends (they shift).
            for n in range(length // minutes):
                t = _plus(a, n * minutes)
                slots.append((local(d.day, t), local(d.day, _plus(t, minutes))))
    for row, d in enumerate(days):
        for other_row, o in enumerate(days[:row]):
            if o.day == d.day and d.start < o.end and o.start < d.end:
                raise PlanError(
                    _("Deze tijden overlappen met dag %(n)s (%(start)s–%(end)s op dezelfde datum).",
                      n=other_row + 1, start=f"{o.start:%H:%M}", end=f"{o.end:%H:%M}"),
                    "start", row,
                )
    if not slots:  # breaks that leave no room for a single talk
        raise PlanError(_("Tussen de pauzes past geen gesprek van %(n)s minuten.", n=minutes),
                        "breaks", 0)
    if len(slots) > current_app.config["ACTIVITIES_MAX_SLOTS"]:
        raise PlanError(
            _("Dat zijn %(n)s gesprekken; meer dan %(max)s in één ronde kan niet.",
              n=len(slots), max=current_app.config["ACTIVITIES_MAX_SLOTS"]),
            "slot_minutes",
        )
    return sorted(slots)


def create_conference(user, groups, *, days: list[Day], **fields) -> Activity:
    """fields: the round's title, description, location, deadline, opens_at, early_days
    and slot_minutes."""
    activity = new_activity(user, ActivityKind.CONFERENCE, groups, **fields)
    activity.slots = [Slot(starts_at=a, ends_at=b)
                      for a, b in plan_slots(days, activity.slot_minutes)]
    activity.starts_at = activity.slots[0].starts_at
    activity.ends_at = activity.slots[-1].ends_at
    db.session.commit()
    return activity


# -- bookings ----------------------------------------------------------------------------


def slot_taken_message() -> str:
    return _("Dit tijdstip is net door iemand anders gekozen. Kies een ander tijdstip.")


def is_separate(activity: Activity, student: Student) -> bool:
    """Does each guardian of the child book on their own (activity.separate, loaded with it)?"""
    return any(row.student_id == student.id for row in activity.separate)


@prebuilt
def _slots_with_bookings():
    return (
        select(Slot, Booking)
        .outerjoin(Booking, Booking.slot_id == Slot.id)
        .where(Slot.activity_id == bindparam("activity_id"))
        .order_by(Slot.starts_at)
    )


def load_slots(activity: Activity) -> list[Slot]:
    """The round's slots, each with its booking or None, in one statement (a selectinload
    of slots and bookings is two, and builds its statement anew every time).

    The guardian's page and a booking need no more: who booked is the teacher's to see
    (common.preload). Nothing is read again while they stay loaded in this transaction.
    """
    if "slots" not in inspect(activity).unloaded:
        slots = activity.slots
        if all("booking" not in inspect(slot).unloaded for slot in slots):
            return slots
    slots = []
    for slot, booking in db.session.execute(_slots_with_bookings(), {"activity_id": activity.id}):
        set_committed_value(slot, "booking", booking)
        if booking is not None:
            set_committed_value(booking, "slot", slot)
        slots.append(slot)
    set_committed_value(activity, "slots", slots)
    return slots


def booking_in(activity: Activity, student: Student, guardian: User | None) -> Booking | None:
    """booking_for() from the slots as loaded (load_slots): no statement of its own."""
    guardian_id = guardian.id if guardian is not None else None
    for slot in load_slots(activity):
        booking = slot.booking
        if booking is not None and (booking.student_id, booking.guardian_id) == (
                student.id, guardian_id):
            return booking
    return None


def booking_for(activity: Activity, student: Student, guardian: User | None) -> Booking | None:
    """The child's booking in this round (the guardian's own one when separate)."""
    guardian_id = guardian.id if guardian is not None else None  # None: IS NULL
    return db.session.scalar(select(Booking).where(
        Booking.activity_id == activity.id, Booking.student_id == student.id,
        Booking.guardian_id == guardian_id))


def _party(user: User, activity: Activity, student: Student, guardian: User | None):
    """Whose booking this is: None for the whole family, or one guardian when separate."""
    if not is_separate(activity, student):
        return None
    if student.id in policy.own_children_ids(user):
        return user
    if guardian is None or not policy.is_guardian_of(guardian, student):
        raise ActivityError(
            _("Voor %(child)s mag elke ouder zich apart inschrijven: kies voor welke ouder dit "
              "gesprek is.",
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


def family_clash(student: Student, party: User | None, slot: Slot,
                 keep: Booking | None = None) -> Booking | None:
    """A conference of the family (the child's guardians, or `party` alone when each parent
    books apart) at the same time as `slot`, in any round: a brother's or sister's, say."""
    guardian_ids = (select(literal(party.id)) if party else
                    select(Guardianship.user_id).where(Guardianship.student_id == student.id))
    children = select(Guardianship.student_id).where(Guardianship.user_id.in_(guardian_ids))
    query = (  # one statement
        select(Booking).join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.student_id.in_(children),
               Booking.guardian_id.is_(None) | Booking.guardian_id.in_(guardian_ids),
               Slot.starts_at < slot.ends_at, slot.starts_at < Slot.ends_at)
        .options(joinedload(Booking.student), contains_eager(Booking.slot))
        .order_by(Slot.starts_at).limit(1)
    )
    if keep is not None:
        query = query.where(Booking.id != keep.id)
    return db.session.scalar(query)


def _check_family(student: Student, party: User | None, slot: Slot,
                  keep: Booking | None = None) -> None:
    other = family_clash(student, party, slot, keep)
    if other is not None:
        raise ActivityError(_(
            "Op dit tijdstip is er al een gesprek voor %(child)s (%(when)s). Twee gesprekken "
            "tegelijk gaat niet: kies een ander tijdstip.",
            child=other.student.first_name, when=when(other.slot.starts_at)))


def book(user: User, slot: Slot, student: Student, guardian: User | None = None) -> Booking:
    """Book the slot for the child; the policy has said the user may.

    Checked from what the request read (load_slots), then written in a writer's
    transaction of its own (the booking view reads first, database.reads_first): a
    refused booking, the usual answer when a round opens, never waits for or holds
    SQLite's write lock. A family that was faster in between is caught by the
    database's unique constraints (one booking per slot, one per child or guardian).
    """
    activity = slot.activity
    check_open(user, activity)
    party = _party(user, activity, student, guardian)
    existing = booking_in(activity, student, party)
    if existing is not None:
        raise ActivityError(_already_booked(student, existing))
    _check_slot(slot)
    _check_family(student, party, slot)
    for_family = student.id not in policy.own_children_ids(user)
    end_reads(db.session())
    try:
        with writer_transactions():
            booking = Booking(
                slot=slot, student=student, guardian_id=party.id if party else None,
                booked_by_id=user.id,
            )
            db.session.add(booking)
            db.session.flush()
            if for_family:
                _notify(booking, "activity_booked")
            # The confirmation shows the slot's time and the child's name: keep them loaded.
            with keeping_loaded(db.session()):
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
    check_open(user, booking.activity)
    if slot.id == booking.slot_id:
        return booking
    _check_slot(slot, keep=booking)
    party = db.session.get(User, booking.guardian_id) if booking.guardian_id else None
    _check_family(booking.student, party, slot, keep=booking)
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
    check_open(user, booking.activity)
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
    for guardian in guardians_of_booking(booking):
        notify(
            guardian, ACTIVITIES, subjects[template], template,
            line=lines[template],
            path=f"/activiteiten/{activity.id}",
            title=activity.title, user=guardian, student=booking.student, activity=activity,
            slot=booking.slot, child=booking.student.first_name,
        )


def guardians_of_booking(booking: Booking) -> list[User]:
    if booking.guardian_id is not None:
        users = [db.session.get(User, booking.guardian_id)]
    else:
        users = [gs.user for gs in booking.student.guardianships]
    return [u for u in users if u is not None and u.is_active]


# -- the round as a guardian and a teacher see it ----------------------------------------


@dataclass
class SlotView:
    slot: Slot
    time: str = ""  # "15:20" at school
    bookable: bool = False  # free and still to come
    label: str = ""  # "Kies 15:20", when bookable
    hint: str | None = None  # "sluit aan op uw gesprek voor Lotte om 15:20"
    clash: str | None = None  # "tegelijk met uw gesprek voor Lotte om 15:20": not to choose


def my_bookings(user: User) -> list[Booking]:
    """Every conference booking of this guardian's children that the guardian shares."""
    if not user.is_authenticated or not user.is_guardian:
        return []
    return list(db.session.scalars(_my_bookings(), {"user_id": user.id}))


@prebuilt
def _my_bookings():
    # One statement with the slot, child and round of each booking (selectinloads were
    # three more, and built anew on every page).
    return (
        select(Booking)
        .join(Guardianship, Guardianship.student_id == Booking.student_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Guardianship.user_id == USER_ID,
            (Booking.guardian_id.is_(None)) | (Booking.guardian_id == USER_ID),
        )
        .options(contains_eager(Booking.slot), joinedload(Booking.student),
                 joinedload(Booking.activity))
        .order_by(Slot.starts_at)
    )


def slot_views(user: User, activity: Activity) -> dict:
    """The round's slots by day; a free one "sluit aan" when it touches one of the family's
    other conferences (ends as it begins, or begins as it ends), and is not to be chosen
    when it is at the same time as one (book and move refuse it too)."""
    others = my_bookings(user)
    days: dict[date, list[SlotView]] = defaultdict(list)
    # Worked out once for all slots (a round has up to 400; each filter, format and
    # translation in the template cost more than the rest of the page).
    moment, tz, choose = now(), school_tz(), _("Kies %(time)s")
    for slot in activity.slots:
        start = slot.starts_at.astimezone(tz)
        view = SlotView(slot, time=start.strftime("%H:%M"))
        if slot.is_free():
            view.bookable = slot.starts_at > moment
            view.label = choose % {"time": view.time}
            for other in others:
                o = other.slot
                label = {"child": other.student.first_name, "time": hhmm(o.starts_at)}
                if slot.starts_at < o.ends_at and o.starts_at < slot.ends_at:
                    view.clash = _("tegelijk met uw gesprek voor %(child)s om %(time)s", **label)
                elif slot.starts_at == o.ends_at or slot.ends_at == o.starts_at:
                    view.hint = _("sluit aan op uw gesprek voor %(child)s om %(time)s", **label)
        days[start.date()].append(view)
    return dict(days)


def teachers_of(activity: Activity) -> list[str]:
    """Who holds the conferences: the names of the round's groups' teachers (one statement)."""
    group_ids = [g.id for g in activity.groups]
    if not group_ids:
        return []
    return sorted(set(db.session.scalars(
        select(User.name).join(TeacherAssignment, TeacherAssignment.user_id == User.id)
        .where(TeacherAssignment.group_id.in_(group_ids), User.active, User.name != "")
    )))


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
