"""The migrations build exactly the schema the models describe, and tear it down."""

from __future__ import annotations

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
