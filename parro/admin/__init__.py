from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/beheer")

# views: the overview; school: years, groups, students, import, rollover;
# people: staff, guardians, invitations; moderation: reports and the audit log.
from . import moderation, people, school, views  # noqa: E402,F401
