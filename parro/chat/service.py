"""Gesprekken: conversations, messages, read state. Views authorize, these do the work.

Each action a view asks for (send_message, edit_message, ...) is one transaction that
the function commits (docs/architecture.md). post_message and hide_message are parts
of other actions (sending, moderation) and leave the commit to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, exists, func, literal, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import media, policy
from ..clock import now
from ..database import upsert_insert, write_now, writer_transactions
from ..extensions import db
from ..models import (
    Conversation,
    ConversationKind,
    Group,
    Guardianship,
    Membership,
    Message,
    MessageAttachment,
    Participant,
    ReadState,
    Role,
    SchoolYear,
    Student,
    TeacherAssignment,
    User,
)
from ..notifications import CHAT
from ..push import first_line, queue_pushes
from ..sql import BEFORE, CONVERSATION_ID, IDS, LIMIT, SCHOOL_ID, USER_ID, prebuilt
from . import attachments

# -- members ------------------------------------------------------------------


@prebuilt
def _members_statement(kind: ConversationKind):
    """The policy's clause decides; the candidates of the conversation's kind (everyone
    linked to a kindgesprek's child in any year, a chat's participants, the guardian who
    wrote to the office and the admins) only spare it testing every user."""
    conversation_id = CONVERSATION_ID
    if kind == ConversationKind.CHILD:
        child = select(Conversation.student_id).where(Conversation.id == conversation_id)
        candidates = union(
            select(Guardianship.user_id).where(Guardianship.student_id.in_(child)),
            select(TeacherAssignment.user_id)
            .join(Membership, Membership.group_id == TeacherAssignment.group_id)
            .where(Membership.student_id.in_(child)),
        )
    elif kind == ConversationKind.GROUP:
        candidates = select(Participant.user_id).where(
            Participant.conversation_id == conversation_id)
    else:
        candidates = union(
            select(Conversation.created_by_id).where(Conversation.id == conversation_id),
            select(User.id).where(User.role == Role.ADMIN),
        )
    return (
        select(User)
        .join(Conversation, Conversation.id == conversation_id)
        .where(
            User.id.in_(candidates),
            policy.conversation_member_clause(User.id),
            User.disabled.is_(False),
        )
        .order_by(User.role, User.name)
    )


def members(conversation: Conversation) -> list[User]:
    """Everyone in the conversation now, staff first, then by name."""
    return list(db.session.scalars(_members_statement(conversation.kind),
                                   {"conversation_id": conversation.id}))


# -- opening ------------------------------------------------------------------


def child_conversation(student: Student) -> Conversation | None:
    return db.session.scalar(select(Conversation).where(Conversation.student_id == student.id))


def open_child_conversation(student: Student) -> Conversation:
    """The kindgesprek about this student, created the first time someone opens it.

    Two people opening it at once both end up in the one conversation: the
    unique student_id decides, the loser reads the winner's row.
    """
    found = child_conversation(student)
    if found is not None:
        return found
    student_id = student.id
    insert = upsert_insert(db.session.get_bind().dialect.name)(Conversation)
    write_now(insert.values(kind=ConversationKind.CHILD, student_id=student_id,
                            school_id=student.school_id)
              .on_conflict_do_nothing(index_elements=["student_id"]))
    return db.session.scalar(select(Conversation).where(Conversation.student_id == student_id))


def start_chat(creator: User, title: str, guardians: list[User]) -> Conversation:
    conversation = Conversation(kind=ConversationKind.GROUP, title=title, created_by=creator,
                                school_id=policy.current_school().id)
    db.session.add(conversation)
    for user in [creator, *guardians]:
        db.session.add(Participant(conversation=conversation, user=user))
    db.session.commit()
    return conversation


def _office_key(guardian: User, student: Student | None) -> tuple[str, int]:
    """The key of the guardian's office conversation about this child (None: about the
    family), and the school whose office it is: the child's, or for the family this
    browser's school."""
    school_id = student.school_id if student is not None else policy.current_school().id
    return (Conversation.office_key_for(guardian.id, student.id if student else None, school_id),
            school_id)


