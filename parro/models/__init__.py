"""All models, one module per aggregate."""

from .chat import (
    Availability,
    ChatSetting,
    Conversation,
    ConversationKind,
    Message,
    MessageAttachment,
    Participant,
    ReadState,
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
    "Availability",
    "ChatSetting",
    "Conversation",
    "ConversationKind",
    "Message",
    "MessageAttachment",
    "Participant",
    "ReadState",
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
