"""The `media` blueprint: every stored photo, video and file goes out through here.

(The package is not called media because parro/media.py is the upload pipeline.)
"""

from flask import Blueprint

bp = Blueprint("media", __name__, url_prefix="/media")

from . import views  # noqa: E402,F401
