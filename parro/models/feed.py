"""Group posts, their files, likes, read receipts and school-wide announcements."""

from __future__ import annotations

from collections.abc import Set
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..database import UTCDateTime, Versioned
from ..extensions import db
from .columns import ActorId, StudentId, UserId, owned
from .school import Group


class PostFacts(Protocol):
    """What the policy decides a post's rules on (parro/policy.py, can_see_post and the
    others): a Post, or the feed page's read model of one (parro/feed/queries.py, FeedCard)."""

    @property
    def id(self) -> int: ...
    @property
    def author_id(self) -> int | None: ...
    @property
    def group_ids(self) -> Set[int]: ...
    @property
    def is_hidden(self) -> bool: ...
    def is_published(self) -> bool: ...


class PostRules:
    """A post's rules that need only its own columns (`publish_at`, `hidden_at`) and its
    `attachments`: shared by Post and the feed page's read model of a post
    (parro/feed/queries.py, FeedCard), so that both answer alike."""

    __slots__ = ()

    def is_published(self) -> bool:
        return self.publish_at <= now()

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def photos(self) -> list:
        return [a for a in self.attachments if a.kind == "photo"]

    @property
    def files(self) -> list:
        return [a for a in self.attachments if a.kind != "photo"]


class Post(PostRules, Versioned, db.Model):
    """A groepsbericht, for one or more groups; visible from `publish_at` on."""

    __table_args__ = (Index("ix_post_feed_order", "publish_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[ActorId] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(150), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Now for an ordinary post, later for a scheduled one; the feed orders by it.
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # When the guardians were told (parro.notifications); None while that is still due.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hidden by the school after a report (moderation): kept, but shown to nobody.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[ActorId]

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])  # noqa: F821
    post_groups: Mapped[list[PostGroup]] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )
    groups: Mapped[list[Group]] = relationship(
        secondary="post_group", viewonly=True, order_by="Group.grade, Group.name"
    )
    attachments: Mapped[list[Attachment]] = owned(
        back_populates="post", order_by="Attachment.position"
    )
    likes: Mapped[list[Like]] = owned()

    @property
    def group_ids(self) -> set[int]:
        return {pg.group_id for pg in self.post_groups}

    @property
    def group_list(self) -> list[Group]:
        """Its groups, youngest first, from post_groups (one_post loads them with their groups)."""
        return sorted((pg.group for pg in self.post_groups), key=Group.school_order)


class PostGroup(db.Model):
    __table_args__ = (
        UniqueConstraint("post_id", "group_id"),
        Index("ix_post_group_group_post", "group_id", "post_id"),
        # A group's newest posts straight from the index (the feed's first query).
        Index("ix_post_group_feed", "group_id", "publish_at", "post_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("school_group.id", ondelete="CASCADE"))
    # The post's publish_at, copied here for the index above (changed together, while
    # a scheduled post is rescheduled: feed.service.edit_post).
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship(back_populates="post_groups")
    group: Mapped[Group] = relationship()


class StoredFile:
    """The files of one processed upload (media.pipeline), as Attachment and PendingUpload
    keep them: named after `key` (random, made by the server) under MEDIA_PATH."""

    FIELDS = ("key", "kind", "filename", "content_type", "size", "width", "height", "digest",
              "has_original")

    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # photo, video, document
    filename: Mapped[str] = mapped_column(String(150))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # A photo's stored files' content hash (media.pipeline): in its URLs, which a browser
    # may then keep; None for a photo stored before the WebP sizes (flask media variants).
    digest: Mapped[str | None] = mapped_column(String(16))
    has_original: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def is_photo(self) -> bool:
        return self.kind == "photo"

    @classmethod
    def fields_of(cls, item) -> dict:
        """The stored files' fields of `item` (a media.Staged or another StoredFile)."""
        return {name: getattr(item, name) for name in cls.FIELDS}


class Attachment(StoredFile, Versioned, db.Model):
    """A stored file of a post or an announcement; the name the user gave is kept only to
    offer it back on download."""

    __table_args__ = (
        CheckConstraint(
            "(post_id IS NULL) != (announcement_id IS NULL)", name="one_owner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    announcement_id: Mapped[int | None] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # What the photo shows, for who cannot see it (the img's alt text); "" for the default.
    description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    post: Mapped[Post | None] = relationship(back_populates="attachments")
    announcement: Mapped[Announcement | None] = relationship(back_populates="attachments")
    tags: Mapped[list[PhotoTag]] = owned(back_populates="attachment")


class PendingUpload(StoredFile, db.Model):
    """A file of a post that the server refused (no consent, a too-long text, no group),
    kept for its uploader so they need not choose it again; processed like any upload.

    Only its uploader may see it (media.pending); posting turns it into an Attachment
    with the same key and files. Unused ones expire after PENDING_UPLOAD_HOURS: the
    retention run removes them, and nothing serves or uses them after that.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    uploader_id: Mapped[UserId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


class PhotoTag(db.Model):
    """A student who is in a photo; their consent decides who may see it."""

    __table_args__ = (UniqueConstraint("attachment_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id", ondelete="CASCADE"))
    student_id: Mapped[StudentId]

    attachment: Mapped[Attachment] = relationship(back_populates="tags")
    student: Mapped[Student] = relationship()  # noqa: F821


class Like(db.Model):
    __tablename__ = "post_like"  # LIKE is an SQL keyword
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    user_id: Mapped[UserId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    user: Mapped[User] = relationship()  # noqa: F821


class ReadReceipt(db.Model):
    """A guardian had the post on screen; families are derived from these."""

    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    user_id: Mapped[UserId]
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class GroupSeen(db.Model):
    """When this user last opened this group's feed: newer posts count as new for them.

    Kept on the server, so reading on one device clears the count on the others.
    """

    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), index=True
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Announcement(db.Model):
    """A schoolbrede mededeling, pinned above the group posts until `ends_on`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[ActorId]
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text, default="")
    all_groups: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    author: Mapped[User | None] = relationship()  # noqa: F821
    school: Mapped[School] = relationship()  # noqa: F821
    announcement_groups: Mapped[list[AnnouncementGroup]] = owned()
    groups: Mapped[list[Group]] = relationship(
        secondary="announcement_group", viewonly=True, order_by="Group.grade, Group.name"
    )
    attachments: Mapped[list[Attachment]] = owned(
        back_populates="announcement", order_by="Attachment.position"
    )


class AnnouncementGroup(db.Model):
    __table_args__ = (UniqueConstraint("announcement_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE")
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("school_group.id", ondelete="CASCADE"), index=True
    )


class AnnouncementDismissal(db.Model):
    """Someone closed the announcement; it is no longer pinned for them."""

    __table_args__ = (UniqueConstraint("announcement_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE")
    )
    user_id: Mapped[UserId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

