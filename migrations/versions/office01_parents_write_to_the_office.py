"""Parents write to the office: office conversations (conversation.about_student_id,
office_key), messages sent as "de administratie" (message.as_office), the office's
opening hours (school.office_weekdays, office_opens_at, office_closes_at)

Revision ID: office01
Revises: channels02
Create Date: 2026-12-03 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'office01'
down_revision = 'channels02'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('about_student_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('office_key', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_conversation_about_student_id'),
                              ['about_student_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_conversation_office_key'),
                                          ['office_key'])
        batch_op.create_foreign_key(batch_op.f('fk_conversation_about_student_id_student'),
                                    'student', ['about_student_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('as_office', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office_weekdays', sa.String(length=7),
                                      server_default='12345', nullable=False))
        batch_op.add_column(sa.Column('office_opens_at', sa.Time(),
                                      server_default='08:30:00', nullable=False))
        batch_op.add_column(sa.Column('office_closes_at', sa.Time(),
                                      server_default='16:00:00', nullable=False))

def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('office_closes_at')
        batch_op.drop_column('office_opens_at')
        batch_op.drop_column('office_weekdays')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('as_office')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conversation_about_student_id_student'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_conversation_office_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_conversation_about_student_id'))
        batch_op.drop_column('office_key')
        batch_op.drop_column('about_student_id')
