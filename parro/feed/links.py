"""What the per-viewer part of every post card on a page shares, worked out once per page.

A feed page shows twenty cards, each with its like form and links of its own
(templates/feed/_post.html). Building every URL with url_for, asking for the CSRF
token, reading the request's path and translating the same words card by card cost
more than the rest of a card's own part. card_links() does each once per page: a URL
per endpoint for a placeholder id, into which each card puts its post's id, the token
and the ways back as strings, and the words (CardWords). None of it outlives the
request: it is this viewer's, in this viewer's language.
"""

from __future__ import annotations

from functools import cached_property

from flask import request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from ..fragments import bound

# A post id no post has; the URL built for it holds it exactly once, where the id goes.
_PLACEHOLDER = str(10**18 - 1)


class PostUrl:
    """url_for(endpoint, post_id=...) for every post of the page, from one url_for."""

    def __init__(self, endpoint: str):
        url = url_for(endpoint, post_id=int(_PLACEHOLDER))
        self.head, found, self.tail = url.partition(_PLACEHOLDER)
        if not found or _PLACEHOLDER in self.tail:
            raise ValueError(f"{endpoint}: its URL must hold the post id once: {url}")

    def __call__(self, post_id: int) -> str:
        return f"{self.head}{int(post_id)}{self.tail}"


def _post_url(endpoint: str) -> cached_property:
    """A CardLinks attribute: the PostUrl of `endpoint`, built the first time a card asks."""
    return cached_property(lambda self: PostUrl(endpoint))


class CardWords:
    """The fixed words of a card's own part, translated once per page: `_()` in a
    template looks up the catalogue on every call, twice per card."""

    def __init__(self):
        self.scheduled = _("Gepland")
        self.important = _("Belangrijk")
        self.new = _("Nieuw")
        self.like = _("Vind ik leuk")
        self.edit = _("Bewerken")
        self.delete = _("Verwijderen")
        self.report = _("Melden")


class CardLinks:
    """The CSRF token, the ways back, the URLs and the words that a page's post cards use,
    and `fragment`, for their kept parts (parro/fragments.py, bound)."""

    def __init__(self):
        self.csrf_token = generate_csrf()
        self.words = CardWords()
        self.fragment = bound()
        # The like form returns to this page; the photo viewer closes to it (None: to the
        # post's own page, after a POST).
        self.next = request.full_path if request.method == "GET" else ""
        self.back = self.next.rstrip("?") or None

    post = _post_url("feed.post")
    like = _post_url("feed.like")
    edit = _post_url("feed.edit_post")
    delete = _post_url("feed.delete_post")
    report = _post_url("moderation.report_post")
