"""Posting, editing and deleting group posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import media, policy
from ..clock import now
from ..extensions import db
from ..models import (
    Announcement,
    AnnouncementDismissal,
    Attachment,
    Group,
    Like,
    Membership,
    PendingUpload,
    PhotoTag,
    Post,
    PostGroup,
    Student,
    User,
)
from .publishing import queue_post_mail


def clean_text(text: str | None) -> str:
    """Plain text as typed, with Windows line ends and trailing blanks removed."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def attachments_from(staged: list, tagged_ids=()) -> list[Attachment]:
    """Attachments of processed files: media.Staged, or PendingUpload kept from before."""
    result = []
    for position, item in enumerate(staged):
        attachment = Attachment(**Attachment.fields_of(item), position=position)
        if item.kind == media.PHOTO:
            attachment.tags = [PhotoTag(student_id=sid) for sid in tagged_ids]
        result.append(attachment)
    return result


def taggable_students(
    groups: list[Group],
) -> list[tuple[Group, list[tuple[Student, bool | None]]]]:
    """Per group, its students and this year's answer on photos in the app: True
    (toestemming), False (geen toestemming) or None (nog niet ingevuld)."""
    rows = db.session.execute(
        select(Membership.group_id, Student)
        .join(Student, Student.id == Membership.student_id)
        .where(Membership.group_id.in_([g.id for g in groups]))
        .order_by(Student.first_name, Student.last_name)
    ).all()
    answers = policy.app_photo_answers({s.id for _, s in rows})
    return [
        (g, [(s, answers.get(s.id)) for gid, s in rows if gid == g.id]) for g in groups
    ]


def without_app_consent(student_ids) -> set[int]:
    ids = set(student_ids)
    return ids - policy.app_photo_consented(ids)


def commit_with_files(staged: list[media.Staged], before=None) -> None:
    """Run `before` (if given) and commit, then move the files in; on failure keep neither."""
    try:
        if before is not None:
            before()
        db.session.commit()
    except Exception:
        db.session.rollback()
        media.discard(staged)
        raise
    media.commit(staged)


def create_post(
    author: User,
    groups: list[Group],
    *,
    title: str = "",
    body: str = "",
    important: bool = False,
    publish_at: datetime | None = None,
    staged: list[media.Staged] = (),
    tagged_ids=(),
    notify: bool = True,
    pending: list[PendingUpload] = (),
    drop: list[PendingUpload] = (),
) -> Post:
    """A new post; the guardians are told now, or at publish_at (publish_due).

    `pending`: files kept from a refused attempt (their files are in place already),
    placed before the new ones; `drop`: kept files the author took out, removed.
    """
    publish_at = publish_at or now()
    post = Post(
        author=author,
        title=(title or "").strip(),
        body=clean_text(body),
        important=important,
        publish_at=publish_at,
        post_groups=[PostGroup(group=g, publish_at=publish_at) for g in groups],
        attachments=attachments_from([*pending, *staged], tagged_ids),
    )
    db.session.add(post)
    dropped = [item.key for item in drop]
    for item in [*pending, *drop]:
        db.session.delete(item)

    def tell_guardians():
        if not notify:
            post.mailed_at = post.publish_at
        elif post.is_published():
            db.session.flush()
            queue_post_mail(post)

    commit_with_files(list(staged), before=tell_guardians)
    media.remove(dropped)
    return post


def pending_uploads(user: User, ids) -> list[PendingUpload]:
    """The user's own unexpired kept files among `ids`, in the order they were chosen."""
    ids = set(ids)
    if not ids:
        return []
    return list(db.session.scalars(
        select(PendingUpload).where(
            PendingUpload.id.in_(ids), PendingUpload.uploader_id == user.id,
            PendingUpload.created_at >= policy.pending_cutoff(),
        ).order_by(PendingUpload.id)
    ))


def keep_pending(user: User, staged: list[media.Staged],
                 drop: list[PendingUpload] = ()) -> list[PendingUpload]:
    """Keep the processed files of a refused post for `user`; remove `drop` (kept files the
    user took out of the form) and the user's expired ones. Returns the new rows."""
    rows = [
        PendingUpload(uploader_id=user.id, **PendingUpload.fields_of(item)) for item in staged
    ]
    db.session.add_all(rows)
    gone = list(drop) + list(db.session.scalars(
        select(PendingUpload).where(PendingUpload.uploader_id == user.id,
                                    PendingUpload.created_at < policy.pending_cutoff())
    ))
    keys = [item.key for item in gone]
    for item in gone:
        db.session.delete(item)
    commit_with_files(list(staged))
    media.remove(keys)
    return rows


KEEP = object()  # edit_post: leave the schedule as it is


def edit_post(post: Post, *, title: str, body: str, remove_ids=(), descriptions=None,
              groups: list[Group] | None = None, tagged_ids=None, publish_at=KEEP) -> None:
    """Set a new title, text and photo descriptions; remove the attachments in remove_ids;
    when given, new groups, the children tagged in its photos, and (not yet online) a new
    moment to go online (None: now, and the guardians are told now).

    The view checked the groups, the tags and their consent. Setting edited_at updates the
    post's row, so its version rises and every cached card of it is made anew.
    """
    post.title = (title or "").strip()
    post.body = clean_text(body)
    post.edited_at = now()
    for attachment in post.attachments:
        if descriptions and attachment.id in descriptions:
            attachment.description = descriptions[attachment.id]
    gone = [a for a in post.attachments if a.id in set(remove_ids)]
    for attachment in gone:
        post.attachments.remove(attachment)
    rescheduled = publish_at is not KEEP and not post.is_published()
    if rescheduled:
        post.publish_at = publish_at or now()
        for link in post.post_groups:
            link.publish_at = post.publish_at
    if groups is not None:
        wanted = {g.id: g for g in groups}
        for link in list(post.post_groups):
            if link.group_id not in wanted:
                post.post_groups.remove(link)
        have = {link.group_id for link in post.post_groups}
        for group_id, group in wanted.items():
            if group_id not in have:
                post.post_groups.append(PostGroup(group=group, publish_at=post.publish_at))
    if tagged_ids is not None:
        wanted_ids = set(tagged_ids)
        for photo in post.attachments:
            if photo.kind != media.PHOTO:
                continue
            for tag in list(photo.tags):
                if tag.student_id not in wanted_ids:
                    photo.tags.remove(tag)
            present = {t.student_id for t in photo.tags}
            photo.tags.extend(PhotoTag(student_id=i) for i in sorted(wanted_ids - present))
    if rescheduled and post.mailed_at is None and post.is_published():
        db.session.flush()
        queue_post_mail(post)  # brought forward to now: told as a new post would be
    db.session.commit()
    media.remove([a.key for a in gone])


def delete_with_files(record: Post | Announcement) -> None:
    """Delete a post or an announcement; its files go once the delete has committed."""
    keys = [a.key for a in record.attachments]
    db.session.delete(record)
    db.session.commit()
    media.remove(keys)


def toggle_like(user: User, post: Post) -> bool:
    """Like the post, or take the like back. Returns whether it is liked now."""
    existing = db.session.scalar(
        select(Like).where(Like.post_id == post.id, Like.user_id == user.id)
    )
    if existing is not None:
        db.session.delete(existing)
        db.session.commit()
        return False
    db.session.add(Like(post_id=post.id, user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a double tap: the first one already liked it
    return True


def dismiss(announcement: Announcement, user: User) -> None:
    """Stop pinning an announcement for this user."""
    db.session.add(AnnouncementDismissal(announcement_id=announcement.id, user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # closed twice (two tabs): it is closed
