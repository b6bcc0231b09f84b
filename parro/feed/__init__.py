from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .. import navigation, policy

bp = Blueprint("feed", __name__, url_prefix="/groepen", cli_group="feed")

# views: the feed pages; posts: writing, editing, liking; announcements: school-wide;
# publishing: important posts by mail, scheduled posts at their time (flask feed publish).
from . import announcements, counts, links, posts, publishing, viewer, views  # noqa: E402,F401

bp.add_app_template_global(links.CardLinks, "card_links")
bp.cli.add_command(publishing.publish_command)
bp.before_app_request(publishing.start_publisher)

navigation.register(navigation.NavItem(
    "feed.index", _l("Groepen"), position=10, allowed=policy.in_a_school, key="feed",
    count=counts.new_posts_count,
    params=counts.params, text=lambda user, n: ngettext("nieuw bericht", "nieuwe berichten", n),
))
