from flask import Blueprint, abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import navigation, policy
from ..extensions import db

bp = Blueprint("admin", __name__, url_prefix="/beheer")
navigation.register(navigation.NavItem(
    "admin.index", _l("Beheer"), position=60, allowed=policy.can_administer))



def get_or_404(model, object_id, allowed):
    """The object with this id if the policy's `allowed(user, object)` says this admin may
    change it; another school's object is refused exactly like a missing one (404)."""
    obj = db.session.get(model, object_id) if object_id is not None else None
    if obj is None or not allowed(current_user, obj):
        abort(404)
    return obj


# views: the overview; school: years, groups, students, import, rollover;
# people: staff, guardians, invitations; family: deleting a departed family;
# moderation: reports and the audit log.
from . import family, moderation, people, school, views  # noqa: E402,F401
