"""Writing, editing, deleting and liking group posts."""

from __future__ import annotations

from collections.abc import Set

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from .. import clock, media, policy
from ..database import end_reads, reads_first, writer_transactions
from ..extensions import db
from ..forms import EmptyForm, add_error, form_status
from ..htmx import is_htmx, wants_fragment
from ..inputs import as_id, way_back
from ..models import Group, Post
from . import bp, service
from .forms import EditPostForm, PostForm, local_to_utc
from .queries import PostInfo, like_state, one_post

# Forms that carry files: their requests may be as large as MEDIA_MAX_REQUEST_MB.
UPLOAD_ENDPOINTS = {"feed.new_post", "feed.new_announcement"}


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    # URL value preprocessors run before all before_request functions, and CSRF
    # protection reads the body in one of those: the larger limit must be set first.
    # Only signed-in staff get it; everyone else keeps MAX_CONTENT_LENGTH.
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST" and policy.is_staff(current_user):
        request.max_content_length = current_app.config["MEDIA_MAX_REQUEST_MB"] * 1024 * 1024


def done(url: str):
    """Go to `url`: a 303 for a plain form, HX-Redirect for htmx (so the flash survives)."""
    if is_htmx():
        return "", 200, {"HX-Redirect": url}
    return redirect(url, 303)


def button_target(model, record_id: int, allowed):
    """The record a one-button form acts on: 404 when there is none, 403 when
    `allowed(user, record)` refuses, 400 without the form's CSRF token."""
    record = db.get_or_404(model, record_id)
    policy.require(allowed(current_user, record))
    if not EmptyForm().validate_on_submit():
        abort(400)
    return record


def _require_groups(allowed) -> None:
    """Every group the form sends exists and is `allowed(group)`: another teacher's group
    is no slip of the hand, the request is refused."""
    for raw in request.form.getlist("groups"):
        other = db.session.get(Group, group_id) if (group_id := as_id(raw)) else None
        policy.require(other is not None and allowed(other))


@bp.route("/<int:group_id>/nieuw", methods=["GET", "POST"])
@reads_first
@login_required
def new_post(group_id: int):
    """Write a post for a group, with photos, videos and PDF files."""
    group = db.get_or_404(Group, group_id)
    policy.require(policy.can_post_in_group(current_user, group))
    form = PostForm()
    mine = [g for g in policy.visible_groups(current_user)
            if policy.can_post_in_group(current_user, g)]
    form.groups.choices = [SelectChoice(g.id, g.name) for g in mine]
    tag_groups = service.taggable_students(mine)
    form.tagged.choices = [
        SelectChoice(s.id, s.full_name) for _, rows in tag_groups for s, _ in rows
    ]
    if not form.is_submitted():
        form.groups.data = [group.id]
    else:
        _require_groups(lambda other: policy.can_post_in_group(current_user, other))
    pending: list = []
    if form.is_submitted():
        ok = form.validate_on_submit() and _tags_allowed(form, tag_groups)
        pending, drop = _kept_files()
        post, pending = _create(form, ok, pending, drop)
        if post is not None:
            flash(_("Uw bericht is geplaatst.") if post.is_published()
                  else _("Uw bericht is ingepland."), "success")
            return done(url_for("feed.group", group_id=group.id))
    template = "feed/_post_form.html" if wants_fragment() else "feed/new_post.html"
    return render_template(template, form=form, group=group, tag_groups=tag_groups,
                           pending=pending), form_status()


def _kept_files():
    """The files kept from a refused attempt that the form sends back: (to place, to remove).

    Only the user's own, unexpired ones; other ids are ignored.
    """
    sent = {i for raw in request.form.getlist("pending") if (i := as_id(raw))}
    removed = {i for raw in request.form.getlist("pending-remove") if (i := as_id(raw))}
    kept = service.pending_uploads(current_user, sent | removed)
    return [p for p in kept if p.id not in removed], [p for p in kept if p.id in removed]


