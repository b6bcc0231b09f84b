"""Rendered messages, kept in memory: a conversation page shows the same messages on every load.

A message's HTML is cached under everything it is made from (its text, state,
author's name, attachments, whether it is the viewer's own, the language), so a
changed message is simply another key and nothing needs invalidating. Two parts
differ per request and are filled in afterwards: the time ("5 minuten geleden")
and, in one's own messages, the CSRF token of the delete form.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time

from flask import current_app, g, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from .. import clock
from ..models import Message

MAX_ENTRIES = 5000  # per cache: about 10 MB of HTML at most
# Random, so no message text can contain them.
_WHEN = "parro-when-" + secrets.token_hex(16)
_CSRF = "parro-csrf-" + secrets.token_hex(16)


def _cache(name: str) -> dict:
    caches = current_app.extensions.setdefault("chat_fragments", {})
    cache = caches.get(name)
    if cache is None or len(cache) >= MAX_ENTRIES:
        cache = caches[name] = {}
    return cache


def _midnight() -> datetime:
    """The start of today at school (once per request)."""
    if "chat_midnight" not in g:
        local = clock.local_now()
        g.chat_midnight = datetime.combine(local.date(), time(0), local.tzinfo)
    return g.chat_midnight


def _time_html(moment: datetime, locale: str) -> str:
    """The `ago` filter's <time>; for a moment before today it only changes with the date."""
    midnight = _midnight()
    if moment >= midnight:
        return current_app.jinja_env.filters["ago"](moment)
    times = _cache("times")
    key = (moment, locale, midnight, current_app.config["TIMEZONE"])
    html = times.get(key)
    if html is None:
        html = times[key] = str(current_app.jinja_env.filters["ago"](moment))
    return html


def message_html(m: Message, oob: bool = False) -> Markup:
    """templates/chat/_message.html for this message and viewer."""
    mine = m.author_id == current_user.id
    locale = str(get_locale())
    key = (
        m.id, m.conversation_id, m.body, m.edited_at is not None, m.is_deleted, m.is_hidden,
        m.author.display_name if m.author else None,
        tuple((a.key, a.kind, a.filename, a.size, a.width, a.height) for a in m.attachments),
        mine, oob, locale, request.script_root,
    )
    fragments = _cache("messages")
    html = fragments.get(key)
    if html is None:
        html = fragments[key] = render_template(
            "chat/_message.html", m=m, oob=oob, when=Markup(_WHEN),
            csrf_token=lambda: _CSRF,
        )
    html = html.replace(_WHEN, _time_html(m.created_at, locale), 1)
    if mine and _CSRF in html:
        html = html.replace(_CSRF, current_app.jinja_env.globals["csrf_token"](), 1)
    return Markup(html)
