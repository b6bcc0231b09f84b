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

A board's schools each keep their own school years: a school's posts, announcements,
chats, absence reports, activities, consent history and audit events go by its own
cut-off. What belongs to no one school (outbox mail, sessions, login attempts,
notification lines, the board's own audit events) goes by the earliest cut-off of the
schools that have N years, so nothing a school keeps loses them.
"""

from __future__ import annotations

from collections import Counter
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
    Group,
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
    PostGroup,
    Response,
    School,
    SchoolYear,
    Shift,
    SignUp,
    Slot,
    Student,
    UserSession,
)
from .models.activity import activity_group

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


def kept_years(years: int, school_id: int) -> list[SchoolYear] | None:
    """The school's years kept, newest first; None while there are fewer than `years`."""
    of_school = select(SchoolYear).where(SchoolYear.school_id == school_id)
    current = db.session.scalar(of_school.where(SchoolYear.is_current))
    if current is None:
        current = db.session.scalar(
            of_school.where(SchoolYear.starts_on <= today())
            .order_by(SchoolYear.starts_on.desc()).limit(1)
        )
    if current is None:
        return None
    kept = list(
        db.session.scalars(
            of_school.where(SchoolYear.starts_on <= current.starts_on)
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
    # school id -> condition on model: a school's rows, by its own cut-off; None: rows of
    # no one school, by the earliest cut-off
    school: Callable | None = None

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


def _groups_of(school_id):
    return select(Group.id).join(SchoolYear, SchoolYear.id == Group.school_year_id).where(
        SchoolYear.school_id == school_id)


def _conversations_of(school_id):
    return select(Conversation.id).where(Conversation.school_id == school_id)


def _students_of(school_id):
    return select(Student.id).where(Student.school_id == school_id)


KINDS = [
    # Digest lines first: a removed post would take its lines along uncounted.
    Kind("notification_items", NotificationItem,
         lambda cut, day: NotificationItem.created_at < cut),
    Kind("notification_digests", NotificationDigest,
         lambda cut, day: NotificationDigest.created_at < cut),
    Kind("posts", Post, lambda cut, day: Post.publish_at < cut,
         files=lambda ids: select(Attachment.key).where(Attachment.post_id.in_(ids)),
         school=lambda sid: Post.id.in_(
             select(PostGroup.post_id).where(PostGroup.group_id.in_(_groups_of(sid))))),
    Kind("announcements", Announcement, lambda cut, day: Announcement.ends_on < day,
         files=lambda ids: select(Attachment.key).where(Attachment.announcement_id.in_(ids)),
         school=lambda sid: Announcement.school_id == sid),
    Kind("messages", Message, lambda cut, day: Message.created_at < cut,
         files=lambda ids: select(MessageAttachment.key).where(
             MessageAttachment.message_id.in_(ids)),
         school=lambda sid: Message.conversation_id.in_(_conversations_of(sid))),
    # After the messages: conversations nothing is left in.
    Kind("conversations", Conversation, lambda cut, day: and_(
        func.coalesce(Conversation.last_message_at, Conversation.created_at) < cut,
        not_(exists().where(Message.conversation_id == Conversation.id,
                            Message.created_at >= cut)),
    ), school=lambda sid: Conversation.school_id == sid),
    Kind("absence_reports", AbsenceReport, lambda cut, day: AbsenceReport.day < day,
         school=lambda sid: AbsenceReport.student_id.in_(_students_of(sid))),
    Kind("activities", Activity, lambda cut, day: _over(cut), also=_activity_rows,
         school=lambda sid: Activity.id.in_(
             select(activity_group.c.activity_id)
             .where(activity_group.c.group_id.in_(_groups_of(sid))))),
    Kind("consent_history", ConsentChange,
         lambda cut, day: and_(ConsentChange.changed_at < cut, _left(day)),
         school=lambda sid: ConsentChange.student_id.in_(_students_of(sid))),
    Kind("outbox_mail", OutboxMail, lambda cut, day: OutboxMail.created_at < cut),
    Kind("sessions", UserSession, lambda cut, day: UserSession.last_seen_at < cut),
    Kind("login_events", LoginEvent, lambda cut, day: LoginEvent.created_at < cut),
    Kind("audit_events", AuditEvent, lambda cut, day: AuditEvent.created_at < cut,
         school=lambda sid: AuditEvent.school_id == sid),
    # The board's own events, and those of the command line.
    Kind("audit_events", AuditEvent,
         lambda cut, day: and_(AuditEvent.created_at < cut, AuditEvent.school_id.is_(None))),
]


@dataclass
class Result:
    years: int
    kept: list[SchoolYear] | None  # the years kept by the school with the earliest cut-off
    counts: Counter[str]
    # Each school with its kept years (None: fewer than `years`, nothing of it removed).
    schools: list[tuple[School, list[SchoolYear] | None]]

    @property
    def first_day(self) -> date | None:
        return self.kept[-1].starts_on if self.kept else None


def run(years, dry_run: bool = False, batch: int = DEFAULT_BATCH) -> Result:
    """Remove (or with dry_run only count) what is older than `years` school years."""
    years = parse_years(years)
    schools = [(school, kept_years(years, school.id))
               for school in db.session.scalars(select(School).order_by(School.id))]
    with_years = sorted((kept for _school, kept in schools if kept),
                        key=lambda kept: kept[-1].starts_on)
    kept = with_years[0] if with_years else None
    counts: Counter[str] = Counter()
    result = Result(years, kept, counts, schools)
    # Not tied to the school years: a refused post's files expire after hours.
    pending = Kind("pending_uploads", PendingUpload, lambda cut, day: None,
                   files=lambda ids: select(PendingUpload.key).where(PendingUpload.id.in_(ids)))
    expired = PendingUpload.created_at < policy.pending_cutoff()
    if dry_run:
        ids = select(PendingUpload.id).where(expired)
        counts[pending.name] += _count(ids)
        counts[pending.files_name] += _count(pending.files(ids))
    else:
        counts[pending.name] += 0
        counts[pending.files_name] += 0
        _purge(pending, expired, batch, counts)
    if kept is None:
        return result
    day = result.first_day
    for kind in KINDS:
        if kind.school is None:
            conditions = [kind.where(cutoff_of(day), day)]
        else:
            conditions = [and_(kind.where(cutoff_of(own[-1].starts_on), own[-1].starts_on),
                               kind.school(school.id))
                          for school, own in schools if own]
        for condition in conditions:
            _remove(kind, condition, dry_run, batch, counts)
    if not dry_run:
        audit.record(
            audit.RETENTION,
            summary=f"Bewaartermijn: gegevens van voor {day.isoformat()} verwijderd",
            years=years, cutoff=day.isoformat(), **counts,
        )
        db.session.commit()
    return result


def _remove(kind: Kind, condition, dry_run: bool, batch: int, counts: Counter[str]) -> None:
    if not dry_run:
        _purge(kind, condition, batch, counts)
        return
    ids = select(kind.model.id).where(condition)
    counts[kind.name] += _count(ids)
    if kind.files:
        counts[kind.files_name] += _count(kind.files(ids))
    if kind.also:
        counts.update(kind.also(ids))


def _purge(kind: Kind, condition, batch: int, counts: Counter[str]) -> None:
    """Delete in batches by id, one transaction each; files after each commit."""
    model = kind.model
    last = 0
    counts[kind.name] += 0
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
            counts[kind.files_name] += len(keys)
        if kind.also:
            counts.update(kind.also(ids))
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
        counts[kind.name] += len(ids)
