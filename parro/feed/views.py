"""The feed pages: all groups, one group, a group's students."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..activities import activities_for_feed
from ..extensions import db
from ..htmx import wants_fragment
from ..inputs import as_id
from ..models import Group, Membership, Post, Student
from ..privacy import has_open_questions
from . import announcements, bp, counts
from .queries import feed_page


def _before() -> int | None:
    value = request.args.get("voor", "")
    if not value:
        return None
    before = as_id(value)
    if before is None:
        abort(400)
    return before


def _render_feed(group_ids: set[int], current_group: Group | None = None):
    before = _before()
    user = current_user._get_current_object()  # asked per post: no proxy lookup each time
    page = feed_page(user, group_ids, before, current_app.config["FEED_PAGE_SIZE"])
    context = {
        "page": page,
        "items": _with_activities(page, group_ids, before),
        "current_group": current_group,
    }
    if wants_fragment():
        return render_template("feed/_posts.html", **context)
    groups = policy.visible_groups(user)
    # Opening the feed (its first page) marks what it shows as seen; the tabs show what is left.
    opening = group_ids if before is None else set()
    new = counts.open_groups(user, {g.id for g in groups}, opening)
    return render_template(
        "feed/index.html",
        groups=groups,
        new=new,
        children=policy.family(user),  # the filter: a guardian's children and their groups
        postable=[g for g in groups if policy.can_post_in_group(user, g)],
        announcements=announcements.pinned(user, group_ids) if before is None else [],
        first_page=before is None,
        **context,
    )


def _with_activities(page, group_ids: set[int], before: int | None) -> list[tuple[str, object]]:
    """The page's posts with the activities announced between them, newest first."""
    not_after = (db.session.scalar(select(Post.publish_at).where(Post.id == before))
                 if before else None)
    newer_than = page.posts[-1].publish_at if page.next_before else None
    items = [("post", post, post.publish_at) for post in page.posts]
    items += [
        ("activity", activity, activity.created_at)
        for activity in activities_for_feed(group_ids, newer_than, not_after)
    ]
    items.sort(key=lambda item: item[2], reverse=True)
    return [(kind, obj) for kind, obj, _moment in items]


@bp.route("/")
@login_required
def index():
    """Show the posts of all groups the user may see, newest first."""
    # The landing page: while this school year's privacy questions wait, a guardian gets
    # the page that asks them (one query, here only; the answers are required there).
    if request.args.get("voor") is None and not wants_fragment() \
            and has_open_questions(current_user):
        return redirect(url_for("privacy.mine", ronde=1), 303)
    return _render_feed(policy.visible_group_ids(current_user))


@bp.route("/<int:group_id>")
@login_required
def group(group_id: int):
    """Show the posts of one group, newest first."""
    group = db.get_or_404(Group, group_id)
    policy.require(policy.can_see_group(current_user, group))
    return _render_feed({group.id}, group)


@bp.route("/<int:group_id>/leerlingen")
@login_required
def students(group_id: int):
    """List the students of a group, for its teachers and the office."""
    group = db.get_or_404(Group, group_id)
    policy.require(policy.can_see_group(current_user, group) and policy.is_staff(current_user))
    students = list(
        db.session.scalars(
            select(Student)
            .join(Membership)
            .where(Membership.group_id == group.id)
            .options(selectinload(Student.guardianships))
            .order_by(Student.first_name, Student.last_name)
        )
    )
    return render_template("feed/students.html", group=group, students=students)
