"""Meldingen: push on for chats and important posts, also for choices saved before push

channels01 copied every saved choice with push off: there was no push then, so
nobody chose it off. The defaults are now push for chats and important posts (it
takes effect once the user turns on notifications on a phone), and a user who
saved their mail choices before gets them too. A data migration, not a change to
channels01, which may have run already.

Downgrade leaves the rows as they are: push then has no effect (channels01's
downgrade drops the column).

Revision ID: channels02
Revises: viewer01
Create Date: 2026-12-03 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'channels02'
down_revision = 'viewer01'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text(
        "UPDATE notification_choice SET push = :on "
        "WHERE category IN ('chat', 'important_posts') AND push = :off"
    ).bindparams(on=True, off=False))


def downgrade():
    pass
