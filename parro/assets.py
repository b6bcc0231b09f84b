"""Static files under content-hashed URLs, kept by browsers for a year.

Every `url_for("static", filename=...)` gets `?v=<hash of the file's content>`,
computed once per process (per change of the file with the debugger on). A
request whose `v` is the file's current hash is answered with
`Cache-Control: public, max-age=31536000, immutable`: a browser never asks
again, and a changed file has a new URL. Without `v`, or with an old one, the
file comes with Flask's revalidation headers (no-cache, ETag).

The hash is a query, not part of the path, so that a proxy serving /static/
from the folder itself (Caddy, deploy/Caddyfile) needs no rewrite; it sends
the same header for URLs with a `v`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"


def content_hash(data: bytes) -> str:
    """A short digest that changes with the content (for URLs, not for security)."""
    return hashlib.sha256(data).hexdigest()[:12]


class StaticHashes:
    def __init__(self, app: Flask):
        self.folder = app.static_folder
        self.hashes: dict[tuple[str, float | None], str | None] = {}

    def of(self, filename: str) -> str | None:
        """The file's content hash, or None when there is no such file."""
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        # With the debugger on, an edited file gets its new hash at once.
        key = (filename, _mtime(path) if current_app.debug else None)
        if key not in self.hashes:
            try:
                self.hashes[key] = content_hash(Path(path).read_bytes())
            except OSError:  # not a file: url_for still builds a URL, as Flask's does
                self.hashes[key] = None
        return self.hashes[key]


def _mtime(path: str) -> float | None:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return None


def init_app(app: Flask) -> None:
    hashes = app.extensions["parro_static_hashes"] = StaticHashes(app)

    @app.url_defaults
    def _hashed_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            digest = hashes.of(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def _immutable_static_files(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            version = request.args.get("v")
            if version and version == hashes.of(request.view_args["filename"]):
                response.headers["Cache-Control"] = IMMUTABLE
        return response
