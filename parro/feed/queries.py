"""Loading a page of the feed with everything its template shows, in a fixed number of queries.

A page of posts is three queries, each built once (sql.prebuilt): the posts with their
authors (only the columns the page shows; raiseload makes any other load loud), their
groups, and their attachments with photo tags, given to the posts with
database.set_loaded. Then one query for the like counts, and for staff three more (who
liked, which families, who read). Guardians add one read and at most one write for
their read receipts. None of it grows with the number of posts, photos, likes or groups.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, func, select, tuple_
from sqlalchemy.orm import aliased, joinedload, load_only, raiseload

from .. import policy
from ..clock import now
from ..database import set_loaded, upsert_insert, write_now
from ..extensions import db
from ..models import (
    Attachment,
    Group,
    Guardianship,
    Like,
    Membership,
    Post,
    PostGroup,
    ReadReceipt,
    Student,
    User,
)
from ..sql import BEFORE, IDS, LIMIT, NOW, USER_ID, prebuilt


@dataclass
class Family:
    """The guardians of one or more children (brothers and sisters share one family)."""

    children: list[str]
    guardian_ids: frozenset[int]

    @property
    def label(self) -> str:
        return ", ".join(self.children)


@dataclass
class PostInfo:
    like_count: int = 0
    liked: bool = False
    new: bool = False  # not yet seen by this guardian's account
    can_like: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_report: bool = False
    stats: bool = False  # the viewer sees the names and read receipts below
    likers: list[str] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)  # photos this viewer may not see (consent)
    flagged: set[int] = field(default_factory=set)  # photos of a child without consent (staff)
    tagged: list[str] = field(default_factory=list)  # children tagged in its photos (staff)
    photos: list[Attachment] = field(default_factory=list)  # the photos this viewer sees
    families_total: int = 0
    unread: list[Family] = field(default_factory=list)

    @property
    def families_read(self) -> int:
        return self.families_total - len(self.unread)


@dataclass
class FeedPage:
    posts: list[Post]
    info: dict[int, PostInfo]
    next_before: int | None


WINDOW = bindparam("window")
POST_ID = bindparam("post_id")


@prebuilt
def _page_statement(staff: bool, older: bool, newest_only: bool):
    """A page of posts; `older`: after the cursor post `before`.

    `newest_only` looks among the user's groups' newest `window` posts only, straight
    from ix_post_group_feed, instead of sorting every post the groups had this year.
    That gives the right page whenever it finds a full page (limit + 1 rows): a post it
    missed would be older than all `window` it looked at, which then hold fewer than
    limit + 1 visible posts (feed_page asks again without it when it finds fewer).
    """
    moment, before = NOW, BEFORE
    cursor = aliased(Post)
    at = select(cursor.publish_at).where(cursor.id == before).scalar_subquery()
    in_groups = select(PostGroup.post_id).where(PostGroup.group_id.in_(IDS))
    if newest_only:
        if not staff:
            in_groups = in_groups.where(PostGroup.publish_at <= moment)
        if older:
            in_groups = in_groups.where(
                tuple_(PostGroup.publish_at, PostGroup.post_id) < tuple_(at, before))
        in_groups = in_groups.order_by(
            PostGroup.publish_at.desc(), PostGroup.post_id.desc()).limit(WINDOW)
    query = (
        select(Post)
        .options(
            load_only(Post.id, Post.author_id, Post.title, Post.body, Post.important,
                      Post.publish_at, Post.edited_at, Post.hidden_at, Post.version),
            joinedload(Post.author).load_only(User.id, User.name, User.version),
            raiseload("*"),
        )
        .where(Post.id.in_(in_groups), Post.hidden_at.is_(None))
    )
    if not staff:
        query = query.where(Post.publish_at <= moment)
    if older:
        query = query.where(tuple_(Post.publish_at, Post.id) < tuple_(at, before))
    return query.order_by(Post.publish_at.desc(), Post.id.desc()).limit(LIMIT)


def feed_page(user: User, group_ids: set[int], before: int | None = None,
              limit: int = 20) -> FeedPage:
    """The newest posts in these groups the user may see, older than post `before`."""
    values = {"ids": sorted(group_ids), "now": now(), "before": before, "limit": limit + 1,
              "window": 2 * (limit + 1)}  # room for posts in two of the user's groups

    def read(newest_only: bool) -> list[Post]:
        statement = _page_statement(user.is_staff, before is not None, newest_only)
        return list(db.session.scalars(statement, values))

    posts = read(newest_only=True)
    if len(posts) <= limit:  # the last page, or hidden posts among the newest: look at all
        posts = read(newest_only=False)
    next_before = posts[limit - 1].id if len(posts) > limit else None
    posts = posts[:limit]
    _add_groups_and_attachments(posts)
    return FeedPage(posts, describe(user, posts), next_before)


@prebuilt
def _groups():
    return (
        select(PostGroup)
        .options(joinedload(PostGroup.group).load_only(Group.id, Group.name, Group.grade,
                                                        Group.version))
        .where(PostGroup.post_id.in_(IDS))
    )


@prebuilt
def _attachments():
    return (
        select(Attachment)
        .options(raiseload("*"))
        .where(Attachment.post_id.in_(IDS))
        .order_by(Attachment.position, Attachment.id)
    )


def _add_groups_and_attachments(posts: list[Post]) -> None:
    if not posts:
        return
    ids = {"ids": [post.id for post in posts]}
    groups = db.session.scalars(_groups(), ids)
    set_loaded(posts, "post_groups", ((pg.post_id, pg) for pg in groups))
    attachments = db.session.scalars(_attachments(), ids)
    set_loaded(posts, "attachments", ((a.post_id, a) for a in attachments))


@prebuilt
def _one_post():
    return select(Post).options(joinedload(Post.author)).where(Post.id == POST_ID)


def one_post(user: User, post_id: int) -> tuple[Post | None, PostInfo | None]:
    post = db.session.scalar(_one_post(), {"post_id": post_id})
    if post is None:
        return None, None
    _add_groups_and_attachments([post])
    return post, describe(user, [post])[post.id]


def like_state(user: User, post: Post) -> PostInfo:
    """Just what the like button shows, after a like or unlike."""
    mine = func.coalesce(func.sum(case((Like.user_id == user.id, 1), else_=0)), 0)
    count, liked = db.session.execute(
        select(func.count(), mine).where(Like.post_id == post.id)
    ).one()
    return PostInfo(like_count=count, liked=bool(liked), can_like=policy.can_like(user, post))


@prebuilt
def _likes():
    return (
        select(Like.post_id, func.count(), func.sum(case((Like.user_id == USER_ID, 1), else_=0)))
        .where(Like.post_id.in_(IDS))
        .group_by(Like.post_id)
    )


def describe(user: User, posts: list[Post]) -> dict[int, PostInfo]:
    """What the template needs to know about each post, for this user."""
    info = {p.id: PostInfo() for p in posts}
    if not posts:
        return info
    params = {"ids": list(info), "user_id": user.id}
    for post_id, count, liked in db.session.execute(_likes(), params):
        info[post_id].like_count = count
        info[post_id].liked = bool(liked)
    for post in posts:
        i = info[post.id]
        i.can_like = policy.can_like(user, post)
        i.can_edit = policy.can_edit_post(user, post)
        i.can_delete = policy.can_delete_post(user, post)
        i.can_report = policy.can_report_post(user, post)
        i.stats = policy.can_see_post_stats(user, post)
    photos = [a for p in posts for a in p.attachments if a.is_photo]
    hidden = policy.hidden_photo_ids(user, photos)
    # Staff see who is tagged, and which photos show a child without consent: one query.
    tags = policy.photo_tags(photos) if user.is_staff else []
    flagged = {photo for photo, _name, consented in tags if not consented}
    for post in posts:
        i = info[post.id]
        ids_here = {a.id for a in post.attachments}
        i.hidden = hidden & ids_here
        i.flagged = flagged & ids_here
        i.tagged = list(dict.fromkeys(name for photo, name, _ in tags if photo in ids_here))
        i.photos = [a for a in post.attachments if a.is_photo and a.id not in i.hidden]
    with_stats = [p for p in posts if info[p.id].stats]
    if with_stats:
        _add_stats(with_stats, info)
    if user.is_guardian:
        _mark_read(user, [p for p in posts if p.is_published()], info)
    return info


def _add_stats(posts: list[Post], info: dict[int, PostInfo]) -> None:
    ids = [p.id for p in posts]
    for post_id, name, email in db.session.execute(
        select(Like.post_id, User.name, User.email)
        .join(User, User.id == Like.user_id)
        .where(Like.post_id.in_(ids))
        .order_by(Like.created_at, Like.id)
    ):
        info[post_id].likers.append(name or email.split("@")[0])

    group_ids = {pg.group_id for p in posts for pg in p.post_groups}
    guardians: dict[int, set[int]] = defaultdict(set)  # student -> guardian users
    students: dict[int, tuple[str, set[int]]] = {}  # student -> (name, groups)
    for group_id, student_id, first, last, user_id in db.session.execute(
        select(
            Membership.group_id, Student.id, Student.first_name, Student.last_name,
            Guardianship.user_id,
        )
        .join(Student, Student.id == Membership.student_id)
        .join(Guardianship, Guardianship.student_id == Student.id)
        .where(Membership.group_id.in_(group_ids))
        .order_by(Student.first_name, Student.last_name)
    ):
        guardians[student_id].add(user_id)
        students.setdefault(student_id, (f"{first} {last}", set()))[1].add(group_id)

    readers: dict[int, set[int]] = defaultdict(set)
    for post_id, user_id in db.session.execute(
        select(ReadReceipt.post_id, ReadReceipt.user_id).where(ReadReceipt.post_id.in_(ids))
    ):
        readers[post_id].add(user_id)

    for post in posts:
        post_groups = {pg.group_id for pg in post.post_groups}
        families: dict[frozenset[int], list[str]] = {}
        for student_id, (name, in_groups) in students.items():
            if in_groups & post_groups:
                families.setdefault(frozenset(guardians[student_id]), []).append(name)
        i = info[post.id]
        i.families_total = len(families)
        i.unread = [
            Family(children, members)
            for members, children in families.items()
            if not members & readers[post.id]
        ]


@prebuilt
def _seen():
    return select(ReadReceipt.post_id).where(
        ReadReceipt.user_id == USER_ID, ReadReceipt.post_id.in_(IDS))


def _mark_read(user: User, posts: list[Post], info: dict[int, PostInfo]) -> None:
    """Record that this guardian has these posts on screen: one read, at most one write."""
    if not posts:
        return
    ids = [p.id for p in posts]
    seen = set(db.session.scalars(_seen(), {"ids": ids, "user_id": user.id}))
    unseen = [i for i in ids if i not in seen]
    for post_id in unseen:
        info[post_id].new = True
    if not unseen:
        return
    moment = now()
    rows = [{"post_id": i, "user_id": user.id, "read_at": moment} for i in unseen]
    # ON CONFLICT DO NOTHING: the same guardian in two tabs is not an error.
    write_now(upsert_insert(db.engine.dialect.name)(ReadReceipt).values(rows)
              .on_conflict_do_nothing())
