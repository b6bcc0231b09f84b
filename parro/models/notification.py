"""E-mailberichten: each user's mail choice per category, and the daily digest.

No NotificationSetting row means the defaults (parro.notifications.DEFAULTS).
A NotificationItem waits for the user's next digest; the digest that took it is
recorded on it, so nothing is listed twice. One NotificationDigest per user per
(school-local) day, enforced by a unique constraint: two runs at once cannot both
send one.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db

MODES = ("direct", "digest", "off")


def _mode_column(default: str):
    return mapped_column(String(10), default=default)


class NotificationSetting(db.Model):
    __table_args__ = tuple(
        CheckConstraint(f"{column} IN ('direct', 'digest', 'off')", name=f"{column}_mode")
        for column in ("group_posts", "chat", "activities", "absence")
    ) + (
        # Important posts cannot be switched off, only sent at once or in the digest.
        CheckConstraint("important_posts IN ('direct', 'digest')", name="important_posts_mode"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    group_posts: Mapped[str] = _mode_column("digest")
    important_posts: Mapped[str] = _mode_column("direct")
    chat: Mapped[str] = _mode_column("direct")
    activities: Mapped[str] = _mode_column("direct")
    absence: Mapped[str] = _mode_column("direct")
    digest_time: Mapped[time] = mapped_column(Time, default=time(18, 0))  # school time zone
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


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
