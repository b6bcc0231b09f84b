"""New posts: the count next to "Groepen" and on the feed's group tabs.

A post is new for a user while it is published (publish_at has passed), is in
one of their groups, is not their own, is at most FEED_NEW_DAYS old, and they
have not opened any of its groups since it was published. Opening a group's
feed marks that group seen; opening "Alles" marks all their groups. The marks
(GroupSeen) are kept on the server, so reading on the phone clears the count on
the laptop too.

Cost: posts are found per group by publish_at (ix_post_group_feed), from the
moment the user's least recently opened group was last opened (at most
FEED_NEW_DAYS back), so someone who reads daily makes it look at a day of their
groups' posts. Nothing counts whole tables.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import aliased

from .. import policy
from ..clock import now
from ..database import UTCDateTime, upsert_insert, write_now
from ..extensions import db
from ..models import Group, GroupSeen, Post, PostGroup, Role, User
from ..sql import GROUP_IDS, NOW, USER_ID, prebuilt

NEW_SINCE = bindparam("new_since", type_=UTCDateTime())


def params(user: User) -> dict:
    """The values for the bind parameters of these counts."""
    return {
        "user_id": user.id,
        "now": now(),
        "new_since": now() - timedelta(days=current_app.config["FEED_NEW_DAYS"]),
    }


def _is_new(pg, groups) -> list:
    """Conditions on `pg`, a PostGroup joined to its Post: a new post in one of `groups`
    (ids, or a SELECT of them). Found from ix_post_group_feed: the groups' posts since
    the oldest mark, not every post the groups ever had."""
    in_groups = select(PostGroup.group_id).where(PostGroup.post_id == Post.id)
    # The least recently opened of the user's groups: no older post can be new.
    oldest_mark = (
        select(func.min(func.coalesce(GroupSeen.seen_at, NEW_SINCE)))
        .select_from(Group)
        .outerjoin(GroupSeen, and_(GroupSeen.group_id == Group.id, GroupSeen.user_id == USER_ID))
        .where(Group.id.in_(groups))
        .scalar_subquery()
    )
    return [
        pg.group_id.in_(groups),
        pg.publish_at > NEW_SINCE,
        pg.publish_at > oldest_mark,
        pg.publish_at <= NOW,
        Post.hidden_at.is_(None),
        or_(Post.author_id.is_(None), Post.author_id != USER_ID),
        # Opened one of its groups after it was published.
        ~exists(
            in_groups.join(GroupSeen, GroupSeen.group_id == PostGroup.group_id).where(
                GroupSeen.user_id == USER_ID, GroupSeen.seen_at >= Post.publish_at
            )
        ),
    ]


def _new_posts(columns, groups):
    pg = aliased(PostGroup)
    return (
        select(*columns(pg)).select_from(pg).join(Post, Post.id == pg.post_id)
        .where(*_is_new(pg, groups))
    )


def new_posts_count(role: Role):
    """The number of new posts over all the groups of a user with this role, as a
    scalar subquery with bind parameters (params()): the navigation's count."""
    groups = policy.visible_groups_select(role)
    # A post in two of the user's groups counts once.
    return _new_posts(lambda pg: [func.count(pg.post_id.distinct())], groups).scalar_subquery()


def open_groups(user: User, group_ids: set[int], opening: set[int]) -> Counter:
    """Mark the groups the user opens now as seen; the new posts left per group.

    One query, and one short write when an opened group had news.
    """
    if not group_ids:
        return Counter()
    rows = db.session.execute(
        _open_groups_statement(), {**params(user), "group_ids": sorted(group_ids)}
    ).all()
    opened = {group_id for group_id, _post in rows if group_id in opening}
    if opened:
        _mark_seen(user, opened)
    read = {post_id for group_id, post_id in rows if group_id in opening}
    return Counter(group_id for group_id, post_id in rows if post_id not in read)


@prebuilt
def _open_groups_statement():
    """Each of these groups' new posts."""
    return _new_posts(lambda pg: [pg.group_id, pg.post_id], GROUP_IDS)


def _mark_seen(user: User, group_ids: set[int]) -> None:
    moment = now()
    rows = [{"user_id": user.id, "group_id": g, "seen_at": moment} for g in sorted(group_ids)]
    statement = upsert_insert(db.engine.dialect.name)(GroupSeen).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "group_id"], set_={"seen_at": statement.excluded.seen_at}
    )
    write_now(statement)
