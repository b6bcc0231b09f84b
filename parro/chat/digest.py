"""Chat email: the staff digest and the 15-minute notice, both through the outbox.

Digest: staff get no mail outside their hours, then one overview when their day starts.

`flask --app app chat digest` (cron or a worker, every few minutes) finds staff
members whose working period has started and who have unread messages that came
in before it and were never mailed about; each gets one email through the
outbox (who wrote in which conversation, never the text), and those messages
are marked as mailed (ReadState.notified_message_id), so running it again, or
twice at the same moment, sends nothing new.

Notice: a member who has not read a message for CHAT_NOTICE_MINUTES gets one
email for all their conversations (who wrote where, never the text), and no
further notice for a conversation until they have read it. Staff get notices
only during their working hours.

Both are for members whose chat e-mail (parro.notifications, "E-mailberichten")
is "direct", the default; with "dagelijks overzicht" their daily digest lists the
messages instead, with "uit" nothing is mailed.

The same command sends both: digests first, so a teacher's morning brings one
overview, not a digest and a notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from .. import clock, policy
from ..database import lock_row
from ..extensions import db
from ..mail import queue_mail, school_of
from ..models import Conversation, Message, NotificationChoice, ReadState, Role, User
from ..notifications import CHAT, DIRECT, unsubscribe_url
from .availability import availabilities, is_off, period_start
from .service import mark_notified, members, sender_name, title_of


def _not_direct():
    """Members who chose the daily overview or no chat e-mail at all."""
    return set(db.session.scalars(
        select(NotificationChoice.user_id).where(
            NotificationChoice.category == CHAT, NotificationChoice.mail != DIRECT
        )
    ))


@dataclass
class Item:
    conversation: Conversation
    count: int = 0
    last_id: int = 0
    authors: list[str] = field(default_factory=list)

    def add_author(self, name: str) -> None:
        if name not in self.authors:
            self.authors.append(name)


def _unseen_by(user: User, read, notified) -> list:
    """Conditions on Message: by someone else, after the user's read and mailed marks, and
    neither deleted nor hidden."""
    return [
        Message.id > read,
        Message.id > notified,
        Message.deleted_at.is_(None),
        Message.hidden_at.is_(None),
        or_(Message.author_id.is_(None), Message.author_id != user.id),
    ]


def pending(user: User, before) -> list[Item]:
    """Unread, never-mailed messages by others that came in before `before`."""
    read = func.coalesce(ReadState.last_read_message_id, 0)
    notified = func.coalesce(ReadState.notified_message_id, 0)
    rows = db.session.execute(
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(
            ReadState,
            and_(ReadState.conversation_id == Conversation.id, ReadState.user_id == user.id),
        )
        .where(
            *_unseen_by(user, read, notified),
            Message.created_at < before,
            Conversation.id.in_(policy.member_conversation_ids(user.id, role=user.role)),
        )
        .options(joinedload(Message.author))
        .order_by(Message.id)
    ).all()
    items: dict[int, Item] = {}
    for message, conversation in rows:
        item = items.setdefault(conversation.id, Item(conversation))
        item.count += 1
        item.last_id = message.id
        item.add_author(sender_name(message, user))
    return list(items.values())


def summary_lines(user: User, items) -> list[dict]:
    """One line per conversation (never the text), and the messages marked as mailed."""
    lines = [
        {
            "title": title_of(item.conversation, user),
            "count": item.count,
            "authors": ", ".join(item.authors),
            "path": f"/gesprekken/{item.conversation.id}",
        }
        for item in items
    ]
    for item in items:
        mark_notified(item.conversation.id, user.id, item.last_id)
    return lines


def _queue_summary(user: User, items, subject, template: str, **extra) -> bool:
    """Queue one mail listing these conversations, if there are any, and mark them; commit.
    True if one was queued."""
    if items:
        with force_locale(user.locale):
            lines = summary_lines(user, items)
        # Signed with the conversations' school; of several schools, parro's own.
        queue_mail(user.email, subject, template, locale=user.locale, name=user.display_name,
                   items=lines, unsubscribe_url=unsubscribe_url(user, [CHAT]),
                   school=school_of(item.conversation.school_id for item in items), **extra)
    db.session.commit()
    return bool(items)


def digest_for(user: User, period_began) -> bool:
    """Queue this user's digest if there is anything in it; commit. True if one was queued."""
    # Two runs at once: the second waits here, then finds everything marked.
    lock_row(User, user.id)
    items = pending(user, period_began)
    return _queue_summary(user, items, _l("Berichten van buiten uw werktijden"), "chat_digest",
                          total=sum(item.count for item in items))


