"""Row versions for the keys of cached page parts: post, attachment, group, user, message.

Each `version` rises with every UPDATE of its row (the models' onupdate); see
parro/fragments.py.

Revision ID: version01
Revises: mailhdr01
Create Date: 2026-12-03 14:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'version01'
down_revision = 'mailhdr01'
branch_labels = None
depends_on = None

TABLES = ("post", "attachment", "school_group", "app_user", "message")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column('version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('version')
