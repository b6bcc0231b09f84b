"""Photos, videos and files: what teachers, the office and parents upload, and how it goes out.

pipeline.py  checks an upload, cleans it and stores it aside until the database
             transaction that refers to it has committed
photos.py    decodes a photo at the scale it needs, and stores its pixels alone in the
             sizes a page may show (JPEG, and WebP for srcset)
videos.py    copies a video into a new MP4 without metadata (ffmpeg)
documents.py rewrites a PDF without document information and XMP (pikepdf)
errors.py    why an upload is refused, for the user
serving.py   sends a stored file to someone the caller has authorised, with the caching
             that fits it; the URLs a page shows a photo with
views.py     the `media` blueprint: the feed's photos, videos and files
variants.py  WebP sizes for photos stored before them (flask media variants)

Callers use this package's names (`media.check`, `media.process`, `media.PHOTO` …);
the blueprint is registered from views.py, so importing the pipeline imports no view.
"""

from .errors import UploadError, UploadErrors
from .photos import ICONS
from .pipeline import (
    DOCUMENT,
    KEY_RE,
    PHOTO,
    SUFFIXES,
    VIDEO,
    Limits,
    Staged,
    check,
    clean_filename,
    commit,
    digest,
    discard,
    icon_for,
    new_key,
    path_for,
    process,
    remove,
    root,
)

__all__ = [
    "DOCUMENT", "ICONS", "KEY_RE", "PHOTO", "SUFFIXES", "VIDEO", "Limits", "Staged", "UploadError",
    "UploadErrors", "check", "clean_filename", "commit", "digest", "discard", "icon_for",
    "new_key", "path_for",
    "process", "remove", "root",
]
