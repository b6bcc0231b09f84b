"""The school a digest line is about: notification_item.school_id

A school's snapshot (backup --school) takes the lines waiting for its families'
digests; a family with children at two schools has lines of both, so each line names
its school. Existing lines get the school of their post, else their user's one school;
a line of a user of several schools that is about no post stays without one.

Revision ID: digest01
Revises: school05
Create Date: 2026-12-05 01:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'digest01'
down_revision = 'school05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_item_school_id'), ['school_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_item_school_id_school'),
                                    'school', ['school_id'], ['id'], ondelete='CASCADE')
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE notification_item SET school_id = ("
        " SELECT min(y.school_id) FROM post_group pg"
        " JOIN school_group g ON g.id = pg.group_id"
        " JOIN school_year y ON y.id = g.school_year_id"
        " WHERE pg.post_id = notification_item.post_id)"
        " WHERE post_id IS NOT NULL"))
    connection.execute(sa.text(
        "UPDATE notification_item SET school_id = ("
        " SELECT CASE WHEN count(DISTINCT p.school_id) = 1 THEN min(p.school_id) END"
        " FROM (SELECT user_id, school_id FROM school_staff"
        "       UNION SELECT g.user_id, s.school_id FROM guardianship g"
        "       JOIN student s ON s.id = g.student_id) p"
        " WHERE p.user_id = notification_item.user_id)"
        " WHERE school_id IS NULL"))


def downgrade():
    with op.batch_alter_table('notification_item', schema=None) as batch_op:
        batch_op.drop_constraint('fk_notification_item_school_id_school', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_item_school_id'))
        batch_op.drop_column('school_id')
