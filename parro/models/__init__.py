"""All models, one module per aggregate."""

from .feed import (
    Announcement,
    AnnouncementDismissal,
    AnnouncementGroup,
    Attachment,
    Like,
    PhotoTag,
    Post,
    PostGroup,
    ReadReceipt,
)
from .outbox import OutboxMail
from .privacy import APP_PHOTOS, Consent, ConsentChange, ConsentTopic
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
    "APP_PHOTOS",
    "Announcement",
    "AnnouncementDismissal",
    "AnnouncementGroup",
    "Attachment",
    "Consent",
    "ConsentChange",
    "ConsentTopic",
    "Like",
    "PhotoTag",
    "Post",
    "PostGroup",
    "ReadReceipt",
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
