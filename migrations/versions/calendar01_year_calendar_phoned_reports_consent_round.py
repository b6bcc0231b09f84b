"""The jaarkalender (holidays, study days, events) replaces the absence's closed days;
phoned-in absence reports and late withdrawals; the school year of a consent answer.

The closed days (school_holiday) move into calendar_item: a name with "studiedag"
becomes a study day, the others holidays, all for the whole school.

Revision ID: calendar01
Revises: version01
Create Date: 2026-12-10 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'calendar01'
down_revision = 'version01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('HOLIDAY', 'STUDY_DAY', 'EVENT', name='calendarkind', native_enum=False, length=12), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=True),
    sa.Column('ends_at', sa.Time(), nullable=True),
    sa.Column('uid', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(starts_at IS NULL) = (ends_at IS NULL)', name=op.f('ck_calendar_item_times_together')),
    sa.CheckConstraint('starts_at IS NULL OR starts_on < ends_on OR starts_at < ends_at', name=op.f('ck_calendar_item_time_order')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_calendar_item_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_calendar_item_created_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_calendar_item_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_item')),
    sa.UniqueConstraint('school_id', 'uid', name=op.f('uq_calendar_item_school_id_uid'))
    )
    with op.batch_alter_table('calendar_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_item_ends_on'), ['ends_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_calendar_item_starts_on'), ['starts_on'], unique=False)

    op.create_table('calendar_item_group',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['school_group.id'], name=op.f('fk_calendar_item_group_group_id_school_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['calendar_item.id'], name=op.f('fk_calendar_item_group_item_id_calendar_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'group_id', name=op.f('pk_calendar_item_group'))
    )
    with op.batch_alter_table('calendar_item_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_item_group_group_id'), ['group_id'], unique=False)

    # One list of days without school: the absence's closed days become calendar items.
    op.execute(
        "INSERT INTO calendar_item (school_id, kind, title, description, location, starts_on,"
        " ends_on, created_at)"
        " SELECT (SELECT MIN(id) FROM school),"
        " CASE WHEN LOWER(name) LIKE '%studiedag%' THEN 'STUDY_DAY' ELSE 'HOLIDAY' END,"
        " name, '', '', starts_on, ends_on, CURRENT_TIMESTAMP"
        " FROM school_holiday WHERE EXISTS (SELECT 1 FROM school)"
    )
    with op.batch_alter_table('school_holiday', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_holiday_starts_on'))
        batch_op.drop_index(batch_op.f('ix_school_holiday_ends_on'))
    op.drop_table('school_holiday')

    with op.batch_alter_table('absence_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('by_phone', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('withdrawn_note', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_year_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_consent_school_year_id_school_year'), 'school_year', ['school_year_id'], ['id'], ondelete='SET NULL')
    # Answers given before the yearly round existed count for the current year.
    op.execute(
        "UPDATE consent SET school_year_id ="
        " (SELECT MIN(id) FROM school_year WHERE school_year.is_current)"
    )


def downgrade():
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consent_school_year_id_school_year'), type_='foreignkey')
        batch_op.drop_column('school_year_id')

    with op.batch_alter_table('absence_report', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_note')
        batch_op.drop_column('by_phone')

    op.create_table('school_holiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_school_holiday_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_holiday'))
    )
    with op.batch_alter_table('school_holiday', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_holiday_ends_on'), ['ends_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_holiday_starts_on'), ['starts_on'], unique=False)
    op.execute(
        "INSERT INTO school_holiday (name, starts_on, ends_on)"
        " SELECT SUBSTR(title, 1, 80), starts_on, ends_on FROM calendar_item"
        " WHERE kind IN ('HOLIDAY', 'STUDY_DAY')"
    )
    with op.batch_alter_table('calendar_item_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_item_group_group_id'))
    op.drop_table('calendar_item_group')
    with op.batch_alter_table('calendar_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_item_starts_on'))
        batch_op.drop_index(batch_op.f('ix_calendar_item_ends_on'))
    op.drop_table('calendar_item')
