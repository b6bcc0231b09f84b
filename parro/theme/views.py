"""The school colour as a tiny stylesheet and the manifest that makes the app installable."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, request, send_file, send_from_directory, url_for

from ..assets import IMMUTABLE, content_hash
from ..extensions import db
from ..media import path_for
from ..models import School
from ..policy import current_school
from . import bp
from .colour import brand, brand_dark

# Not private: any visitor may read the school's name and colour. Pages link both
# files with `?v=<hash of the content>` (theme_url), so a browser keeps them for a
# year and the next colour or name is a new URL; a URL without it is kept a few
# minutes, and the ETag makes revalidation cheap.
CACHE = "public, max-age=300"


def _cacheable(body: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    immutable = request.args.get("v") == content_hash(body.encode())
    response.headers["Cache-Control"] = IMMUTABLE if immutable else CACHE
    response.add_etag()
    return response.make_conditional(request)


@bp.app_template_global()
def brand_colour(school) -> str:
    """The school colour as the layout uses it (white text on it stays readable)."""
    return brand(school.colour if school else None)


@bp.app_template_global()
def theme_url(endpoint: str) -> str:
    """The URL of the stylesheet or the manifest, with the hash of what it serves now.

    Both bodies follow from the school's name and colour (and the static files' URLs):
    their hash is worked out once per name and colour, not rendered for every page.
    """
    school = current_school()
    key = (endpoint, school.name if school else None, school.colour if school else None,
           request.script_root)
    # With the debugger on, an icon the manifest links may change under a running server.
    digest = None if current_app.debug else _hashes.get(key)
    if digest is None:
        digest = _hashes[key] = content_hash(_BODIES[endpoint]().encode())
    return url_for(endpoint, v=digest)


@bp.app_template_global()
def school_logo_url(school) -> str | None:
    """The URL of the school's logo (with its digest: kept for a year), None without one."""
    if school is None or not school.logo_key:
        return None
    return url_for("theme.logo", school_id=school.id, v=school.logo_digest)


_hashes: dict[tuple, str] = {}


def _stylesheet_body() -> str:
    school = current_school()
    colour = school.colour if school else None
    return f":root {{ --brand: {brand(colour)}; --brand-dark: {brand_dark(colour)}; }}\n"


def _manifest_body() -> str:
    school = current_school()
    name = school.name if school else "parro"
    colour = brand(school.colour if school else None)

    def icon(filename, size, purpose="any"):
        return {"src": url_for("static", filename=f"img/{filename}"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": purpose}

    body = {
        # The app's identity: the same installed app whatever the manifest's URL.
        "id": "/",
        "name": name,
        # Shown under the icon on the home screen, where there is room for about 12 letters.
        "short_name": name if len(name) <= 12 else "parro",
        "lang": "nl",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": colour,
        "background_color": colour,
        "icons": [
            icon("icon-192.png", 192),
            icon("icon-512.png", 512),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
    }
    return json.dumps(body, ensure_ascii=False)


_BODIES = {"theme.stylesheet": _stylesheet_body, "theme.manifest": _manifest_body}


@bp.get("/theme.css")
def stylesheet():
    """Serve the school's colour as CSS variables (inline styles are forbidden by the CSP)."""
    return _cacheable(_stylesheet_body(), "text/css")


@bp.get("/manifest.webmanifest")
def manifest():
    """Serve the web app manifest, so parents can add the app to their home screen."""
    return _cacheable(_manifest_body(), "application/manifest+json")


@bp.get("/logo/<int:school_id>.jpg")
def logo(school_id: int):
    """Serve a school's logo: public like its name and colour (the login page shows it)."""
    school = db.session.get(School, school_id)
    if school is None or not school.logo_key:
        abort(404)
    path = path_for(school.logo_key, "display")
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, etag=True,
                         max_age=None)
    current = school.logo_digest and request.args.get("v") == school.logo_digest
    response.headers["Cache-Control"] = IMMUTABLE if current else CACHE
    return response


@bp.get("/favicon.ico")
def favicon():
    """Serve the icon browsers ask for on their own (pages link the SVG one)."""
    response = send_from_directory(current_app.static_folder, "img/favicon.ico",
                                   mimetype="image/vnd.microsoft.icon", max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


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
