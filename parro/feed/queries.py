"""Loading a page of the feed with everything its template shows, in a fixed number of queries.

The feed page reads its posts as one read model, FeedCard (its author, groups and
files as CardAuthor, CardGroup and CardFile): loading twenty posts with their authors,
groups and attachments as ORM objects cost more than the page's SQL. A page is two
queries, each built once (sql.prebuilt): the posts with their authors' and groups'
shown columns and, as columns of the same rows, each post's like count and whether
this viewer liked and read it; then their attachments. The photos without consent
are one more (policy), and for staff three more (who liked, which families, who read).
Guardians add at most one write for their read receipts. None of it grows with the
number of posts, photos, likes or groups. The single post page and the photo viewer
(one_post) read the ORM Post; describe() and the policy take either (models.PostFacts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import itemgetter
from typing import ClassVar

from sqlalchemy import bindparam, exists, func, literal, select, tuple_
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import policy
from ..clock import now
from ..database import upsert_insert, write_now
from ..extensions import db
from ..models import (
    Attachment,
    Group,
    Guardianship,
    Like,
    Membership,
    PersonName,
    Post,
    PostGroup,
    PostRules,
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


@dataclass(slots=True)
class CardAuthor(PersonName):
    """A FeedCard's author: the columns of its app_user row that the card shows; its name
    is shown by the User's own rules (models.PersonName)."""

    __tablename__: ClassVar[str] = User.__tablename__

    id: int
    name: str
    version: int


@dataclass(slots=True)
class CardGroup:
    """One of a FeedCard's groups: the columns of its school_group row that the card shows."""

    __tablename__: ClassVar[str] = Group.__tablename__

    id: int
    name: str
    grade: int | None
    version: int


@dataclass(slots=True)
class CardFile:
    """One of a FeedCard's attachments: the columns of its attachment row that the card shows."""

    __tablename__: ClassVar[str] = Attachment.__tablename__

    id: int
    post_id: int
    version: int
    kind: str
    key: str
    digest: str | None
    width: int | None
    height: int | None
    description: str
    filename: str
    size: int


@dataclass(slots=True)
class FeedCard(PostRules):
    """A post as the feed pages show it (templates/feed/_post.html): the feed's read model,
    the one class besides Post for a post.

    A page shows twenty posts, and loading them with their authors, groups and attachments
    as ORM objects cost more than the rest of feed_page. Built by name from the labelled
    columns of _page_statement() and _card_files(); it holds columns, no rules of its own:
    Post's (is_published, is_hidden, photos, files) come from models.PostRules, and the
    policy decides on it as on a Post (models.PostFacts). In a cached fragment's key it,
    its author, groups and files are the rows they were read from (parro/fragments.py,
    cache_key: the table, id and version).
    """

    __tablename__: ClassVar[str] = Post.__tablename__

    id: int
    author_id: int | None
    title: str
    body: str
    important: bool
    publish_at: datetime
    edited_at: datetime | None
    hidden_at: datetime | None
    version: int
    author: CardAuthor | None
    group_list: list[CardGroup] = field(default_factory=list)  # in school order, as Post's
    group_ids: set[int] = field(default_factory=set)
    attachments: list[CardFile] = field(default_factory=list)  # in their order in the post


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
    photos: list[Attachment | CardFile] = field(default_factory=list)  # those this viewer sees
    families_total: int = 0
    unread: list[Family] = field(default_factory=list)

    @property
    def families_read(self) -> int:
        return self.families_total - len(self.unread)


@dataclass
class FeedPage:
    posts: list[FeedCard]
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


# FeedCard's fields read from the post's own row: the page statement selects these columns
# of Post and _cards() gives each to the field of its name.
_CARD_COLUMNS = ("id", "author_id", "title", "body", "important", "publish_at", "edited_at",
                 "hidden_at", "version")


