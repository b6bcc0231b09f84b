"""The school's look outside the stylesheet: its colour (/theme.css) and the web app manifest."""

from flask import Blueprint

bp = Blueprint("theme", __name__)

from . import views  # noqa: E402,F401
