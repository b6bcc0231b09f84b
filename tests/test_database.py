"""How requests end their transactions (parro/database.py, end_transaction).

On PostgreSQL a request that only read ends with COMMIT, so psycopg keeps the
statements it prepared for the next request; anything written and not
committed is still rolled back, exactly as before.
"""

from __future__ import annotations

import pytest
from flask import Blueprint
from sqlalchemy import func, select, table, update

from parro.database import polled
from parro.extensions import db
from parro.models import User

from .conftest import TEST_DATABASE_URL
from .factories import make_guardian

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="psycopg's prepared statements: PostgreSQL only",
)


@pytest.fixture
def probe_app(make_app):
    app = make_app()
    probe = Blueprint("probe", __name__)

    @probe.get("/probe/lees")
    def read():
        db.session.scalars(select(User.id)).all()
        prepared = table("pg_prepared_statements")
        return str(db.session.scalar(select(func.count()).select_from(prepared)))

    @probe.get("/probe/schrijf-zonder-commit")
    def write_without_commit():
        db.session.execute(update(User).values(name="Niet bewaard"))
        return "ok"

    @probe.get("/probe/wijzig-zonder-commit")
    def change_without_commit():
        db.session.scalars(select(User)).first().name = "Ook niet bewaard"
        return "ok"

    def status():
        return db.session.connection().connection.dbapi_connection.info.transaction_status.name

    @probe.get("/probe/peiling")
    @polled
    def poll():
        db.session.scalars(select(User.id)).all()
        reading = status()
        db.session.commit()  # what a poll writes afterwards (a read mark) is a transaction
        db.session.execute(update(User).values(name="Eva de Vries"))
        writing = status()
        db.session.commit()
        return f"{reading} {writing}"

    @probe.get("/probe/status")
    def page():
        db.session.scalars(select(User.id)).all()
        return status()

    app.register_blueprint(probe)
    with app.app_context():
        make_guardian(name="Eva Jansen")
        db.session.commit()
        db.session.remove()
    # No app context stays open: each request gets its own, and ends it, as in production.
    return app


def test_a_request_that_only_reads_keeps_its_prepared_statements(probe_app):
    client = probe_app.test_client()
    # psycopg prepares a statement from its sixth run on a connection (the pool may
    # hand out two in turn), unless a ROLLBACK made it forget them after each request.
    answers = [int(client.get("/probe/lees").get_data(as_text=True)) for _ in range(14)]
    assert answers[-1] > 0, answers


@pytest.mark.parametrize("path", ["/probe/schrijf-zonder-commit", "/probe/wijzig-zonder-commit"])
def test_what_a_request_wrote_without_committing_is_rolled_back(probe_app, path):
    assert probe_app.test_client().get(path).status_code == 200
    with probe_app.app_context():
        assert db.session.scalars(select(User.name)).all() == ["Eva Jansen"]
        db.session.remove()


def test_polls_read_without_begin_and_write_in_a_transaction(probe_app):
    client = probe_app.test_client()
    # IDLE: psycopg sent no BEGIN before the read (nor will it send a COMMIT).
    assert client.get("/probe/peiling").get_data(as_text=True) == "IDLE INTRANS"
    with probe_app.app_context():
        assert db.session.scalar(select(User.name)) == "Eva de Vries"
    # The next request on the same pooled connection is an ordinary transaction again.
    assert [client.get("/probe/status").get_data(as_text=True) for _ in range(3)] == ["INTRANS"] * 3
