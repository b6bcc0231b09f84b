"""Rendered page parts, kept in memory per worker process under keys derived from what
they show (key-based expiration, as Rails and Basecamp's "Russian doll" caching do it).

`fragment("feed/_post_body.html", post=post, photos=photos)` renders the template with
only the values given, or returns what it rendered for the same key before;
`fragments(template, [values, ...])` does it for each item of a list (a conversation's
messages, parro/chat/views.py). The key is made of:

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
from collections.abc import Callable, Iterable
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
    app.extensions["parro.fragments"] = FragmentCache(app, app.config["FRAGMENT_CACHE"])
    app.add_template_global(fragment)


_PLAIN = (str, int, float, date, type(None))  # bool is an int, datetime a date


def cache_key(value) -> object:
    """What identifies `value`'s state in a fragment's key.

    A record is anything with `__tablename__`, `id` and `version`: a model, or a page's
    read model of one row, which names its row's table (parro/chat/service.py,
    ShownMessage)."""
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


def fragment(template: str, **values) -> Markup:
    """`template` rendered with only `values`, from the cache when it was rendered before."""
    return fragments(template, (values,))


def fragments(template: str, each: Iterable[dict]) -> Markup:
    """fragment(template, **values) for each `values` of `each`, joined: the items of a
    list (a conversation's messages) with the template's digest, the language and the
    date worked out once."""
    cache: FragmentCache = current_app.extensions["parro.fragments"]
    if cache.entries is None:
        return Markup("".join([_render(template, values) for values in each]))
    shared = (template, _digest(cache, template), *_language_and_date())
    return Markup("".join([_kept(cache, shared, values) for values in each]))


def bound() -> Callable[..., Markup]:
    """fragment() for the many fragments of one page, with the cache, the language and
    the date looked up once, not for each of a feed page's forty (parro/feed/links.py)."""
    cache: FragmentCache = current_app.extensions["parro.fragments"]
    reader = _language_and_date()

    def fragment(template: str, **values) -> Markup:
        if cache.entries is None:
            return Markup(_render(template, values))
        return _kept(cache, (template, _digest(cache, template), *reader), values)

    return fragment


def _kept(cache: FragmentCache, shared: tuple, values: dict) -> Markup:
    """The fragment for `values`, from the cache or rendered; `shared`: the template, its
    digest, the language and the date."""
    key = (*shared, *[cache_key(v) for v in values.values()])
    with cache.lock:
        html = cache.entries.get(key)
    if html is None:
        html = Markup(_render(shared[0], values))
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


def _render(template: str, values: dict) -> str:
    return current_app.jinja_env.get_template(template).render(values)


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
