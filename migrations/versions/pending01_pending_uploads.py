"""pending_upload: the files of a refused post, kept for their uploader until the
corrected post is placed (or they expire)

Revision ID: pending01
Revises: office02
Create Date: 2026-12-04 16:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'pending01'
down_revision = 'office02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=150), nullable=False),
    sa.Column('content_type', sa.String(length=60), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('digest', sa.String(length=16), nullable=True),
    sa.Column('has_original', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploader_id'], ['app_user.id'], name=op.f('fk_pending_upload_uploader_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_upload')),
    sa.UniqueConstraint('key', name=op.f('uq_pending_upload_key'))
    )
    with op.batch_alter_table('pending_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_upload_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_upload_uploader_id'), ['uploader_id'], unique=False)


def downgrade():
    op.drop_table('pending_upload')
