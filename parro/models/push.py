"""Web Push: the phones (browsers) a user gets notifications on, and the pushes waiting for them.

A PushSubscription is what a browser's PushManager gave us: the push service's
endpoint and the keys a payload is encrypted with (RFC 8291). It belongs to one
user and to the login (UserSession) it was made in: when that login ends (logging
out on the device, "log out everywhere", a password change) the subscription goes
with it, so a shared tablet stops getting the previous user's pushes.

A PushMessage is one push to one device, written in the transaction of its cause
(a post, a chat message) and delivered by the outbox sender (parro.push).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db
from .columns import UserId
from .outbox import Delivery


class PushSubscription(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[UserId]
    session_id: Mapped[int] = mapped_column(
        ForeignKey("user_session.id", ondelete="CASCADE"), index=True
    )
    # The push service's URL for this browser: unique, one device is one row.
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # the browser's public key, base64url
    auth: Mapped[str] = mapped_column(String(50))  # the shared auth secret, base64url
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()  # noqa: F821


class PushMessage(Delivery, db.Model):
    """One push to one device: the outbox row the sender delivers, retries and claims."""

    __table_args__ = (Index("ix_push_message_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("push_subscription.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(20))
    # What the service worker shows: {"title", "body", "url", "tag", "badge"}; never a photo.
    payload: Mapped[dict] = mapped_column(JSON)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")  # RFC 8030 5.3
    ttl: Mapped[int] = mapped_column(Integer, default=86400)  # seconds the service keeps it

    subscription: Mapped[PushSubscription] = relationship()
