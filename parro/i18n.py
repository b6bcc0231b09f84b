"""Language and time zone: Dutch by default, English per user."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_skeleton
from flask import Flask, current_app, g, request
from flask_babel import (
    format_date,
    format_datetime,
    format_time,
    format_timedelta,
    get_locale,
    get_translations,
    gettext,
)
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from . import clock

LOCALES = ("nl", "en")
LANG_COOKIE = "parro_lang"


def select_locale() -> str:
    user = current_user._get_current_object()  # None outside a request
    if user is not None and user.is_authenticated and user.locale in LOCALES:
        return user.locale
    chosen = request.cookies.get(LANG_COOKIE) if request else None
    return chosen if chosen in LOCALES else "nl"


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def relative(moment: datetime) -> str:
    """'vandaag om 14:05', 'gisteren om 14:05', '3 dagen geleden', then the date; a moment
    in the future gets its date and time.

    It changes only with the date, so a page part showing it can be kept for the day
    (parro/fragments.py); static/js/app.js says 'zojuist' and '5 minuten geleden'.
    """
    local, now = moment.astimezone(clock.school_tz()), clock.local_now()
    days = (now.date() - local.date()).days
    future = now - local < -timedelta(minutes=1)  # planned; a few seconds ahead is clock skew
    if future or days >= 7:
        skeleton = "MMMd" if local.year == now.year and not future else "yMMMd"
        day = format_skeleton(skeleton, local, tzinfo=local.tzinfo, locale=get_locale())
        return f"{day}, {format_time(local, 'HH:mm')}" if future else day
    if days <= 0:
        return gettext("vandaag om %(time)s", time=format_time(local, "HH:mm"))
    if days == 1:
        return gettext("gisteren om %(time)s", time=format_time(local, "HH:mm"))
    return format_timedelta(timedelta(days=-days), granularity="day", threshold=1,
                            add_direction=True)


def exact(moment: datetime) -> str:
    """'dinsdag 24 november 2026, 07:45' in the school's time zone."""
    return f"{format_date(moment, 'full')}, {format_time(moment, 'HH:mm')}"


def machine_time(moment: datetime) -> str:
    """The moment for <time datetime>: HTML allows at most milliseconds, so whole seconds."""
    return moment.isoformat(timespec="seconds")


def tel_href(phone: str) -> str:
    """A phone number as a tel: link (RFC 3966 has no spaces): 'tel:0101234567'."""
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


def time_element(moment: datetime | None) -> Markup:
    """<time> with the relative time, the exact time as its title (server-rendered)."""
    if moment is None:
        return Markup("")
    # Earlier today: static/js/app.js says "5 minuten geleden" and keeps it true.
    now = clock.local_now()
    same_day = moment <= now and moment.astimezone(now.tzinfo).date() == now.date()
    fresh = Markup(" data-fresh") if same_day else ""
    return Markup('<time datetime="{}" title="{}"{}>{}</time>').format(
        machine_time(moment), exact(moment), fresh, relative(moment))


def _translations():
    """Flask-Babel's get_translations(), remembered for the rest of the request while the
    locale stays the same object.

    Flask-Babel looks up the context, the locale and its name each time. force_locale()
    (mails in the recipient's language) sets another locale object, which gets its own
    catalogue here, and puts the request's back when it ends.
    """
    locale = get_locale()  # chosen once per request, and remembered, by Flask-Babel
    if locale is None:  # outside an application context
        return get_translations()
    known = g.get("parro_translations")
    if known is None or known[0] is not locale:
        known = g.parro_translations = (locale, get_translations())
    return known[1]


def _newstyle(catalogue) -> dict:
    """`_`, `gettext` and `ngettext` for templates over the catalogue that `catalogue()`
    gives, with Jinja's newstyle semantics: the translation is Markup where the template
    autoescapes, and always %-formatted with its variables (`%(num)s` for ngettext)."""

    @pass_context
    def gettext(context, string, **variables):
        text = catalogue().ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = catalogue().ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def _bound_to_this_render() -> dict:
    """The template callables of one render_template, bound to the catalogue of the
    language it renders in, looked up once: a conversation asks for a hundred strings.

    Inside force_locale() the render gets that language's catalogue. Templates rendered
    without render_template (the cached fragments, mails) and macros imported without
    context use the environment's, which ask _translations() per string.
    """
    translations = _translations()
    return _newstyle(lambda: translations)


def init_app(app: Flask) -> None:
    app.context_processor(_bound_to_this_render)
    # Installed for {% trans %} (newstyle) and pgettext; `_`, gettext and ngettext are
    # then replaced by the same callables without Jinja's extra layers (its `_` resolves
    # "gettext" and calls it, which calls the function given here).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(_newstyle(_translations))
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt)
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt)
    app.jinja_env.filters["ago"] = time_element
    app.jinja_env.filters["machine_time"] = machine_time
    app.jinja_env.filters["tel_href"] = tel_href
