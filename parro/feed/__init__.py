from flask import Blueprint

bp = Blueprint("feed", __name__, url_prefix="/groepen")

from . import views  # noqa: E402,F401
