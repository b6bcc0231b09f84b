"""Gesprekken: conversations, their messages, who read what, and staff availability.

Who belongs to a kindgesprek is not stored: it is computed from the current data
(the child's guardians, the teachers of the child's group this school year; see
policy.conversation_member_clause), so a new guardian, a teacher change or the
yearly rollover is followed without anything to keep in sync. Only the members of
a chat that a staff member started are rows (Participant).
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
from ..database import UTCDateTime, Versioned
from ..extensions import db
from .columns import ActorId, UserId


class ConversationKind(enum.StrEnum):
    CHILD = "child"  # the kindgesprek: one per student
    GROUP = "group"  # a chat a staff member started with chosen guardians
    OFFICE = "office"  # a guardian writes to the office (administratie): every admin reads it


class Conversation(db.Model):
    __table_args__ = (
        CheckConstraint("(kind = 'child') = (student_id IS NOT NULL)", name="child_has_student"),
        # Office conversations found without a scan: all of them (an admin's list and
        # counts), a guardian's own (policy.member_conversation_ids).
        Index("ix_conversation_kind_created_by_id", "kind", "created_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The school it belongs to: the child's, the group's, or the office written to.
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConversationKind] = mapped_column(
        Enum(
            ConversationKind,
            native_enum=False,
            length=10,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    # One kindgesprek per student: two people opening it at once get the same one.
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), unique=True
    )
    # Office conversations: one per guardian and subject, the child or the family (None).
    # office_key ("<guardian id>:<child id or 'gezin'>") makes a second one impossible.
    about_student_id: Mapped[int | None] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), index=True
    )
    office_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    created_by_id: Mapped[ActorId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Bumped under a row lock by every new, edited or deleted message: a poll
    # compares it with what the browser has and usually stops there.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    last_message_id: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    student: Mapped[Student | None] = relationship(foreign_keys=[student_id])  # noqa: F821
    about_student: Mapped[Student | None] = relationship(  # noqa: F821
        foreign_keys=[about_student_id]
    )
    created_by: Mapped[User | None] = relationship()  # noqa: F821
    participants: Mapped[list[Participant]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan"
    )

    @property
    def is_child(self) -> bool:
        return self.kind == ConversationKind.CHILD

    @property
    def is_office(self) -> bool:
        return self.kind == ConversationKind.OFFICE

    @staticmethod
    def office_key_for(guardian_id: int, student_id: int | None, school_id: int) -> str:
        """One per guardian and child, or per guardian and school for the family."""
        return f"{guardian_id}:{student_id}" if student_id is not None else \
            f"{guardian_id}:gezin:{school_id}"


class Participant(db.Model):
    """A member of a staff-started chat (kindgesprekken compute theirs)."""

    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE")
    )
    user_id: Mapped[UserId]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    conversation: Mapped[Conversation] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()  # noqa: F821


class Message(Versioned, db.Model):
    __table_args__ = (
        Index("ix_message_conversation_id_id", "conversation_id", "id"),
        Index("ix_message_conversation_id_revision", "conversation_id", "revision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE")
    )
    author_id: Mapped[ActorId] = mapped_column(index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The conversation's revision when this message last changed.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # Hidden by the school after a report: the others see a placeholder in its place.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[ActorId]
    # Sent by an admin in an office conversation: guardians see "De administratie", staff
    # also the name; author_id keeps who it was (also when the account is deleted later).
    as_office: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    conversation: Mapped[Conversation] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])  # noqa: F821
    attachments: Mapped[list[MessageAttachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="MessageAttachment.id"
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class MessageAttachment(Versioned, db.Model):
    """A photo or PDF sent with a message; stored by parro.media like the feed's files.

    The files live under MEDIA_PATH, named after `key` (random, made by the server);
    the name the user gave is kept (cleaned) only to show and offer on download.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # media.PHOTO or media.DOCUMENT
    filename: Mapped[str] = mapped_column(String(150))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    digest: Mapped[str | None] = mapped_column(String(16))  # as Attachment.digest

    message: Mapped[Message] = relationship(back_populates="attachments")


class ReadState(db.Model):
    """How far one member has read in one conversation, and been mailed about."""

    __tablename__ = "conversation_read"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_message_id: Mapped[int] = mapped_column(Integer, default=0)
    # The newest message this member got an email about (digest or notice): never twice.
    notified_message_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    user: Mapped[User] = relationship()  # noqa: F821


class Availability(db.Model):
    """When a staff member reads chats. No row means the school's default hours."""

    __tablename__ = "staff_availability"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    # ISO weekday numbers, "12345" is Monday to Friday.
    weekdays: Mapped[str] = mapped_column(String(7))
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    chat_off: Mapped[bool] = mapped_column(Boolean, default=False)
    off_message: Mapped[str] = mapped_column(String(300), default="")
    off_until: Mapped[date | None] = mapped_column(Date)  # chat is on again the day after
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    user: Mapped[User] = relationship()  # noqa: F821

    @property
    def days(self) -> set[int]:
        return {int(c) for c in self.weekdays}

