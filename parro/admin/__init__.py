from flask import Blueprint
from flask_babel import lazy_gettext as _l

from .. import navigation, policy

bp = Blueprint("admin", __name__, url_prefix="/beheer")
navigation.register(navigation.NavItem(
    "admin.index", _l("Beheer"), position=60, allowed=policy.can_administer))

# views: the overview; school: years, groups, students, import, rollover;
# people: staff, guardians, invitations; family: deleting a departed family;
# moderation: reports and the audit log.
from . import family, moderation, people, school, views  # noqa: E402,F401
