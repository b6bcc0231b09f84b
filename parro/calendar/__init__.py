from flask import Blueprint
from flask_babel import lazy_gettext as _l

from .. import navigation, policy

bp = Blueprint("calendar", __name__, url_prefix="/kalender")
navigation.register(navigation.NavItem(
    "calendar.index", _l("Kalender"), position=35, allowed=policy.can_see_calendar))

from . import views  # noqa: E402,F401
