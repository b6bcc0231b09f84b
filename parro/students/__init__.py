from flask import Blueprint

bp = Blueprint("students", __name__, url_prefix="/leerlingen")

from . import views  # noqa: E402,F401
