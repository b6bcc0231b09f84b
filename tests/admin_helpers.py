"""Browsers for the school administration tests.

The test's own session starts its transactions with BEGIN IMMEDIATE on SQLite
(it is not a request), so merely reading `year.id` after a commit holds the
write lock until the next commit, and a POST from the browser would wait for it.
These clients end the test's transaction before every request.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from parro.extensions import db

from .factories import make_admin
from .helpers import login_as


class CommittingClient(FlaskClient):
    def open(self, *args, **kwargs):
        db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture
def browser(app, make_app):
    """A (logged-out) browser that commits the test's transaction before each request."""

    def factory(**config):
        other = make_app(**config)
        other.test_client_class = CommittingClient
        return other.test_client()

    return factory


@pytest.fixture
def admin_client(app, browser):
    client = browser()
    login_as(client, make_admin())
    return client
