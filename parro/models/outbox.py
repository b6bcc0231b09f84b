"""Mail waiting to be delivered, written in the transaction that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db


class Delivery:
    """A row an outbox sender delivers (OutboxMail, PushMessage): when it is due, which
    sender has claimed it, and how its attempts went; these columns come last in both."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # A sender owns a row until this moment; another sender takes over after it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # gave up
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxMail(Delivery, db.Model):
    __table_args__ = (Index("ix_outbox_mail_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Headers of this mail alone, e.g. {"List-Unsubscribe": "<https://…>"}.
    headers: Mapped[dict | None] = mapped_column(JSON)
