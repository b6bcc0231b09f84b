"""Rendered page parts, kept in memory per worker process under keys derived from what
they show (key-based expiration, as Rails and Basecamp's "Russian doll" caching do it).

`fragment("feed/_post_body.html", post=post, photos=photos)` renders the template with
only the values given, or returns what it rendered for the same key before. The key is
made of:

- the template's digest: its source and that of every template it includes;
- the language and the date at school (times read "vandaag om 14:05", parro/i18n.py);
- every value given, by cache_key(): a record by its table, id and version (a column
  that rises with every UPDATE of the row and starts at random, database.Versioned),
  a list by its members, a plain value by itself.

Every change is a new key, so nothing is ever invalidated: the least recently used
entries drop out (FRAGMENT_CACHE entries per process; 0 turns the cache off). Only what
is given reaches the template, so give it every record it shows. What differs per
viewer (their like, what they may do, the CSRF token, the way back) is never given to
a fragment: the page around it renders that.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import date

from cachetools import LRUCache
from flask import Flask, current_app, g
from flask_babel import get_locale
from jinja2 import meta
from markupsafe import Markup

from . import clock


class FragmentCache:
    def __init__(self, app: Flask, size: int):
        self.app = app
        self.entries: LRUCache | None = LRUCache(maxsize=size) if size else None
        self.lock = threading.Lock()  # the development server runs requests in threads
        self.digests: dict[str, str] = {}


def init_app(app: Flask) -> None:
    cache = app.extensions["parro.fragments"] = FragmentCache(app, app.config["FRAGMENT_CACHE"])

    @app.template_global()
    def fragment(template: str, **values) -> Markup:
        """`template` rendered with only `values`, from the cache when it was rendered
        before. Where no render_template bound it (below): fragments inside fragments,
        macros imported without context."""
        return _fragment(cache, _language_and_date(), template, values)

    @app.context_processor
    def bound_to_this_render() -> dict:
        """`fragment` for one render_template, the language and the date looked up on its
        first call only, not for each of a conversation page's fifty fragments."""
        reader = None

        def fragment(template: str, **values) -> Markup:
            nonlocal reader
            if reader is None:
                reader = _language_and_date()
            return _fragment(cache, reader, template, values)

        return {"fragment": fragment}


_PLAIN = (str, int, float, date, type(None))  # bool is an int, datetime a date


def cache_key(value) -> object:
    """What identifies `value`'s state in a fragment's key."""
    if isinstance(value, _PLAIN):
        return value
    table = getattr(value, "__tablename__", None)
    if table is not None:
        return (table, value.id, getattr(value, "version", None))
    if isinstance(value, list | tuple):
        return tuple(cache_key(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(value))
    raise TypeError(f"no cache key for {type(value).__name__}: give a record, a list or a value")


def _fragment(cache: FragmentCache, reader: tuple[str, date], template: str,
              values: dict) -> Markup:
    """`template` rendered with only `values`, from the cache when it was rendered before;
    `reader` is the language and the date (_language_and_date)."""
    if cache.entries is None:
        return Markup(_render(cache, template, values))
    key = (template, _digest(cache, template), *reader, *[cache_key(v) for v in values.values()])
    with cache.lock:
        html = cache.entries.get(key)
    if html is None:
        html = Markup(_render(cache, template, values))
        with cache.lock:
            cache.entries[key] = html
    return html


def _language_and_date() -> tuple[str, date]:
    """The language and the date at school: worked out once per request (a page has
    dozens of fragments), again only when the language changes (force_locale)."""
    locale = get_locale()
    known = g.get("parro_fragment_reader")
    if known is None or known[0] is not locale:
        known = g.parro_fragment_reader = (locale, str(locale), clock.today())
    return known[1:]


def clear() -> None:
    cache: FragmentCache = current_app.extensions["parro.fragments"]
    with cache.lock:
        if cache.entries is not None:
            cache.entries.clear()


def _render(cache: FragmentCache, template: str, values: dict) -> str:
    return cache.app.jinja_env.get_template(template).render(values)


def _digest(cache: FragmentCache, template: str) -> str:
    """The template's source and those of the templates it includes, hashed; worked out
    once per process, or every time while templates reload (development)."""
    env = cache.app.jinja_env
    found = None if env.auto_reload else cache.digests.get(template)
    if found is None:
        found = cache.digests[template] = _source_digest(env, template, set())
    return found


def _source_digest(env, template: str, seen: set[str]) -> str:
    seen.add(template)
    source = env.loader.get_source(env, template)[0]
    digest = hashlib.sha256(source.encode())
    for name in sorted(n for n in meta.find_referenced_templates(env.parse(source)) if n):
        if name not in seen:
            digest.update(_source_digest(env, name, seen).encode())
    return digest.hexdigest()
