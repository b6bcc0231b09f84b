from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/meldingen")

# Reporting a post or message, and the reporter's own list. The admin's queue is
# in parro/admin/moderation.py.
from . import views  # noqa: E402,F401
