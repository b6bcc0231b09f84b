"""The school's logo: school.logo_key, school.logo_digest (None: no logo)

Revision ID: school04
Revises: school03
Create Date: 2026-12-04 23:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'school04'
down_revision = 'school03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('logo_digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('logo_digest')
        batch_op.drop_column('logo_key')
