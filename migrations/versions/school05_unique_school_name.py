"""A school's name is unique, whatever the capitals: index uq_school_name on lower(name)

An existing database may hold two schools of the same name (a school renamed under
Schoolgegevens to another's name, before this was checked): the later school (by id)
gets its id after its name, "De Regenboog (2)", which its admin can change.

Revision ID: school05
Revises: school04
Create Date: 2026-12-05 01:40:00

"""
import logging

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'school05'
down_revision = 'school04'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _rename_doubles(conn) -> None:
    """Give each school whose name (in the database's lower()) an earlier school has its
    id after the name, "De Regenboog (2)": one that no school has."""
    rows = conn.execute(sa.text("SELECT id, name, lower(name) FROM school ORDER BY id")).all()
    names = {lowered for _id, _name, lowered in rows}
    seen = set()
    for school_id, name, lowered in rows:
        if lowered not in seen:
            seen.add(lowered)
            continue
        n = school_id
        while True:
            new = f"{name[:110]} ({n})"
            new_lowered = conn.execute(sa.text("SELECT lower(:name)"), {"name": new}).scalar()
            if new_lowered not in names:
                break
            n += 1
        conn.execute(sa.text("UPDATE school SET name = :name WHERE id = :id"),
                     {"name": new, "id": school_id})
        names.add(new_lowered)
        log.warning("School %s had the name of another school: renamed to %r", school_id, new)


def upgrade():
    _rename_doubles(op.get_bind())
    op.create_index('uq_school_name', 'school', [sa.text('lower(name)')], unique=True)


def downgrade():
    op.drop_index('uq_school_name', table_name='school')
