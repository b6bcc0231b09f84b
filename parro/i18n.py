"""Language and time zone: Dutch by default, English per user."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import format_date, format_datetime, get_translations
from flask_login import current_user

LOCALES = ("nl", "en")
LANG_COOKIE = "parro_lang"


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = request.cookies.get(LANG_COOKIE) if request else None
    return chosen if chosen in LOCALES else "nl"


def select_timezone() -> str:
    from flask import current_app

    return current_app.config["TIMEZONE"]


def _translations():
    """Flask-Babel's get_translations(), remembered per locale for the rest of the request.

    A page asks for its catalogue once per string (a feed page a few hundred
    times); Flask-Babel looks up the context, the locale and its name each time.
    Keyed by the locale object, so force_locale() (mails in the recipient's
    language) still gets its own catalogue.
    """
    ns = g.get("_flask_babel")
    locale = getattr(ns, "babel_locale", None)
    if locale is None:  # not chosen yet in this request (or no request)
        return get_translations()
    cache = ns.__dict__.setdefault("parro_translations", {})
    translations = cache.get(locale)
    if translations is None:
        translations = cache[locale] = get_translations()
    return translations


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt)
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt)
