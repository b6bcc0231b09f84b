"""Test setup: one database per run (SQLite, or PostgreSQL from PARRO_TEST_DATABASE_URL),
emptied after every test; apps built once and reset after every test; a frozen-able clock.

`make test` runs the suite in one process per core (pytest-xdist); each process has
a database of its own: its own SQLite file, or on PostgreSQL the database named in
PARRO_TEST_DATABASE_URL with the worker's name appended (made when missing).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient

# Tests never touch the developer's instance folder or configuration.
_INSTANCE = tempfile.mkdtemp(prefix="parro-test-instance-")
os.environ["PARRO_INSTANCE_PATH"] = _INSTANCE
# Each test process (every xdist worker, and the controller) makes one: gone at its end.
atexit.register(shutil.rmtree, _INSTANCE, ignore_errors=True)

import psycopg  # noqa: E402
from sqlalchemy import MetaData, make_url, text  # noqa: E402

from parro import clock, create_app, policy  # noqa: E402
from parro.database import creating_database, migration_heads  # noqa: E402
from parro.extensions import db, limiter  # noqa: E402

from .helpers import login_as  # noqa: E402,F401

TEST_DATABASE_URL = os.environ.get("PARRO_TEST_DATABASE_URL")
_SQLITE_FILE = Path(_INSTANCE) / "test.sqlite3"
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under pytest-xdist


def database_url() -> str:
    """This process's test database."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{_SQLITE_FILE}"
    if not _WORKER:
        return TEST_DATABASE_URL
    url = make_url(TEST_DATABASE_URL)
    return url.set(database=f"{url.database}_{_WORKER}").render_as_string(hide_password=False)


def libpq(url: str) -> str:
    """A PostgreSQL URL as psycopg takes it (without SQLAlchemy's driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _create_worker_database() -> None:
    if not (TEST_DATABASE_URL and _WORKER):
        return
    name = make_url(database_url()).database
    with psycopg.connect(libpq(TEST_DATABASE_URL), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


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


class SharedApp:
    """An app with the default test config, built once and reused by every test.

    Building an app costs more than most tests (Werkzeug compiles every URL rule,
    Jinja every template again), so the two default apps (the test's side and the
    test clients') live for the session. After each test their config is put back
    as it was built. An app that a test builds for itself re-binds what all apps
    share (Flask-Limiter keeps one storage for every app), so after such a test the
    shared apps are built again.
    """

    def __init__(self):
        self._app: Flask | None = None
        self._config: dict = {}

    def get(self) -> Flask:
        if self._app is None:
            self._app = create_app(test_config())
            self._config = dict(self._app.config)
        return self._app

    def reset(self) -> None:
        if self._app is not None:
            self._app.config.clear()
            self._app.config.update(self._config)

    def discard(self) -> None:
        if self._app is not None:
            with self._app.app_context():
                db.engine.dispose()
        self._app = None


_test_side = SharedApp()
_client_side = SharedApp()


CHROMIUM = shutil.which("chromium")
# How long an expect() or an action in a browser test waits for what it waits for.
# Generous: a busy machine is slow, and waiting longer costs nothing when the page is
# there in time.
TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def chromium_browser():
    """Debian's chromium, driven by Playwright: one per test process (a second
    sync_playwright() in the same process fails). The browser tests in tests/e2e/
    call it `browser`."""
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI needs it for the browser tests")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        expect.set_options(timeout=TIMEOUT_MS)
        yield browser
        browser.close()


def create_schema() -> None:
    """The models' tables, stamped with the migrations' head as `flask db upgrade` leaves a
    database (tests/test_migrations.py checks that both build the same schema): /healthz,
    and with it every test server's readiness, asks for the head. In an app context."""
    with creating_database():
        db.create_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
                              " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
            for head in migration_heads():
                conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})


def drop_schema() -> None:
    """Every table in the database, the models' and any an older revision left (a
    migration test that failed halfway), and alembic_version. In an app context."""
    with creating_database():
        tables = MetaData()
        tables.reflect(db.engine)
        tables.drop_all(db.engine)


@pytest.fixture(scope="session")
def _schema():
    _create_worker_database()
    with _test_side.get().app_context():
        drop_schema()
        create_schema()
    yield
    _test_side.discard()
    _client_side.discard()


def _empty_all_tables() -> None:
    """Delete every row and restart the ids, as on a new database.

    DELETE, not TRUNCATE, on PostgreSQL too: TRUNCATE gives every table new files
    and took two seconds per test on a busy machine; deleting the few rows a test
    wrote takes milliseconds.
    """
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("".join(f"DELETE FROM {name};" for name in tables))
            conn.exec_driver_sql(
                "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename),"
                " 1, false) FROM pg_sequences WHERE schemaname = current_schema()"
            )
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def make_app(_schema):
    """Build an app of the test's own with config overrides; the database is emptied afterwards."""
    apps = []

    def factory(**overrides):
        app = create_app(test_config(**overrides))
        apps.append(app)
        return app

    # A test starts with one school (or none), as its database: not the number of schools
    # of an earlier test, which policy.is_board() would remember for a minute.
    # make_other_school() and adding a school forget it.
    policy._school_count[0] = (float("inf"), 1)
    yield factory
    clock.set_now(None)
    with _test_side.get().app_context():
        db.session.remove()
        _empty_all_tables()
    # Every app has its own pool: close them all, or idle connections pile up
    # until PostgreSQL refuses new clients.
    for a in apps:
        with a.app_context():
            db.engine.dispose()
    if apps:
        _test_side.discard()
        _client_side.discard()
    else:
        _test_side.reset()
        _client_side.reset()
    limiter.reset()


@pytest.fixture
def app(make_app):
    """The test's own side: an app context for factories and assertions."""
    app = _test_side.get()
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
    """A browser (its own cookies); its requests go to another app than the test's.

    Requests must not share the test's app context: Flask would reuse it, and
    with it `g` and the database session, which no real request ever does.
    Without overrides the browser uses the shared client-side app; with them, an
    app of its own.
    """

    def factory(**overrides):
        client_app = make_app(**overrides) if overrides else _client_side.get()
        client_app.test_client_class = Browser
        return client_app.test_client()

    return factory


@pytest.fixture
def client(make_client):
    return make_client()


from .oidc_provider import oidc_provider  # noqa: E402,F401 (the OpenID provider fixture)
