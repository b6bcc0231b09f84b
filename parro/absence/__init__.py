from flask import Blueprint

bp = Blueprint("absence", __name__, url_prefix="/absentie")

from . import views  # noqa: E402,F401
