"""The help page: the questions of the user's role, with their answers."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from . import bp


def role_of(user) -> str:
    """Which help a visitor gets; anonymous visitors get the parents' (logging in, activation)."""
    if user.is_authenticated and user.is_admin:
        return "admin"
    if user.is_authenticated and user.is_teacher:
        return "teacher"
    if user.is_authenticated and user.is_board_admin:
        return "board"
    return "guardian"


@bp.get("/help")
def index():
    """Show the help for the user's role."""
    return render_template("help/index.html", role=role_of(current_user),
                           invitation_days=current_app.config["INVITATION_DAYS"])
