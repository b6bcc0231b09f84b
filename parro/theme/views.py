"""The school colour as a tiny stylesheet and the manifest that makes the app installable."""

from __future__ import annotations

import json

from flask import Response, request, url_for

from ..policy import current_school
from . import bp
from .colour import brand, brand_dark

# Not private: any visitor may read the school's name and colour; a few minutes
# of caching saves a request per page, and the ETag makes revalidation cheap.
CACHE = "public, max-age=300"


def _cacheable(body: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = CACHE
    response.add_etag()
    return response.make_conditional(request)


@bp.app_template_global()
def brand_colour(school) -> str:
    """The school's colour as the layout uses it (white text on it stays readable)."""
    return brand(school.colour if school else None)


@bp.get("/theme.css")
def stylesheet():
    """Serve the school's colour as CSS variables (inline styles are forbidden by the CSP)."""
    school = current_school()
    colour = school.colour if school else None
    body = f":root {{ --brand: {brand(colour)}; --brand-dark: {brand_dark(colour)}; }}\n"
    return _cacheable(body, "text/css")


@bp.get("/manifest.webmanifest")
def manifest():
    """Serve the web app manifest, so parents can add the app to their home screen."""
    school = current_school()
    name = school.name if school else "parro"
    colour = brand(school.colour if school else None)

    def icon(filename, size, purpose="any"):
        return {"src": url_for("static", filename=f"img/{filename}"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": purpose}

    body = {
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
    return _cacheable(json.dumps(body, ensure_ascii=False), "application/manifest+json")
