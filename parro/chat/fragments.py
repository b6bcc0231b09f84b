"""Rendered messages, kept in memory: a conversation page shows the same messages on every load.

A message's HTML is cached under everything it is made from (its text, state,
author's name, attachments, whether it is the viewer's own, the language), so a
changed message is simply another key and nothing needs invalidating. Two parts
differ per request and are filled in afterwards: the time ("5 minuten geleden")
and, in one's own messages, the CSRF token of the delete form.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from flask import current_app, g, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from .. import clock
from ..lru import LRU
from ..models import Message
from .service import Shown

MAX_ENTRIES = 5000  # per cache: about 10 MB of HTML at most
# Random, so no message text can contain them.
_WHEN = "parro-when-" + secrets.token_hex(16)
_CSRF = "parro-csrf-" + secrets.token_hex(16)


def _cache(name: str) -> LRU:
    caches = current_app.extensions.setdefault("chat_fragments", {})
    if name not in caches:
        caches[name] = LRU()
    return caches[name]


@dataclass
class _Request:
    """What every message of one request shares, looked up once."""

    viewer_id: int | None
    context: tuple  # in every fragment's key: the language and the site's root
    midnight: datetime  # the start of today at school
    day: tuple  # in every time's key
    ago: Callable
    fragments: LRU = field(default_factory=lambda: _cache("messages"))
    times: LRU = field(default_factory=lambda: _cache("times"))
    render: Callable | None = None  # made at the first message not in the cache


def _renderer() -> Callable:
    """templates/chat/_message.html with what render_template would give it, whose
    context processors (the layout's among them) then run once, not per message."""
    template = current_app.jinja_env.get_template("chat/_message.html")
    context: dict = {}
    current_app.update_template_context(context)
    context.update(when=Markup(_WHEN), csrf_token=lambda: _CSRF)
    return lambda m, oob: template.render(context, m=m, oob=oob)


def _request() -> _Request:
    if "chat_fragments" not in g:
        local = clock.local_now()
        midnight = datetime.combine(local.date(), time(0), local.tzinfo)
        locale = str(get_locale())
        g.chat_fragments = _Request(
            viewer_id=current_user.id,
            context=(locale, request.script_root),
            midnight=midnight,
            day=(locale, midnight, current_app.config["TIMEZONE"]),
            ago=current_app.jinja_env.filters["ago"],
        )
    return g.chat_fragments


def _time_html(r: _Request, moment: datetime) -> str:
    """The `ago` filter's <time>; for a moment before today it only changes with the date."""
    if moment >= r.midnight:
        return r.ago(moment)
    key = (moment, r.day)
    html = r.times.get(key)
    if html is None:
        html = str(r.ago(moment))
        r.times.put(key, html, MAX_ENTRIES)
    return html


def messages_html(messages: list[Message | Shown], oob: bool = False) -> Markup:
    """templates/chat/_message.html for each message, for this viewer."""
    r = _request()
    csrf_token = None
    parts = []
    for m in messages:
        mine = m.author_id == r.viewer_id
        key = (
            m.id, m.conversation_id, m.body, m.edited_at is not None, m.is_deleted, m.is_hidden,
            m.author.display_name if m.author else None,
            tuple((a.key, a.kind, a.filename, a.size, a.width, a.height, a.digest)
                  for a in m.attachments),
            mine, oob, r.context,
        )
        html = r.fragments.get(key)
        if html is None:
            r.render = r.render or _renderer()
            html = r.render(m, oob)
            r.fragments.put(key, html, MAX_ENTRIES)
        html = html.replace(_WHEN, _time_html(r, m.created_at), 1)
        if mine and _CSRF in html:
            if csrf_token is None:
                csrf_token = current_app.jinja_env.globals["csrf_token"]()
            html = html.replace(_CSRF, csrf_token, 1)
        parts.append(html)
    return Markup("".join(parts))


def message_html(m: Message | Shown, oob: bool = False) -> Markup:
    return messages_html([m], oob)
