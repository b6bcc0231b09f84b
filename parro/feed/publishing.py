"""Posts by mail (as each guardian chose, parro.notifications), and scheduled posts at their time.

A scheduled post becomes visible by itself: every feed query asks for
`publish_at <= now`. Its mail (or digest line) is queued by `publish_due()`, which runs from
`flask --app app feed publish` (cron, or `--loop` as a service) and, unless
FEED_PUBLISHER_THREAD is off, from a thread in each web process once a minute.
Claiming a post sets its `mailed_at` with a conditional UPDATE, so however many
processes run it, each post is mailed once.
"""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..clock import now
from ..extensions import db
from ..models import Group, Guardianship, Membership, Post, School, SchoolYear, User
from ..notifications import GROUP_POSTS, IMPORTANT_POSTS, notify
from ..push import first_line, queue_pushes

log = logging.getLogger(__name__)
INTERVAL = 60  # seconds between two rounds of the publisher thread


def guardians_of(post: Post) -> list[User]:
    """The active guardians of the children in the post's groups, each once."""
    group_ids = [pg.group_id for pg in post.post_groups]
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(
                    select(Guardianship.user_id)
                    .join(Membership, Membership.student_id == Guardianship.student_id)
                    .where(Membership.group_id.in_(group_ids))
                ),
                User.active.is_(True),
                User.disabled.is_(False),
            )
            .order_by(User.id)
        )
    )


def queue_post_mail(post: Post) -> int:
    """Tell every guardian of the post's groups, as each chose (in this transaction)."""
    post.mailed_at = now()
    # The post's own school (its groups are of one school), named in the mail.
    school = db.session.scalar(
        select(School).join(SchoolYear, SchoolYear.school_id == School.id)
        .join(Group, Group.school_year_id == SchoolYear.id)
        .where(Group.id.in_([pg.group_id for pg in post.post_groups]))
        .order_by(School.id).limit(1))
    author_name = post.author.display_name if post.author else ""
    group_names = ", ".join(g.name for g in post.group_list)
    recipients = guardians_of(post)
    for user in recipients:
        notify(
            user,
            IMPORTANT_POSTS if post.important else GROUP_POSTS,
            _l("Belangrijk bericht: {subject_title}") if post.important
            else _l("Nieuw bericht: {subject_title}"),
            "important_post" if post.important else "group_post",
            line=_l("{author_name} voor {group_names}: {subject_title}"),
            path=f"/groepen/bericht/{post.id}",
            user=user,
            post=post,
            subject_title=post.title or group_names,
            author_name=author_name,
            group_names=group_names,
            school=school,
        )
    _queue_post_pushes(post, [user.id for user in recipients], author_name)
    return len(recipients)


def _queue_post_pushes(post: Post, user_ids: list[int], author_name: str) -> None:
    """A push to the guardians who want one: the author, the first line, never a photo.

    One tag per group: a phone shows several posts from one group as one notification.
    """
    groups = sorted(pg.group_id for pg in post.post_groups)
    queue_pushes(
        user_ids,
        IMPORTANT_POSTS if post.important else GROUP_POSTS,
        _l("Belangrijk bericht van %(name)s", name=author_name) if post.important
        else _l("Nieuw bericht van %(name)s", name=author_name),
        post.title or first_line(post.body),
        url=f"/groepen/bericht/{post.id}",
        tag=f"groep-{groups[0]}" if len(groups) == 1 else f"bericht-{post.id}",
        important=post.important,
    )


def publish_due() -> int:
    """Queue the mail of posts whose time has come. Returns how many posts."""
    moment = now()
    due = list(
        db.session.scalars(
            select(Post.id).where(Post.mailed_at.is_(None), Post.publish_at <= moment)
        )
    )
    db.session.commit()
    published = 0
    for post_id in due:
        claimed = db.session.execute(
            update(Post)
            .where(Post.id == post_id, Post.mailed_at.is_(None))
            .values(mailed_at=moment)
        ).rowcount
        if claimed:
            queue_post_mail(db.session.get(Post, post_id))
            published += 1
        db.session.commit()
    return published


@click.command("publish")
@click.option("--loop", is_flag=True, help="Keep running, checking every minute.")
def publish_command(loop):
    """Mail the posts whose scheduled time has come."""
    while True:
        count = publish_due()
        if count or not loop:
            click.echo(f"{count} scheduled post(s) mailed")
        if not loop:
            break
        time.sleep(INTERVAL)


# -- the publisher thread -------------------------------------------------------

_started = threading.Event()
_lock = threading.Lock()


def _loop(app: Flask) -> None:
    while True:
        time.sleep(INTERVAL)
        with app.app_context():
            try:
                publish_due()
            except Exception:  # the loop must survive a database hiccup
                log.exception("publishing scheduled posts failed")
                db.session.rollback()
            finally:
                db.session.remove()


def start_publisher():
    # Started by the first request, so CLI commands never run one; tests (TESTING)
    # never do, they call publish_due() themselves.
    if _started.is_set():
        return
    from flask import current_app

    app = current_app._get_current_object()
    if not app.config["FEED_PUBLISHER_THREAD"] or app.config["TESTING"]:
        return
    with _lock:
        if not _started.is_set():
            threading.Thread(target=_loop, args=(app,), name="feed-publisher", daemon=True).start()
            _started.set()
