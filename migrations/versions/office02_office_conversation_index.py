"""An index for office conversations: conversation (kind, created_by_id), so an admin's
list and counts and a guardian's own office conversations are found without a scan

Revision ID: office02
Revises: push01
Create Date: 2026-12-03 19:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'office02'
down_revision = 'push01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_kind_created_by_id', ['kind', 'created_by_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_kind_created_by_id')
