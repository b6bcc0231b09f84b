from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .. import navigation, policy

bp = Blueprint("activities", __name__, url_prefix="/activiteiten")

from . import cli, views  # noqa: E402,F401
from .overview import activities_for_feed, open_count  # noqa: E402,F401


def _count_text(user, n: int) -> str:
    if user.is_staff:
        return ngettext("lopende activiteit", "lopende activiteiten", n)
    return ngettext("activiteit wacht op u", "activiteiten wachten op u", n)


navigation.register(navigation.NavItem(
    "activities.index", _l("Activiteiten"), position=30, allowed=policy.in_a_school,
    key="activities", count=open_count, text=_count_text,
))
