"""One school's snapshot (flask backup DIR --school ID) and its restore.

For a school that leaves the board, or must be restored alone. The snapshot has
the layout of backup.py's (manifest.json with checksums, media/), but its
database is always a SQLite file made from the models' metadata, stamped with
the source's Alembic revision, holding only the rows that belong to the school.

Which rows belong to a school is decided in ONE place, OWNERSHIP: for each table
an SQL condition on its rows (with :school), or LeftOut(why) when no school's
snapshot holds the table (mail and push queues, sessions, login history...).
tests/test_backup_school.py fails when a table has no entry.

After the selection every foreign key is checked against the rows copied: a
reference to a row that is not in the snapshot (e.g. a post's author who is not
the school's any more) becomes NULL where the column allows it; otherwise the
row is left out. So the snapshot never refers to another school's rows.

The school's history names people who are not (or no longer) its people: a board admin
(who added the school, appointed its admins), a former teacher (their posts, their log
lines), a family that left (their messages). Their accounts come along with NAME_ONLY: the
history still says who, the account lets nobody in and is nobody's staff or family. Any
other reference to a person outside the snapshot becomes NULL (above), and so does a
plain-integer user id (USER_IDS: audit_event.actor_id, which has no foreign key) whose
account is not in the snapshot: after a restore a new account could get that id, and the
log would name them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)

from .database import creating_database
from .extensions import db

STUDENTS = "SELECT id FROM student WHERE school_id = :school"
YEARS = "SELECT id FROM school_year WHERE school_id = :school"
GROUPS = f"SELECT id FROM school_group WHERE school_year_id IN ({YEARS})"
POSTS = f"SELECT post_id FROM post_group WHERE group_id IN ({GROUPS})"
ANNOUNCEMENTS = "SELECT id FROM announcement WHERE school_id = :school"
ACTIVITIES = f"SELECT activity_id FROM activity_group WHERE group_id IN ({GROUPS})"
CONVERSATIONS = "SELECT id FROM conversation WHERE school_id = :school"
MESSAGES = f"SELECT id FROM message WHERE conversation_id IN ({CONVERSATIONS})"
# The school's people: its staff, and the guardians of its children (an account of a
# family at two schools comes along, with only this school's children).
USERS = (
    "SELECT user_id FROM school_staff WHERE school_id = :school "
    f"UNION SELECT user_id FROM guardianship WHERE student_id IN ({STUDENTS})"
)
OF_USERS = f"user_id IN ({USERS})"
# The people the school's history names by their account: its log (the board admin who
# added it, a former teacher), its invitations, its posts, announcements and messages.
# Those who are not the school's people (USERS) come along NAME_ONLY.
NAMED = (
    "SELECT actor_id FROM audit_event WHERE school_id = :school "
    f"UNION SELECT invited_by_id FROM invitation WHERE {OF_USERS} "
    f"UNION SELECT author_id FROM post WHERE id IN ({POSTS}) "
    "UNION SELECT author_id FROM announcement WHERE school_id = :school "
    f"UNION SELECT author_id FROM message WHERE id IN ({MESSAGES})"
)
# What a named account keeps in a school's snapshot: who they are, no way in (the restored
# installation is the school's; `flask board-admin` invites a board admin again if wanted).
# Not active is what bars every way in (each asks is_active); the secrets stay behind too.
# Disabled and never activated too: policy.guardians_of leaves such an account out of a
# one-school installation's families.
NAME_ONLY = {"active": False, "disabled": True, "activated_at": None, "password_hash": None,
             "totp_secret": None, "totp_enabled_at": None, "totp_last_counter": None,
             "oidc_issuer": None, "oidc_subject": None, "oidc_linked_at": None}
# Plain integer columns that hold a user id (no foreign key): cleared in the snapshot when
# that account is not in it, as a foreign key is. Copied after app_user.
USER_IDS: dict[str, tuple[str, ...]] = {"audit_event": ("actor_id",)}


@dataclass(frozen=True)
class LeftOut:
    """A table no school's snapshot holds, and why."""

    why: str


# Unsent mail and pushes stay with the installation that queued them: its sender delivers
# them (one may be on its way while the snapshot reads it, not yet marked sent), so a copy
# in a snapshot would reach the family a second time after a restore.
DELIVERED_BY_THE_SOURCE = (
    "queued delivery: the source installation's sender sends it; a restored copy would "
    "be sent twice")

