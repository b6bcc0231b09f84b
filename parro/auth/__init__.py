from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import activation, views  # noqa: E402,F401
