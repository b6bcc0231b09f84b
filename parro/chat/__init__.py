from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .. import navigation, policy

bp = Blueprint("chat", __name__, url_prefix="/gesprekken")

from . import service, views  # noqa: E402,F401

navigation.register(navigation.NavItem(
    "chat.index", _l("Gesprekken"), position=20, allowed=policy.can_use_chat, key="chat",
    count=service.unread_count,
    text=lambda user, n: ngettext("ongelezen bericht", "ongelezen berichten", n),
))


@bp.cli.command("digest")
def digest_command():
    """The same as `notifications digest` (kept for existing crontabs)."""
    from ..notifications import run_and_report

    run_and_report()
