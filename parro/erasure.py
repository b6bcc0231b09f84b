"""Deleting a departed family.

The admin picks the children who leave. Their guardians' accounts go too,
unless a guardian still has a child at school (a sibling in another family,
shared custody): that account stays and loses only what belongs to the
departing children.

What goes: the children and every row about them (group history, links to
guardians, consents and their history, absence reports, bookings and answers,
the kindgesprekken about them with their messages and files, the conversations
with the office about them or by the guardians who leave, the tags in
photos); the accounts of the guardians who leave, with their sessions, login
history, invitations, sign-ups, pledges, settings, likes, read marks and all
mail to them in the outbox. What stays: staff posts (the children are untagged;
a photo of a child without consent for photos in the app is removed, because
without its tag everyone would see it) and the messages the leaving guardians
wrote in chats a teacher started: their text stays for the teacher's record,
shown as by "verwijderde gebruiker", without their files.

Kindgesprekken are deleted with the child: they are about that child only and
the app is not the school's record system (the export keeps a copy if needed).

Files are removed only after the transaction that dropped their rows committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, or_, select, update

from . import audit, media, policy
from .auth.service import drop_from_school
from .extensions import db
from .models import (
    AbsenceReport,
    Attachment,
    Booking,
    Consent,
    ConsentChange,
    Conversation,
    ConversationKind,
    Group,
    Guardianship,
    Invitation,
    Item,
    LoginEvent,
    Message,
    MessageAttachment,
    OutboxMail,
    PhotoTag,
    Pledge,
    Response,
    Role,
    Shift,
    SignUp,
    Student,
    User,
    UserSession,
)


@dataclass
class Candidate:
    student: Student
    group: Group | None  # this school year's group, None when not in one
    chosen: bool


@dataclass
class FamilyPlan:
    """What deleting the chosen children would remove and keep; nothing is changed yet."""

    candidates: list[Candidate]
    leaving: list[Student]
    deleted_guardians: list[User]
    # An account that stays, with the children it keeps at this school (none: a staff
    # member, or a guardian of children at another school of the board only, "elsewhere").
    kept_guardians: list[tuple[User, list[Student]]]
    counts: dict[str, int] = field(default_factory=dict)
    elsewhere: set[int] = field(default_factory=set)  # kept for a child at another school

    @property
    def family_name(self) -> str:
        names = sorted({s.last_name for s in self.leaving})
        return " / ".join(names)


def _children_of(user_ids, school_id: int) -> list[Student]:
    return list(
        db.session.scalars(
            select(Student)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .where(Guardianship.user_id.in_(list(user_ids)), Student.school_id == school_id)
            .distinct()
            .order_by(Student.first_name, Student.id)
        )
    )


def _guardian_ids_of(student_ids) -> set[int]:
    return set(
        db.session.scalars(
            select(Guardianship.user_id).where(Guardianship.student_id.in_(list(student_ids)))
        )
    )


def family_of(start: Student | User) -> list[Student]:
    """The children of a family at one school (the start child's, or for a guardian the
    current one): the start child (or guardian's children) and their siblings there. Their
    brothers and sisters at another school of the board are that school's to delete."""
    school_id = start.school_id if isinstance(start, Student) else policy.current_school_id()
    start_ids = [start.id] if isinstance(start, Student) else [
        s.id for s in _children_of([start.id], school_id)
    ]
    family = _children_of(_guardian_ids_of(start_ids), school_id)
    if isinstance(start, Student) and start not in family:
        family.insert(0, start)  # a child without guardians
    return family


def guardians_of_family(start: Student | User) -> list[User]:
    """Every guardian of the family of `start` (its children and their siblings), by name."""
    ids = _guardian_ids_of(s.id for s in family_of(start))
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(ids), User.role == Role.GUARDIAN)
            .order_by(User.name, User.email, User.id)
        )
    )


