"""calendar_item.version: the row version in the key of the cached block of coming
calendar items above the feed (parro/fragments.py, database.Versioned).

Existing rows start at 0, as version01's did; new rows at a random number.

Revision ID: version02
Revises: pending01
Create Date: 2026-12-04 20:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'version02'
down_revision = 'pending01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_item') as batch_op:
        batch_op.add_column(
            sa.Column('version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('calendar_item') as batch_op:
        batch_op.drop_column('version')