@prebuilt
def _page_statement(staff: bool, older: bool, newest_only: bool):
    """A page of posts, a row per post and group, each column labelled with the name
    feed_page gives it; `older`: after the cursor post `before`.

    `newest_only` looks among the user's groups' newest `window` posts only, straight
    from ix_post_group_feed, instead of sorting every post the groups had this year.
    That gives the right page whenever it finds a full page (limit + 1 posts), or when
    the window held every post of the groups (the column window_rows, the window's rows,
    is fewer than `window`): a post it missed would be older than all `window` it looked
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
    posts = (
        select(*[getattr(Post, name) for name in _CARD_COLUMNS],
               *_per_viewer_columns(guardian=not staff), window)
        .where(Post.id.in_(in_groups), Post.hidden_at.is_(None))
    )
    if not staff:
        posts = posts.where(Post.publish_at <= moment)
    if older:
        posts = posts.where(tuple_(Post.publish_at, Post.id) < tuple_(at, before))
    page = posts.order_by(Post.publish_at.desc(), Post.id.desc()).limit(LIMIT).subquery()
    return (
        select(page, User.name.label("author_name"), User.version.label("author_version"),
               Group.id.label("group_id"), Group.name.label("group_name"),
               Group.grade.label("group_grade"), Group.version.label("group_version"))
        .outerjoin(User, User.id == page.c.author_id)
        .join(PostGroup, PostGroup.post_id == page.c.id)
        .join(Group, Group.id == PostGroup.group_id)
        .order_by(page.c.publish_at.desc(), page.c.id.desc())
    )


def _by_label(result, *names: str) -> itemgetter:
    """A getter of the columns labelled `names` from each row of `result`: the labels
    are looked up once per result (row.name and row._mapping look them up on every row,
    which cost more than the rest of building a read model)."""
    keys = list(result.keys())
    return itemgetter(*[keys.index(name) for name in names])


def _cards(result) -> tuple[list[FeedCard], list]:
    """The FeedCards of _page_statement()'s rows, and each one's first row (its like
    count, whether the viewer liked and read it)."""
    post_id_of = _by_label(result, "id")
    card_of = _by_label(result, *_CARD_COLUMNS)
    author_of = _by_label(result, "author_id", "author_name", "author_version")
    group_of = _by_label(result, "group_id", "group_name", "group_grade", "group_version")
    cards: dict[int, FeedCard] = {}
    firsts = []
    authors: dict[int, CardAuthor] = {}
    groups: dict[int, CardGroup] = {}
    for row in result:
        card = cards.get(post_id_of(row))
        if card is None:
            author_id, name, version = author_of(row)
            author = None
            if author_id is not None:
                author = authors.get(author_id)
                if author is None:
                    author = authors[author_id] = CardAuthor(id=author_id, name=name,
                                                             version=version)
            card = FeedCard(**dict(zip(_CARD_COLUMNS, card_of(row), strict=True)),
                            author=author)
            cards[card.id] = card
            firsts.append(row)
        group_id, name, grade, version = group_of(row)
        group = groups.get(group_id)
        if group is None:
            group = groups[group_id] = CardGroup(id=group_id, name=name, grade=grade,
                                                 version=version)
        card.group_list.append(group)
        card.group_ids.add(group_id)
    for card in cards.values():
        if len(card.group_list) > 1:
            card.group_list.sort(key=Group.school_order)
    return list(cards.values()), firsts


def feed_page(user: User, group_ids: set[int], before: int | None = None,
              limit: int = 20) -> FeedPage:
    """The newest posts in these groups the user may see, older than post `before`."""
    window = 2 * (limit + 1)  # room for posts in two of the user's groups
    values = {"ids": sorted(group_ids), "now": now(), "before": before, "limit": limit + 1,
              "window": window, "user_id": user.id}

    def read(newest_only: bool) -> tuple[list[FeedCard], list]:
        statement = _page_statement(user.is_staff, before is not None, newest_only)
        # On the session's connection: the ORM has no objects to make of these columns.
        return _cards(db.session.connection().execute(statement, values))

    posts, rows = read(newest_only=True)
    if len(posts) <= limit and not (rows and rows[0].window_rows < window):
        posts, rows = read(newest_only=False)  # the last page, or hidden posts among the newest
    next_before = posts[limit - 1].id if len(posts) > limit else None
    posts, rows = posts[:limit], rows[:limit]
    _add_files(posts)
    return FeedPage(posts, describe(user, posts, rows), next_before)


_FILE_COLUMNS = tuple(f.name for f in fields(CardFile))


@prebuilt
def _card_files():
    """The posts' attachments: the Attachment column of each CardFile field's name."""
    return (
        select(*[getattr(Attachment, name) for name in _FILE_COLUMNS])
        .where(Attachment.post_id.in_(IDS))
        .order_by(Attachment.position, Attachment.id)
    )


def _add_files(posts: list[FeedCard]) -> None:
    if posts:
        by_id = {post.id: post for post in posts}
        result = db.session.connection().execute(_card_files(), {"ids": list(by_id)})
        file_of = _by_label(result, *_FILE_COLUMNS)
        for values in map(file_of, result):
            file = CardFile(**dict(zip(_FILE_COLUMNS, values, strict=True)))
            by_id[file.post_id].attachments.append(file)


@prebuilt
def _one_post():
    return (select(Post, *_per_viewer_columns(guardian=True))
            .options(joinedload(Post.author),
                     joinedload(Post.post_groups).joinedload(PostGroup.group),
                     selectinload(Post.attachments))
            .where(Post.id == POST_ID))


def one_post(user: User, post_id: int) -> tuple[Post | None, PostInfo | None]:
    row = db.session.execute(_one_post(), {"post_id": post_id, "user_id": user.id}
                             ).unique().first()
    if row is None:
        return None, None
    return row.Post, describe(user, [row.Post], [row])[row.Post.id]


@prebuilt
def _like_state():
    like_count, liked, _seen = _per_viewer_columns(guardian=False)
    return select(like_count, liked).where(Post.id == POST_ID)


def like_state(user: User, post: Post) -> PostInfo:
    """Just what the like button shows, after a like or unlike."""
    count, liked = db.session.execute(
        _like_state(), {"post_id": post.id, "user_id": user.id}).one()
    return PostInfo(like_count=count, liked=bool(liked), can_like=policy.can_like(user, post))


def describe(user: User, posts: Sequence[Post | FeedCard], rows: Sequence
             ) -> dict[int, PostInfo]:
    """What the template needs to know about each post, for this user; `rows`: for each
    post, the row that read it (its like count, whether the user liked and read it)."""
    info = {post.id: PostInfo(like_count=row.like_count, liked=bool(row.liked))
            for post, row in zip(posts, rows, strict=True)}
    if not posts:
        return info
    seen_by_user = set()
    for post in posts:
        i, rights = info[post.id], policy.post_rights(user, post)
        i.can_like, i.can_edit, i.can_delete = rights.like, rights.edit, rights.delete
        i.can_report, i.stats = rights.report, rights.stats
        if rights.see:
            seen_by_user.add(post.id)
    photos = [a for p in posts for a in p.photos]
    hidden = policy.hidden_photo_ids(user, photos)
    # Staff see who is tagged, and which photos show a child without consent: one query.
    tags = policy.photo_tags(photos) if user.is_staff else []
    flagged = {photo for photo, _name, consented in tags if not consented}
    for post in posts:
        i = info[post.id]
        ids_here = {a.id for a in post.attachments}
        i.hidden = hidden & ids_here
        i.flagged = flagged & ids_here
        if tags:
            i.tagged = list(dict.fromkeys(name for photo, name, _ in tags if photo in ids_here))
        i.photos = [a for a in post.photos if a.id not in i.hidden]
    with_stats = [p for p in posts if info[p.id].stats]
    if with_stats:
        _add_stats(with_stats, info)
    if user.is_guardian:
        # Only what they may see: a post refused to them (another group's, another
        # school's) is not read by opening its address.
        _mark_read(user, [post for post, row in zip(posts, rows, strict=True)
                          if not row.seen and post.is_published()
                          and post.id in seen_by_user], info)
    return info


def _add_stats(posts: list[Post | FeedCard], info: dict[int, PostInfo]) -> None:
    ids = [p.id for p in posts]
    for post_id, name, email in db.session.execute(
        select(Like.post_id, User.name, User.email)
        .join(User, User.id == Like.user_id)
        .where(Like.post_id.in_(ids))
        .order_by(Like.created_at, Like.id)
    ):
        info[post_id].likers.append(name or email.split("@")[0])

    group_ids = {group_id for p in posts for group_id in p.group_ids}
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
        post_groups = post.group_ids
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


def _mark_read(user: User, unseen: list[Post | FeedCard], info: dict[int, PostInfo]) -> None:
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
