"""School-wide announcements (schoolbrede mededelingen), pinned above the group posts."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from .. import media, policy
from ..clock import today
from ..database import end_reads, reads_first, writer_transactions
from ..extensions import db
from ..forms import EmptyForm, add_error, form_status
from ..htmx import is_htmx
from ..inputs import way_back
from ..models import (
    Announcement,
    AnnouncementDismissal,
    AnnouncementGroup,
    Group,
    SchoolYear,
    User,
)
from ..sql import DAY, GROUP_IDS, USER_ID, prebuilt
from . import bp
from .forms import AnnouncementForm
from .posts import button_target
from .service import (
    attachments_from,
    clean_text,
    commit_with_files,
    delete_with_files,
    dismiss,
)


def pinned(user: User, group_ids: set[int]) -> list[Announcement]:
    """The current announcements for these groups that the user has not closed: those of
    the groups' schools for all of their groups, and those for one of these groups."""
    if not user.is_authenticated or not group_ids:
        return []
    values = {"day": today(), "group_ids": sorted(group_ids), "user_id": user.id}
    return list(db.session.scalars(_pinned_statement(), values).unique())


@prebuilt
def _pinned_statement():
    day = DAY
    return (
        select(Announcement)
        .where(
            Announcement.starts_on <= day,
            Announcement.ends_on >= day,
            or_(
                Announcement.all_groups.is_(True) & Announcement.school_id.in_(
                    select(SchoolYear.school_id)
                    .join(Group, Group.school_year_id == SchoolYear.id)
                    .where(Group.id.in_(GROUP_IDS))
                ),
                Announcement.id.in_(
                    select(AnnouncementGroup.announcement_id).where(
                        AnnouncementGroup.group_id.in_(GROUP_IDS)
                    )
                ),
            ),
            ~exists().where(
                AnnouncementDismissal.announcement_id == Announcement.id,
                AnnouncementDismissal.user_id == USER_ID,
            ),
        )
        .options(joinedload(Announcement.attachments))
        .order_by(Announcement.created_at.desc(), Announcement.id.desc())
    )


@bp.route("/mededelingen")
@login_required
def announcements():
    """List the school-wide announcements, current and past, of the school one works in."""
    policy.require(policy.can_announce(current_user))
    items = list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.school_id == policy.current_school_id())
            .options(selectinload(Announcement.groups), selectinload(Announcement.attachments))
            .order_by(Announcement.ends_on.desc(), Announcement.id.desc())
            .limit(100)
        )
    )
    return render_template("feed/announcements.html", announcements=items, today=today(),
                           form=EmptyForm())


@bp.route("/mededelingen/nieuw", methods=["GET", "POST"])
@reads_first
@login_required
def new_announcement():
    """Write a school-wide announcement, optionally with the newsletter as PDF."""
    policy.require(policy.can_announce(current_user))
    form = AnnouncementForm()
    form.groups.choices = [
        SelectChoice(g.id, g.name) for g in policy.visible_groups(current_user)
    ]
    if not form.is_submitted():
        form.ends_on.data = today() + timedelta(days=14)
    if form.validate_on_submit():
        limits = media.Limits.from_config(current_app.config)
        limits.max_files = 1
        newsletter = [form.newsletter.data] if form.newsletter.data else []
        checked, problems = media.check(newsletter, limits, allowed=(media.DOCUMENT,))
        staged = []
        if not problems:
            end_reads(db.session())  # nothing is held while the newsletter is processed
            try:
                staged = media.process(checked, limits)
            except media.UploadErrors as exc:
                problems = exc.messages
        if problems:
            add_error(form.newsletter, *map(str, problems))
        else:
            chosen = [] if form.all_groups.data else form.groups.data
            with writer_transactions():
                announcement = Announcement(
                    school_id=policy.current_school().id,
                    author=current_user,
                    title=form.title.data.strip(),
                    body=clean_text(form.body.data),
                    all_groups=form.all_groups.data,
                    starts_on=today(),
                    ends_on=form.ends_on.data,
                    announcement_groups=[AnnouncementGroup(group_id=gid) for gid in chosen],
                    attachments=attachments_from(staged),
                )
                db.session.add(announcement)
                commit_with_files(staged)
            flash(_("De mededeling is geplaatst."), "success")
            return redirect(url_for("feed.announcements"), 303)
    return render_template("feed/new_announcement.html", form=form), form_status()


@bp.post("/mededelingen/<int:announcement_id>/verwijderen")
@login_required
def delete_announcement(announcement_id: int):
    """Delete an announcement and its file."""
    announcement = button_target(Announcement, announcement_id, policy.can_manage_announcement)
    delete_with_files(announcement)
    flash(_("De mededeling is verwijderd."), "success")
    return redirect(url_for("feed.announcements"), 303)


@bp.post("/mededelingen/<int:announcement_id>/sluiten")
@login_required
def dismiss_announcement(announcement_id: int):
    """Stop showing an announcement to this user."""
    announcement = button_target(Announcement, announcement_id, policy.can_see_announcement)
    dismiss(announcement, current_user)
    flash(_("De mededeling is gesloten. U vindt hem terug bij Mededelingen."), "success")
    if is_htmx():
        return ""
    return redirect(way_back(request.form.get("next"), url_for("feed.index")), 303)