def _tags_allowed(form: PostForm | EditPostForm, tag_groups,
                  before: Set[int] = frozenset(), locked: Set[int] = frozenset()) -> bool:
    """Tagged children must be in the chosen groups and have consent for photos in the app.

    Checked here, against the database, whatever the page showed. When editing, only the
    children added since `before` are checked for consent, and a child without consent who
    was tagged stays tagged (`locked`), whatever the form says.
    """
    tagged = set(form.tagged.data or []) | locked
    if not tag_groups or not tagged:
        return True
    chosen = set(form.groups.data)
    in_groups = {s.id for g, rows in tag_groups if g.id in chosen for s, _ in rows}
    names = {s.id: s.full_name for _, rows in tag_groups for s, _ in rows}
    outside = sorted(i for i in tagged - locked if i not in in_groups)
    if outside:
        known = [names[i] for i in outside if i in names]
        add_error(form.tagged, _("Deze kinderen zitten niet in de gekozen groepen: %(names)s.",
                                 names=", ".join(known))
                  if len(known) == len(outside)
                  else _("Een aangevinkt kind zit niet in de gekozen groepen."))
        return False
    refused = sorted(names.get(i, "?") for i in service.without_app_consent(tagged - before))
    if refused:
        add_error(form.tagged, _(
            "Voor %(names)s is er geen toestemming voor foto's in de app. Haal het vinkje weg "
            "en laat foto's waarop zij herkenbaar zijn weg.", names=", ".join(refused)))
        return False
    return True


def _create(form: PostForm, ok: bool, pending: list, drop: list):
    """Process the files sent; store the post if `ok` (the form passed its checks) and the
    files did too, else keep the files for the user. Returns (the post or None, the kept
    files the form shows again).

    The checks read; the files are processed with no transaction open; the rows are
    written in a transaction of their own (new_post is reads_first).
    """
    limits = media.Limits.from_config(current_app.config)
    checked, problems = media.check(form.files.data or [], limits)
    if pending and len(pending) + len(checked) > limits.max_files:
        problems = [*problems, _("U kunt maximaal %(n)d bestanden tegelijk toevoegen.",
                                 n=limits.max_files)]
        checked = []
    if problems:
        add_error(form.files, *problems)
        ok = False
    if ok and not form.has_content() and not checked and not pending:
        add_error(form.body, _("Schrijf een bericht of voeg een foto of bestand toe."))
        ok = False
    end_reads(db.session())  # nothing is held while the files are processed
    staged = []
    try:
        staged = media.process(checked, limits)
    except media.UploadErrors as exc:
        add_error(form.files, *exc.messages)
        ok = False
    with writer_transactions():
        if not ok:
            # Refused: what was processed is kept, so the user need not choose it again.
            if not staged and not drop:
                return None, pending
            return None, [*pending, *service.keep_pending(current_user, staged, drop)]
        groups = [db.session.get(Group, gid) for gid in form.groups.data]
        return service.create_post(
            current_user,
            groups,
            title=form.title.data,
            body=form.body.data,
            important=form.important.data,
            publish_at=local_to_utc(form.publish_at.data) if form.publish_at.data else None,
            staged=staged,
            tagged_ids=form.tagged.data or [],
            pending=pending,
            drop=drop,
        ), []


def seen_post(post_id: int) -> tuple[Post, PostInfo]:
    """The post and what this viewer sees of it; 404 or 403 for a post they may not see."""
    post, info = one_post(current_user, post_id)
    if post is None:
        abort(404)
    policy.require(policy.can_see_post(current_user, post))
    return post, info


@bp.route("/bericht/<int:post_id>")
@login_required
def post(post_id: int):
    """Show one post, with who read and liked it for its author."""
    found, info = seen_post(post_id)
    return render_template("feed/post.html", post=found, info=info)


DESCRIPTION_MAX = 300


