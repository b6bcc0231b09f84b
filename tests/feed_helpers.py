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


class _Counter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"{self.count} queries:\n" + "\n".join(self.statements)


from contextlib import contextmanager  # noqa: E402


@contextmanager
def count_client_queries(client):
    """count_queries() for the requests of a test client (its app has its own engine)."""
    import re

    from sqlalchemy import event

    with client.application.app_context():
        engine = db.engine
    counter = _Counter()

    def before(conn, cursor, statement, parameters, context, executemany):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
            counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def page_text(response) -> str:
    """text_of() with HTML entities decoded (Dutch has many apostrophes: foto's)."""
    import html

    from .helpers import text_of

    return html.unescape(text_of(response))
