"""Helpers for the chat tests (the fixture `s` is in conftest.py).

The test's own session keeps its objects after commit (expire_on_commit off), so
reading an id never opens a transaction that would block the client's writes on
SQLite; `fresh()` reads the database and ends its transaction at once.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from parro.extensions import db

from ..factories import make_kindgesprek

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


def kindgesprek(s, student=None):
    conversation = make_kindgesprek(student or s.sem)
    db.session.commit()
    return conversation