def write_to_office(guardian: User, student: Student | None, body: str) -> Conversation:
    """The guardian's message to the office about a child or the family, committed: in
    their conversation about it, which the first message creates (one per subject).

    Two first messages at once: the unique office_key lets one create it; the other
    rolls back and writes in the winner's conversation.
    """
    key, school_id = _office_key(guardian, student)
    for attempt in range(2):
        conversation = db.session.scalar(select(Conversation).where(Conversation.office_key == key))
        if conversation is None:
            conversation = Conversation(
                kind=ConversationKind.OFFICE, created_by=guardian, about_student=student,
                school_id=school_id, office_key=key,
            )
            db.session.add(conversation)
        try:
            db.session.flush()
            post_message(conversation, guardian, body)
            db.session.commit()
            return conversation
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def office_subjects(guardian: User) -> list[Student]:
    """The children a guardian may write to the office about (the family is the other choice)."""
    return list(db.session.scalars(
        select(Student).join(Guardianship, Guardianship.student_id == Student.id)
        .where(Guardianship.user_id == guardian.id)
        .order_by(Student.first_name, Student.last_name)
    ))


def startable_guardians(teacher: User) -> list[tuple[User, list[Student]]]:
    """Guardians of the children in the teacher's groups this year, with those children."""
    group_ids = policy.taught_group_ids(teacher)
    if not group_ids:
        return []
    rows = db.session.execute(
        select(User, Student)
        .join(Guardianship, Guardianship.user_id == User.id)
        .join(Student, Student.id == Guardianship.student_id)
        .join(Membership, Membership.student_id == Student.id)
        .where(
            Membership.group_id.in_(group_ids),
            Membership.school_year_id == policy.current_year().id,
            User.disabled.is_(False),
        )
        .order_by(User.name, Student.first_name)
    ).all()
    by_user: dict[int, tuple[User, list[Student]]] = {}
    for user, student in rows:
        by_user.setdefault(user.id, (user, []))[1].append(student)
    return list(by_user.values())


# -- names ----------------------------------------------------------------------


def title_of(conversation: Conversation, viewer: User | None = None) -> str:
    """The conversation's name for `viewer` (an office conversation reads differently for
    the guardian who wrote and for the office)."""
    if conversation.is_child:
        return _("Kindgesprek %(name)s", name=conversation.student.full_name)
    if not conversation.is_office:
        return conversation.title
    child = conversation.about_student
    if viewer is not None and viewer.is_guardian:
        if child is None:
            return _("Administratie: over ons gezin")
        return _("Administratie: over %(name)s", name=child.first_name)
    writer = conversation.created_by.display_name if conversation.created_by else "?"
    if child is None:
        return _("Administratie: %(guardian)s, over het gezin", guardian=writer)
    return _("Administratie: %(guardian)s over %(name)s", guardian=writer, name=child.full_name)


def sender_name(message: Message, viewer: User | None) -> str:
    """Who sent it, as `viewer` sees it: the office's messages are signed "De administratie",
    and only staff see which admin wrote them."""
    name = message.author.display_name if message.author else _("verwijderde gebruiker")
    if not message.as_office:
        return name
    if viewer is not None and viewer.is_staff and message.author:
        return _("De administratie (%(name)s)", name=name)
    return _("De administratie")


# -- messages -----------------------------------------------------------------


def _lock(conversation: Conversation) -> int:
    """Take the conversation's row lock and bump its revision; returns the new revision.

    Writers to one conversation queue here (FOR UPDATE on PostgreSQL, SQLite has
    one writer anyway), so message ids and revisions are handed out in the order
    the transactions commit: a poll that saw message 10 can never later find a
    message 9 appear.
    """
    db.session.refresh(conversation, with_for_update=True)
    conversation.revision += 1
    return conversation.revision


def send_message(conversation: Conversation, author: User, body: str,
                 staged: list[media.Staged] = ()) -> Message:
    """A new message with its files (staged by attachments.prepare), committed; the
    files are moved into place after the commit, or thrown away if it fails."""
    try:
        with writer_transactions():  # the upload form read first (database.reads_first)
            message = post_message(conversation, author, body)
            attachments.attach(message, staged)
            db.session.commit()
    except Exception:
        db.session.rollback()
        media.discard(staged)  # a failed transaction leaves no files
        raise
    media.commit(staged)
    return message


