"""Invitations, activation and other account work beyond a single query.

Each function does its work in the caller's request and commits once at the
end, so an action writes everything (account, link, invitation, mail) or
nothing. Refusals raise AccountError before anything is written.
"""

from __future__ import annotations

import enum
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..clock import now, today
from ..database import lock_row
from ..extensions import db
from ..mail import queue_mail
from ..models import (
    Conversation,
    Group,
    Guardianship,
    Invitation,
    Participant,
    PendingUpload,
    Role,
    School,
    SchoolStaff,
    SchoolYear,
    Student,
    TeacherAssignment,
    User,
    UserSession,
)
from ..models.user import normalize_email
from ..policy import (
    current_school,
    current_school_id,
    guardians_of,
    other_school_ids,
    pending_cutoff,
)
from ..security import end_all_sessions, hash_token, new_token
from .passwords import hash_password


class AccountError(Exception):
    """A refusal to show the user (already translated)."""


class Outcome(enum.Enum):
    INVITED = "invited"  # an activation link was sent
    CHILD_ADDED = "child_added"  # an active account got this child; they were told
    ALREADY_LINKED = "already_linked"  # nothing to do


@dataclass
class InviteResult:
    user: User
    outcome: Outcome
    created: bool = False


@contextmanager
def _no_double_accounts():
    """Two people inviting the same address at the same moment: one wins, one is told."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        raise AccountError(
            _("Iemand anders deed dit net tegelijk met u. Kijk of het gelukt is, "
              "en probeer het anders opnieuw.")
        ) from None


def user_by_email(email: str) -> User | None:
    """The account with this e-mail address (as typed: it is normalized here), or None."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _revoke_open_invitations(user: User, except_id: int | None = None) -> int:
    """Revoke the user's unused links; returns how many there were."""
    moment = now()
    query = update(Invitation).where(
        Invitation.user_id == user.id,
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
    )
    if except_id is not None:
        query = query.where(Invitation.id != except_id)
    return db.session.execute(query.values(revoked_at=moment)).rowcount


