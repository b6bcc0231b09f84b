"""Privacy preferences: what the school asks, what guardians answered, and the log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db
from .columns import ActorId, StudentId

# The topic that decides who may see photos in parro itself.
APP_PHOTOS = "app_photos"


class ConsentTopic(db.Model):
    """A question the school asks per child, e.g. "Foto's op de website"."""

    __table_args__ = (UniqueConstraint("school_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # APP_PHOTOS for the topic the app itself enforces; None for the others.
    key: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    @property
    def is_app_photos(self) -> bool:
        return self.key == APP_PHOTOS


class Consent(db.Model):
    """The current answer for one child and topic. No row means no consent."""

    __table_args__ = (UniqueConstraint("student_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("consent_topic.id", ondelete="CASCADE"), index=True
    )
    given: Mapped[bool] = mapped_column(Boolean)
    changed_by_id: Mapped[ActorId]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The school year in which a guardian last gave (or confirmed) this answer: the
    # yearly round asks again for every answer of an earlier year.
    school_year_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_year.id", ondelete="SET NULL")
    )

    topic: Mapped[ConsentTopic] = relationship()
    changed_by: Mapped[User | None] = relationship()  # noqa: F821


class ConsentChange(db.Model):
    """Every answer ever given: who, when, what."""

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[StudentId]
    topic_id: Mapped[int] = mapped_column(ForeignKey("consent_topic.id", ondelete="CASCADE"))
    given: Mapped[bool] = mapped_column(Boolean)
    changed_by_id: Mapped[ActorId]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    topic: Mapped[ConsentTopic] = relationship()
    changed_by: Mapped[User | None] = relationship()  # noqa: F821
