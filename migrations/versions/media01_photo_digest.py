"""attachment.digest, message_attachment.digest: photos' URLs change with their files

Revision ID: media01
Revises: mailhdr01
Create Date: 2026-12-03 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'media01'
down_revision = 'mailhdr01'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for photos stored so far: `flask --app app media variants` makes their WebP
    # sizes and fills it in (README, Upgrading). Until then they are served as before.
    for table in ('attachment', 'message_attachment'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('digest', sa.String(length=16), nullable=True))


def downgrade():
    for table in ('attachment', 'message_attachment'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('digest')