def post_message(conversation: Conversation, author: User, body: str) -> Message:
    """A new message, in the caller's transaction."""
    revision = _lock(conversation)
    message = Message(conversation=conversation, author=author, body=body, revision=revision,
                      as_office=conversation.is_office and author.is_admin)
    db.session.add(message)
    db.session.flush()
    conversation.last_message_id = message.id
    conversation.last_message_at = message.created_at
    mark_read(conversation.id, author.id, message.id)
    _queue_pushes(conversation, author, body, message.as_office)
    return message


def _queue_pushes(conversation: Conversation, author: User, body: str,
                  as_office: bool = False) -> None:
    """A push to the other members who want one: who wrote, and the first line.

    The members as the policy computes them (a kindgesprek's teachers and guardians, an
    office conversation's admins have no Participant rows); the office signs as itself."""
    queue_pushes(
        [user.id for user in members(conversation) if user.id != author.id],
        CHAT,
        _l("Nieuw bericht van %(name)s",
           name=_l("De administratie") if as_office else author.display_name),
        first_line(body) or _l("Stuurde een bestand."),
        url=f"/gesprekken/{conversation.id}",
        tag=f"gesprek-{conversation.id}",
    )


def edit_message(message: Message, body: str) -> None:
    message.revision = _lock(message.conversation)
    message.body = body
    message.edited_at = now()
    db.session.commit()


def delete_message(message: Message) -> None:
    """Leave 'bericht verwijderd' in its place; its files go after the commit."""
    message.revision = _lock(message.conversation)
    message.body = ""
    message.deleted_at = now()
    keys = [a.key for a in message.attachments]
    message.attachments.clear()
    db.session.commit()
    media.remove(keys)


def detach_author(message: Message) -> None:
    """Its author's account is deleted: the message stays, from "verwijderde gebruiker"."""
    message.revision = _lock(message.conversation)
    message.author_id = None


def hide_message(message: Message, by: User) -> None:
    """The school hid it after a report (in moderation's transaction): the row and files
    stay, members see a placeholder."""
    message.revision = _lock(message.conversation)
    message.hidden_at = now()
    message.hidden_by_id = by.id


def unhide_message(message: Message) -> None:
    """The school shows a hidden message again (in moderation's transaction)."""
    message.revision = _lock(message.conversation)
    message.hidden_at = None
    message.hidden_by_id = None


@dataclass(slots=True)
class ShownMessage:
    """A message as a conversation shows it (templates/chat/_message.html): the chat
    pages' read model, the one class besides Message for a message.

    A page shows fifty messages, and loading them as ORM objects cost twice what reading
    their columns does (0.67 against 0.32 ms on the bench's large school, with authors
    and files). Built by name from the labelled columns of _shown_statement(); it holds the
    columns only, no rules (a deleted message: `deleted_at`). Its author and files are
    the models' own objects. In a cached fragment's key it is the row it was read from
    (parro/fragments.py, cache_key: the table, id and version).
    """

    __tablename__: ClassVar[str] = Message.__tablename__

    id: int
    conversation_id: int
    author_id: int | None
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    hidden_at: datetime | None
    as_office: bool
    revision: int
    version: int
    has_files: bool
    author: User | None = None
    attachments: list[MessageAttachment] = field(default_factory=list)


@prebuilt
def _shown_statement():
    """ShownMessage's columns, each labelled with its field's name."""
    return select(
        Message.id, Message.conversation_id, Message.author_id, Message.body,
        Message.created_at, Message.edited_at, Message.deleted_at, Message.hidden_at,
        Message.as_office, Message.revision, Message.version,
        exists().where(MessageAttachment.message_id == Message.id).label("has_files"),
    )


@prebuilt
def _users_statement():
    return select(User).where(User.id.in_(IDS))


@prebuilt
def _attachments_of():
    return (
        select(MessageAttachment)
        .where(MessageAttachment.message_id.in_(IDS))
        .order_by(MessageAttachment.id)
    )


