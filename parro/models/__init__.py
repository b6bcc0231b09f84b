"""All models, one module per aggregate."""

from .absence import (
    AbsenceKind,
    AbsencePreference,
    AbsenceReason,
    AbsenceReport,
    SchoolHoliday,
)
from .outbox import OutboxMail
from .school import Group, Membership, School, SchoolYear, Student, TeacherAssignment
from .user import (
    Guardianship,
    Invitation,
    LoginEvent,
    PasswordReset,
    Role,
    User,
    UserSession,
)

__all__ = [
    "AbsenceKind",
    "AbsencePreference",
    "AbsenceReason",
    "AbsenceReport",
    "SchoolHoliday",
    "Group",
    "Guardianship",
    "Invitation",
    "LoginEvent",
    "Membership",
    "OutboxMail",
    "PasswordReset",
    "Role",
    "School",
    "SchoolYear",
    "Student",
    "TeacherAssignment",
    "User",
    "UserSession",
]
