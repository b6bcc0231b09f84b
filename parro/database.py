"""Database plumbing: SQLite pragmas and transactions, UTC timestamps."""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import quote

from flask import current_app, has_request_context, request
from sqlalchemy import BigInteger, DateTime, event, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .config import ROOT
from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 30_000

# True inside writer_transactions(), False inside reader_transactions(), None: as the
# request's method says.
_immediate: ContextVar[bool | None] = ContextVar("immediate", default=None)


class UTCDateTime(TypeDecorator):
    """Stores UTC without a zone (same on SQLite and PostgreSQL), returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


def _first_version() -> int:
    # Random: a row inserted where a deleted one was (SQLite hands a freed id out again,
    # a test database is emptied between tests) never shares an id and a version with it.
    return secrets.randbits(62)


class Versioned:
    """A row whose `version` rises by one with every UPDATE of it (the column's onupdate,
    for the ORM's updates and update() statements alike): in the key of a cached page
    part, with the row's id, it says which state of which row the part shows
    (parro/fragments.py)."""

    version: Mapped[int] = mapped_column(
        BigInteger, default=_first_version, server_default="0",
        onupdate=literal_column("version") + 1)


# True inside creating_database(): a missing SQLite file may be created.
_may_create: ContextVar[bool] = ContextVar("may_create", default=False)


@contextmanager
def creating_database():
    """Connections opened inside this block may create a missing SQLite database file.

    Everywhere else a missing file is an error ("unable to open database file"),
    not a new empty database: a worker that starts while the file is gone (a
    volume not mounted, a restore half done) must fail, not serve an empty school.
    The migrations (`flask db upgrade`, `flask setup`), `flask restore` and the
    tests' fresh databases open theirs inside it.
    """
    token = _may_create.set(True)
    try:
        yield
    finally:
        _may_create.reset(token)


@event.listens_for(Engine, "do_connect")
def _sqlite_file_must_exist(dialect, connection_record, cargs, cparams):
    # pysqlite would create the file; as a URI with mode=rw it only opens an existing
    # one. A URL that is a URI already (?uri=true) or in memory is left as it is.
    if dialect.name != "sqlite" or cparams.get("uri") or _may_create.get():
        return None
    filename = cargs[0] if cargs else ""
    if not filename or filename == ":memory:":
        return None
    cargs[0] = f"file:{quote(os.path.abspath(filename))}?mode=rw"
    cparams["uri"] = True
    return None


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We emit BEGIN ourselves (below); pysqlite's own transaction handling would
    # start every transaction as DEFERRED, and a deferred reader that later writes
    # fails at once with "database is locked" instead of waiting its turn.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


@event.listens_for(Engine, "connect")
def _postgresql_connect(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.split(".")[0] != "psycopg":
        return
    # psycopg prepares a statement from its fifth run on a connection on, but PostgreSQL
    # would still plan it anew for every set of values (planning the navigation's counts
    # took 2.5 ms, running them 0.5). Our statements look rows up by ids and recent
    # moments, whose best plan does not depend on the values: plan each once.
    dbapi_connection.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_connection.commit()


@event.listens_for(Engine, "begin")
def _begin(conn):
    if conn.dialect.name == "sqlite":
        writer = _begins_as_writer()
        # A poll's reads (read_without_transaction) run without one, each on its own.
        if writer or not conn.get_execution_options().get(_WITHOUT_BEGIN):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
    conn.info["parro_wrote"] = False  # after our own BEGIN, which is no write


_WITHOUT_BEGIN = "parro_without_begin"  # an execution option of ours (read_without_transaction)


@event.listens_for(Engine, "before_execute")
def _note_writes(conn, statement, multiparams, params, execution_options):
    # By the statement's kind, not its text: anything but a SELECT (an INSERT, UPDATE,
    # DELETE, DDL, or text() whose meaning we do not read) counts as a write.
    if not getattr(statement, "is_select", False):
        conn.info["parro_wrote"] = True


def end_transaction(session) -> None:
    """End a request's transaction that only read with COMMIT; leave any other to be rolled back.

    Called at the end of every request that raised nothing. On PostgreSQL psycopg
    forgets every prepared statement at a ROLLBACK (it might have undone the tables
    they were planned for), so a request ending that way made the next one plan all
    of its statements again. A transaction that ran only SELECT statements and has
    nothing to flush loses nothing by a COMMIT; one that wrote without committing
    (against the transaction rule, docs/architecture.md) is rolled back, as always.
    """
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return  # nothing begun, or already failed: the rollback that follows is right
    if session.new or session.dirty or session.deleted:
        return
    try:
        connection = session.connection()
    except SQLAlchemyError:
        # The database went away (the request's own error handling has answered):
        # an exception here would escape Flask and give gunicorn's bare error page.
        return
    if not connection.info.get("parro_wrote", True):
        end_reads(session)  # the request is over: nothing loaded is read again, none to expire


def _begins_as_writer() -> bool:
    """Writers start with BEGIN IMMEDIATE: POST requests (but for reads_first views),
    and code inside writer_transactions().

    Outside a request (CLI, background threads, tests) transactions are deferred
    unless begun inside writer_transactions(): a read there must not hold the write lock.
    """
    if _immediate.get() is not None:
        return _immediate.get()
    if has_request_context():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        view = current_app.view_functions.get(request.endpoint)
        return not getattr(view, "parro_reads_first", False)
    return False


def reads_first(view):
    """Mark a POST view whose transactions are readers' until it enters writer_transactions().

    For the upload forms: they read and check what was sent, end that read
    (end_reads), process the files with no transaction open (seconds for 20
    photos), and write in writer_transactions(). On SQLite the one write lock is then held
    only while the rows are written, not while the photos are decoded, nor
    while a large request body is read (the login is looked up before that).
    """
    view.parro_reads_first = True
    return view


def end_reads(session) -> None:
    """Commit the transaction of a request that has only read, keeping what it loaded.

    Before slow work without the database: no transaction stays open meanwhile
    (on PostgreSQL none sits idle, on SQLite no snapshot that a later write would
    have to upgrade). Objects stay loaded as read; the writes that follow begin
    a transaction of their own.
    """
    with keeping_loaded(session):
        session.commit()


@contextmanager
def keeping_loaded(session):
    """Commits inside this block keep what is loaded as it was read: expiring it would make
    the next look at each object (a page's posts, a booking's slot) read it again."""
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


def lock_row(model, row_id: int) -> None:
    """Hold `model`'s row `row_id` until the transaction ends, so that a second run of the
    same work (two senders, two offices) waits here and then reads what the first wrote.
    PostgreSQL: SELECT ... FOR UPDATE; SQLite has one writer (writer_transactions) already."""
    db.session.execute(select(model.id).where(model.id == row_id).with_for_update())


def writer_transactions():
    """Transactions begun inside this block are a writer's (on SQLite: BEGIN IMMEDIATE).

    It opens none itself: commit first, so the next statement begins one. For code
    that reads and then writes while others write too, outside a POST request (the
    mail sender, the digests, the reminders). SQLite takes the write lock when a
    transaction begins; a reader that later writes would fail at once with
    "database is locked" instead of waiting its turn. PostgreSQL ignores it.
    """
    return _transactions(writer=True)


def reader_transactions():
    """Transactions begun inside this block are a reader's (on SQLite: a plain BEGIN).

    It opens none itself: roll back first. For a POST request that has nothing to
    write after all: a refused booking still shows the whole page, and rendering it
    inside the POST's write transaction kept every other family waiting for the lock.
    """
    return _transactions(writer=False)


@contextmanager
def _transactions(writer: bool):
    token = _immediate.set(writer)
    try:
        yield
    finally:
        _immediate.reset(token)


def write_now(statement, values: dict | None = None) -> None:
    """Run one writing statement and commit it at once, in a writer's transaction of its own.

    The one way a request that reads (a GET, a poll) writes: a read mark, a read
    receipt, the session's last use. The transaction so far, which only read, is
    committed first, keeping what it loaded (expiring it would make the page load
    every post or message again one by one); what the request reads afterwards
    sees the write.
    """
    session = db.session()
    with keeping_loaded(session):
        session.commit()
        with writer_transactions():
            session.execute(statement, values)
            session.commit()


def upsert_insert(dialect: str):
    """The dialect's insert(), which can say ON CONFLICT (PostgreSQL and SQLite alike)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def polled(view):
    """Mark a view that every open page polls every few seconds and that starts by only reading.

    Its reads run outside a transaction (read_without_transaction).
    """
    view.parro_polled = True
    return view


def read_without_transaction(session) -> None:
    """Let the session's next statements run without BEGIN and COMMIT.

    psycopg sends BEGIN and COMMIT as round trips of their own: two of the four
    of an empty chat poll. At READ COMMITTED every statement takes its own
    snapshot inside a transaction too, so the reads see what they saw before.
    On SQLite (whose connections leave BEGIN to us, _begin) each read is then a
    transaction of its own, as a poll's reads are on PostgreSQL: the BEGIN was a
    tenth of an empty poll's cost. The session's first commit ends it: what the
    request writes afterwards (a read mark, the session's last use) gets a
    transaction of its own, as always. Call it before the session has begun anything.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    elif dialect == "sqlite":
        session.connection(execution_options={_WITHOUT_BEGIN: True})


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revision(s) `flask db upgrade` brings a database to (read once per process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(ROOT / "migrations")).get_heads())


def database_problem(session) -> tuple[str, str] | None:
    """What keeps the database from serving the app: (a short reason for anyone, the
    details for the log); None when nothing.

    It must be the database that was set up (its Alembic version is this code's
    head: an empty or stale database fails, as does a missing SQLite file, which
    is never created outside the migrations) and take writes: a row is updated
    to itself and rolled back, which a read-only file, a read-only connection or
    a standby refuses. On SQLite that takes the write lock for a moment (BEGIN
    IMMEDIATE), so a lock held for longer than the busy time-out shows too. Not
    seen: a full disk (nothing is committed).
    """
    session.rollback()
    try:
        with writer_transactions():
            try:
                versions = set(session.scalars(text("SELECT version_num FROM alembic_version")))
            except SQLAlchemyError as exc:
                return "database unavailable or not set up", _first_line(exc)
            if versions != migration_heads():
                return "database not set up for this version", (
                    f"the schema is at {', '.join(sorted(versions)) or 'nothing'}, this code "
                    f"needs {', '.join(sorted(migration_heads()))}: flask --app app db upgrade")
            try:
                session.execute(text("UPDATE alembic_version SET version_num = version_num"))
            except SQLAlchemyError as exc:
                return "database does not take writes", _first_line(exc)
    finally:
        session.rollback()
    return None


def _first_line(exc: SQLAlchemyError) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
