from flask import Blueprint

bp = Blueprint("chat", __name__, url_prefix="/gesprekken")

from . import views  # noqa: E402,F401


@bp.cli.command("digest")
def digest_command():
    """The same as `notifications digest` (kept for existing crontabs)."""
    from ..notifications import run_and_report

    run_and_report()
