"""A short help page per role, drawn from the questions parents ask schools most."""

from flask import Blueprint

bp = Blueprint("help", __name__)

from . import views  # noqa: E402,F401
