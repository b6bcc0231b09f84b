"""Helpers for the chat tests (the fixture `s` is in conftest.py).

The test's own session keeps its objects after commit (expire_on_commit off), so
reading an id never opens a transaction that would block the client's writes on
SQLite; `fresh()` reads the database and ends its transaction at once.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.engine import Engine

from parro.extensions import db

from ..factories import make_kindgesprek
from ..helpers import QueryCounter

AMS = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 11, 17, 10, 0, tzinfo=AMS)


def fresh(statement):
    """Read the database as it is now, and end the transaction."""
    value = db.session.scalar(statement.execution_options(populate_existing=True))
    db.session.commit()
    return value


def fresh_all(statement):
    values = list(db.session.scalars(statement.execution_options(populate_existing=True)))
    db.session.commit()
    return values


@contextmanager
def count_all_queries():
    """count_queries for the client's app too: it has its own engine."""
    counter = QueryCounter()

    def before(conn, cursor, statement, parameters, context, executemany):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.IGNORECASE):
            counter.statements.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def kindgesprek(s, student=None):
    conversation = make_kindgesprek(student or s.sem)
    db.session.commit()
    return conversation