OWNERSHIP: dict[str, str | LeftOut] = {
    # the school and its people
    "school": "id = :school",
    "app_user": f"id IN ({USERS}) OR id IN ({NAMED})",
    "school_staff": "school_id = :school",
    "school_year": "school_id = :school",
    "school_group": f"id IN ({GROUPS})",
    "student": "school_id = :school",
    "membership": f"student_id IN ({STUDENTS})",
    "guardianship": f"student_id IN ({STUDENTS})",
    "teacher_assignment": f"group_id IN ({GROUPS})",
    "invitation": f"{OF_USERS} AND (student_id IS NULL OR student_id IN ({STUDENTS}))",
    # the people's own settings
    "notification_setting": OF_USERS,
    "notification_choice": OF_USERS,
    "absence_preference": OF_USERS,
    "staff_availability": OF_USERS,
    "calendar_feed": OF_USERS,
    "recovery_code": OF_USERS,
    # group feed and announcements
    "post": f"id IN ({POSTS})",
    "post_group": f"group_id IN ({GROUPS})",
    "attachment": f"post_id IN ({POSTS}) OR announcement_id IN ({ANNOUNCEMENTS})",
    "photo_tag": f"student_id IN ({STUDENTS})",
    "post_like": f"post_id IN ({POSTS})",
    "read_receipt": f"post_id IN ({POSTS})",
    "group_seen": f"group_id IN ({GROUPS})",
    "announcement": "school_id = :school",
    "announcement_group": f"announcement_id IN ({ANNOUNCEMENTS})",
    "announcement_dismissal": f"announcement_id IN ({ANNOUNCEMENTS})",
    "report": f"post_id IN ({POSTS}) OR message_id IN ({MESSAGES})",
    # chat
    "conversation": "school_id = :school",
    "participant": f"conversation_id IN ({CONVERSATIONS})",
    "message": f"conversation_id IN ({CONVERSATIONS})",
    "message_attachment": f"message_id IN ({MESSAGES})",
    "conversation_read": f"conversation_id IN ({CONVERSATIONS})",
    # activities
    "activity": f"id IN ({ACTIVITIES})",
    "activity_group": f"group_id IN ({GROUPS})",
    "slot": f"activity_id IN ({ACTIVITIES})",
    "booking": f"activity_id IN ({ACTIVITIES})",
    "separate_bookings": f"activity_id IN ({ACTIVITIES})",
    "shift": f"activity_id IN ({ACTIVITIES})",
    "sign_up": f"shift_id IN (SELECT id FROM shift WHERE activity_id IN ({ACTIVITIES}))",
    "item": f"activity_id IN ({ACTIVITIES})",
    "pledge": f"item_id IN (SELECT id FROM item WHERE activity_id IN ({ACTIVITIES}))",
    "response": f"activity_id IN ({ACTIVITIES})",
    "activity_reminder": f"activity_id IN ({ACTIVITIES})",
    # calendar, consent, absence, audit
    "calendar_item": "school_id = :school",
    "calendar_item_group": "item_id IN (SELECT id FROM calendar_item WHERE school_id = :school)",
    "consent_topic": "school_id = :school",
    "consent": f"student_id IN ({STUDENTS})",
    "consent_change": f"student_id IN ({STUDENTS})",
    "absence_reason": "school_id = :school",
    "absence_report": f"student_id IN ({STUDENTS})",
    "audit_event": "school_id = :school",
    # The daily digest: the lines about the school (sent ones with the digest that listed
    # them), and the days its people got one: a line is mailed once, one digest a day.
    "notification_digest": OF_USERS,
    "notification_item": f"school_id = :school AND {OF_USERS}",
    # left out: delivery queues and per-browser or per-login state
    "outbox_mail": LeftOut(f"{DELIVERED_BY_THE_SOURCE}; addressed to an address, not a "
                           "school"),
    "push_message": LeftOut(f"{DELIVERED_BY_THE_SOURCE}; and it goes to a device "
                            "(push_subscription), which is left out"),
    "push_held": LeftOut("a push held for the user's hours waits for a device "
                         "(push_subscription), which is left out"),
    "push_subscription": LeftOut("a device belongs to a login (user_session), which is left "
                                 "out; a phone is turned on again after logging in"),
    "user_session": LeftOut("a logged-in browser of the source installation: everyone "
                            "logs in again"),
    "pending_upload": LeftOut("files of a post a browser has not written yet"),
    "login_event": LeftOut("the installation's login history (addresses of failed "
                           "attempts too); the school's log is audit_event"),
    "password_reset": LeftOut("a link the source installation mailed, used there"),
}

# Tables whose rows name stored files (column `key`, files KEY[:2]/KEY.* under MEDIA_PATH).
FILE_TABLES = ("attachment", "message_attachment")
CHUNK = 1000


def _included_tables() -> list[Table]:
    missing = set(db.metadata.tables) - set(OWNERSHIP)
    if missing:  # also checked by the tests; never copy a table nobody decided about
        raise RuntimeError(f"school_backup.OWNERSHIP has no entry for {sorted(missing)}")
    tables = [t for t in db.metadata.sorted_tables if isinstance(OWNERSHIP[t.name], str)]
    # the tables with plain user ids last: their ids are checked against the copied accounts
    return ([t for t in tables if t.name not in USER_IDS]
            + [t for t in tables if t.name in USER_IDS])


def _references() -> dict[str, set[tuple[str, ...]]]:
    """Per table, the column tuples other tables' foreign keys point at."""
    wanted: dict[str, set[tuple[str, ...]]] = {}
    for table in db.metadata.tables.values():
        for fk in table.foreign_key_constraints:
            cols = tuple(e.column.name for e in fk.elements)
            wanted.setdefault(fk.referred_table.name, set()).add(cols)
    return wanted


