"""All models, one module per aggregate."""

from .activity import (
    Activity,
    ActivityKind,
    ActivityReminder,
    Answer,
    Booking,
    CalendarFeed,
    Item,
    Pledge,
    Response,
    SeparateBookings,
    Shift,
    SignUp,
    Slot,
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
    "Activity",
    "ActivityKind",
    "ActivityReminder",
    "Answer",
    "Booking",
    "CalendarFeed",
    "Item",
    "Pledge",
    "Response",
    "SeparateBookings",
    "Shift",
    "SignUp",
    "Slot",
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
