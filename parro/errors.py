"""Error pages in the layout and the user's language, for pages and fragments."""

from __future__ import annotations

import contextlib

from flask import Flask, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .htmx import is_htmx
from .i18n import LANG_COOKIE, LOCALES
from .inputs import InvalidCharacter

MESSAGES = {
    400: (_l("Ongeldig verzoek"),
          _l("Er ging iets mis met wat uw browser stuurde. Probeer het opnieuw.")),
    403: (_l("Geen toegang"), _l("U heeft geen toegang tot deze pagina.")),
    404: (_l("Pagina niet gevonden"), _l("Deze pagina bestaat niet (meer).")),
    405: (_l("Niet toegestaan"), _l("Deze actie kan zo niet worden uitgevoerd.")),
    413: (
        _l("Te groot"),
        _l("Wat u probeerde te versturen is te groot. Probeer minder of kleinere bestanden."),
    ),
    429: (
        _l("Te veel pogingen"),
        _l("U heeft het te vaak geprobeerd. Wacht een kwartier en probeer het dan opnieuw."),
    ),
    "character": (
        _l("Ongeldig teken"),
        _l("Wat u stuurde bevat een teken dat niet in tekst kan staan (een NUL-teken), "
           "bijvoorbeeld uit geplakte tekst. Er is niets opgeslagen. Haal het weg en "
           "probeer het opnieuw."),
    ),
    "csrf": (
        _l("Formulier verlopen"),
        _l(
            "Dit formulier was verlopen of kwam niet van deze pagina. Er is niets opgeslagen. "
            "Ga terug, laad de pagina opnieuw en probeer het nog eens."
        ),
    ),
    500: (
        _l("Er ging iets mis"),
        _l("Er ging bij ons iets mis. Er is niets opgeslagen; probeer het later opnieuw."),
    ),
    # The database does not answer (gone, read-only, locked for too long).
    503: (
        _l("Even niet bereikbaar"),
        _l("parro kan zijn gegevens nu niet bereiken. Er is niets opgeslagen; "
           "probeer het over een paar minuten opnieuw."),
    ),
}


def _render(code: int, kind=None):
    title, text = MESSAGES.get(kind or code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    try:
        return render_template(template, code=code, title=title, text=text), code
    except Exception:
        # The layout needs the database (the user, the school, the menu's counts); when
        # that fails too, the page comes without it rather than as gunicorn's bare one.
        current_app.logger.exception("error page: rendered without the database")
        return _render_without_database(code, title, text)


def _render_without_database(code: int, title, text):
    """The error page in the user's language with nothing from the database.

    The language a user chose is kept in the database; here it is the language
    cookie's, else the one the browser prefers of Dutch and English, else Dutch.
    """
    with contextlib.suppress(Exception):  # the connection is gone; teardown discards it
        db.session.rollback()
    chosen = request.cookies.get(LANG_COOKIE)
    locale = chosen if chosen in LOCALES else (
        request.accept_languages.best_match(LOCALES) or LOCALES[0])
    with force_locale(locale):
        page = current_app.jinja_env.get_template("errors/without_database.html").render(
            title=str(title), text=str(text), current_locale=locale)
    headers = {"Retry-After": "60"} if code == 503 else {}
    return page, code, headers


def database_unavailable(exc: Exception) -> bool:
    """The database cannot be reached or written (not a mistake in a statement)."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    # PostgreSQL refusing writes (a read-only connection, a standby): an InternalError.
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == "25006"


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        # The CSRF error says why (an expired form), which helps users retry; so does
        # the NUL character's.
        kind = ("csrf" if isinstance(exc, CSRFError)
                else "character" if isinstance(exc, InvalidCharacter) else None)
        return _render(exc.code, kind)

    @app.errorhandler(Exception)
    def server_error(exc: Exception):  # not an HTTPException: Flask gives those to http_error
        app.logger.exception("unhandled error", exc_info=exc)
        if database_unavailable(exc):
            # Whatever the page would need from the database is not there either.
            return _render_without_database(503, *MESSAGES[503])
        db.session.rollback()
        return _render(500)
