"""Reports of posts and messages, and what the admin decides about them.

Every report, hide and dismissal is an audit event. Hiding keeps the row
(hidden_at, hidden_by): nobody sees it any more except the admin in the queue,
its files are no longer served, and its author is told why by email.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import audit
from ..clock import now
from ..extensions import db
from ..mail import queue_mail
from ..models import Conversation, Group, Message, Post, PostGroup, Report, SchoolYear, User
from ..models.moderation import DISMISSED, HIDDEN, OPEN, RESTORED
from ..policy import current_school

QUEUE_SIZE = 50
CONTEXT_MESSAGES = 3  # messages shown before a reported one, so the admin sees the conversation


class AlreadyReported(Exception):
    """This user reported this item before."""


class AlreadyHandled(Exception):
    """Another admin handled the report meanwhile."""


class NotHidden(Exception):
    """The item is not hidden (any more): nothing to show again."""


def _excerpt(text: str, length: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def describe(item) -> str:
    """A short Dutch description of a post or message for the audit log."""
    author = item.author.display_name if item.author else "?"
    if isinstance(item, Post):
        return f"groepsbericht van {author}: {_excerpt(item.title or item.body)}"
    return f"chatbericht van {author}: {_excerpt(item.body)}"


def report_item(reporter: User, item: Post | Message, reason: str) -> Report:
    """Record a report; raises AlreadyReported the second time. Commits."""
    report = Report(
        reporter=reporter,
        post=item if isinstance(item, Post) else None,
        message=item if isinstance(item, Message) else None,
        reason=reason.strip()[:500],
    )
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyReported() from None
    audit.record(
        audit.MODERATION, summary=f"Melding van {describe(item)}", target=report,
        post_id=report.post_id, message_id=report.message_id, reason=report.reason,
    )
    db.session.commit()
    return report


def already_reported(user: User, item: Post | Message) -> bool:
    column = Report.post_id if isinstance(item, Post) else Report.message_id
    return db.session.scalar(
        select(Report.id).where(Report.reporter_id == user.id, column == item.id)
    ) is not None


def my_reports(user: User) -> list[Report]:
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.reporter_id == user.id)
            .options(
                joinedload(Report.post).joinedload(Post.author),
                joinedload(Report.message).joinedload(Message.author),
            )
            .order_by(Report.id.desc())
            .limit(100)
        )
    )


def of_school(school_id):
    """Reports about a post of the school's groups or a message of its conversations:
    the one way the office's queue is scoped (policy.report_school_id for one report)."""
    post_here = exists().where(
        PostGroup.post_id == Report.post_id, Group.id == PostGroup.group_id,
        SchoolYear.id == Group.school_year_id, SchoolYear.school_id == school_id)
    message_here = exists().where(
        Message.id == Report.message_id, Conversation.id == Message.conversation_id,
        Conversation.school_id == school_id)
    return or_(post_here, message_here)


def open_count(school_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Report).where(
        Report.status == OPEN, of_school(school_id)))


def open_reports(school_id) -> list[Report]:
    """The school's queue, oldest first, with everything the page shows loaded up front."""
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.status == OPEN, of_school(school_id))
            .options(
                joinedload(Report.reporter),
                joinedload(Report.post).joinedload(Post.author),
                joinedload(Report.post).selectinload(Post.groups),
                joinedload(Report.post).selectinload(Post.attachments),
                joinedload(Report.message).joinedload(Message.author),
                joinedload(Report.message)
                .joinedload(Message.conversation)
                .joinedload(Conversation.student),
                joinedload(Report.message).selectinload(Message.attachments),
            )
            .order_by(Report.id)
            .limit(QUEUE_SIZE)
        ).unique()
    )


def message_context(message: Message) -> list[Message]:
    """The reported message with the few before it and the one after, oldest first."""
    base = (
        select(Message)
        .where(Message.conversation_id == message.conversation_id)
        .options(joinedload(Message.author))
    )
    before = db.session.scalars(
        base.where(Message.id < message.id).order_by(Message.id.desc()).limit(CONTEXT_MESSAGES)
    ).all()
    after = db.session.scalars(
        base.where(Message.id > message.id).order_by(Message.id).limit(1)).all()
    return [*reversed(before), message, *after]


