"""Losing the database is noticed: /healthz checks that the database is the one set up and
takes writes, a missing SQLite file is never created outside the migrations, and users
get parro's own error page in their language, rendered without the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from parro.extensions import db

from .conftest import TEST_DATABASE_URL, database_url
from .factories import PASSWORD, make_guardian
from .servers import Client, Server

UNAVAILABLE_NL = "Even niet bereikbaar"
UNAVAILABLE_EN = "Temporarily unavailable"


def gone_url(tmp_path: Path) -> str:
    """A database that is not there: a missing SQLite file, or a PostgreSQL database
    that does not exist on the test server."""
    if TEST_DATABASE_URL:
        url = make_url(TEST_DATABASE_URL).set(database="parro_gone_for_good")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'parro.sqlite3'}"


def read_only_config() -> dict:
    """The test database, opened so that it refuses writes."""
    if TEST_DATABASE_URL:
        return {"SQLALCHEMY_ENGINE_OPTIONS": {
            "connect_args": {"options": "-c default_transaction_read_only=on"}}}
    path = make_url(database_url()).database
    return {"DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"}


def test_healthz_checks_the_schema_and_a_write(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_a_missing_database_is_not_created_and_users_get_parros_page(make_app, tmp_path):
    app = make_app(DATABASE_URL=gone_url(tmp_path))
    browser = app.test_client()

    health = browser.get("/healthz")
    assert health.status_code == 503
    assert health.get_data(as_text=True) == "database unavailable or not set up"
    assert not (tmp_path / "parro.sqlite3").exists()  # SQLite made no empty database

    page = browser.get("/login")
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert UNAVAILABLE_NL in html and 'lang="nl"' in html
    assert "/static/css/app.css?v=" in html
    assert page.headers["Retry-After"] == "60"
    assert page.headers["Content-Security-Policy"]  # parro's headers, as on every page
    # A logged-in user's cookie does not need the database to get the page.
    browser.set_cookie(app.config["AUTH_COOKIE_NAME"], "x" * 43)
    assert browser.get("/groepen/").status_code == 503

    # In the language the browser asks for, or the language cookie says.
    english = browser.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert UNAVAILABLE_EN in english.get_data(as_text=True)
    browser.set_cookie("parro_lang", "en")
    assert 'lang="en"' in browser.post("/login", data={"email": "a@b.nl"}).get_data(as_text=True)
    browser.set_cookie("parro_lang", "nl")
    dutch = browser.get("/", headers={"Accept-Language": "en"})
    assert UNAVAILABLE_NL in dutch.get_data(as_text=True)
    assert not (tmp_path / "parro.sqlite3").exists()


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="a SQLite file of its own")
def test_the_migrations_still_create_the_sqlite_file(make_app, tmp_path):
    """`flask db upgrade`, which `flask setup` starts with (the demo school that follows
    takes half a minute)."""
    app = make_app(DATABASE_URL=gone_url(tmp_path))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "parro.sqlite3").exists()
    assert app.test_client().get("/healthz").status_code == 200


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="a SQLite file of its own")
def test_an_empty_database_is_not_the_one_set_up(make_app, tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "parro.sqlite3").close()  # as a worker once made it
    app = make_app(DATABASE_URL=gone_url(tmp_path))
    health = app.test_client().get("/healthz")
    assert (health.status_code, health.get_data(as_text=True)) == (
        503, "database unavailable or not set up")


def test_a_database_at_another_schema_version_is_not_the_one_set_up(app, client):
    with db.engine.begin() as conn:
        [head] = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        conn.execute(text("UPDATE alembic_version SET version_num = 'older01'"))
    try:
        health = client.get("/healthz")
        assert (health.status_code, health.get_data(as_text=True)) == (
            503, "database not set up for this version")
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert client.get("/healthz").status_code == 200


def test_a_read_only_database_fails_the_health_check_and_a_write_gets_a_page(app, make_app):
    make_guardian(email="eva@example.org")
    db.session.commit()
    read_only = make_app(**read_only_config()).test_client()

    health = read_only.get("/healthz")
    assert (health.status_code, health.get_data(as_text=True)) == (
        503, "database does not take writes")
    # Reading still works; the login, which writes its session, gets parro's own page.
    assert read_only.get("/login").status_code == 200
    login = read_only.post("/login", data={"email": "eva@example.org", "password": PASSWORD})
    assert login.status_code == 503
    assert UNAVAILABLE_NL in login.get_data(as_text=True)


def test_gunicorn_serves_parros_page_when_the_database_file_is_missing(app, tmp_path):
    """Under gunicorn, as in production: the workers start without the file and
    answer with parro's page (not gunicorn's bare "Internal Server Error")."""
    server = Server(tmp_path / "instance", DATABASE_URL=gone_url(tmp_path))
    try:
        browser = Client(server)
        health = browser.get("/healthz")
        assert (health.status, health.text) == (503, "database unavailable or not set up")
        page = browser.get("/login", headers={"Accept-Language": "en"})
        assert page.status == 503
        assert UNAVAILABLE_EN in page.text and "<main" in page.text
        assert not (tmp_path / "parro.sqlite3").exists()
    finally:
        server.stop()
