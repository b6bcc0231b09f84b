"""Meldingen: each user's channels per category, and the daily digest.

Per category a NotificationChoice: push to the user's phones on or off, and mail
at once ("direct"), in the daily digest or not at all. No row for a category
means its default (parro.notifications.DEFAULTS); no NotificationSetting row
means the default digest time.

A NotificationItem waits for the user's next digest; the digest that took it is
recorded on it, so nothing is listed twice; it names the school it is about. One
NotificationDigest per user per (school-local) day, enforced by a unique constraint:
two runs at once cannot both send one.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db
from .columns import UserId


class NotificationSetting(db.Model):
    """What holds for all of a user's categories: the digest time and a parent's quiet hours."""

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    digest_time: Mapped[time] = mapped_column(Time, default=time(18, 0))  # school time zone
    # Quiet hours (parents; staff have working hours): only important posts buzz from
    # quiet_from until quiet_until, school time zone; quiet_from > quiet_until spans midnight.
    quiet: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_from: Mapped[time] = mapped_column(Time, default=time(21, 0))
    quiet_until: Mapped[time] = mapped_column(Time, default=time(7, 0))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class NotificationChoice(db.Model):
    """How one user hears about one category: push on or off, and the mail."""

    __table_args__ = (
        CheckConstraint("mail IN ('direct', 'digest', 'off')", name="mail_mode"),
        # Important posts always reach the user by at least one channel.
        CheckConstraint("category != 'important_posts' OR push OR mail != 'off'",
                        name="important_posts_reach"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    push: Mapped[bool] = mapped_column(Boolean, default=False)
    mail: Mapped[str] = mapped_column(String(10), default="direct")


class NotificationDigest(db.Model):
    """The digest mail a user got on one day (school time zone)."""

    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class NotificationItem(db.Model):
    """One line for a user's next digest; digest_id is set when a digest listed it."""

    __table_args__ = (Index("ix_notification_item_pending", "user_id", "digest_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300))  # already in the user's language
    path: Mapped[str] = mapped_column(String(300), default="")
    # A deleted post takes its lines with it.
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_digest.id", ondelete="SET NULL")
    )
    # The school the line is about (the post's, the child's, the activity's): a school's
    # snapshot (parro.school_backup) takes that school's lines, never those of a family's
    # other school. None only for a line from before migration digest01 whose school was
    # not known then.
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), index=True
    )


class PushHeld(db.Model):
    """A push that arrived outside the user's hours (parro.push_hours): it waits, with the
    others, for one summary push at due_at. The summary deletes the rows it tells about."""

    __table_args__ = (Index("ix_push_held_due", "due_at", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[UserId]
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))  # already in the user's language
    url: Mapped[str] = mapped_column(String(300), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
