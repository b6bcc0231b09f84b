"""Who may see and do what. Views ask here; nothing else decides.

Every function takes the user first (an anonymous user is allowed) and answers
from the current school year: a guardian sees a group only while one of their
children is in it this year, a teacher acts for the groups assigned this year.
"""

from __future__ import annotations

from flask import abort, current_app, g
from sqlalchemy import select

from .clock import today
from .extensions import db
from .models import (
    APP_PHOTOS,
    Announcement,
    Attachment,
    Consent,
    ConsentTopic,
    Group,
    Guardianship,
    Membership,
    Post,
    SchoolYear,
    Student,
    TeacherAssignment,
    User,
)


def current_year() -> SchoolYear | None:
    if "current_year" not in g:
        g.current_year = db.session.scalar(select(SchoolYear).where(SchoolYear.is_current))
    return g.current_year


def _year_id() -> int | None:
    year = current_year()
    return year.id if year else None


def is_admin(user: User) -> bool:
    return user.is_authenticated and user.is_admin


def is_staff(user: User) -> bool:
    return user.is_authenticated and user.is_staff


def taught_group_ids(user: User) -> set[int]:
    """Ids of the groups this teacher is assigned to in the current year."""
    if not user.is_authenticated or not user.is_staff:
        return set()
    key = f"taught_{user.id}"
    if key not in g:
        g.setdefault(
            key,
            set(
                db.session.scalars(
                    select(TeacherAssignment.group_id)
                    .join(Group)
                    .where(TeacherAssignment.user_id == user.id, Group.school_year_id == _year_id())
                )
            ),
        )
    return g.get(key)


def child_group_ids(user: User) -> set[int]:
    """Ids of the groups a guardian's children are in this year."""
    if not user.is_authenticated or not user.is_guardian:
        return set()
    key = f"child_groups_{user.id}"
    if key not in g:
        g.setdefault(
            key,
            set(
                db.session.scalars(
                    select(Membership.group_id)
                    .join(Guardianship, Guardianship.student_id == Membership.student_id)
                    .where(Guardianship.user_id == user.id, Membership.school_year_id == _year_id())
                )
            ),
        )
    return g.get(key)


def visible_group_ids(user: User) -> set[int]:
    if not user.is_authenticated:
        return set()
    if user.is_admin:
        return set(
            db.session.scalars(select(Group.id).where(Group.school_year_id == _year_id()))
        )
    if user.is_teacher:
        return taught_group_ids(user)
    return child_group_ids(user)


def visible_groups(user: User) -> list[Group]:
    """The groups of this year the user may read, in school order."""
    ids = visible_group_ids(user)
    if not ids:
        return []
    return list(
        db.session.scalars(select(Group).where(Group.id.in_(ids)).order_by(Group.grade, Group.name))
    )


def can_see_group(user: User, group: Group) -> bool:
    return group.id in visible_group_ids(user)


def teaches(user: User, group: Group) -> bool:
    return group.id in taught_group_ids(user)


def children(user: User) -> list[Student]:
    """A guardian's children, whatever group they are in."""
    if not user.is_authenticated or not user.is_guardian:
        return []
    return list(
        db.session.scalars(
            select(Student)
            .join(Guardianship)
            .where(Guardianship.user_id == user.id)
            .order_by(Student.first_name)
        )
    )


def is_guardian_of(user: User, student: Student) -> bool:
    if not user.is_authenticated or not user.is_guardian:
        return False
    return (
        db.session.scalar(
            select(Guardianship.id).where(
                Guardianship.user_id == user.id, Guardianship.student_id == student.id
            )
        )
        is not None
    )


def current_group_of(student: Student) -> Group | None:
    return db.session.scalar(
        select(Group)
        .join(Membership)
        .where(Membership.student_id == student.id, Membership.school_year_id == _year_id())
    )


def teaches_student(user: User, student: Student) -> bool:
    group = current_group_of(student)
    return group is not None and teaches(user, group)


def can_view_student(user: User, student: Student) -> bool:
    return is_admin(user) or teaches_student(user, student) or is_guardian_of(user, student)


def can_see_guardian_contacts(user: User, student: Student) -> bool:
    """Email addresses of a child's guardians: staff only, never other guardians."""
    return is_admin(user) or teaches_student(user, student)


def can_invite_guardian(user: User, student: Student) -> bool:
    return is_admin(user) or teaches_student(user, student)


def can_administer(user: User) -> bool:
    """Years, groups, students, staff, guardians, imports, rollover."""
    return is_admin(user)


