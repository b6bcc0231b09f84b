"""The digest: staff get no mail outside their hours, then one overview when their day starts.

`flask --app app chat digest` (cron or a worker, every few minutes) finds staff
members whose working period has started and who have unread messages that came
in before it and were never mailed about; each gets one email through the
outbox (who wrote in which conversation, never the text), and those messages
are marked as mailed (ReadState.notified_message_id), so running it again, or
twice at the same moment, sends nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from .. import clock, policy
from ..extensions import db
from ..mail import queue_mail
from ..models import Conversation, Message, ReadState, Role, User
from .availability import availabilities, is_off, period_start
from .service import mark_notified


@dataclass
class Item:
    conversation: Conversation
    count: int = 0
    last_id: int = 0
    authors: list[str] = field(default_factory=list)


def _pending(user: User, before) -> list[Item]:
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
            Message.id > read,
            Message.id > notified,
            Message.created_at < before,
            Message.deleted_at.is_(None),
            or_(Message.author_id.is_(None), Message.author_id != user.id),
            policy.conversation_member_clause(user.id),
        )
        .options(joinedload(Message.author))
        .order_by(Message.id)
    ).all()
    items: dict[int, Item] = {}
    for message, conversation in rows:
        item = items.setdefault(conversation.id, Item(conversation))
        item.count += 1
        item.last_id = message.id
        name = message.author.display_name if message.author else "?"
        if name not in item.authors:
            item.authors.append(name)
    return list(items.values())


def _title(conversation: Conversation) -> str:
    if conversation.is_child:
        return _("Kindgesprek %(name)s", name=conversation.student.full_name)
    return conversation.title


def digest_for(user: User, period_began) -> bool:
    """Queue this user's digest if there is anything in it; commit. True if one was queued."""
    # Two runs at once: the second waits here, then finds everything marked.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    items = _pending(user, period_began)
    if not items:
        db.session.commit()
        return False
    with force_locale(user.locale):
        lines = [
            {
                "title": _title(item.conversation),
                "count": item.count,
                "authors": ", ".join(item.authors),
                "path": f"/gesprekken/{item.conversation.id}",
            }
            for item in items
        ]
    queue_mail(
        user.email,
        _l("Berichten van buiten uw werktijden"),
        "chat_digest",
        locale=user.locale,
        name=user.display_name,
        items=lines,
        total=sum(item.count for item in items),
    )
    for item in items:
        mark_notified(item.conversation.id, user.id, item.last_id)
    db.session.commit()
    return True


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
    queued = 0
    for user in staff:
        av = avs[user.id]
        began = period_start(av, local)
        if began is None or is_off(av, local.date()):
            continue  # not at work, or chat switched off: nothing is mailed
        queued += digest_for(user, began)
    db.session.commit()
    return queued
