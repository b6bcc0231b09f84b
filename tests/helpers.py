"""Helpers for tests: logging in, counting queries, reading pages."""

from __future__ import annotations

import re
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import event

from parro.extensions import db
from parro.models import UserSession
from parro.security import hash_token, new_token


def login_as(client, user, school=None) -> None:
    """Give this test client a logged-in session for `user` (as /login would), working
    in `school` (by default the user's first)."""
    from parro.policy import _schools_of

    token = new_token()
    school_id = school.id if school is not None else db.session.scalar(
        _schools_of(user.role).limit(1), {"user_id": user.id})
    db.session.add(UserSession(token_hash=hash_token(token), user_id=user.id,
                               school_id=school_id))
    db.session.commit()
    client.set_cookie(current_app.config["AUTH_COOKIE_NAME"], token)


def logout(client) -> None:
    client.delete_cookie(current_app.config["AUTH_COOKIE_NAME"])


_TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)


class QueryCounter:
    """What ran inside a count_queries() block; its repr lists the statements, so an
    assertion on `q.count` that fails shows them."""

    def __init__(self):
        self.executed: list[str] = []  # every statement, BEGIN and COMMIT included

    @property
    def statements(self) -> list[str]:
        """The SQL statements, without transaction control."""
        return [s for s in self.executed if not _TRANSACTION_CONTROL.match(s)]

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"{self.count} queries:\n" + "\n".join(self.statements)


@contextmanager
def count_queries(app=None):
    """Count the SQL statements that an app runs inside the block.

    The current app's by default. A test client's requests run on an app of their
    own (see conftest): count them with `count_queries(client.application)`.
    """
    if app is None:
        engine = db.engine
    else:
        with app.app_context():
            engine = db.engine
    counter = QueryCounter()

    def before(conn, cursor, statement, parameters, context, executemany):
        counter.executed.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    ) or re.search(r'"X-CSRFToken": "([^"]+)"', html)  # every page's, for htmx
    assert match, "no CSRF token in the page"
    return match.group(1)


def text_of(response) -> str:
    """The page's text without tags and with collapsed white space."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def fetch(statement) -> list:
    """Rows for a query in the test's own context, detached, with its transaction ended.

    Handy when the test goes on to make requests: nothing stays loaded or open.
    """
    db.session.expire_all()
    rows = list(db.session.scalars(statement))
    for row in rows:
        db.session.expunge(row)
    db.session.rollback()
    return rows


def mails_to(email: str):
    """The outbox rows for this address, oldest first."""
    from sqlalchemy import select

    from parro.models import OutboxMail

    db.session.expire_all()
    mails = list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.recipient == email).order_by(OutboxMail.id)
        )
    )
    # End the read: on SQLite a test whose snapshot is older than the app's
    # last write could not write afterwards ("database is locked").
    for mail in mails:
        db.session.expunge(mail)
    db.session.commit()
    return mails


def activation_path(email: str) -> str:
    """The path of the activation link in the newest mail to this address."""
    mails = mails_to(email)
    assert mails, f"no mail to {email}"
    match = re.search(r"https?://[^/\s]+(/activeren/[A-Za-z0-9_-]+)", mails[-1].body_text)
    assert match, f"no activation link in: {mails[-1].body_text}"
    return match.group(1)
