"""Sending a stored file, and the URLs a page shows a photo with: the feed's and chat's.

A photo's URLs carry `v`, the digest of its stored files (pipeline.digest).
Asked with its current digest, a photo is sent with `Cache-Control: private,
max-age=31536000, immutable`: the browser keeps it and never asks again, and
files that change get new URLs. Logging out clears the browser's cache
(Clear-Site-Data), so a shared computer keeps nothing. Every request still
goes through the authorising route: a user who may not see a photo gets 403
or 404 for every URL of it. Without `v` (or an old one) a photo is sent with
`private, no-cache` (the browser asks again, a 304 when unchanged); videos and
documents are never stored (`private, no-store`).
"""

from __future__ import annotations

from flask import abort, current_app, request, send_file, url_for

from .photos import WEBP_SIZES
from .pipeline import DOCUMENT, PHOTO, VIDEO, path_for

# URL variant -> (stored variant, the kinds that have it)
VARIANTS = {
    "groot": ("display", {PHOTO}),
    "klein": ("thumb", {PHOTO}),
    "groot.webp": ("webp", {PHOTO}),
    **{f"{size}.webp": (f"webp{size}", {PHOTO}) for size in WEBP_SIZES},
    "bestand": ("file", {VIDEO, DOCUMENT}),
}
KEPT = "private, max-age=31536000, immutable"


def send_stored(item, variant: str, download: bool = False):
    """Send the stored `variant` of an attachment (anything with key, kind, content_type,
    filename, digest) to someone already allowed to see it; `download`: as a file to save
    (Content-Disposition: attachment), which the feed's photo viewer asks for only where
    the school allows saving photos."""
    path = path_for(item.key, variant)
    if not path.is_file():
        abort(404)
    # We only ever store JPEG, WebP, MP4 and PDF, with the type we determined ourselves;
    # documents are always downloads (under their cleaned name), never rendered in our origin.
    response = send_file(
        path,
        mimetype="image/webp" if path.suffix == ".webp" else item.content_type,
        as_attachment=download or item.kind == DOCUMENT,
        download_name=(item.filename.rsplit(".", 1)[0] + ".webp" if path.suffix == ".webp"
                       else item.filename),
        conditional=True,
        etag=True,
        max_age=None,
    )
    if item.kind != PHOTO or download:
        response.headers["Cache-Control"] = "private, no-store"
    elif item.digest and request.args.get("v") == item.digest:
        response.headers["Cache-Control"] = KEPT
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def picture(photo, endpoint: str) -> dict:
    """The URLs of a photo for templates/_macros/media.html: `webp` and `jpeg` srcsets
    (empty `webp` for a photo stored before its WebP sizes), `src`, and `full` to open."""

    def url(variant: str) -> str:
        return url_for(endpoint, key=photo.key, variant=variant, v=photo.digest)

    if not photo.width:  # no sizes known: the thumbnail and the display size as they are
        return {"webp": "", "jpeg": "", "src": url("klein"), "full": url("groot")}
    width, height = photo.width, photo.height
    longest = max(width, height)
    thumb = min(current_app.config["MEDIA_THUMB_SIZE"], longest)
    jpeg = f"{url('klein')} {round(width * thumb / longest)}w, {url('groot')} {width}w"
    if not photo.digest:
        return {"webp": "", "jpeg": jpeg, "src": url("klein"), "full": url("groot")}
    smaller = [f"{url(f'{size}.webp')} {round(width * size / longest)}w"
               for size in reversed(WEBP_SIZES) if size < longest]
    webp = ", ".join([*smaller, f"{url('groot.webp')} {width}w"])
    return {"webp": webp, "jpeg": jpeg, "src": url("klein"), "full": url("groot.webp")}
