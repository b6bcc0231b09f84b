"""Sending a stored file: shared by the feed's media route and chat attachments."""

from __future__ import annotations

from flask import abort, send_file

from .pipeline import DOCUMENT, PHOTO, VIDEO, path_for

# URL variant -> (stored variant, the kinds that have it)
VARIANTS = {
    "groot": ("display", {PHOTO}),
    "klein": ("thumb", {PHOTO}),
    "bestand": ("file", {VIDEO, DOCUMENT}),
}


def send_stored(item, variant: str):
    """Send the stored `variant` of an attachment (anything with key, kind, content_type,
    filename) to someone already allowed to see it; private and never stored by caches."""
    path = path_for(item.key, variant)
    if not path.is_file():
        abort(404)
    # We only ever store JPEG, MP4 and PDF, with the type we determined ourselves;
    # documents are always downloads (under their cleaned name), never rendered in our origin.
    response = send_file(
        path,
        mimetype=item.content_type,
        as_attachment=item.kind == DOCUMENT,
        download_name=item.filename,
        conditional=True,
        etag=True,
        max_age=None,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
