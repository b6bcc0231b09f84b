"""The school's look as files: its colour (/theme.css), the web app manifest, its logo and
the home-screen icons made from it."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from flask import Response, abort, current_app, request, send_file, send_from_directory, url_for

from ..assets import IMMUTABLE, content_hash
from ..extensions import db
from ..inputs import as_id
from ..media import ICONS, icon_for, path_for
from ..models import School
from ..policy import current_school
from . import bp
from .colour import brand, brand_dark

# A school's name, colour and logo are public: any visitor may read them (its login page
# shows them). Pages link the stylesheet and the manifest with `?v=<school id>-<hash of the
# body>` (theme_url): such a URL always serves that school's look, so a browser or proxy
# keeps it for a year, and the next colour, logo or school is a new URL. Without it (or
# with an old one) the answer is the browser's own school's, which only that browser may
# keep, asking again each time (the ETag makes that cheap).
PER_BROWSER = "private, no-cache"
# A logo or icon named by its school's id but without the logo's current digest.
CACHE = "public, max-age=300"


@dataclass(frozen=True)
class Look:
    """What the stylesheet and the manifest show of a school (no school: parro's own).

    Both bodies are functions of a Look alone (and of the static files' URLs), so the hash
    worked out once per Look is the hash of the body: a field the bodies come to show is a
    field here, never a key listed by hand.
    """

    school_id: int  # 0: no school yet
    name: str
    colour: str | None
    logo_digest: str | None

    @classmethod
    def of(cls, school: School | None) -> Look:
        if school is None:
            return cls(0, "parro", None, None)
        return cls(school.id, school.name, school.colour,
                   school.logo_digest if school.logo_key else None)


@bp.app_template_global()
def brand_colour(school) -> str:
    """The school colour as the layout uses it (white text on it stays readable)."""
    return brand(school.colour if school else None)


@bp.app_template_global()
def theme_url(endpoint: str) -> str:
    """The URL of the current school's stylesheet or manifest: `v` names the school and
    the hash of what the URL serves, worked out once per Look, not for every page."""
    look = Look.of(current_school())
    # With the debugger on, an icon the manifest links may change under a running server.
    digest = _hash.__wrapped__ if current_app.debug else _hash
    return url_for(endpoint, v=f"{look.school_id}-{digest(endpoint, look, request.script_root)}")


@functools.lru_cache(maxsize=1024)
def _hash(endpoint: str, look: Look, script_root: str) -> str:
    # script_root: the body's URLs start with it (url_for), so it is part of the key.
    return content_hash(_BODIES[endpoint](look).encode())


@bp.app_template_global()
def school_logo_url(school) -> str | None:
    """The URL of the school's logo (with its digest: kept for a year), None without one."""
    if school is None or not school.logo_key:
        return None
    return url_for("theme.logo", school_id=school.id, v=school.logo_digest)


@bp.app_template_global()
def touch_icon_url(school) -> str:
    """The apple-touch-icon: made from the school's logo, or parro's own."""
    return _icon_url(Look.of(school), "apple-touch-icon")


def _icon_url(look: Look, name: str) -> str:
    if look.logo_digest:
        return url_for("theme.icon", school_id=look.school_id, name=name, v=look.logo_digest)
    return url_for("static", filename=f"img/{name}.png")


def _stylesheet_body(look: Look) -> str:
    return (f":root {{ --brand: {brand(look.colour)}; "
            f"--brand-dark: {brand_dark(look.colour)}; }}\n")


def _manifest_body(look: Look) -> str:
    colour = brand(look.colour)

    def icon(name: str) -> dict:
        side, maskable = ICONS[name]
        return {"src": _icon_url(look, name), "sizes": f"{side}x{side}", "type": "image/png",
                "purpose": "maskable" if maskable else "any"}

    body = {
        # The app's identity: the same installed app whatever the manifest's URL.
        "id": "/",
        "name": look.name,
        # Shown under the icon on the home screen, where there is room for about 12 letters.
        "short_name": look.name if len(look.name) <= 12 else "parro",
        "lang": "nl",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": colour,
        "background_color": colour,
        "icons": [icon("icon-192"), icon("icon-512"), icon("icon-maskable-512")],
    }
    return json.dumps(body, ensure_ascii=False)


_BODIES = {"theme.stylesheet": _stylesheet_body, "theme.manifest": _manifest_body}


def _serve(endpoint: str, mimetype: str) -> Response:
    """The look of the school `v` names (of the browser's school without one), kept a year
    when `v` is what theme_url gives for it now."""
    version = request.args.get("v", "")
    school_id = as_id(version.partition("-")[0])
    school = db.session.get(School, school_id) if school_id is not None else None
    look = Look.of(school or current_school())
    body = _BODIES[endpoint](look)
    response = Response(body, mimetype=mimetype)
    current = version == f"{look.school_id}-{content_hash(body.encode())}"
    response.headers["Cache-Control"] = IMMUTABLE if current else PER_BROWSER
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/theme.css")
def stylesheet():
    """Serve the school's colour as CSS variables (inline styles are forbidden by the CSP)."""
    return _serve("theme.stylesheet", "text/css")


@bp.get("/manifest.webmanifest")
def manifest():
    """Serve the web app manifest, so parents can add the app to their home screen."""
    return _serve("theme.manifest", "application/manifest+json")


def _logo_file(school_id: int, path_of) -> Response:
    """Send a file of the school's logo (path_of(key): its path, None without it)."""
    school = db.session.get(School, school_id)
    if school is None or not school.logo_key:
        abort(404)
    path = path_of(school.logo_key)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, conditional=True, etag=True, max_age=None)
    current = school.logo_digest and request.args.get("v") == school.logo_digest
    response.headers["Cache-Control"] = IMMUTABLE if current else CACHE
    return response


@bp.get("/logo/<int:school_id>.jpg")
def logo(school_id: int):
    """Serve a school's logo: public like its name and colour (the login page shows it)."""
    return _logo_file(school_id, lambda key: path_for(key, "display"))


_ICON_NAMES = ", ".join(f'"{name}"' for name in ICONS)


@bp.get(f"/logo/<int:school_id>/<any({_ICON_NAMES}):name>.png")
def icon(school_id: int, name: str):
    """Serve a home-screen icon made from a school's logo (the manifest links them)."""
    return _logo_file(school_id, lambda key: icon_for(key, name))


@bp.get("/favicon.ico")
def favicon():
    """Serve the icon browsers ask for on their own (pages link the SVG one)."""
    # max_age: Werkzeug sends "Cache-Control: public, max-age=86400".
    return send_from_directory(current_app.static_folder, "img/favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker from the root, so that its scope is the whole app.

    It shows pushes and opens their page; it caches nothing (static/sw.js). `no-cache`:
    a browser asks for a new version every time it checks, so a fix reaches every phone.
    """
    response = current_app.send_static_file("sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    response.mimetype = "text/javascript"
    return response
