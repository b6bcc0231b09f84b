"""Several schools in one installation (issue 22).

- school_staff: which schools a staff member works at; every existing admin and
  teacher works at the first school.
- user_session.school_id: the school a browser works in (None: the user's first).
- audit_event.school_id, announcement.school_id, conversation.school_id and
  absence_reason.school_id: existing rows belong to the first school. A reason's
  name is unique per school now.

An installation without a school yet (a fresh one) has only the default absence
reasons of absence_reports; they go, and come back per school when it is made
(absence.service.ensure_default_reasons).

Revision ID: school01
Revises: version02
Create Date: 2026-12-04 22:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'school01'
down_revision = 'version02'
branch_labels = None
depends_on = None

OWNED = ('announcement', 'conversation', 'absence_reason')


def upgrade():
    op.create_table(
        'school_staff',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['school.id'],
                                name=op.f('fk_school_staff_school_id_school'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'],
                                name=op.f('fk_school_staff_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_school_staff')),
        sa.UniqueConstraint('user_id', 'school_id', name=op.f('uq_school_staff_user_id_school_id')),
    )
    with op.batch_alter_table('school_staff') as batch_op:
        batch_op.create_index(batch_op.f('ix_school_staff_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_staff_user_id'), ['user_id'], unique=False)

    connection = op.get_bind()
    first = connection.execute(sa.text('SELECT min(id) FROM school')).scalar()
    if first is None:
        connection.execute(sa.text('DELETE FROM absence_reason'))
    else:
        connection.execute(
            sa.text("INSERT INTO school_staff (user_id, school_id, created_at) "
                    "SELECT id, :school, CURRENT_TIMESTAMP FROM app_user "
                    "WHERE role IN ('ADMIN', 'TEACHER')"),
            {'school': first})

    with op.batch_alter_table('user_session') as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_session_school_id_school'), 'school',
                                    ['school_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_school_id'), ['school_id'], unique=False)
    if first is not None:
        connection.execute(sa.text('UPDATE audit_event SET school_id = :school'), {'school': first})

    # An office conversation about the family is one per guardian and school now.
    if first is not None:
        connection.execute(sa.text(
            "UPDATE conversation SET office_key = office_key || :suffix "
            "WHERE office_key LIKE :family"), {'suffix': f':{first}', 'family': '%:gezin'})

    for table in OWNED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        if first is not None:
            connection.execute(sa.text(f'UPDATE {table} SET school_id = :school'), {'school': first})
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('school_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_school_id_school'), 'school',
                                        ['school_id'], ['id'], ondelete='CASCADE')
            if table == 'absence_reason':
                batch_op.drop_constraint('uq_absence_reason_name', type_='unique')
                batch_op.create_unique_constraint(
                    batch_op.f('uq_absence_reason_school_id_name'), ['school_id', 'name'])
            else:
                batch_op.create_index(batch_op.f(f'ix_{table}_school_id'), ['school_id'],
                                      unique=False)


def downgrade():
    for table in reversed(OWNED):
        with op.batch_alter_table(table) as batch_op:
            if table == 'absence_reason':
                batch_op.drop_constraint('uq_absence_reason_school_id_name', type_='unique')
                batch_op.create_unique_constraint('uq_absence_reason_name', ['name'])
            else:
                batch_op.drop_index(batch_op.f(f'ix_{table}_school_id'))
            batch_op.drop_constraint(f'fk_{table}_school_id_school', type_='foreignkey')
            batch_op.drop_column('school_id')
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_school_id'))
        batch_op.drop_column('school_id')
    with op.batch_alter_table('user_session') as batch_op:
        batch_op.drop_constraint('fk_user_session_school_id_school', type_='foreignkey')
        batch_op.drop_column('school_id')
    op.drop_table('school_staff')