def copy_school(source, dest, school_id: int) -> list[str]:
    """Copy the rows of school `school_id` from connection `source` into the (new,
    empty, same schema) connection `dest`; return the stored-file keys they name."""
    wanted = _references()
    present: dict[tuple[str, tuple[str, ...]], set] = {}
    keys: list[str] = []
    people = set(source.scalars(text(USERS), {"school": school_id}))
    for table in _included_tables():
        fks = [
            (fk.referred_table.name, tuple(e.parent.name for e in fk.elements),
             tuple(e.column.name for e in fk.elements),
             all(e.parent.nullable for e in fk.elements))
            for fk in table.foreign_key_constraints
        ] + [("app_user", (col,), ("id",), True) for col in USER_IDS.get(table.name, ())]
        mine = {cols: set() for cols in wanted.get(table.name, ())}
        query = select(table).where(text(f"({OWNERSHIP[table.name]})"))
        result = source.execution_options(stream_results=True).execute(
            query, {"school": school_id})
        for rows in result.mappings().partitions(CHUNK):
            batch = []
            for found in rows:
                row = _checked(dict(found), fks, present)
                if row is None:
                    continue
                for cols, seen in mine.items():
                    seen.add(tuple(row[c] for c in cols))
                if table.name in FILE_TABLES:
                    keys.append(row["key"])
                elif table.name == "school" and row.get("logo_key"):
                    keys.append(row["logo_key"])  # the school's logo (stored like a photo)
                elif table.name == "app_user" and row["id"] not in people:
                    row.update(NAME_ONLY)  # only named by the school's history
                batch.append(row)
            if batch:
                dest.execute(table.insert(), batch)
        for cols, seen in mine.items():
            present[(table.name, cols)] = seen
    return keys


def _checked(row: dict, fks: list, present: dict) -> dict | None:
    """`row` with its references to rows outside the snapshot set to NULL, or None
    when such a reference cannot be NULL (the row is left out)."""
    for referred, cols, ref_cols, nullable in fks:
        value = tuple(row[c] for c in cols)
        if None in value or value in present.get((referred, ref_cols), ()):
            continue
        if not nullable:
            return None
        for c in cols:
            row[c] = None
    return row


def write_database(path: Path, school_id: int, revision: str | None) -> list[str]:
    """Write school `school_id`'s rows into a new SQLite file at `path`; return the keys
    of the stored files they name. The rows are read in one transaction (one
    consistent view: SQLite WAL, PostgreSQL REPEATABLE READ)."""
    with creating_database():
        engine = create_engine(f"sqlite:///{path}")
        try:
            db.metadata.create_all(engine)
            source_options = {}
            if db.engine.dialect.name == "postgresql":
                source_options["isolation_level"] = "REPEATABLE READ"
            with (db.engine.connect().execution_options(**source_options) as source,
                  engine.begin() as dest):
                keys = copy_school(source, dest, school_id)
                if revision:
                    _stamp(dest, revision)
        finally:
            engine.dispose()
    conn = sqlite3.connect(path)  # one self-contained file: no -wal beside it
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    return keys


def _stamp(conn, revision: str) -> None:
    version = Table("alembic_version", MetaData(),
                    Column("version_num", String(32), primary_key=True))
    version.create(conn)
    conn.execute(version.insert(), {"version_num": revision})


def copy_media(keys: list[str], source: Path, dest: Path) -> None:
    """Copy the stored files of `keys` (every variant) from MEDIA_PATH `source`."""
    dest.mkdir()
    for key in sorted(set(keys)):
        folder = source / key[:2]
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not path.name.startswith(f"{key}.") or not path.is_file():
                continue
            (dest / key[:2]).mkdir(exist_ok=True)
            try:
                os.link(path, dest / key[:2] / path.name)
            except OSError:
                shutil.copy2(path, dest / key[:2] / path.name)


def alembic_revision(conn) -> str | None:
    """The Alembic revision of the database on `conn`; None when it has none stamped."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def restore_rows(snapshot_db: Path) -> None:
    """Copy every row of a school snapshot's SQLite file into this (empty, PostgreSQL)
    database: the schema from the models, the tables in dependency order, the id
    sequences moved past the ids, the Alembic revision stamped."""
    source_engine = create_engine(f"sqlite:///{snapshot_db}")
    try:
        with source_engine.connect() as source, db.engine.begin() as dest:
            db.metadata.create_all(dest)
            for table in db.metadata.sorted_tables:
                result = source.execute(select(table))
                for rows in result.mappings().partitions(CHUNK):
                    dest.execute(table.insert(), [dict(r) for r in rows])
            for table in db.metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement:
                    seq = dest.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                      {"t": table.name, "c": pk[0].name})
                    if seq:
                        dest.execute(text(
                            f"SELECT setval('{seq}', (SELECT coalesce(max({pk[0].name}), 1) "
                            f"FROM {table.name}))"))
            revision = alembic_revision(source)
            if revision:
                _stamp(dest, revision)
    finally:
        source_engine.dispose()
