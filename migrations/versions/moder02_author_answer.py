"""Moderation: the author of a hidden item gets a text of their own (report.author_answer);
a hidden item can be shown again (report status 'restored', no schema change)

Revision ID: moder02
Revises: office01
Create Date: 2026-12-03 18:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'moder02'
down_revision = 'office01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('author_answer', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('author_answer')