def _shown(query, params: dict, people: Sequence[User] = ()) -> list[ShownMessage]:
    """The messages of `query` (a where/order/limit on _shown_statement()), with their
    authors (those among `people`, the members the caller loaded, cost no query) and
    files (most messages have none: no query for those)."""
    # On the session's connection: the ORM has no objects to make of these columns.
    rows = db.session.connection().execute(query, params)
    messages = [ShownMessage(**row._mapping) for row in rows]
    authors = {user.id: user for user in people}
    missing = {m.author_id for m in messages if m.author_id not in authors} - {None}
    if missing:
        authors.update((u.id, u) for u in db.session.scalars(_users_statement(),
                                                             {"ids": list(missing)}))
    with_files = {m.id: m for m in messages if m.has_files}
    if with_files:
        for a in db.session.scalars(_attachments_of(), {"ids": list(with_files)}):
            with_files[a.message_id].attachments.append(a)
    for m in messages:
        m.author = authors.get(m.author_id)
    return messages


@prebuilt
def _page_statement(older: bool):
    """The newest messages (older: before message BEFORE), newest first."""
    query = _shown_statement().where(Message.conversation_id == CONVERSATION_ID)
    if older:
        query = query.where(Message.id < BEFORE)
    return query.order_by(Message.id.desc()).limit(LIMIT)


def page_of_messages(conversation: Conversation, size: int, before: int | None = None,
                     people: Sequence[User] = ()) -> tuple[list[ShownMessage], bool]:
    """The newest `size` messages (before message id `before`), oldest first, and
    whether there are older ones. `people`: the members, when the caller loaded them."""
    params = {"conversation_id": conversation.id, "limit": size + 1, "before": before}
    rows = _shown(_page_statement(before is not None), params, people)
    return list(reversed(rows[:size])), len(rows) > size


REVISION = bindparam("revision")


@prebuilt
def _changed_statement():
    return (
        _shown_statement()
        .where(Message.conversation_id == CONVERSATION_ID, Message.revision > REVISION)
        .order_by(Message.id)
    )


def changed_since(conversation_id: int, revision: int) -> list[ShownMessage]:
    """Messages new, edited or deleted since the browser's revision, oldest first."""
    return _shown(_changed_statement(), {"conversation_id": conversation_id,
                                         "revision": revision})


@prebuilt
def _by_id_statement():
    return _shown_statement().where(Message.id.in_(IDS))


def shown_message(message_id: int) -> ShownMessage:
    """One message as a page shows it (after its author changed it)."""
    return _shown(_by_id_statement(), {"ids": [message_id]})[0]


@dataclass
class PollState:
    allowed: bool
    revision: int
    last_message_id: int


@prebuilt
def _poll_statement():
    return select(
        Conversation.revision,
        Conversation.last_message_id,
        case((policy.conversation_member_clause(USER_ID), literal(True)), else_=literal(False)),
    ).where(Conversation.id == CONVERSATION_ID)


def poll_state(conversation_id: int, user_id: int) -> PollState | None:
    """One indexed query: may this user see it, and how far is it? None: no such conversation."""
    # On the session's connection, in its transaction: the ORM has no objects to make of
    # three columns, and its execution path cost more than the statement.
    row = db.session.connection().execute(
        _poll_statement(), {"conversation_id": conversation_id, "user_id": user_id}
    ).first()
    if row is None:
        return None
    return PollState(allowed=bool(row[2]), revision=row[0], last_message_id=row[1])


# -- read state ---------------------------------------------------------------


@prebuilt
def _mark_read_statement(dialect: str):
    """Per database kind (its ON CONFLICT insert): every page view marks read."""
    col = ReadState.__table__.c.last_read_message_id
    message_id = bindparam("message_id", type_=col.type)
    at = bindparam("at", type_=ReadState.__table__.c.updated_at.type)
    return upsert_insert(dialect)(ReadState).values(
        conversation_id=CONVERSATION_ID, user_id=USER_ID,
        last_read_message_id=message_id, notified_message_id=0, updated_at=at,
    ).on_conflict_do_update(
        index_elements=["conversation_id", "user_id"],
        set_={"last_read_message_id": case((col < message_id, message_id), else_=col),
              "updated_at": at},
    )


def _mark_read(conversation_id: int, user_id: int, message_id: int) -> tuple:
    """The statement and values of mark_read."""
    return (_mark_read_statement(db.session.get_bind().dialect.name),
            {"conversation_id": conversation_id, "user_id": user_id, "message_id": message_id,
             "at": now()})


def mark_read(conversation_id: int, user_id: int, message_id: int) -> None:
    """The user has seen everything up to message_id (never moves backwards)."""
    db.session.execute(*_mark_read(conversation_id, user_id, message_id))


