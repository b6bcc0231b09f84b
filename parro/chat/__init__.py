from flask import Blueprint

bp = Blueprint("chat", __name__, url_prefix="/gesprekken")

from . import views  # noqa: E402,F401
