"""Loading a page of the feed with everything its template shows, in a fixed number of queries.

A page of posts is two queries, each built once (sql.prebuilt): the posts with their
authors and groups (only the columns the page shows; raiseload makes any other load
loud) and, as columns of the same rows, each post's like count and whether this viewer
liked and read it; then their attachments, given to the posts with
database.set_loaded. The photos without consent are one more (policy), and for staff
three more (who liked, which families, who read). Guardians add at most one write for
their read receipts. None of it grows with the number of posts, photos, likes or groups.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, exists, func, literal, select, tuple_
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


def _per_viewer_columns(guardian: bool) -> list:
    """A post's like count, whether the user (USER_ID) liked it and, for a guardian,
    whether they read it before: columns of the statement that reads the posts."""
    likes = select(func.count()).where(Like.post_id == Post.id).scalar_subquery()
    liked = exists().where(Like.post_id == Post.id, Like.user_id == USER_ID)
    seen = exists().where(ReadReceipt.post_id == Post.id, ReadReceipt.user_id == USER_ID)
    return [likes.label("like_count"), liked.label("liked"),
            (seen if guardian else literal(True)).label("seen")]


def _post_options():
    return (
        load_only(Post.id, Post.author_id, Post.title, Post.body, Post.important,
                  Post.publish_at, Post.edited_at, Post.hidden_at, Post.version),
        joinedload(Post.author).load_only(User.id, User.name, User.version),
        joinedload(Post.post_groups).joinedload(PostGroup.group).load_only(
            Group.id, Group.name, Group.grade, Group.version),
        raiseload("*"),
    )


@prebuilt
def _page_statement(staff: bool, older: bool, newest_only: bool):
    """A page of posts; `older`: after the cursor post `before`.

    `newest_only` looks among the user's groups' newest `window` posts only, straight
    from ix_post_group_feed, instead of sorting every post the groups had this year.
    That gives the right page whenever it finds a full page (limit + 1 rows), or when
    the window held every post of the groups (its last column, the window's rows, is
    fewer than `window`): a post it missed would be older than all `window` it looked
    at, which then hold fewer than limit + 1 visible posts (feed_page asks again
    without it when neither holds).
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
    window = (select(func.count()).select_from(in_groups.subquery()).scalar_subquery()
              if newest_only else literal(0)).label("window_rows")
    query = (
        select(Post, *_per_viewer_columns(guardian=not staff), window)
        .options(*_post_options())
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
    window = 2 * (limit + 1)  # room for posts in two of the user's groups
    values = {"ids": sorted(group_ids), "now": now(), "before": before, "limit": limit + 1,
              "window": window, "user_id": user.id}

    def read(newest_only: bool) -> list:
        statement = _page_statement(user.is_staff, before is not None, newest_only)
        return db.session.execute(statement, values).unique().all()

    rows = read(newest_only=True)
    if len(rows) <= limit and not (rows and rows[0].window_rows < window):
        rows = read(newest_only=False)  # the last page, or hidden posts among the newest
    next_before = rows[limit - 1].Post.id if len(rows) > limit else None
    rows = rows[:limit]
    posts = [row.Post for row in rows]
    _add_attachments(posts)
    return FeedPage(posts, describe(user, rows), next_before)


@prebuilt
def _attachments():
    """The posts' attachments, with the columns that cards show (and version, for their key)."""
    return (
        select(Attachment)
        .options(load_only(Attachment.id, Attachment.post_id, Attachment.version,
                           Attachment.kind, Attachment.key, Attachment.digest, Attachment.width,
                           Attachment.height, Attachment.description, Attachment.filename,
                           Attachment.size),
                 raiseload("*"))
        .where(Attachment.post_id.in_(IDS))
        .order_by(Attachment.position, Attachment.id)
    )


def _add_attachments(posts: list[Post]) -> None:
    if posts:
        attachments = db.session.scalars(_attachments(), {"ids": [post.id for post in posts]})
        set_loaded(posts, "attachments", ((a.post_id, a) for a in attachments))


@prebuilt
def _one_post():
    return (select(Post, *_per_viewer_columns(guardian=True))
            .options(joinedload(Post.author),
                     joinedload(Post.post_groups).joinedload(PostGroup.group))
            .where(Post.id == POST_ID))


def one_post(user: User, post_id: int) -> tuple[Post | None, PostInfo | None]:
    row = db.session.execute(_one_post(), {"post_id": post_id, "user_id": user.id}
                             ).unique().first()
    if row is None:
        return None, None
    _add_attachments([row.Post])
    return row.Post, describe(user, [row])[row.Post.id]


@prebuilt
def _like_state():
    like_count, liked, _seen = _per_viewer_columns(guardian=False)
    return select(like_count, liked).where(Post.id == POST_ID)


def like_state(user: User, post: Post) -> PostInfo:
    """Just what the like button shows, after a like or unlike."""
    count, liked = db.session.execute(
        _like_state(), {"post_id": post.id, "user_id": user.id}).one()
    return PostInfo(like_count=count, liked=bool(liked), can_like=policy.can_like(user, post))


def describe(user: User, rows) -> dict[int, PostInfo]:
    """What the template needs to know about each post, for this user, from the rows
    that read the posts (the post, its like count, whether the user liked and read it)."""
    info = {row.Post.id: PostInfo(like_count=row.like_count, liked=bool(row.liked))
            for row in rows}
    posts = [row.Post for row in rows]
    if not posts:
        return info
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
        _mark_read(user, [row.Post for row in rows if not row.seen and row.Post.is_published()],
                   info)
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


def _mark_read(user: User, unseen: list[Post], info: dict[int, PostInfo]) -> None:
    """Record that this guardian has these posts, not read before, on screen: one write."""
    if not unseen:
        return
    for post in unseen:
        info[post.id].new = True
    moment = now()
    rows = [{"post_id": p.id, "user_id": user.id, "read_at": moment} for p in unseen]
    # ON CONFLICT DO NOTHING: the same guardian in two tabs is not an error.
    write_now(upsert_insert(db.engine.dialect.name)(ReadReceipt).values(rows)
              .on_conflict_do_nothing())