def can_use_mail_viewer(user: User) -> bool:
    """The development mail viewer: demo mode without a mail server only."""
    cfg = current_app.config
    return bool(cfg["DEMO"]) and not cfg["MAIL_SERVER"]


# -- group feed ---------------------------------------------------------------


def can_post_in(user: User, group: Group) -> bool:
    """Group posts are written by the teachers of the group (admins announce instead)."""
    return user.is_authenticated and user.is_teacher and teaches(user, group)


def _post_group_ids(post: Post) -> set[int]:
    return {pg.group_id for pg in post.post_groups}


def can_see_post(user: User, post: Post) -> bool:
    """Guardians: published posts of their children's groups; staff also see scheduled ones."""
    if not user.is_authenticated:
        return False
    if user.is_admin or post.author_id == user.id:
        return True
    if user.is_staff:
        return bool(_post_group_ids(post) & taught_group_ids(user))
    return post.is_published() and bool(_post_group_ids(post) & child_group_ids(user))


def can_edit_post(user: User, post: Post) -> bool:
    return user.is_authenticated and post.author_id == user.id


def can_delete_post(user: User, post: Post) -> bool:
    return can_edit_post(user, post) or is_admin(user)


def can_like(user: User, post: Post) -> bool:
    return (
        user.is_authenticated
        and (user.is_guardian or user.is_teacher)
        and post.is_published()
        and can_see_post(user, post)
    )


def can_see_post_stats(user: User, post: Post) -> bool:
    """Who liked and which families read it: the author, the group's teachers, admins."""
    if not user.is_authenticated:
        return False
    return (
        user.is_admin
        or post.author_id == user.id
        or bool(_post_group_ids(post) & taught_group_ids(user))
    )


def can_announce(user: User) -> bool:
    """School-wide announcements are the school office's."""
    return is_admin(user)


def can_see_announcement(user: User, announcement: Announcement) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    if announcement.starts_on > today():
        return False
    if announcement.all_groups:
        return bool(visible_group_ids(user))  # not for last year's families
    ids = {ag.group_id for ag in announcement.announcement_groups}
    return bool(ids & visible_group_ids(user))


def can_see_attachment(user: User, attachment: Attachment) -> bool:
    if attachment.post is not None:
        return can_see_post(user, attachment.post) and attachment.id not in hidden_photo_ids(
            user, [attachment]
        )
    return can_see_announcement(user, attachment.announcement)


# -- privacy (photo consent) ------------------------------------------------------


def app_photo_consented(student_ids) -> set[int]:
    """Of these students, those whose guardians said yes to photos in the app."""
    ids = list(student_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Consent.student_id)
            .join(ConsentTopic, ConsentTopic.id == Consent.topic_id)
            .where(
                ConsentTopic.key == APP_PHOTOS,
                Consent.given.is_(True),
                Consent.student_id.in_(ids),
            )
        )
    )


def own_children_ids(user: User) -> set[int]:
    if not user.is_authenticated or not user.is_guardian:
        return set()
    key = f"own_children_{user.id}"
    if key not in g:
        g.setdefault(
            key,
            set(
                db.session.scalars(
                    select(Guardianship.student_id).where(Guardianship.user_id == user.id)
                )
            ),
        )
    return g.get(key)


def unconsented_photo_ids(attachments) -> set[int]:
    """Photos in which a child is tagged who has no consent for photos in the app."""
    tagged = [a for a in attachments if a.tags]
    if not tagged:
        return set()
    students = {t.student_id for a in tagged for t in a.tags}
    blocked = students - app_photo_consented(students)
    return {a.id for a in tagged if any(t.student_id in blocked for t in a.tags)}


def hidden_photo_ids(user: User, attachments) -> set[int]:
    """Photos this user may not see: a child without consent is in them, and it is not theirs.

    Staff still see them (flagged), so that they can take them away.
    """
    if is_staff(user):
        return set()
    tagged = [a for a in attachments if a.tags]
    if not tagged:
        return set()
    students = {t.student_id for a in tagged for t in a.tags}
    blocked = students - app_photo_consented(students) - own_children_ids(user)
    return {a.id for a in tagged if any(t.student_id in blocked for t in a.tags)}


def can_set_consent(user: User, student: Student) -> bool:
    """Consent is the guardians' to give or refuse."""
    return is_guardian_of(user, student)


def can_view_consent(user: User, student: Student) -> bool:
    return can_view_student(user, student)


def can_see_consent_overview(user: User, group: Group) -> bool:
    return is_admin(user) or teaches(user, group)


def can_manage_consent_topics(user: User) -> bool:
    return is_admin(user)


def require(allowed: bool) -> None:
    """Stop the request with 403 unless allowed."""
    if not allowed:
        abort(403)