def mark_read_now(conversation_id: int, user_id: int, message_id: int) -> None:
    """mark_read from a request that reads (a page, a poll), committed at once."""
    write_now(*_mark_read(conversation_id, user_id, message_id))


def mark_notified(conversation_id: int, user_id: int, message_id: int) -> None:
    col = ReadState.__table__.c.notified_message_id
    insert = upsert_insert(db.session.get_bind().dialect.name)(ReadState)
    db.session.execute(
        insert.values(conversation_id=conversation_id, user_id=user_id, last_read_message_id=0,
                      notified_message_id=message_id, updated_at=now())
        .on_conflict_do_update(
            index_elements=["conversation_id", "user_id"],
            set_={"notified_message_id": case((col < message_id, message_id), else_=col)},
        )
    )


@prebuilt
def _last_read_statement():
    return select(ReadState.user_id, ReadState.last_read_message_id).where(
        ReadState.conversation_id == CONVERSATION_ID)


def last_read_by(conversation_id: int) -> dict[int, int]:
    """How far each user who opened the conversation has read: user id -> message id."""
    return dict(db.session.connection().execute(
        _last_read_statement(), {"conversation_id": conversation_id}).all())


def read_by(message: Message | ShownMessage, people: list[User],
            marks: dict[int, int]) -> list[User]:
    """The other members who have read up to this message (marks: last_read_by)."""
    return [u for u in people if u.id != message.author_id and marks.get(u.id, 0) >= message.id]


# -- unread counts ------------------------------------------------------------


def _unread_query(user_id: int, office_school_id=None, staff_school_id=None,
                  role: Role | None = None):
    """(conversation id, unread count) over the conversations the user is a member of.

    From the conversations with anything newer than the user's read mark, each counted
    on ix_message_conversation_id_id from that mark on: not every message they hold.
    A count may be 0 (only the user's own, deleted or hidden messages are newer).
    """
    last_read = func.coalesce(ReadState.last_read_message_id, 0)
    unread = (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.id > last_read,
            or_(Message.author_id.is_(None), Message.author_id != user_id),
            Message.deleted_at.is_(None),
            Message.hidden_at.is_(None),
        )
        .correlate(Conversation, ReadState)
        .scalar_subquery()
    )
    return (
        select(Conversation.id, unread)
        .select_from(Conversation)
        .outerjoin(
            ReadState,
            and_(ReadState.conversation_id == Conversation.id, ReadState.user_id == user_id),
        )
        .where(
            Conversation.last_message_id > last_read,
            Conversation.id.in_(policy.member_conversation_ids(
                user_id, office_school_id, staff_school_id, role)),
        )
    )


def _current_year_id() -> int | None:
    year = policy.current_year()
    return year.id if year else None


def _listed_office_school(user: User) -> int | None:
    """An admin's office conversations are listed and counted in the school they work in."""
    return policy.current_school_id() if user.is_admin else None


def _listed_staff_school(user: User) -> int | None:
    """Staff's kindgesprekken are listed and counted in the school they work in (those of
    their groups there); a family's of all its children, at whichever school."""
    return policy.current_school_id() if user.is_staff else None


def unread_counts(user: User) -> dict[int, int]:
    return {cid: n for cid, n in db.session.execute(
        _unread_query(user.id, _listed_office_school(user), _listed_staff_school(user),
                      user.role)) if n}


def unread_count(role: Role):
    """All unread messages of the user sql.USER_ID, as a scalar subquery (the
    navigation's count): those of the conversations conversation_list shows, staff's of
    the school they work in (sql.SCHOOL_ID)."""
    staff = role in (Role.ADMIN, Role.TEACHER)
    sub = _unread_query(USER_ID, SCHOOL_ID if role == Role.ADMIN else None,
                        SCHOOL_ID if staff else None, role).subquery()
    return select(func.coalesce(func.sum(sub.c[1]), 0)).scalar_subquery()


# -- the list -----------------------------------------------------------------


@dataclass
class Entry:
    """One line in the list of conversations."""

    title: str
    subtitle: str
    url_args: dict
    conversation: Conversation | None = None
    last_message: Message | None = None
    unread: int = 0
    children: list = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # the child's parents, a chat's members
    last_author: str = ""

    @property
    def last_at(self) -> datetime | None:
        return self.conversation.last_message_at if self.conversation else None

    def matches(self, words: list[str]) -> bool:
        """Every word (casefolded) is in the child's or a parent's name, or the title."""
        text = " ".join([self.title, *self.names]).casefold()
        return all(word in text for word in words)