def plan(start: Student | User, chosen_ids: list[int] | None = None) -> FamilyPlan:
    """The plan for deleting the chosen children of the family of `start`.

    Without a choice: the start child, and every child of the family that is in
    no group this school year.
    """
    family = family_of(start)
    groups = {s.id: policy.current_group_of(s) for s in family}
    if chosen_ids is None:
        chosen = {s.id for s in family if groups[s.id] is None}
        if isinstance(start, Student):
            chosen.add(start.id)
    else:
        chosen = set(chosen_ids) & {s.id for s in family}
    candidates = [Candidate(s, groups[s.id], s.id in chosen) for s in family]
    leaving = [c.student for c in candidates if c.chosen]
    guardians = db.session.scalars(
        select(User).where(User.id.in_(_guardian_ids_of(chosen))).order_by(User.name, User.id)
    ).all()
    deleted, kept, elsewhere = [], [], set()
    school_id = leaving[0].school_id if leaving else None
    for user in guardians:
        staying = [gs.student for gs in user.guardianships if gs.student_id not in chosen]
        if staying or not user.is_guardian:  # a teacher who is also a parent stays staff
            here = [s for s in staying if s.school_id == school_id]
            kept.append((user, sorted(here, key=lambda s: s.full_name)))
            if staying and not here:
                elsewhere.add(user.id)
        else:
            deleted.append(user)
    result = FamilyPlan(candidates, leaving, deleted, kept, elsewhere=elsewhere)
    if leaving:
        result.counts = _count(result)
    return result


# -- what goes ------------------------------------------------------------------


def _ids(items) -> list[int]:
    return [i.id for i in items]


def _kindgesprekken(plan: FamilyPlan):
    """The conversations that go whole: the kindgesprekken about the leaving children, and
    the office conversations about them or of the guardians who leave (a guardian who
    stays keeps their conversation about the family)."""
    return select(Conversation.id).where(
        or_(
            and_(Conversation.kind == ConversationKind.CHILD,
                 Conversation.student_id.in_(_ids(plan.leaving))),
            and_(Conversation.kind == ConversationKind.OFFICE,
                 or_(Conversation.about_student_id.in_(_ids(plan.leaving)),
                     Conversation.created_by_id.in_(_ids(plan.deleted_guardians)))),
        )
    )


def _their_messages(plan: FamilyPlan):
    """Messages the leaving guardians wrote in conversations that stay."""
    return select(Message.id).where(
        Message.author_id.in_(_ids(plan.deleted_guardians)),
        Message.conversation_id.not_in(_kindgesprekken(plan)),
    )


def _photos_without_consent(plan: FamilyPlan):
    """Photos of a leaving child without consent: untagged, everyone would see them."""
    leaving = set(_ids(plan.leaving))
    blocked = leaving - policy.app_photo_consented(leaving)
    return select(PhotoTag.attachment_id).where(PhotoTag.student_id.in_(blocked))


def _emails(plan: FamilyPlan) -> list[str]:
    return [u.email for u in plan.deleted_guardians]


