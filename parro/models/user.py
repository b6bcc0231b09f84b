"""People, their links to children, and how they get in."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..clock import now
from ..database import UTCDateTime, Versioned
from ..extensions import db
from .columns import ActorId, StudentId, UserId


def normalize_email(value: str) -> str:
    return value.strip().lower()


class PersonName:
    """How a person's name is shown, from their `name`: shared by User and the read
    models that carry a user's name (parro/feed/queries.py, CardAuthor)."""

    __slots__ = ()

    @property
    def display_name(self) -> str:
        # Never a fallback on the email address: guardians see each other's names only.
        return self.name or str(_l("naam nog niet bekend"))

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.replace(".", " ").split() if p]
        if not parts:
            return "?"
        letters = (parts[0][0] + parts[-1][0]) if len(parts) > 1 else parts[0][:2]
        return letters.upper()


class Role(enum.StrEnum):
    ADMIN = "admin"
    TEACHER = "teacher"
    GUARDIAN = "guardian"
    # The school board's IT or office, in an installation with several schools: creates
    # schools and appoints their admins, sees board-wide figures, never posts or chats.
    BOARD = "board"


class User(PersonName, Versioned, UserMixin, db.Model):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    # One parro account per account at the school's provider.
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-case (see normalize_email), so unique means case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=10))
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # False until the invitation is accepted, and when the school disables the account.
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor login (staff only): the TOTP secret once confirmed, and the last
    # time step a code was used in, so a code works once.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    # The school account (OpenID Connect) this staff account is linked to: the provider
    # and its unchanging id for the person (`sub`); set at the first sign-in with it.
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    oidc_linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    guardianships: Mapped[list[Guardianship]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    teacher_assignments: Mapped[list[TeacherAssignment]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan"
    )

    @validates("email")
    def _lower_email(self, key, value: str) -> str:
        return normalize_email(value)

    @property
    def is_active(self) -> bool:  # Flask-Login: may this account log in?
        return self.active and not self.disabled

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_teacher(self) -> bool:
        return self.role == Role.TEACHER

    @property
    def is_guardian(self) -> bool:
        return self.role == Role.GUARDIAN

    @property
    def is_board_admin(self) -> bool:
        return self.role == Role.BOARD

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.TEACHER)

    def __str__(self) -> str:
        return self.display_name


class Guardianship(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    student_id: Mapped[StudentId]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    user: Mapped[User] = relationship(back_populates="guardianships")
    student: Mapped[Student] = relationship(back_populates="guardianships")  # noqa: F821


class Invitation(db.Model):
    """A single-use activation link; only its hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[UserId]
    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id", ondelete="SET NULL"))
    invited_by_id: Mapped[ActorId]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys="Invitation.user_id")
    student: Mapped[Student | None] = relationship()  # noqa: F821
    invited_by: Mapped[User | None] = relationship(foreign_keys="Invitation.invited_by_id")

    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and now() < self.expires_at


class PasswordReset(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[UserId]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_usable(self) -> bool:
        return self.used_at is None and now() < self.expires_at


class UserSession(db.Model):
    """A logged-in browser. The cookie holds a random id; we keep only its hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[UserId]
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    # How this browser signed in: "password" or "schoolaccount" (OpenID Connect), and
    # whether more than one factor was proven then (parro's code, or the provider's MFA).
    method: Mapped[str] = mapped_column(String(20), default="password")
    multi_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    # The school this browser works in (policy.current_school()): staff and guardians
    # at several schools of a board switch; None until chosen (the first of theirs).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code to log in without the authenticator app; only its hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[UserId]
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginEvent(db.Model):
    """Every login attempt, successful or not (the audit log reads these)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[ActorId] = mapped_column(index=True)
    email: Mapped[str] = mapped_column(String(254))
    success: Mapped[bool] = mapped_column(Boolean)
    ip: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
