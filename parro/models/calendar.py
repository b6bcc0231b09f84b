"""The school's year calendar: holidays, study days and events, for all groups or some."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime, Versioned
from ..extensions import db
from .columns import ActorId


class CalendarKind(enum.StrEnum):
    HOLIDAY = "holiday"  # vakantie or vrije dag: the school is closed
    STUDY_DAY = "study_day"  # studiedag: no school for the children, the staff work
    EVENT = "event"  # sportdag, kerstviering, schoolreis: a day with school

    @property
    def no_school(self) -> bool:
        return self is not CalendarKind.EVENT


class CalendarItem(Versioned, db.Model):
    """One entry of the jaarkalender, on one day or a range of days (both inclusive).

    Without groups it is for the whole school. A holiday or study day is a day
    without school for its groups: the absence rules and the conference planner
    read these (parro.calendar.days), there is no other list of closed days.

    Its version (database.Versioned) is in the key of the cached block of coming items
    above the feed; a change of its groups raises it too (calendar.service._set_groups).
    """

    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="range"),
        CheckConstraint("(starts_at IS NULL) = (ends_at IS NULL)", name="times_together"),
        CheckConstraint(
            "starts_at IS NULL OR starts_on < ends_on OR starts_at < ends_at", name="time_order"
        ),
        # Re-importing the same .ics file updates its items instead of adding them again.
        UniqueConstraint("school_id", "uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    kind: Mapped[CalendarKind] = mapped_column(Enum(CalendarKind, native_enum=False, length=12))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    # Wall-clock times at school; both empty for an all-day item.
    starts_at: Mapped[time | None] = mapped_column(Time)
    ends_at: Mapped[time | None] = mapped_column(Time)
    # The UID of the imported .ics event; None for items entered by hand.
    uid: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[ActorId]

    groups: Mapped[list[Group]] = relationship(  # noqa: F821
        secondary="calendar_item_group", order_by="Group.grade, Group.name"
    )

    @property
    def no_school(self) -> bool:
        return self.kind.no_school

    @property
    def all_day(self) -> bool:
        return self.starts_at is None

    @property
    def is_one_day(self) -> bool:
        return self.starts_on == self.ends_on

    def applies_to(self, group_id: int | None) -> bool:
        """Whether the item holds for this group (None: a child or page without a group)."""
        return not self.groups or any(g.id == group_id for g in self.groups)


class CalendarItemGroup(db.Model):
    item_id: Mapped[int] = mapped_column(
        ForeignKey("calendar_item.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), primary_key=True, index=True
    )
