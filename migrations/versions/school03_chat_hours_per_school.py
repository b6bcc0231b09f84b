"""Staff's default chat working hours per school: school.chat_weekdays, chat_starts_at,
chat_ends_at (None: CHAT_DEFAULT_WEEKDAYS / _START / _END)

Revision ID: school03
Revises: school02
Create Date: 2026-12-04 23:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'school03'
down_revision = 'school02'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for every school: they keep the installation's defaults until the office sets some.
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_weekdays', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('chat_starts_at', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('chat_ends_at', sa.Time(), nullable=True))


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('chat_ends_at')
        batch_op.drop_column('chat_starts_at')
        batch_op.drop_column('chat_weekdays')
