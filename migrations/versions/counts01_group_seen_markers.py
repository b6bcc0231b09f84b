"""group seen markers: when each user last opened each group (new-post counts)

Revision ID: counts01
Revises: audit01
Create Date: 2026-11-24 08:22:46.918805

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'counts01'
down_revision = 'notify01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_seen',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['school_group.id'], name=op.f('fk_group_seen_group_id_school_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_group_seen_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_seen')),
    sa.UniqueConstraint('user_id', 'group_id', name=op.f('uq_group_seen_user_id_group_id'))
    )
    with op.batch_alter_table('group_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_seen_group_id'), ['group_id'], unique=False)


def downgrade():
    with op.batch_alter_table('group_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_seen_group_id'))

    op.drop_table('group_seen')