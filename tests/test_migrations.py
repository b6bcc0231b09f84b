"""The migrations build exactly the schema the models describe, and tear it down."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from parro.extensions import db

from .conftest import create_schema, drop_schema


def test_migrations_produce_the_models_schema(app):
    db.session.remove()
    drop_schema()
    try:
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        drop_schema()
        create_schema()


def test_an_existing_installation_becomes_its_first_school(app):
    """school01 on a one-school database: its staff work at the school, its announcements,
    conversations, absence reasons and audit events are the school's, the office's family
    conversation keeps its one key, and nothing else changes."""
    from sqlalchemy import text

    db.session.remove()
    drop_schema()
    try:
        upgrade(revision="version02")
        with db.engine.begin() as conn:
            run = lambda sql, **values: conn.execute(text(sql), values)  # noqa: E731
            run("INSERT INTO school (id, name, phone, email, colour, leave_info, code_of_conduct,"
                " require_two_factor, require_school_account) VALUES (7, 'De Regenboog', '', '',"
                " '#1f6f8b', '', '', false, false)")
            for uid, role in ((1, "ADMIN"), (2, "TEACHER"), (3, "GUARDIAN")):
                run("INSERT INTO app_user (id, email, name, role, locale, active, disabled,"
                    " created_at, version) VALUES (:id, :email, 'X', :role, 'nl', true, false,"
                    " CURRENT_TIMESTAMP, 0)", id=uid, email=f"u{uid}@example.org", role=role)
            run("INSERT INTO conversation (id, kind, office_key, title, created_by_id, created_at,"
                " revision, last_message_id) VALUES (1, 'office', '3:gezin', '', 3,"
                " CURRENT_TIMESTAMP, 0, 0)")
            run("INSERT INTO announcement (id, title, body, all_groups, starts_on, ends_on,"
                " created_at) VALUES (1, 'Studiedag', '', true, '2026-12-01', '2026-12-31',"
                " CURRENT_TIMESTAMP)")
            run("INSERT INTO audit_event (id, created_at, actor_name, action, target_type,"
                " summary, details, ip) VALUES (1, CURRENT_TIMESTAMP, 'X', 'login', '', '', '{}',"
                " '')")
            reasons = run("SELECT count(*) FROM absence_reason").scalar()
        upgrade()
        with db.engine.connect() as conn:
            one = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
            assert one("SELECT user_id, school_id FROM school_staff ORDER BY user_id") == \
                [(1, 7), (2, 7)]
            assert one("SELECT school_id, office_key FROM conversation") == [(7, "3:gezin:7")]
            assert one("SELECT school_id FROM announcement") == [(7,)]
            assert one("SELECT school_id FROM audit_event") == [(7,)]
            assert one("SELECT DISTINCT school_id FROM absence_reason") == [(7,)]
            assert one("SELECT count(*) FROM absence_reason") == [(reasons,)]
    finally:
        drop_schema()
        create_schema()


def test_school05_keeps_the_schools_and_renames_a_double_name(app):
    """school05 on a database with schools and their data: a name that an earlier school
    already has (other capitals too) gets the school's id after it, one no school has; the
    rest stays as it was, and from then on the database refuses a second school of a name."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    db.session.remove()
    drop_schema()
    try:
        upgrade(revision="school04")
        with db.engine.begin() as conn:
            for school_id, name in ((1, "De Regenboog"), (2, "de regenboog"),
                                    (3, "De Regenboog (2)"), (4, "Het Anker")):
                conn.execute(text(
                    "INSERT INTO school (id, name, phone, email, colour, leave_info,"
                    " code_of_conduct, require_two_factor, require_school_account)"
                    " VALUES (:id, :name, '010', '', '#1f6f8b', '', '', false, false)"),
                    {"id": school_id, "name": name})
                conn.execute(text(
                    "INSERT INTO school_year (school_id, name, starts_on, ends_on, is_current)"
                    " VALUES (:id, '2026-2027', '2026-08-01', '2027-07-31', true)"),
                    {"id": school_id})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, name, phone FROM school ORDER BY id")).all()
            assert rows == [(1, "De Regenboog", "010"), (2, "de regenboog (3)", "010"),
                            (3, "De Regenboog (2)", "010"), (4, "Het Anker", "010")]
            assert conn.execute(text("SELECT count(*) FROM school_year")).scalar() == 4
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO school (id, name, phone, email, colour, leave_info,"
                " code_of_conduct, require_two_factor, require_school_account)"
                " VALUES (5, 'HET ANKER', '', '', '#1f6f8b', '', '', false, false)"))
        downgrade(revision="school04")
        with db.engine.begin() as conn:  # the index is gone with it
            conn.execute(text("UPDATE school SET name = 'Het Anker' WHERE id = 1"))
    finally:
        drop_schema()
        create_schema()


def test_digest_lines_get_the_school_they_are_about(app):
    """digest01: a waiting digest line gets its post's school, else its user's one school;
    the line of someone at two schools that is about no post stays without one."""
    from sqlalchemy import select, text

    from parro.models import NotificationItem, Post

    from .world import two_schools

    db.session.remove()
    drop_schema()
    try:
        upgrade()
        w = two_schools()  # a post in each school's group: a line for the family de Wit
        for user in ("family", "teacher_a", "teacher_b", "gym"):
            db.session.add(NotificationItem(user_id=w[user].id, category="absence", text="Los"))
        db.session.commit()
        a, b = w["a"].id, w["b"].id
        post_a, post_b = db.session.scalars(select(Post.id).order_by(Post.id)).all()
        who = {w[user].id: user for user in ("family", "teacher_a", "teacher_b", "gym")}
        db.session.remove()
        downgrade(revision="school05")
        upgrade()
        with db.engine.connect() as conn:
            lines = conn.execute(text(
                "SELECT user_id, post_id, school_id FROM notification_item")).all()
        got = sorted(((who[user], post, school) for user, post, school in lines), key=repr)
        assert got == sorted([
            ("family", post_a, a), ("family", post_b, b), ("family", None, None),
            ("teacher_a", None, a), ("teacher_b", None, b), ("gym", None, None),
        ], key=repr)
    finally:
        db.session.remove()
        drop_schema()
        create_schema()