def _send_invitation(user: User, invited_by: User | None, student: Student | None,
                     school: School | None = None) -> Invitation:
    """Revoke the user's earlier open links, make a new one and queue the mail, which names
    `school` (the child's; by default the current one; a board admin's names none); it is
    logged in that school's log."""
    school = None if user.is_board_admin else (
        school or (student.school if student is not None else current_school()))
    revoked = _revoke_open_invitations(user)
    summary = f"Uitnodiging verstuurd aan {audit.person(user)}"
    if student is not None:
        summary += f" voor {student.full_name}"
    if revoked:
        summary += "; eerdere link ingetrokken"
    audit.record(audit.INVITATION, summary=summary, target=user, actor=invited_by,
                 school_id=school.id if school else None,
                 student_id=student.id if student else None, revoked=revoked)
    token = new_token()
    invitation = Invitation(
        user=user,
        student=student,
        invited_by=invited_by,
        token_hash=hash_token(token),
        expires_at=now() + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    children = (
        [gs.student.first_name for gs in user.guardianships] if user.is_guardian else []
    )
    queue_mail(
        user.email,
        _l("Uw uitnodiging voor {school_name}"),
        "invitation",
        locale=user.locale,
        user=user,
        school=school,  # its name and colour; a board admin's: parro's
        inviter=invited_by.display_name if invited_by else None,
        children=children,
        token=token,
        expires_at=invitation.expires_at,
    )
    return invitation


def _link(user: User, student: Student) -> bool:
    """Make the user a guardian of the student; False when they already were."""
    if any(gs.student_id == student.id for gs in user.guardianships):
        return False
    user.guardianships.append(Guardianship(student=student))
    return True


def invite_guardian(student: Student, email: str, invited_by: User, locale: str | None = None
                    ) -> InviteResult:
    """Invite a guardian of `student`, or add the child to the account they already have."""
    user = user_by_email(email)
    if user is not None and user.is_staff:
        raise AccountError(
            _("Dit e-mailadres hoort bij een medewerker van de school. "
              "Een ouder heeft een eigen e-mailadres nodig.")
        )
    if user is not None and user.disabled:
        raise AccountError(
            _("Het account van dit e-mailadres is uitgeschakeld. "
              "De administratie kan het weer inschakelen.")
        )
    with _no_double_accounts():
        created = user is None
        if created:
            user = User(email=email, role=Role.GUARDIAN, active=False, locale=locale or "nl")
            db.session.add(user)
        linked = _link(user, student)
        if user.active:
            if not linked:
                return InviteResult(user, Outcome.ALREADY_LINKED)
            audit.record(
                audit.INVITATION, actor=invited_by, target=user, student_id=student.id,
                summary=f"{student.full_name} toegevoegd aan het account van {audit.person(user)}",
            )
            school = student.school  # the child's, at whichever school of the board
            queue_mail(
                user.email,
                _l("{child} is toegevoegd aan uw account"),
                "child_added",
                locale=user.locale,
                user=user,
                child=student.first_name,
                school=school,
                inviter=invited_by.display_name,
            )
            db.session.commit()
            return InviteResult(user, Outcome.CHILD_ADDED)
        if locale:
            user.locale = locale  # not activated yet: the inviter knows their language best
        db.session.flush()
        _send_invitation(user, invited_by, student)
        db.session.commit()
    return InviteResult(user, Outcome.INVITED, created=created)


def staff_account(email: str) -> User | None:
    """The staff account with this address, at whichever school of the board."""
    user = user_by_email(email)
    return user if user is not None and user.is_staff else None


def works_at(user: User, school: School) -> bool:
    """Whether `user` is on the staff of `school` (has its SchoolStaff row)."""
    return db.session.scalar(select(SchoolStaff.id).where(
        SchoolStaff.user_id == user.id, SchoolStaff.school_id == school.id)) is not None


def invite_staff(email: str, name: str, role: Role, invited_by: User | None, locale: str = "nl",
                 school: School | None = None) -> User:
    """Create a teacher or admin account at `school` (the current one) and send its
    activation link. A staff member of another school of the board keeps their one
    account: they work at this school too from now on (their role is the account's)."""
    if role not in (Role.TEACHER, Role.ADMIN):
        raise ValueError(role)
    school = school or current_school()
    existing = user_by_email(email)
    if existing is not None and existing.is_guardian:
        raise AccountError(
            _("Dit e-mailadres hoort bij een ouder of verzorger. "
              "Een medewerker heeft een eigen e-mailadres nodig.")
        )
    if existing is not None and (not existing.is_staff or works_at(existing, school)):
        raise AccountError(
            _("Er is al een account met dit e-mailadres. "
              "Staat het nog niet actief? Verstuur de uitnodiging dan opnieuw.")
        )
    with _no_double_accounts():
        if existing is not None:
            db.session.add(SchoolStaff(user_id=existing.id, school_id=school.id))
            audit.record(audit.ROLE_CHANGE, actor=invited_by, target=existing,
                         school_id=school.id,
                         summary=f"{audit.person(existing)} werkt nu ook bij {school.name}")
            db.session.commit()
            return existing
        user = User(email=email, name=name.strip(), role=role, active=False, locale=locale)
        db.session.add(user)
        db.session.flush()
        db.session.add(SchoolStaff(user_id=user.id, school_id=school.id))
        _send_invitation(user, invited_by, None, school=school)
        db.session.commit()
    return user


def invite_board_admin(email: str, name: str, invited_by: User | None = None,
                       locale: str = "nl") -> User:
    """Create a board admin account and send its activation link; a board admin who has
    not activated theirs yet gets a fresh link (earlier ones stop working)."""
    user = user_by_email(email)
    if user is not None and not user.is_board_admin:
        raise AccountError(_("Er is al een account met dit e-mailadres, van een medewerker of "
                             "ouder. Een beheerder van het schoolbestuur heeft een eigen "
                             "e-mailadres nodig."))
    if user is not None and user.active:
        raise AccountError(_("Dit is al een beheerder van het schoolbestuur, en het account "
                             "is geactiveerd."))
    with _no_double_accounts():
        if user is None:
            user = User(email=email, name=name.strip(), role=Role.BOARD, active=False,
                        locale=locale)
            db.session.add(user)
            db.session.flush()
        elif name.strip():
            user.name = name.strip()
        _send_invitation(user, invited_by, None)
        db.session.commit()
    return user


def leave_school(user: User, school: School, changed_by: User) -> bool:
    """`user` no longer belongs to `school` (policy: "A person of several schools"): a staff
    member stops working there (with their groups there of this year and later), a
    guardian is no longer linked to its children; either leaves its chats. At their last
    school the account is disabled instead (as ever), so the school still sees them.
    Returns whether the account stays in use, at another school."""
    if user.id == changed_by.id:
        raise AccountError(_("U kunt uw eigen account niet uitschakelen."))
    # Two offices taking the same person off at once: the second waits here, then finds
    # its school was their last (otherwise each would leave them to the other: tied to none).
    lock_row(User, user.id)
    if not other_school_ids(user, school.id, fresh=True):
        set_disabled(user, True, changed_by)
        return False
    if user.is_guardian:
        children = sorted((gs.student for gs in user.guardianships
                           if gs.student.school_id == school.id), key=lambda s: s.full_name)
        db.session.execute(delete(Guardianship).where(
            Guardianship.user_id == user.id,
            Guardianship.student_id.in_([child.id for child in children])))
        summary = (f"{audit.person(user)} is bij {school.name} weggehaald: niet meer gekoppeld "
                   f"aan {', '.join(child.full_name for child in children)}; het account "
                   f"blijft voor de andere school")
    else:
        years = select(SchoolYear.id).where(SchoolYear.school_id == school.id,
                                            SchoolYear.ends_on >= today())
        db.session.execute(delete(TeacherAssignment).where(
            TeacherAssignment.user_id == user.id,
            TeacherAssignment.group_id.in_(select(Group.id)
                                           .where(Group.school_year_id.in_(years)))))
        db.session.execute(delete(SchoolStaff).where(SchoolStaff.user_id == user.id,
                                                     SchoolStaff.school_id == school.id))
        summary = f"{audit.person(user)} werkt niet meer bij {school.name}"
    drop_from_school([user.id], school.id)
    audit.record(audit.ROLE_CHANGE, actor=changed_by, target=user, school_id=school.id,
                 summary=summary)
    db.session.commit()
    db.session.expire(user)
    return True


def drop_from_school(user_ids: list[int], school_id: int) -> None:
    """What still ties these people to the school after their tie went: their places in
    the chats staff started there, the files kept from a post of theirs the server refused
    (photos of the school's children: they expire at once, and the retention run removes
    them; a kept file does not say its school, so one of their other school's goes too),
    and a guardian's browser that works in it, which moves to their other school (staff's:
    the session loader moves it, and tells them). Part of the caller's transaction."""
    db.session.execute(delete(Participant).where(
        Participant.user_id.in_(user_ids),
        Participant.conversation_id.in_(
            select(Conversation.id).where(Conversation.school_id == school_id))))
    db.session.execute(update(PendingUpload).where(
        PendingUpload.uploader_id.in_(user_ids), PendingUpload.created_at >= pending_cutoff())
        .values(created_at=pending_cutoff() - timedelta(seconds=1)))
    guardians = select(User.id).where(User.id.in_(user_ids), User.role == Role.GUARDIAN)
    db.session.execute(update(UserSession).where(UserSession.user_id.in_(guardians),
                                                 UserSession.school_id == school_id)
                       .values(school_id=None))


def was_invited(user: User) -> bool:
    """Whether the account ever got an invitation (an imported parent has none yet)."""
    return db.session.scalar(
        select(Invitation.id).where(Invitation.user_id == user.id).limit(1)) is not None


def resend_invitation(user: User, invited_by: User) -> Invitation:
    """Send a fresh activation link; earlier links stop working."""
    if user.active:
        raise AccountError(_("Dit account is al geactiveerd. De ouder of medewerker kan inloggen."))
    if user.disabled:
        raise AccountError(_("Dit account is uitgeschakeld. Schakel het eerst weer in."))
    latest = db.session.scalar(
        select(Invitation).where(Invitation.user_id == user.id).order_by(Invitation.id.desc())
    )
    invitation = _send_invitation(user, invited_by, latest.student if latest else None)
    db.session.commit()
    return invitation


def never_invited_guardians():
    """Guardian accounts of the current school that never got a link (the CSV import
    makes these)."""
    return (
        select(User)
        .where(
            User.role == Role.GUARDIAN,
            User.id.in_(guardians_of(current_school_id())),
            User.active.is_(False),
            User.disabled.is_(False),
            ~exists().where(Invitation.user_id == User.id),
        )
        .order_by(User.id)
    )


def invite_all_guardians(invited_by: User) -> int:
    """Invite every guardian account that was never invited; returns how many."""
    users = list(db.session.scalars(never_invited_guardians()))
    for user in users:
        _send_invitation(user, invited_by, None)
    db.session.commit()
    return len(users)


# -- activation -----------------------------------------------------------------


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why this link cannot be used: 'unknown', 'used', 'revoked', 'expired', or None."""
    if invitation is None or invitation.user.disabled:
        return "unknown"
    if invitation.used_at is not None or invitation.user.active:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    if now() >= invitation.expires_at:
        return "expired"
    return None


def activate(invitation: Invitation, name: str, locale: str, password: str) -> bool:
    """Use the invitation: set name, language and password and open the account.

    Returns False when the link was used or revoked meanwhile (two clicks at
    once): only one request can mark it used. The caller commits, together
    with the new session.
    """
    moment = now()
    marked = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(used_at=moment),
        execution_options={"synchronize_session": False},
    )
    if marked.rowcount != 1:
        db.session.rollback()
        return False
    user = invitation.user
    _revoke_open_invitations(user, except_id=invitation.id)
    user.name = name.strip()
    user.locale = locale
    user.password_hash = hash_password(password)
    user.active = True
    user.activated_at = moment
    user.password_changed_at = moment
    audit.record(audit.INVITATION, actor=user, target=user,
                 summary=f"Uitnodiging aangenomen: account van {audit.person(user)} geactiveerd")
    return True


def activate_by_school_account(user: User, name: str) -> None:
    """An invited staff member's first sign-in with the school account opens the account.

    Their open activation links stop working: the school account is their way in now.
    The caller records it and commits.
    """
    _revoke_open_invitations(user)
    user.name = user.name or name.strip()[:120]
    user.active = True
    user.activated_at = now()


# -- administration -------------------------------------------------------------


def latest_invitations(user_ids) -> dict[int, Invitation]:
    """The newest invitation of each of these users, by user id (one query)."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Invitation).where(Invitation.user_id.in_(ids)).order_by(Invitation.id)
    )
    return {invitation.user_id: invitation for invitation in rows}  # the newest comes last


