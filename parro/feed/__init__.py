from flask import Blueprint

bp = Blueprint("feed", __name__, url_prefix="/groepen", cli_group="feed")

# views: the feed pages; posts: writing, editing, liking; announcements: school-wide;
# publishing: important posts by mail, scheduled posts at their time (flask feed publish).
from . import announcements, posts, publishing, views  # noqa: E402,F401
