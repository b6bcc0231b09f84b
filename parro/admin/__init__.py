from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/beheer")

# views: the overview; school: years, groups, students, import, rollover;
# people: staff, guardians, invitations; family: deleting a departed family;
# moderation: reports and the audit log.
from . import family, moderation, people, school, views  # noqa: E402,F401
