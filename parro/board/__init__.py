"""The school board (Role.BOARD): its schools with board-wide figures, new schools and
their admins. Never the content of posts, chats or a child's name: see service.py."""

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import navigation, policy

bp = Blueprint("board", __name__, url_prefix="/bestuur")
navigation.register(navigation.NavItem(
    "board.index", _l("Bestuur"), position=70, allowed=policy.can_run_board))


@bp.before_app_request
def _no_school_pages_for_the_board():
    """A board admin belongs to no school: every school page refuses them (403), the pages
    added later too, whatever their own checks would let through."""
    policy.require(policy.can_open_school_page(current_user, request.blueprint))


from . import views  # noqa: E402,F401