def _at_work_since(av, local) -> datetime | None:
    """When the working period running at `local` began; None outside working hours or
    while chat is switched off."""
    began = period_start(av, local)
    return None if began is None or is_off(av, local.date()) else began


def send_digests() -> int:
    """Queue a digest for every staff member whose working period is running. Returns how many."""
    local = clock.local_now()
    staff = list(
        db.session.scalars(
            select(User).where(
                User.role.in_([Role.ADMIN, Role.TEACHER]),
                User.active.is_(True),
                User.disabled.is_(False),
            )
        )
    )
    avs = availabilities(staff)
    skip = _not_direct()
    queued = 0
    for user in staff:
        if user.id in skip:
            continue
        began = _at_work_since(avs[user.id], local)
        if began is None:
            continue  # not at work, or chat switched off: nothing is mailed
        queued += digest_for(user, began)
    db.session.commit()
    return queued


# -- the 15-minute notice -------------------------------------------------------


def _staff_at_work(users: list[User]) -> set[int]:
    local = clock.local_now()
    avs = availabilities(users)
    return {u.id for u in users if _at_work_since(avs[u.id], local) is not None}


def _notice_candidates() -> dict[int, tuple[User, list[Conversation]]]:
    """Users who may have a message waiting too long, with the conversations to check."""
    cfg = current_app.config
    oldest = clock.now() - timedelta(days=cfg["CHAT_NOTICE_MAX_DAYS"])
    cutoff = clock.now() - timedelta(minutes=cfg["CHAT_NOTICE_MINUTES"])
    conversations = db.session.scalars(
        select(Conversation).where(
            Conversation.last_message_at > oldest,
            # Something old enough exists only if the first message is: cheap pre-filter.
            Conversation.created_at <= cutoff,
        )
    )
    off = _not_direct()
    found: dict[int, tuple[User, list[Conversation]]] = {}
    for conversation in conversations:
        for user in members(conversation):
            if user.id not in off and user.is_active:
                found.setdefault(user.id, (user, []))[1].append(conversation)
    return found


def _waiting(user: User, conversation: Conversation) -> Item | None:
    """Messages waiting too long for this user in this conversation, if a notice is due."""
    cfg = current_app.config
    state = db.session.get(ReadState, (conversation.id, user.id), populate_existing=True)
    read = state.last_read_message_id if state else 0
    notified = state.notified_message_id if state else 0
    if notified > read:
        return None  # an earlier notice is still unread: no second mail
    rows = db.session.scalars(
        select(Message)
        .options(joinedload(Message.author))
        .where(
            Message.conversation_id == conversation.id,
            *_unseen_by(user, read, notified),
            Message.created_at <= clock.now() - timedelta(minutes=cfg["CHAT_NOTICE_MINUTES"]),
            Message.created_at > clock.now() - timedelta(days=cfg["CHAT_NOTICE_MAX_DAYS"]),
        )
        .order_by(Message.id)
    ).all()
    if not rows:
        return None
    # Everything unread in it is covered, also what came in the last minutes.
    last = db.session.scalar(
        select(func.max(Message.id)).where(Message.conversation_id == conversation.id)
    )
    item = Item(conversation, count=len(rows), last_id=last)
    for message in rows:
        item.add_author(sender_name(message, user))
    return item


def notice_for(user: User, conversations: list[Conversation]) -> bool:
    """Queue one notice for this user if anything waits too long; commit."""
    lock_row(User, user.id)
    items = [i for i in (_waiting(user, c) for c in conversations) if i is not None]
    return _queue_summary(user, items, _l("Ongelezen berichten in parro"), "chat_notice")


def send_notices() -> int:
    """One email per member with messages unread for too long. Returns how many."""
    candidates = _notice_candidates()
    staff = [u for u, _c in candidates.values() if u.is_staff]
    at_work = _staff_at_work(staff)
    db.session.commit()
    queued = 0
    for user, conversations in candidates.values():
        if user.is_staff and user.id not in at_work:
            continue  # outside their hours: the digest tells them later
        queued += notice_for(user, conversations)
    return queued
