"""Error pages in the layout and the user's language, for pages and fragments."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .htmx import is_htmx
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
}


def _render(code: int, kind=None):
    title, text = MESSAGES.get(kind or code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(template, code=code, title=title, text=text), code


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
    def server_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error", exc_info=exc)
        from .extensions import db

        db.session.rollback()
        return _render(500)
