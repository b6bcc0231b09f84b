"""The sick-report cut-off per school: school.sick_cutoff (None: ABSENCE_SICK_CUTOFF)

Revision ID: school02
Revises: school01
Create Date: 2026-12-04 23:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'school02'
down_revision = 'school01'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for every school: they keep the installation's cut-off until the office sets one.
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sick_cutoff', sa.Time(), nullable=True))


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('sick_cutoff')
