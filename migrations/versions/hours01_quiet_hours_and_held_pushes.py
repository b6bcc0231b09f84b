"""Push within hours: a parent's quiet hours (notification_setting.quiet, quiet_from,
quiet_until; default on, 21:00-07:00) and push_held, the pushes that wait for one summary

Revision ID: hours01
Revises: media01
Create Date: 2026-12-03 18:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'hours01'
down_revision = 'media01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiet', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('quiet_from', sa.Time(), nullable=False,
                                      server_default='21:00:00'))
        batch_op.add_column(sa.Column('quiet_until', sa.Time(), nullable=False,
                                      server_default='07:00:00'))
    op.create_table('push_held',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_push_held_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_held'))
    )
    with op.batch_alter_table('push_held', schema=None) as batch_op:
        batch_op.create_index('ix_push_held_due', ['due_at', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_held_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('push_held', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_held_user_id'))
        batch_op.drop_index('ix_push_held_due')
    op.drop_table('push_held')
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        batch_op.drop_column('quiet_until')
        batch_op.drop_column('quiet_from')
        batch_op.drop_column('quiet')
