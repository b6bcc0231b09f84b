"""A readable name for a browser, from its user agent ("Chrome op Android")."""

from __future__ import annotations

from flask_babel import gettext as _

# Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
BROWSERS = [
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "Mac"),
    ("Linux", "Linux"),
]


def _first(table, user_agent: str) -> str | None:
    return next((name for marker, name in table if marker in user_agent), None)


def describe(user_agent: str) -> str:
    browser, system = _first(BROWSERS, user_agent), _first(SYSTEMS, user_agent)
    if browser and system:
        return _("%(browser)s op %(system)s", browser=browser, system=system)
    return browser or system or _("Onbekend apparaat")
