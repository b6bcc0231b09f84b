"""Meldingen: each user's channels per category (push on or off, and the mail) as rows.

The mail choices move from notification_setting's five columns into
notification_choice, one row per user and category, with push off (nobody has
a phone registered yet). notification_setting keeps the digest time.

Revision ID: channels01
Revises: feedorder01
Create Date: 2026-12-03 14:00:00

"""
from datetime import UTC, datetime, time

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'channels01'
down_revision = 'feedorder01'
branch_labels = None
depends_on = None

CATEGORIES = ("group_posts", "important_posts", "chat", "activities", "absence")
DEFAULTS = {"group_posts": "digest", "important_posts": "direct", "chat": "direct",
            "activities": "direct", "absence": "direct"}


def upgrade():
    op.create_table('notification_choice',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('push', sa.Boolean(), nullable=False),
    sa.Column('mail', sa.String(length=10), nullable=False),
    sa.CheckConstraint("category != 'important_posts' OR push OR mail != 'off'", name=op.f('ck_notification_choice_important_posts_reach')),
    sa.CheckConstraint("mail IN ('direct', 'digest', 'off')", name=op.f('ck_notification_choice_mail_mode')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_choice_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'category', name=op.f('pk_notification_choice'))
    )
    for category in CATEGORIES:
        op.execute(sa.text(
            f"INSERT INTO notification_choice (user_id, category, push, mail) "
            f"SELECT user_id, '{category}', false, {category} FROM notification_setting"
        ))
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        for category in CATEGORIES:
            batch_op.drop_constraint(batch_op.f(f'ck_notification_setting_{category}_mode'),
                                     type_='check')
        for category in CATEGORIES:
            batch_op.drop_column(category)


def downgrade():
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        for category in CATEGORIES:
            batch_op.add_column(sa.Column(category, sa.String(length=10), nullable=False,
                                          server_default=DEFAULTS[category]))
    op.execute(sa.text(
        "INSERT INTO notification_setting (user_id, digest_time, updated_at) "
        "SELECT DISTINCT user_id, :at, :now FROM notification_choice c WHERE NOT EXISTS "
        "(SELECT 1 FROM notification_setting s WHERE s.user_id = c.user_id)"
    ).bindparams(sa.bindparam("at", time(18, 0), type_=sa.Time()),
                 sa.bindparam("now", datetime.now(UTC).replace(tzinfo=None), type_=sa.DateTime())))
    for category in CATEGORIES:
        # Push goes (there was none); an important post sent by push alone is mailed again.
        mail = "CASE WHEN c.mail = 'off' THEN 'direct' ELSE c.mail END" \
            if category == "important_posts" else "c.mail"
        op.execute(sa.text(
            f"UPDATE notification_setting SET {category} = (SELECT {mail} "
            f"FROM notification_choice c WHERE c.user_id = notification_setting.user_id "
            f"AND c.category = '{category}') WHERE EXISTS (SELECT 1 FROM notification_choice c "
            f"WHERE c.user_id = notification_setting.user_id AND c.category = '{category}')"
        ))
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        for category in CATEGORIES:
            batch_op.alter_column(category, server_default=None)
            allowed = "'direct', 'digest'" if category == "important_posts" \
                else "'direct', 'digest', 'off'"
            batch_op.create_check_constraint(f'{category}_mode', f"{category} IN ({allowed})")
    op.drop_table('notification_choice')