@bp.route("/bericht/<int:post_id>/bewerken", methods=["GET", "POST"])
@login_required
def edit_post(post_id: int):
    """Change one's own post: text, photo descriptions, groups, who is tagged, the moment
    it goes online (while it waits), or take photos and files out of it."""
    post = db.get_or_404(Post, post_id)
    policy.require(policy.can_edit_post(current_user, post))
    form = EditPostForm(obj=post)
    form.remove.choices = [SelectChoice(a.id, a.filename) for a in post.attachments]
    current = post.group_list
    groups = current + [g for g in policy.visible_groups(current_user)
                        if policy.can_post_in_group(current_user, g) and g not in current]
    form.groups.choices = [SelectChoice(g.id, g.name) for g in groups]
    tag_groups = service.taggable_students(groups) if post.photos else []
    tagged_before = {t.student_id for a in post.photos for t in a.tags}
    # A child without consent stays tagged: without the tag everyone would see the photo.
    locked = service.without_app_consent(tagged_before) if tagged_before else set()
    if post.is_published():
        del form.publish_at
    if not form.is_submitted():
        form.groups.data = [g.id for g in current]
        form.tagged.data = sorted(tagged_before)
        if "publish_at" in form:
            form.publish_at.data = post.publish_at.astimezone(clock.school_tz()).replace(
                tzinfo=None)
    else:
        # Unticked checkboxes send nothing: the form says which lists it showed. A list it
        # did not show (an older page, another client) stays as it is.
        if "groepen-getoond" not in request.form:
            form.groups.data = [g.id for g in current]
        if "kinderen-getoond" not in request.form:
            form.tagged.data = sorted(tagged_before)
        # A group the teacher may not post in, that the post was not in: refuse the request.
        _require_groups(
            lambda other: other in current or policy.can_post_in_group(current_user, other))
    descriptions = {a.id: " ".join(request.form.get(f"alt-{a.id}", a.description).split())
                    for a in post.photos}
    too_long = [i for i, text in descriptions.items() if len(text) > DESCRIPTION_MAX]
    if form.validate_on_submit() and not too_long and _tags_allowed(
            form, tag_groups, tagged_before, locked):
        keeps_something = len(post.attachments) > len(set(form.remove.data or []))
        if not (form.title.data or "").strip() and not (form.body.data or "").strip() \
                and not keeps_something:
            add_error(form.body, _("Schrijf een bericht."))
        else:
            chosen = [g for g in groups if g.id in set(form.groups.data)]
            schedule = service.KEEP
            if "publish_at" in form:
                schedule = local_to_utc(form.publish_at.data) if form.publish_at.data else None
            service.edit_post(post, title=form.title.data, body=form.body.data,
                              remove_ids=form.remove.data or [], descriptions=descriptions,
                              groups=chosen,
                              tagged_ids=(set(form.tagged.data or []) | locked)
                              if post.photos else None,
                              publish_at=schedule)
            flash(_("Uw bericht is aangepast."), "success")
            return done(url_for("feed.post", post_id=post.id))
    flagged = policy.unconsented_photo_ids(post.photos)
    return render_template("feed/edit_post.html", form=form, post=post, flagged=flagged,
                           descriptions=descriptions, too_long=too_long,
                           description_max=DESCRIPTION_MAX, tag_groups=tag_groups,
                           locked=locked), form_status()


@bp.post("/bericht/<int:post_id>/verwijderen")
@login_required
def delete_post(post_id: int):
    """Delete a post with its files (the author, or an admin)."""
    post = button_target(Post, post_id, policy.can_delete_post)
    service.delete_with_files(post)
    flash(_("Het bericht is verwijderd."), "success")
    return done(url_for("feed.index"))


@bp.post("/bericht/<int:post_id>/vind-ik-leuk")
@login_required
def like(post_id: int):
    """Like a post, or take the like back."""
    post = button_target(Post, post_id, policy.can_like)
    flash(_("U vindt dit bericht leuk.") if service.toggle_like(current_user, post)
          else _("U vindt dit bericht niet meer leuk."), "success")
    if is_htmx():
        return render_template("feed/_like.html", post=post, info=like_state(current_user, post))
    back = way_back(request.form.get("next"), url_for("feed.post", post_id=post.id))
    return redirect(f"{back}#post-{post.id}", 303)
