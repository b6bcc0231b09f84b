"""The activity planner: conference rounds, volunteer shifts, materials, invitations.

What users race for is held by the database itself:
- a slot is booked at most once (UNIQUE booking.slot_id);
- a child has one booking per round: one shared by all its guardians
  (partial UNIQUE index where guardian_id IS NULL), or one per guardian when
  the teacher allows separate bookings (UNIQUE activity, student, guardian);
- booking.activity_id, needed for those constraints, always matches its slot's
  activity (composite foreign key to slot(id, activity_id));
- a shift never has more sign-ups than places, and an item never more pledged
  than needed: a counter on the row, raised by one conditional UPDATE (whose row
  lock makes competitors wait their turn) and bounded by a CHECK constraint.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db
from .columns import ActorId, StudentId, UserId, owned, unique_where


class ActivityKind(enum.StrEnum):
    CONFERENCE = "conference"  # oudergesprekken
    VOLUNTEER = "volunteer"  # hulpouders
    MATERIALS = "materials"  # spullen
    INVITATION = "invitation"  # uitnodiging


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


activity_group = Table(
    "activity_group",
    db.metadata,
    Column(
        "activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "group_id", ForeignKey("school_group.id", ondelete="CASCADE"), primary_key=True,
        index=True,
    ),
)


class Activity(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(Enum(ActivityKind, native_enum=False, length=12))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    created_by_id: Mapped[ActorId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    # Guardians book, sign up, pledge or answer from opens_at (None: at once) until deadline.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    # Conferences: families with several children may book this many days before opens_at.
    early_days: Mapped[int] = mapped_column(Integer, default=0)
    slot_minutes: Mapped[int | None] = mapped_column(Integer)
    # Invitations: when the event takes place.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()  # noqa: F821
    groups: Mapped[list[Group]] = relationship(  # noqa: F821
        secondary=activity_group, order_by="Group.grade, Group.name"
    )
    slots: Mapped[list[Slot]] = owned(back_populates="activity", order_by="Slot.starts_at")
    shifts: Mapped[list[Shift]] = owned(back_populates="activity", order_by="Shift.position")
    items: Mapped[list[Item]] = owned(back_populates="activity", order_by="Item.position")
    responses: Mapped[list[Response]] = owned(back_populates="activity")
    separate: Mapped[list[SeparateBookings]] = owned()

    @property
    def is_conference(self) -> bool:
        return self.kind == ActivityKind.CONFERENCE

    def is_closed(self) -> bool:
        return now() >= self.deadline

    def has_opened(self) -> bool:
        return self.opens_at is None or now() >= self.opens_at

    def __str__(self) -> str:
        return self.title


class Slot(db.Model):
    """One conference time, booked by at most one family."""

    __table_args__ = (
        UniqueConstraint("activity_id", "starts_at"),
        # The target of booking's composite foreign key.
        UniqueConstraint("id", "activity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)  # a break, or taken out

    activity: Mapped[Activity] = relationship(back_populates="slots")
    # Joined on the composite key (id, activity_id): setting booking.slot fills both.
    booking: Mapped[Booking | None] = relationship(
        back_populates="slot", uselist=False, passive_deletes=True
    )

    def is_free(self) -> bool:
        return not self.blocked and self.booking is None


class Booking(db.Model):
    __table_args__ = (
        ForeignKeyConstraint(
            ["slot_id", "activity_id"], ["slot.id", "slot.activity_id"], ondelete="CASCADE"
        ),
        # One booking per child and guardian when the teacher allowed separate bookings …
        UniqueConstraint("activity_id", "student_id", "guardian_id"),
        # … and otherwise one per child, shared by its guardians.
        unique_where("uq_booking_family", "activity_id", "student_id", where="guardian_id IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    # A slot is never booked twice.
    slot_id: Mapped[int] = mapped_column(Integer, unique=True)
    student_id: Mapped[StudentId]
    # Set only for a separate booking: the one guardian it belongs to.
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE")
    )
    booked_by_id: Mapped[ActorId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE, +1 per move

    slot: Mapped[Slot] = relationship(back_populates="booking")
    activity: Mapped[Activity] = relationship(foreign_keys=[activity_id], viewonly=True)
    student: Mapped[Student] = relationship()  # noqa: F821
    guardian: Mapped[User | None] = relationship(foreign_keys=[guardian_id])  # noqa: F821
    booked_by: Mapped[User | None] = relationship(foreign_keys="Booking.booked_by_id")  # noqa: F821


class SeparateBookings(db.Model):
    """The teacher allowed each guardian of this child a booking of their own."""

    __table_args__ = (UniqueConstraint("activity_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))


class Shift(db.Model):
    """A volunteer task or shift with a number of places."""

    __table_args__ = (CheckConstraint("taken >= 0 AND taken <= places", name="places"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    places: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)  # = number of sign-ups

    activity: Mapped[Activity] = relationship(back_populates="shifts")
    signups: Mapped[list[SignUp]] = owned(back_populates="shift", order_by="SignUp.created_at")

    @property
    def remaining(self) -> int:
        return self.places - self.taken


class SignUp(db.Model):
    __table_args__ = (UniqueConstraint("shift_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id", ondelete="CASCADE"))
    user_id: Mapped[UserId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    shift: Mapped[Shift] = relationship(back_populates="signups")
    user: Mapped[User] = relationship()  # noqa: F821


class Item(db.Model):
    """Something the group needs a number of ("10 lege wc-rollen")."""

    __table_args__ = (CheckConstraint("pledged >= 0 AND pledged <= needed", name="pledged"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    needed: Mapped[int] = mapped_column(Integer)
    pledged: Mapped[int] = mapped_column(Integer, default=0)  # = sum of the pledges

    activity: Mapped[Activity] = relationship(back_populates="items")
    pledges: Mapped[list[Pledge]] = owned(back_populates="item", order_by="Pledge.created_at")

    @property
    def remaining(self) -> int:
        return self.needed - self.pledged


class Pledge(db.Model):
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    user_id: Mapped[UserId]
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    item: Mapped[Item] = relationship(back_populates="pledges")
    user: Mapped[User] = relationship()  # noqa: F821


class Response(db.Model):
    """A family's answer to an invitation, one per child, shared by its guardians."""

    __table_args__ = (
        UniqueConstraint("activity_id", "student_id"),
        CheckConstraint("people >= 0", name="people"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    student_id: Mapped[StudentId]
    answer: Mapped[Answer] = mapped_column(Enum(Answer, native_enum=False, length=5))
    people: Mapped[int] = mapped_column(Integer, default=0)
    answered_by_id: Mapped[ActorId]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    activity: Mapped[Activity] = relationship(back_populates="responses")
    student: Mapped[Student] = relationship()  # noqa: F821
    answered_by: Mapped[User | None] = relationship()  # noqa: F821


class CalendarFeed(db.Model):
    """A user's private calendar subscription.

    The secret in the URL is derived from the app's secret key and the nonce,
    so the page can show it again; the database keeps only its hash, which is
    what the URL is looked up by. Deleting the row revokes the URL.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), unique=True
    )
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    user: Mapped[User] = relationship()  # noqa: F821


class ActivityReminder(db.Model):
    """A reminder mail that went out, so the daily command never sends it twice."""

    __table_args__ = (UniqueConstraint("kind", "activity_id", "user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "deadline" or "day_before"
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
