"""Retention: remove what is older than the configured number of school years.

With RETENTION_YEARS = N the current school year and the N-1 school years
before it are kept (the SchoolYear rows, ordered by their start). Everything
dated before the first day of the oldest kept year (the cut-off, midnight in
the school's time zone) is removed. Without a current year, the latest year
that has started counts as current. While there are not yet N years up to the
current one, nothing is removed.

Removed, each kind in batches of its own transactions (files after each
batch's commit): posts (by publication moment) with their files, likes and
read marks; announcements that ended; chat messages with their files, and
conversations left empty; absence reports; activities that were over (deadline,
event and every slot and shift) with their bookings, sign-ups, pledges and
answers; the consent history of children who left (in no kept year); outbox
mail; sessions last used, and login attempts, before the cut-off; audit events.
Besides, on every run, whatever the years: the files kept from refused posts
(PendingUpload) older than PENDING_UPLOAD_HOURS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import and_, delete, exists, func, not_, or_, select

from . import audit, media, policy
from .clock import school_tz, today
from .extensions import db
from .models import (
    AbsenceReport,
    Activity,
    Announcement,
    Attachment,
    AuditEvent,
    Booking,
    ConsentChange,
    Conversation,
    Item,
    LoginEvent,
    Membership,
    Message,
    MessageAttachment,
    NotificationDigest,
    NotificationItem,
    OutboxMail,
    PendingUpload,
    Pledge,
    Post,
    Response,
    SchoolYear,
    Shift,
    SignUp,
    Slot,
    UserSession,
)

DEFAULT_BATCH = 1000


class RetentionError(ValueError):
    """A nonsense setting; the message says what is wrong."""


def parse_years(value) -> int:
    """The number of school years to keep: a whole number of at least 1."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise RetentionError(
            f"The number of school years to keep must be a whole number of at least 1, "
            f"not {value!r}."
        )
    return value


def kept_years(years: int) -> list[SchoolYear] | None:
    """The school years kept, newest first; None while there are fewer than `years`."""
    current = db.session.scalar(select(SchoolYear).where(SchoolYear.is_current))
    if current is None:
        current = db.session.scalar(
            select(SchoolYear).where(SchoolYear.starts_on <= today())
            .order_by(SchoolYear.starts_on.desc()).limit(1)
        )
    if current is None:
        return None
    kept = list(
        db.session.scalars(
            select(SchoolYear).where(SchoolYear.starts_on <= current.starts_on)
            .order_by(SchoolYear.starts_on.desc()).limit(years)
        )
    )
    return kept if len(kept) == years else None


def cutoff_of(first_day: date) -> datetime:
    return datetime.combine(first_day, time(0), tzinfo=school_tz())


@dataclass
class Kind:
    """One kind of content: which rows of `model` go, and what to count and remove with them."""

    name: str
    model: type
    where: Callable  # (cut-off moment, first kept day) -> condition on model
    files: Callable | None = None  # ids -> select of the media keys of their attachments
    also: Callable | None = None  # ids -> {name: count} of dependent rows removed with them

    @property
    def files_name(self) -> str:
        return self.name.removesuffix("s") + "_files"  # "post_files": attachments with files


