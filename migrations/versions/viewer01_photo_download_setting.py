"""The school's choice whether parents may save photos for private use: school.photo_download

Revision ID: viewer01
Revises: hours01
Create Date: 2026-12-03 18:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'viewer01'
down_revision = 'hours01'
branch_labels = None
depends_on = None


def upgrade():
    # Off for every school until it chooses otherwise: schools differ on this.
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_download', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('photo_download')
