"""Absence: sick reports and appointments and the reasons to choose from.

The days without school are in the calendar (models/calendar.py).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db
from .columns import ActorId, unique_where


class AbsenceKind(enum.StrEnum):
    SICK = "sick"  # a whole school day, today only
    APPOINTMENT = "appointment"  # a time range on a later school day, with a reason


class AbsenceReason(db.Model):
    """A reason for an appointment ("Huisarts", "Tandarts" ...), kept by the office.

    Sick is not a reason but a kind of its own. A reason that is no longer offered
    is hidden, never deleted, so older reports keep theirs.
    """

    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.name


class AbsenceReport(db.Model):
    """One child absent on one day: sick (all day) or an appointment (from–to).

    A withdrawn report stays, with who withdrew it and when.
    """

    __table_args__ = (
        # One sick report per child per day; a withdrawn one makes room for a new one.
        unique_where("uq_absence_report_sick_day", "student_id", "day",
                     where="kind = 'SICK' AND withdrawn_at IS NULL"),
        Index("ix_absence_report_day", "day"),
        Index("ix_absence_report_student_day", "student_id", "day"),
        CheckConstraint(
            "(kind = 'SICK' AND starts_at IS NULL AND ends_at IS NULL AND reason_id IS NULL)"
            " OR (kind = 'APPOINTMENT' AND starts_at < ends_at AND reason_id IS NOT NULL)",
            name="kind_fields",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    kind: Mapped[AbsenceKind] = mapped_column(Enum(AbsenceKind, native_enum=False, length=12))
    day: Mapped[date] = mapped_column(Date)
    # Wall-clock times at school; both empty for a sick day.
    starts_at: Mapped[time | None] = mapped_column(Time)
    ends_at: Mapped[time | None] = mapped_column(Time)
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("absence_reason.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[ActorId]
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Reported after the morning cut-off: the teacher may not have seen it before lessons.
    after_cutoff: Mapped[bool] = mapped_column(Boolean, default=False)
    # Phoned in and recorded by the office or a teacher (reported_by), not by a guardian.
    by_phone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A guardian's word to the teacher when withdrawing after the cut-off ("toch beter").
    withdrawn_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[ActorId]

    student: Mapped[Student] = relationship()  # noqa: F821
    reason: Mapped[AbsenceReason | None] = relationship()
    reported_by: Mapped[User | None] = relationship(  # noqa: F821
        foreign_keys="AbsenceReport.reported_by_id"
    )
    withdrawn_by: Mapped[User | None] = relationship(  # noqa: F821
        foreign_keys="AbsenceReport.withdrawn_by_id"
    )

    @property
    def is_sick(self) -> bool:
        return self.kind == AbsenceKind.SICK

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class AbsencePreference(db.Model):
    """A guardian's choice to get an email receipt for every report."""

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    email_receipt: Mapped[bool] = mapped_column(Boolean, default=False)

