"""The bind parameters that statements share, and prebuilt(): the one way to build a statement once.

Putting a SELECT together in SQLAlchemy costs more than SQLite takes to run it (the
feed's page, the navigation's counts, the chat poll), so the statements that run on
every page are built once, with bind parameters, and each execution only gives the
values: `db.session.execute(_unread(), {"user_id": user.id})`. A statement whose shape
depends on something (the user's role, the database) is built once per shape:
`_page(staff=True)`. A parameter that statements of more than one module share is
defined here; every parameter name is defined once in the code base.
"""

from __future__ import annotations

import functools

from sqlalchemy import Date, bindparam

from .database import UTCDateTime

USER_ID = bindparam("user_id")
SCHOOL_ID = bindparam("school_id")
NOW = bindparam("now", type_=UTCDateTime())
DAY = bindparam("day", type_=Date())
IDS = bindparam("ids", expanding=True)
GROUP_IDS = bindparam("group_ids", expanding=True)
CONVERSATION_ID = bindparam("conversation_id")
BEFORE = bindparam("before")
LIMIT = bindparam("limit")


def prebuilt(build):
    """Build the statement once per set of arguments (its shape) and keep it.

    The arguments must be few and hashable (a role, a flag, a dialect's name);
    everything that differs per request is a bind parameter.
    """
    return functools.cache(build)
