"""Photos' URLs change with their files: attachment.digest, message_attachment.digest;
message_attachment.version, for the keys of cached chat messages

Revision ID: media01
Revises: calendar01
Create Date: 2026-12-03 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'media01'
down_revision = 'calendar01'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for photos stored so far: `flask --app app media variants` makes their WebP
    # sizes and fills it in (README, Upgrading). Until then they are served as before.
    for table in ('attachment', 'message_attachment'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('digest', sa.String(length=16), nullable=True))
    # A chat message's cached part shows its files: their versions are in its key.
    with op.batch_alter_table('message_attachment', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('message_attachment', schema=None) as batch_op:
        batch_op.drop_column('version')
    for table in ('attachment', 'message_attachment'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('digest')
