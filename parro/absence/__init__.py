from flask import Blueprint
from flask_babel import lazy_gettext as _l

from .. import navigation, policy

bp = Blueprint("absence", __name__, url_prefix="/absentie")
navigation.register(navigation.NavItem("absence.index", _l("Absentie"), position=40,
                                       allowed=policy.in_a_school))

from . import views  # noqa: E402,F401