# How the audit log names the roles (stored text, so in the school's language).
ROLE_NAMES = {Role.ADMIN: "beheerder", Role.TEACHER: "leerkracht", Role.GUARDIAN: "ouder"}


def change_role(user: User, role: Role, changed_by: User) -> None:
    """Make a staff member a teacher or an admin."""
    if user.id == changed_by.id:
        raise AccountError(_("U kunt uw eigen rol niet wijzigen. Vraag een andere beheerder."))
    if not user.is_staff or role not in (Role.TEACHER, Role.ADMIN):
        raise AccountError(_("Alleen medewerkers kunnen leerkracht of beheerder zijn."))
    if user.role != role:
        audit.record(audit.ROLE_CHANGE, actor=changed_by, target=user,
                     summary=f"Rol van {audit.person(user)}: {ROLE_NAMES[user.role]} → "
                             f"{ROLE_NAMES[role]}",
                     old=str(user.role), new=str(role))
    user.role = role
    db.session.commit()


def set_disabled(user: User, disabled: bool, changed_by: User) -> None:
    """Disable an account (every session ends at once) or enable it again."""
    if user.id == changed_by.id:
        raise AccountError(_("U kunt uw eigen account niet uitschakelen."))
    if user.disabled != disabled:
        audit.record(audit.ROLE_CHANGE, actor=changed_by, target=user, disabled=disabled,
                     summary=f"Account van {audit.person(user)} "
                             f"{'uitgeschakeld' if disabled else 'weer ingeschakeld'}")
    user.disabled = disabled
    if disabled:
        end_all_sessions(user)
    db.session.commit()
