from flask import Blueprint

bp = Blueprint("feed", __name__, url_prefix="/groepen")

# views: the feed pages; posts: writing, editing, liking; announcements: school-wide.
from . import announcements, posts, views  # noqa: E402,F401
