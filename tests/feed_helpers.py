"""Helpers for the feed, media and privacy tests (issue 3)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from parro.extensions import db


@pytest.fixture
def reader(app):
    """Run the test's own database work as a GET request would: as a reader.

    Outside a request every SQLite transaction begins as a writer (BEGIN
    IMMEDIATE), and an expired object touched between two requests would hold
    the write lock while the next request waits for it.
    """
    with app.test_request_context():
        yield


def fresh() -> None:
    """End the test's transaction, so that what the requests wrote is seen."""
    db.session.commit()
    db.session.expire_all()


def files_under(path) -> list[str]:
    return sorted(str(Path(d) / f) for d, _, names in os.walk(path) for f in names)


def upload(*files):
    """(name, bytes) pairs as a multipart form field."""
    return [(io.BytesIO(data), name) for name, data in files]


def sign_in(client, user) -> None:
    """login_as, after ending the test's read (which may predate the last request)."""
    from .helpers import login_as

    fresh()
    login_as(client, user)


def page_text(response) -> str:
    """text_of() with HTML entities decoded (Dutch has many apostrophes: foto's)."""
    import html

    from .helpers import text_of

    return html.unescape(text_of(response))