def _same_item(report: Report):
    """The reports of the same post or message as `report`."""
    if report.post_id is not None:
        return Report.post_id == report.post_id
    return Report.message_id == report.message_id


def _school_name() -> str:
    school = current_school()  # the office handles the reports of the school it works in
    return school.name if school else "parro"


def handle(report: Report, admin: User, hide: bool, answer: str,
           author_answer: str = "") -> None:
    """Hide the item (closing every open report of it) or dismiss this report. Commits.

    Each reporter gets `answer` by email; when hidden, the author gets `author_answer`,
    a text of its own (the reporter's answer may say more than the author should read).
    """
    db.session.refresh(report, with_for_update=True)
    if not report.is_open:
        raise AlreadyHandled()
    item = report.item
    moment = now()
    if hide:
        reports = list(db.session.scalars(
            select(Report).where(Report.status == OPEN, _same_item(report))))
        if isinstance(item, Message):
            from ..chat.service import hide_message

            hide_message(item, admin)
        else:
            item.hidden_at, item.hidden_by_id = moment, admin.id
    else:
        reports = [report]
    for each in reports:
        each.status = HIDDEN if hide else DISMISSED
        each.answer, each.handled_by, each.handled_at = answer, admin, moment
        each.author_answer = author_answer if hide else ""
        if each.reporter is not None and each.reporter.is_active:
            queue_mail(
                each.reporter.email, _l("Antwoord op uw melding"), "report_answer",
                locale=each.reporter.locale, user=each.reporter, report=each, hidden=hide,
                school_name=_school_name(),
            )
    if hide and item.author is not None and item.author.is_active:
        queue_mail(
            item.author.email, _l("Uw bericht is verborgen door de school"), "report_hidden",
            locale=item.author.locale, user=item.author, item=item, answer=author_answer,
            is_post=isinstance(item, Post), school_name=_school_name(),
        )
    verb = "verborgen" if hide else "melding afgewezen"
    audit.record(
        audit.MODERATION, actor=admin, target=report,
        summary=f"{describe(item)} – {verb}",
        decision=HIDDEN if hide else DISMISSED, reports=[r.id for r in reports],
        post_id=report.post_id, message_id=report.message_id, answer=answer,
        author_answer=author_answer if hide else None,
    )
    db.session.commit()


def hidden_reports(school_id) -> list[Report]:
    """The newest report of each item the school hid that is still hidden, newest first."""
    newest = (
        select(func.max(Report.id))
        .where(Report.status == HIDDEN, of_school(school_id))
        .group_by(Report.post_id, Report.message_id)
    )
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.id.in_(newest))
            .options(
                joinedload(Report.handled_by),
                joinedload(Report.post).joinedload(Post.author),
                joinedload(Report.message).joinedload(Message.author),
            )
            .order_by(Report.handled_at.desc(), Report.id.desc())
            .limit(QUEUE_SIZE)
        )
    )


def unhide(report: Report, admin: User) -> None:
    """Show the hidden item again: everyone who could see it sees it again (the cached
    parts follow its new version, open conversations its new revision). Every hidden
    report of it is marked RESTORED. Audit-logged; commits. Raises NotHidden."""
    db.session.refresh(report, with_for_update=True)
    item = report.item
    if report.status != HIDDEN or item is None or not item.is_hidden:
        db.session.rollback()
        raise NotHidden()
    if isinstance(item, Message):
        from ..chat.service import unhide_message

        unhide_message(item)
    else:
        item.hidden_at, item.hidden_by_id = None, None
    reports = list(db.session.scalars(
        select(Report).where(Report.status == HIDDEN, _same_item(report))))
    for each in reports:
        each.status = RESTORED
    audit.record(
        audit.MODERATION, actor=admin, target=report,
        summary=f"{describe(item)} – weer zichtbaar gemaakt",
        decision=RESTORED, reports=[r.id for r in reports],
        post_id=report.post_id, message_id=report.message_id,
    )
    db.session.commit()


def status_label(report: Report) -> str:
    return {
        OPEN: _("In behandeling"),
        HIDDEN: _("Verborgen door de school"),
        DISMISSED: _("Bekeken, blijft staan"),
        RESTORED: _("Eerst verborgen, daarna weer zichtbaar gemaakt door de school"),
    }[report.status]
