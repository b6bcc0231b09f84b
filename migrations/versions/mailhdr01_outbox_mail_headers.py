"""The outbox keeps each mail's own headers (List-Unsubscribe and its one-click POST).

Revision ID: mailhdr01
Revises: sso01
Create Date: 2026-12-03 14:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'mailhdr01'
down_revision = 'sso01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_column('headers')