def _count(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def _over(cut: datetime):
    """Activities whose deadline, event, slots and shifts all lie before the cut-off."""
    return and_(
        Activity.deadline < cut,
        or_(Activity.ends_at.is_(None), Activity.ends_at < cut),
        not_(exists().where(Slot.activity_id == Activity.id, Slot.ends_at >= cut)),
        not_(exists().where(
            Shift.activity_id == Activity.id, func.coalesce(Shift.ends_at, Shift.starts_at) >= cut
        )),
    )


def _left(first_day: date):
    """Children in no kept school year."""
    return not_(
        exists()
        .where(Membership.student_id == ConsentChange.student_id)
        .where(Membership.school_year_id == SchoolYear.id, SchoolYear.starts_on >= first_day)
    )


def _activity_rows(ids) -> dict[str, int]:
    shifts = select(Shift.id).where(Shift.activity_id.in_(ids))
    items = select(Item.id).where(Item.activity_id.in_(ids))
    return {"bookings": sum((
        _count(select(Booking.id).where(Booking.activity_id.in_(ids))),
        _count(select(Response.id).where(Response.activity_id.in_(ids))),
        _count(select(SignUp.id).where(SignUp.shift_id.in_(shifts))),
        _count(select(Pledge.id).where(Pledge.item_id.in_(items))),
    ))}


KINDS = [
    # Digest lines first: a removed post would take its lines along uncounted.
    Kind("notification_items", NotificationItem,
         lambda cut, day: NotificationItem.created_at < cut),
    Kind("notification_digests", NotificationDigest,
         lambda cut, day: NotificationDigest.created_at < cut),
    Kind("posts", Post, lambda cut, day: Post.publish_at < cut,
         files=lambda ids: select(Attachment.key).where(Attachment.post_id.in_(ids))),
    Kind("announcements", Announcement, lambda cut, day: Announcement.ends_on < day,
         files=lambda ids: select(Attachment.key).where(Attachment.announcement_id.in_(ids))),
    Kind("messages", Message, lambda cut, day: Message.created_at < cut,
         files=lambda ids: select(MessageAttachment.key).where(
             MessageAttachment.message_id.in_(ids))),
    # After the messages: conversations nothing is left in.
    Kind("conversations", Conversation, lambda cut, day: and_(
        func.coalesce(Conversation.last_message_at, Conversation.created_at) < cut,
        not_(exists().where(Message.conversation_id == Conversation.id,
                            Message.created_at >= cut)),
    )),
    Kind("absence_reports", AbsenceReport, lambda cut, day: AbsenceReport.day < day),
    Kind("activities", Activity, lambda cut, day: _over(cut), also=_activity_rows),
    Kind("consent_history", ConsentChange,
         lambda cut, day: and_(ConsentChange.changed_at < cut, _left(day))),
    Kind("outbox_mail", OutboxMail, lambda cut, day: OutboxMail.created_at < cut),
    Kind("sessions", UserSession, lambda cut, day: UserSession.last_seen_at < cut),
    Kind("login_events", LoginEvent, lambda cut, day: LoginEvent.created_at < cut),
    Kind("audit_events", AuditEvent, lambda cut, day: AuditEvent.created_at < cut),
]


@dataclass
class Result:
    years: int
    kept: list[SchoolYear] | None
    counts: dict[str, int]

    @property
    def first_day(self) -> date | None:
        return self.kept[-1].starts_on if self.kept else None


def run(years, dry_run: bool = False, batch: int = DEFAULT_BATCH) -> Result:
    """Remove (or with dry_run only count) what is older than `years` school years."""
    years = parse_years(years)
    kept = kept_years(years)
    counts: dict[str, int] = {}
    result = Result(years, kept, counts)
    # Not tied to the school years: a refused post's files expire after hours.
    pending = Kind("pending_uploads", PendingUpload, lambda cut, day: None,
                   files=lambda ids: select(PendingUpload.key).where(PendingUpload.id.in_(ids)))
    expired = PendingUpload.created_at < policy.pending_cutoff()
    if dry_run:
        ids = select(PendingUpload.id).where(expired)
        _add(counts, pending.name, _count(ids))
        _add(counts, pending.files_name, _count(pending.files(ids)))
    else:
        _add(counts, pending.name, 0)
        _add(counts, pending.files_name, 0)
        _purge(pending, expired, batch, counts)
    if kept is None:
        return result
    day = result.first_day
    cut = cutoff_of(day)
    for kind in KINDS:
        condition = kind.where(cut, day)
        if dry_run:
            ids = select(kind.model.id).where(condition)
            _add(counts, kind.name, _count(ids))
            if kind.files:
                _add(counts, kind.files_name, _count(kind.files(ids)))
            if kind.also:
                for name, n in kind.also(ids).items():
                    _add(counts, name, n)
            continue
        _purge(kind, condition, batch, counts)
    if not dry_run:
        audit.record(
            audit.RETENTION,
            summary=f"Bewaartermijn: gegevens van voor {day.isoformat()} verwijderd",
            years=years, cutoff=day.isoformat(), **counts,
        )
        db.session.commit()
    return result


def _add(counts: dict[str, int], name: str, n: int) -> None:
    counts[name] = counts.get(name, 0) + n


def _purge(kind: Kind, condition, batch: int, counts: dict[str, int]) -> None:
    """Delete in batches by id, one transaction each; files after each commit."""
    model = kind.model
    last = 0
    _add(counts, kind.name, 0)
    while True:
        ids = list(
            db.session.scalars(
                select(model.id).where(condition, model.id > last).order_by(model.id).limit(batch)
            )
        )
        if not ids:
            break
        last = ids[-1]
        keys = list(db.session.scalars(kind.files(ids))) if kind.files else []
        if kind.files:
            _add(counts, kind.files_name, len(keys))
        if kind.also:
            for name, n in kind.also(ids).items():
                _add(counts, name, n)
        statement = delete(model).where(model.id.in_(ids)).execution_options(
            synchronize_session=False
        )
        if model is AuditEvent:
            with audit.purging():
                db.session.execute(statement)
        else:
            db.session.execute(statement)
        db.session.commit()
        media.remove(keys)
        _add(counts, kind.name, len(ids))
