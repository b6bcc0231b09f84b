"""Language and time zone: Dutch by default, English per user."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import format_date, format_datetime
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


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt)
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt)
