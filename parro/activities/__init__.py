from flask import Blueprint

bp = Blueprint("activities", __name__, url_prefix="/activiteiten")

from . import cli, views  # noqa: E402,F401
from .overview import activities_for_feed  # noqa: E402,F401
