"""Rendered post cards, remembered per worker process.

A feed page shows twenty cards; rendering them is most of what the page
costs (links, translations, dates and the like button, per post). A card's
HTML is a pure function of what goes into it, so it is remembered under a key
that holds all of that: the post's text, author, groups and visible photos,
everything the reader's PostInfo says (likes, "Nieuw", what they may do, read
counts), the language and the minute (for "5 minuten geleden"). Nothing is
ever served from here that a fresh render would not show: an edit, a like, a
withdrawn consent or a new minute makes a different key. What differs per
browser session, the CSRF token and the page to come back to, is left out of
the stored HTML and filled in on the way out.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from ..clock import now
from ..lru import LRU
from ..models import Post
from .queries import PostInfo

_CSRF = "\x00csrf\x00"
_NEXT = "\x00next\x00"


_cards = LRU()


def _key(post: Post, info: PostInfo, moment) -> tuple:
    author = post.author
    return (
        post.id, post.title, post.body, post.important, post.publish_at, post.edited_at,
        post.publish_at <= moment, (moment - post.publish_at).total_seconds() < 60,
        (author.id, author.name) if author else None,
        tuple(str(group) for group in post.group_list),
        tuple((a.id, a.key, a.description, a.width, a.height, a.digest) for a in info.photos),
        tuple(sorted(info.flagged)),
        tuple((a.id, a.kind, a.key, a.filename, a.size) for a in post.files),
        info.new, info.like_count, info.liked, info.can_like, info.can_edit, info.can_delete,
        info.can_report, info.stats, info.families_read, info.families_total, tuple(info.likers),
        str(get_locale()), request.script_root,
        # The minute: relative times ("5 minuten geleden") and the day's "data-fresh".
        int(moment.timestamp() // 60),
    )


def post_card(post: Post, info: PostInfo) -> Markup:
    """The card of one post for this reader, rendered or remembered."""
    size = current_app.config["FEED_CARD_CACHE"]
    key = _key(post, info, now()) if size else None
    html = _cards.get(key) if size else None
    if html is None:
        html = current_app.jinja_env.get_template("feed/_post.html").render(
            post=post, info=info, request=request)
        if not size:
            return Markup(html)
        token = generate_csrf()
        back = f'name="next" value="{escape(_next())}"'
        html = html.replace(token, _CSRF).replace(back, f'name="next" value="{_NEXT}"')
        _cards.put(key, html, size)
    return Markup(html.replace(_CSRF, generate_csrf()).replace(_NEXT, escape(_next())))


def _next() -> str:
    return request.full_path if request.method == "GET" else ""


def clear() -> None:
    _cards.clear()
