"""Test setup: one database per run (SQLite, or PostgreSQL from PARRO_TEST_DATABASE_URL),
emptied after every test; a fresh app per test; a frozen-able clock."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient

# Tests never touch the developer's instance folder or configuration.
_INSTANCE = tempfile.mkdtemp(prefix="parro-test-instance-")
os.environ["PARRO_INSTANCE_PATH"] = _INSTANCE

from sqlalchemy import text  # noqa: E402

from parro import clock, create_app  # noqa: E402
from parro.extensions import db, limiter  # noqa: E402

from .helpers import login_as  # noqa: E402,F401

TEST_DATABASE_URL = os.environ.get("PARRO_TEST_DATABASE_URL")
_SQLITE_FILE = Path(_INSTANCE) / "test.sqlite3"


def database_url() -> str:
    return TEST_DATABASE_URL or f"sqlite:///{_SQLITE_FILE}"


def test_config(**overrides) -> dict:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://parro.test",
        "MAIL_SENDER_THREAD": False,
        "MAIL_SERVER": None,
        "WTF_CSRF_ENABLED": False,
        "DEMO": True,  # so the mail viewer exists and the authorization table covers it
        # Cheap hashing: the tests make many accounts.
        "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 64, "parallelism": 1},
        "MEDIA_PATH": str(Path(_INSTANCE) / "media"),
        "MAIL_DIR": str(Path(_INSTANCE) / "mail"),
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def _schema():
    app = create_app(test_config())
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
    yield


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def make_app(_schema):
    """Build an app with config overrides; the database is emptied afterwards."""
    apps = []

    def factory(**overrides):
        app = create_app(test_config(**overrides))
        apps.append(app)
        return app

    yield factory
    clock.set_now(None)
    ours = [a for a in apps if a.config["DATABASE_URL"] == database_url()]
    if ours:
        with ours[0].app_context():
            db.session.remove()
            _empty_all_tables()
    # Every app has its own pool: close them all, or idle connections pile up
    # until PostgreSQL refuses new clients.
    for a in apps:
        with a.app_context():
            db.engine.dispose()
    limiter.reset()


@pytest.fixture
def app(make_app):
    """The test's own side: an app context for factories and assertions."""
    app = make_app()
    with app.app_context():
        yield app
        db.session.remove()


class Browser(FlaskClient):
    """A test client whose requests see what the test wrote.

    The test's own transaction ends before each request, as a user's click comes
    after the data is there; an open write would also make a writing request on
    SQLite wait for the lock.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture
def make_client(make_app, app):
    """A browser on its own app instance (same config and database).

    Requests must not share the test's app context: Flask would reuse it, and
    with it `g` and the database session, which no real request ever does.
    """

    def factory(**overrides):
        client_app = make_app(**overrides)
        client_app.test_client_class = Browser
        return client_app.test_client()

    return factory


@pytest.fixture
def client(make_client):
    return make_client()


from .oidc_provider import oidc_provider  # noqa: E402,F401 (the OpenID provider fixture)