def _count_of(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def _count(plan: FamilyPlan) -> dict[str, int]:
    students, users = _ids(plan.leaving), _ids(plan.deleted_guardians)
    kind_msgs = select(Message.id).where(Message.conversation_id.in_(_kindgesprekken(plan)))
    return {
        "accounts": len(users),
        "children": len(students),
        "links": _count_of(select(Guardianship.id).where(Guardianship.student_id.in_(students))),
        "consents": _count_of(select(Consent.id).where(Consent.student_id.in_(students))),
        "consent_history": _count_of(
            select(ConsentChange.id).where(ConsentChange.student_id.in_(students))
        ),
        "absence_reports": _count_of(
            select(AbsenceReport.id).where(AbsenceReport.student_id.in_(students))
        ),
        "bookings": _count_of(select(Booking.id).where(Booking.student_id.in_(students)))
        + _count_of(select(Response.id).where(Response.student_id.in_(students)))
        + _count_of(select(SignUp.id).where(SignUp.user_id.in_(users)))
        + _count_of(select(Pledge.id).where(Pledge.user_id.in_(users))),
        "sessions": _count_of(select(UserSession.id).where(UserSession.user_id.in_(users))),
        "login_events": _count_of(
            select(LoginEvent.id).where(
                or_(LoginEvent.user_id.in_(users), LoginEvent.email.in_(_emails(plan)))
            )
        ),
        "invitations": _count_of(select(Invitation.id).where(Invitation.user_id.in_(users))),
        "outbox_mail": _count_of(
            select(OutboxMail.id).where(OutboxMail.recipient.in_(_emails(plan)))
        ),
        "kindgesprekken": _count_of(_kindgesprekken(plan)),
        "kindgesprek_messages": _count_of(kind_msgs),
        "chat_files": _count_of(
            select(MessageAttachment.id).where(
                or_(
                    MessageAttachment.message_id.in_(kind_msgs),
                    MessageAttachment.message_id.in_(_their_messages(plan)),
                )
            )
        ),
        "photos_removed": _count_of(_photos_without_consent(plan).distinct()),
        "photo_tags": _count_of(select(PhotoTag.id).where(PhotoTag.student_id.in_(students))),
        "tagged_posts_kept": _count_of(
            select(Attachment.post_id)
            .join(PhotoTag, PhotoTag.attachment_id == Attachment.id)
            .where(PhotoTag.student_id.in_(students), Attachment.post_id.is_not(None))
            .distinct()
        ),
        "messages_kept": _count_of(_their_messages(plan)),
    }


# -- deleting -------------------------------------------------------------------


def delete_family(plan: FamilyPlan, actor: User) -> dict[str, int]:
    """Delete what the plan says in one transaction, then the files. Returns the counts."""
    from .chat.service import detach_author

    students, users = _ids(plan.leaving), _ids(plan.deleted_guardians)
    emails = _emails(plan)
    counts = plan.counts
    kindgesprekken = list(db.session.scalars(_kindgesprekken(plan)))
    kept_messages = list(db.session.scalars(_their_messages(plan)))
    photo_ids = list(db.session.scalars(_photos_without_consent(plan).distinct()))
    chat_files = list(
        db.session.scalars(
            select(MessageAttachment.key).where(
                or_(
                    MessageAttachment.message_id.in_(
                        select(Message.id).where(Message.conversation_id.in_(kindgesprekken))
                    ),
                    MessageAttachment.message_id.in_(kept_messages),
                )
            )
        )
    )
    photo_files = list(
        db.session.scalars(select(Attachment.key).where(Attachment.id.in_(photo_ids)))
    )
    audit.record(
        audit.DELETION,
        summary=f"Familie {plan.family_name} verwijderd",
        actor=actor,
        **counts,
    )

    # Sign-ups and pledges free their places: the counters follow the rows.
    for shift_id, n in db.session.execute(
        select(SignUp.shift_id, func.count()).where(SignUp.user_id.in_(users))
        .group_by(SignUp.shift_id)
    ):
        db.session.execute(update(Shift).where(Shift.id == shift_id).values(taken=Shift.taken - n))
    for item_id, n in db.session.execute(
        select(Pledge.item_id, func.sum(Pledge.quantity)).where(Pledge.user_id.in_(users))
        .group_by(Pledge.item_id)
    ):
        db.session.execute(update(Item).where(Item.id == item_id).values(pledged=Item.pledged - n))
    db.session.execute(delete(SignUp).where(SignUp.user_id.in_(users)))
    db.session.execute(delete(Pledge).where(Pledge.user_id.in_(users)))

    # Their messages in chats that stay: "verwijderde gebruiker", text kept, files gone;
    # a new revision so that open conversations show the change.
    for message in db.session.scalars(select(Message).where(Message.id.in_(kept_messages))):
        detach_author(message)
    db.session.execute(
        delete(MessageAttachment).where(MessageAttachment.message_id.in_(kept_messages))
    )
    db.session.execute(delete(Attachment).where(Attachment.id.in_(photo_ids)))
    # The database cascades the rest: messages and their files' rows, memberships,
    # guardianships, consents, absence reports, bookings, sessions, settings ...
    db.session.execute(delete(Conversation).where(Conversation.id.in_(kindgesprekken)))
    db.session.execute(delete(OutboxMail).where(OutboxMail.recipient.in_(emails)))
    db.session.execute(
        delete(LoginEvent).where(or_(LoginEvent.user_id.in_(users), LoginEvent.email.in_(emails)))
    )
    db.session.execute(delete(Student).where(Student.id.in_(students)))
    db.session.execute(delete(User).where(User.id.in_(users)))
    if plan.elsewhere:  # kept for a child at another school: nothing of this one stays theirs
        drop_from_school(list(plan.elsewhere), plan.leaving[0].school_id)
    db.session.commit()
    db.session.expire_all()
    media.remove(chat_files + photo_files)
    return counts
