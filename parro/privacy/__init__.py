from flask import Blueprint
from flask_babel import lazy_gettext as _l

from .. import navigation, policy

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
navigation.register(navigation.NavItem(
    "privacy.topics", _l("Privacy"), position=50, allowed=policy.can_manage_consent_topics))

from . import views  # noqa: E402,F401
from .service import has_open_questions  # noqa: E402,F401