def conversation_list(user: User) -> list[Entry]:
    """Kindgesprekken of the user's children or students, and their chats: those with
    unread messages first, then the others newest first, then those without messages."""
    # This year's groups: a family's at each child's own school (it may have children at
    # two), staff's at the school they work in.
    this_year = (Membership.school_year_id.in_(select(SchoolYear.id).where(SchoolYear.is_current))
                 if user.is_guardian else Membership.school_year_id == _current_year_id())
    students = (
        select(Student.id, Group.name)
        .select_from(Student)
        .join(Membership, Membership.student_id == Student.id)
        .join(Group, Group.id == Membership.group_id)
        .where(this_year)
    )
    if user.is_guardian:
        students = students.join(Guardianship, Guardianship.student_id == Student.id).where(
            Guardianship.user_id == user.id
        )
    else:
        students = students.join(
            TeacherAssignment, TeacherAssignment.group_id == Membership.group_id
        ).where(TeacherAssignment.user_id == user.id)
    students = students.distinct().subquery()
    rows = db.session.execute(
        select(Student, Conversation, students.c.name)
        .join(students, students.c.id == Student.id)
        .outerjoin(Conversation, Conversation.student_id == Student.id)
        .order_by(Student.first_name, Student.last_name)
    ).all()
    entries = [Entry(title=student.full_name, subtitle=group_name,
                     url_args={"student_id": student.id}, conversation=conversation)
               for student, conversation, group_name in rows]
    chats = db.session.scalars(
        select(Conversation)
        .join(Participant, Participant.conversation_id == Conversation.id)
        .where(Participant.user_id == user.id, Conversation.kind == ConversationKind.GROUP)
    )
    entries += [Entry(title=chat.title, subtitle="", url_args={"conversation_id": chat.id},
                      conversation=chat) for chat in chats]
    # Office conversations: a guardian's own, and for admins every one with a message.
    offices = db.session.scalars(
        select(Conversation)
        .where(Conversation.kind == ConversationKind.OFFICE,
               Conversation.id.in_(policy.member_conversation_ids(
                   user.id, _listed_office_school(user), role=user.role)),
               Conversation.last_message_id > 0)
        .options(joinedload(Conversation.created_by), joinedload(Conversation.about_student))
    )
    entries += [Entry(title=title_of(office, user), subtitle=_("Administratie"),
                      url_args={"conversation_id": office.id}, conversation=office)
                for office in offices]
    counts = unread_counts(user)
    last_ids = [e.conversation.last_message_id for e in entries if e.conversation]
    last = {
        m.id: m
        for m in db.session.scalars(
            select(Message).options(joinedload(Message.author)).where(Message.id.in_(last_ids))
        )
    } if last_ids else {}
    for e in entries:
        if e.conversation:
            e.unread = counts.get(e.conversation.id, 0)
            e.last_message = last.get(e.conversation.last_message_id)
            if e.last_message is not None:
                e.last_author = sender_name(e.last_message, user)
    _add_names(entries)
    # News first, then recent conversations; the ones without messages after them, by name.
    active = sorted((e for e in entries if e.last_at), key=lambda e: e.last_at, reverse=True)
    return ([e for e in active if e.unread] + [e for e in active if not e.unread]
            + [e for e in entries if not e.last_at])


def _add_names(entries: list[Entry]) -> None:
    """The parents of each kindgesprek's child and the members of each chat, to search by:
    two queries, whatever the number of conversations."""
    students = {e.url_args["student_id"]: e for e in entries if "student_id" in e.url_args}
    chats = {e.conversation.id: e for e in entries
             if e.conversation and "conversation_id" in e.url_args}
    for by_id, link, user_id in ((students, Guardianship.student_id, Guardianship.user_id),
                                 (chats, Participant.conversation_id, Participant.user_id)):
        if by_id:
            for key, name, email in db.session.execute(
                select(link, User.name, User.email)
                .join(User, User.id == user_id)
                .where(link.in_(list(by_id)))
            ):
                by_id[key].names.append(name or email)
