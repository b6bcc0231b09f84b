"""post_group.publish_at: a group's newest posts straight from an index

Revision ID: feedorder01
Revises: alt01
Create Date: 2026-11-24 12:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'feedorder01'
down_revision = 'alt01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('post_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publish_at', sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE post_group SET publish_at = "
        "(SELECT post.publish_at FROM post WHERE post.id = post_group.post_id)"
    )
    with op.batch_alter_table('post_group', schema=None) as batch_op:
        batch_op.alter_column('publish_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_post_group_feed', ['group_id', 'publish_at', 'post_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('post_group', schema=None) as batch_op:
        batch_op.drop_index('ix_post_group_feed')
        batch_op.drop_column('publish_at')
