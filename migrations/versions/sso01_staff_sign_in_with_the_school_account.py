"""staff sign-in with the school account (OpenID Connect)

Revision ID: sso01
Revises: channels01
Create Date: 2026-12-03 13:28:56.236175

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'sso01'
down_revision = 'channels01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('oidc_linked_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_app_user_oidc_issuer_oidc_subject'),
                                          ['oidc_issuer', 'oidc_subject'])

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_school_account', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    # Every session that exists today was started with a password.
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=20), nullable=False,
                                      server_default='password'))
        batch_op.add_column(sa.Column('multi_factor', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('multi_factor')
        batch_op.drop_column('method')

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('require_school_account')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_app_user_oidc_issuer_oidc_subject'),
                                 type_='unique')
        batch_op.drop_column('oidc_linked_at')
        batch_op.drop_column('oidc_subject')
        batch_op.drop_column('oidc_issuer')
