"""Reports (meldingen) of posts and chat messages that break the code of conduct."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db
from .columns import ActorId

OPEN, HIDDEN, DISMISSED, RESTORED = "open", "hidden", "dismissed", "restored"


class Report(db.Model):
    """One user's report of one post or one message; the admin hides the item or dismisses."""

    __table_args__ = (
        CheckConstraint("(post_id IS NULL) != (message_id IS NULL)", name="one_item"),
        # Reporting the same thing twice is refused, also when two clicks race.
        UniqueConstraint("reporter_id", "post_id"),
        UniqueConstraint("reporter_id", "message_id"),
        Index("ix_report_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[ActorId] = mapped_column(index=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # OPEN, HIDDEN, DISMISSED; RESTORED: hidden, then shown again by an admin
    status: Mapped[str] = mapped_column(String(10), default=OPEN)
    answer: Mapped[str] = mapped_column(Text, default="")  # for the reporter
    # For the author, when hidden: a different text from the reporter's (who reported it
    # is never in it).
    author_answer: Mapped[str] = mapped_column(Text, default="", server_default="")
    handled_by_id: Mapped[ActorId]
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])  # noqa: F821
    handled_by: Mapped[User | None] = relationship(  # noqa: F821
        foreign_keys="Report.handled_by_id"
    )
    post: Mapped[Post | None] = relationship()  # noqa: F821
    message: Mapped[Message | None] = relationship()  # noqa: F821

    @property
    def item(self):
        return self.post if self.post_id is not None else self.message

    @property
    def is_open(self) -> bool:
        return self.status == OPEN
