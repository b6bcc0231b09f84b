"""Who may see and do what. Views ask here; nothing else decides.

Every function takes the user first (an anonymous user is allowed) and answers
from the current school year: a guardian sees a group only while one of their
children is in it this year, a teacher acts for the groups assigned this year.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import and_, exists, false, func, not_, or_, select, union
from sqlalchemy.orm import aliased

from .clock import now, today
from .extensions import db
from .models import (
    APP_PHOTOS,
    Announcement,
    Attachment,
    Consent,
    ConsentTopic,
    Conversation,
    ConversationKind,
    Group,
    Guardianship,
    Membership,
    Message,
    MessageAttachment,
    Participant,
    PhotoTag,
    Post,
    PostFacts,
    Role,
    School,
    SchoolStaff,
    SchoolYear,
    Student,
    TeacherAssignment,
    User,
    UserSession,
)
from .sql import CONVERSATION_ID, IDS, SCHOOL_ID, USER_ID, prebuilt

_MISSING = object()


def per_request(key: str, compute):
    """Compute once per request: a page asks the same question many times."""
    value = g.get(key, _MISSING)  # one look through the `g` proxy when it is known
    if value is _MISSING:
        value = compute()
        setattr(g, key, value)
    return value


@prebuilt
def _school():
    return select(School).order_by(School.id).limit(1)


def current_school() -> School | None:
    """The school this request is for, loaded once per request.

    A logged-in browser works in one school at a time: the one it chose, or the
    user's first (UserSession.school_id, checked by the session loader, which
    leaves its id in g.school_id). Anyone else, and the command line, get the
    installation's first school: with one school, the school.
    """
    def load():
        if has_request_context() and current_user.is_authenticated:
            school_id = g.get("school_id")
            if school_id is not None:
                return db.session.get(School, school_id)
        return db.session.scalar(_school())

    return per_request("school", load) if has_request_context() else load()


def current_school_id() -> int | None:
    """current_school()'s id; a logged-in request's without loading the school."""
    if has_request_context() and current_user.is_authenticated:
        school_id = g.get("school_id")
        if school_id is not None:
            return school_id
    school = current_school()
    return school.id if school else None


@prebuilt
def _schools_of(role: Role):
    """The ids of the schools a user of this role belongs to (sql.USER_ID), first first."""
    if role == Role.BOARD:
        return select(School.id).order_by(School.id)
    if role == Role.GUARDIAN:
        return (select(Student.school_id).distinct()
                .join(Guardianship, Guardianship.student_id == Student.id)
                .where(Guardianship.user_id == USER_ID).order_by(Student.school_id))
    return (select(SchoolStaff.school_id).where(SchoolStaff.user_id == USER_ID)
            .order_by(SchoolStaff.school_id))


def school_ids(user: User, fresh: bool = False) -> list[int]:
    """The schools a user works at (staff), has children at (guardian) or runs (board);
    of any account, logged in or not (an admin asks it of the people they administer).
    `fresh`: read again, not what this request read before (after locking the account)."""
    if user.is_anonymous:
        return []
    if fresh:
        g.pop(f"schools_{user.id}", None)
    return per_request(f"schools_{user.id}", lambda: list(
        db.session.scalars(_schools_of(user.role), {"user_id": user.id})))


_school_count: list[tuple[float, int]] = [(0.0, 0)]  # (known until, number of schools)


def is_board() -> bool:
    """Does this installation hold more than one school? Known for a minute at a time, so a
    page of a one-school installation asks nothing more; a school added in this process
    shows at once (forget_school_count), in another within the minute."""
    until, count = _school_count[0]
    if time.monotonic() >= until:
        count = db.session.scalar(select(func.count(School.id)))
        _school_count[0] = (time.monotonic() + 60, count)
    return count > 1


def forget_school_count() -> None:
    _school_count[0] = (0.0, 0)


def several_schools(user: User) -> bool:
    """Does the user belong to more than one school (the switcher in the header)? Not a
    board admin: they work for the board, in none of its schools."""
    if not is_board() or user.is_anonymous or user.is_board_admin:
        return False
    if has_request_context() and current_user.is_authenticated and current_user.id == user.id:
        known = g.get("user_elsewhere")  # the session loader looked
        if known is not None:
            return known
    return len(school_ids(user)) > 1


def schools(user: User) -> list[School]:
    """school_ids() as schools, by name: the school switcher's choices."""
    ids = school_ids(user)
    return list(db.session.scalars(select(School).where(School.id.in_(ids)).order_by(School.name)))


def can_switch_to(user: User, school: School) -> bool:
    return school.id in school_ids(user)


@prebuilt
def _current_year():
    return select(SchoolYear).where(SchoolYear.is_current, SchoolYear.school_id == SCHOOL_ID)


def current_year() -> SchoolYear | None:
    """The current school year of the current school."""
    return per_request("current_year", lambda: db.session.scalar(
        _current_year(), {"school_id": current_school_id()}))


def current_year_of(school_id: int | None) -> SchoolYear | None:
    """The current school year of this school (a guardian's child's own school)."""
    if school_id is None:
        return None
    if school_id == current_school_id():
        return current_year()
    return per_request(f"current_year_{school_id}", lambda: db.session.scalar(
        _current_year(), {"school_id": school_id}))


# The ids of the current school year of every school: "this year" at a child's own school.
_CURRENT_YEARS = select(SchoolYear.id).where(SchoolYear.is_current)


def _year_id() -> int | None:
    year = current_year()
    return year.id if year else None


def is_admin(user: User) -> bool:
    return user.is_authenticated and user.is_admin


def is_staff(user: User) -> bool:
    return user.is_authenticated and user.is_staff


def is_guardian(user: User) -> bool:
    return user.is_authenticated and user.is_guardian


def works_in(user: User, school_id: int | None) -> bool:
    """Staff working in this school now, with an account that works: the browser's school,
    which the session loader checks against SchoolStaff on every request. What staff's
    rights over a school's objects need, their own ones too: a teacher taken off the school
    (or whose account was disabled) keeps nothing of it, not even what they wrote there."""
    return (is_staff(user) and not user.disabled and school_id is not None
            and school_id == current_school_id())


def works_with(user: User, group_ids: set[int]) -> bool:
    """works_in for an object of groups (a post): staff working now in these groups'
    school. A teacher's own groups of this year are known already (taught_group_ids):
    no query of its own for the posts of those."""
    if not is_staff(user) or user.disabled:
        return False
    return (user.is_teacher and bool(group_ids & taught_group_ids(user))) or \
        _of_current_school(group_ids)


def is_admin_of(user: User, school_id: int | None) -> bool:
    """An admin of this school, working in it now: an admin's rights reach the objects of
    the current school only (one they may switch to is not enough)."""
    return is_admin(user) and works_in(user, school_id)


def school_id_of_group(group: Group) -> int:
    """The school a group is of (groups hang off school years)."""
    return group.year.school_id


def school_group_ids() -> set[int]:
    """Ids of every group of the current school, of any year: what an admin's rights
    reach (a post of last year's group too)."""
    return per_request("school_groups", lambda: set(db.session.scalars(
        select(Group.id).join(SchoolYear, SchoolYear.id == Group.school_year_id)
        .where(SchoolYear.school_id == current_school_id()))))


def _of_current_school(group_ids: set[int]) -> bool:
    """Are any of these groups the current school's? This year's are known without
    another query (visible_group_ids of an admin); earlier years' are asked only then."""
    return bool(group_ids & _year_group_ids()) or bool(group_ids & school_group_ids())


def _year_group_ids() -> set[int]:
    """Ids of the groups of the current school's current year."""
    return per_request("year_groups", lambda: set(
        db.session.scalars(select(Group.id).where(Group.school_year_id == _year_id()))))


def is_admin_of_user(user: User, other: User) -> bool:
    """An admin of the current school deciding about another user: staff of this school,
    or a guardian of a child of it (with one school: any guardian, one whose children all
    left too). A guardian with children at two schools is both offices' to help, each
    within its own tie with them (below, "A person of several schools")."""
    if not is_admin(user) or not (other.is_staff or other.is_guardian):
        return False
    return current_school_id() in school_ids(other) or (other.is_guardian and not is_board())


# A person of several schools. Someone belongs to a school through their tie with it: staff
# through SchoolStaff, a guardian through their children there (Guardianship); someone at
# two schools of the board has one account. The office of a school decides about its own
# tie only; what is the account's own is one thing, whichever office changes it:
#
# - The tie (Uitschakelen, which then reads "Weghalen bij deze school"; Gezin verwijderen):
#   while the person belongs to another school too, only the tie with the current school
#   goes (auth.service.leave_school): staff no longer work there (their groups there of
#   this year and later go), a guardian is no longer linked to its children; with it go
#   their places in that school's chats. At their other school nothing changes, and this
#   school's office no longer finds them (a fresh invitation from a child's page, or the
#   next import, links them again). Only at their last school is the account itself
#   disabled: it stays on that school's lists, to enable again.
# - The account (enabling it, a new invitation, the role, two-factor login, the link with
#   the school account; a change of e-mail address, name or password, should the office
#   ever get one): one account, so one change for all its schools. The office of any of
#   them may make it (is_admin_of_user); it is recorded in that office's own log, and the
#   office is told that it counts at the other school too (other_school_ids). Refusing it
#   would only send the person from one office to the other for the same account.


def other_school_ids(other: User, school_id: int | None = None,
                     fresh: bool = False) -> list[int]:
    """The schools besides this one (by default the current one) that this person belongs
    to (school_ids): none when the school is theirs alone, whose the account then is."""
    here = current_school_id() if school_id is None else school_id
    return [school_id for school_id in school_ids(other, fresh) if school_id != here]


def taught_group_ids(user: User) -> set[int]:
    """Ids of the groups this teacher is assigned to in the current year."""
    if not user.is_authenticated or not user.is_staff:
        return set()
    return per_request(
        f"taught_{user.id}", lambda: set(db.session.scalars(_taught_groups(user.id, _year_id())))
    )


def _taught_groups(user_id, year_id):
    return (
        select(TeacherAssignment.group_id)
        .join(Group)
        .where(TeacherAssignment.user_id == user_id, Group.school_year_id == year_id)
    )


def family(user: User) -> list[tuple[Student, Group | None]]:
    """A guardian's children by first name, each with their group this year (None: in none).

    One query per request, from which child_group_ids(), own_children_ids(),
    is_guardian_of(), children() and visible_groups() answer for a guardian.
    """
    if not is_guardian(user):
        return []

    def load():
        return [tuple(row) for row in db.session.execute(_family_statement(), {"user_id": user.id})]

    return per_request(f"family_{user.id}", load)


@prebuilt
def _family_statement():
    # This year at each child's own school.
    this_year = and_(Membership.student_id == Student.id,
                     Membership.school_year_id.in_(_CURRENT_YEARS))
    return (
        select(Student, Group)
        .join(Guardianship, Guardianship.student_id == Student.id)
        .outerjoin(Membership, this_year)
        .outerjoin(Group, Group.id == Membership.group_id)
        .where(Guardianship.user_id == USER_ID)
        .order_by(Student.first_name, Student.id)
    )


def child_group_ids(user: User) -> set[int]:
    """Ids of the groups a guardian's children are in this year."""
    return per_request(
        f"child_groups_{user.id}",
        lambda: {group.id for _student, group in family(user) if group is not None},
    )


def _child_groups(user_id):
    """The groups a guardian's children are in this year, each at their own school."""
    return (
        select(Membership.group_id)
        .join(Guardianship, Guardianship.student_id == Membership.student_id)
        .where(Guardianship.user_id == user_id,
               Membership.school_year_id.in_(_CURRENT_YEARS))
    )


def visible_group_ids(user: User) -> set[int]:
    if not user.is_authenticated:
        return set()
    if user.is_admin:
        return _year_group_ids()
    if user.is_teacher:
        return taught_group_ids(user)
    return child_group_ids(user)


def visible_groups_select(role: Role):
    """visible_group_ids() of the user sql.USER_ID, who has this role, as a SELECT of
    group ids to use inside another query (the navigation's counts). Staff's groups
    are those of the school sql.SCHOOL_ID.

    The current year is looked up inside the query too, so a count over the
    user's groups is one statement, the same for every user with the role.
    """
    year_id = (select(SchoolYear.id)
               .where(SchoolYear.is_current, SchoolYear.school_id == SCHOOL_ID).scalar_subquery())
    if role == Role.ADMIN:
        return select(Group.id).where(Group.school_year_id == year_id)
    if role == Role.TEACHER:
        return _taught_groups(USER_ID, year_id)
    if role == Role.GUARDIAN:
        return _child_groups(USER_ID)
    return select(Group.id).where(false())


def visible_groups(user: User) -> list[Group]:
    """The groups of this year the user may read, in school order."""
    if is_guardian(user):
        groups = {group for _student, group in family(user) if group is not None}
        return sorted(groups, key=Group.school_order)
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
    return [student for student, _group in family(user)]


def is_guardian_of(user: User, student: Student) -> bool:
    return student.id in own_children_ids(user)


def current_group_of(student: Student) -> Group | None:
    return db.session.scalar(
        select(Group)
        .join(Membership)
        .join(SchoolYear, SchoolYear.id == Membership.school_year_id)
        .where(Membership.student_id == student.id, SchoolYear.is_current)
    )


def teaches_student(user: User, student: Student) -> bool:
    group = current_group_of(student)
    return group is not None and teaches(user, group)


def can_view_student(user: User, student: Student) -> bool:
    return (is_admin_of(user, student.school_id) or teaches_student(user, student)
            or is_guardian_of(user, student))


def can_see_guardian_contacts(user: User, student: Student) -> bool:
    """Email addresses of a child's guardians: staff only, never other guardians."""
    return is_admin_of(user, student.school_id) or teaches_student(user, student)


def can_invite_guardian(user: User, student: Student) -> bool:
    return is_admin_of(user, student.school_id) or teaches_student(user, student)


def can_administer(user: User) -> bool:
    """Years, groups, students, staff, guardians, imports, rollover."""
    return is_admin(user)


# The blueprints of a school's own pages (SCHOOL_PAGES): a board admin opens none of them.
SCHOOL_PAGES = frozenset({"feed", "chat", "activities", "calendar", "absence", "students",
                          "privacy", "moderation", "admin"})


def in_a_school(user: User) -> bool:
    """Staff and families: those a school's own pages (its feed, chats, activities,
    calendar, absence, ...) are for. Not a board admin, who belongs to no school."""
    return user.is_authenticated and not user.is_board_admin


def can_open_school_page(user: User, blueprint: str | None) -> bool:
    """Anyone may try a school's page (the page itself decides further); a board admin
    is refused every one of them, whatever its own rules would say."""
    return blueprint not in SCHOOL_PAGES or not (user.is_authenticated and user.is_board_admin)


def can_run_board(user: User) -> bool:
    """The board's pages: its schools, their figures, new schools and their admins. Never
    the content of a school (posts, chats, children): a board admin is no school's staff."""
    return user.is_authenticated and user.is_board_admin


# What the office of a school (an admin working in it) may change: that school's years,
# groups, children and people only. An id of another school is refused as a missing one.


def staff_of(school_id):
    """The ids of the staff who work at this school, as a SELECT (one way to scope)."""
    return select(SchoolStaff.user_id).where(SchoolStaff.school_id == school_id)


def guardians_of(school_id):
    """The ids of the guardians of this school's children, as a SELECT. With one school,
    every guardian account (one whose children all left included) is the school's, but
    for a name-only one (a family that left, restored from a school snapshot because the
    school's messages name them: disabled, never activated, no password)."""
    if not is_board():
        name_only = and_(User.disabled.is_(True), User.activated_at.is_(None),
                         User.password_hash.is_(None))
        return select(User.id).where(User.role == Role.GUARDIAN, not_(name_only))
    return (select(Guardianship.user_id)
            .join(Student, Student.id == Guardianship.student_id)
            .where(Student.school_id == school_id))


def can_administer_year(user: User, year: SchoolYear) -> bool:
    return is_admin_of(user, year.school_id)


def can_administer_group(user: User, group: Group) -> bool:
    return is_admin_of(user, school_id_of_group(group))


def can_administer_student(user: User, student: Student) -> bool:
    return is_admin_of(user, student.school_id)


def can_delete_family(user: User) -> bool:
    """Deleting a departed family's data and accounts: admins only."""
    return is_admin(user)


def can_end_session(user: User, user_session: UserSession) -> bool:
    """A user may log out their own devices, nobody else's."""
    return user.is_authenticated and user_session.user_id == user.id


def can_use_push_device(user: User, device) -> bool:
    """A device (push subscription) is its own user's: only they test or turn it off."""
    return user.is_authenticated and device is not None and device.user_id == user.id


def can_export_data(user: User, subject: User) -> bool:
    """Inzage: a guardian downloads their own family's data; an admin any family's of
    the current school."""
    if not user.is_authenticated or not subject.is_guardian:
        return False
    return user.id == subject.id or is_admin_of_user(user, subject)


def can_export_family(user: User) -> bool:
    """The office downloads all data of a family (each guardian's inzage) at once."""
    return is_admin(user)


def can_use_two_factor(user: User) -> bool:
    """Two-factor login is for staff and the board's admins; guardians keep it simple."""
    return is_staff(user) or (user.is_authenticated and user.is_board_admin)


def must_use_two_factor(user: User, school: School | None) -> bool:
    """Must this user log in with a code too? A board admin always (the installation's
    most powerful account: it appoints every school's admins); staff when the school they
    work in asks it (Schoolgegevens)."""
    if not can_use_two_factor(user):
        return False
    return user.is_board_admin or bool(school and school.require_two_factor)


def can_reset_two_factor(user: User, target: User) -> bool:
    """An admin turns off a staff member's two-factor login (lost phone): of their school."""
    return is_admin_of_user(user, target) and target.is_staff


def can_choose_notifications(user: User) -> bool:
    """Everyone of a school chooses their own Meldingen (channels, digest time, quiet hours)
    and the phones they come on. The board's admin gets no posts, chats, activities or
    absence reports: nothing to choose, no phone to turn on."""
    return user.is_authenticated and not user.is_board_admin


def can_unsubscribe(link) -> bool:
    """A signed link from a notification mail (notifications.read_unsubscribe_token):
    whoever holds it may turn off that mail, logged in or not, as RFC 8058 asks."""
    return link is not None


def can_unlink_school_account(user: User, target: User) -> bool:
    """An admin forgets which school account a staff member signs in with (it changed)."""
    return is_admin_of_user(user, target) and target.is_staff


def can_use_mail_viewer(user: User) -> bool:
    """The development mail viewer: demo mode without a mail server only, and then for
    a browser on the machine itself or a logged-in admin.

    It shows every mail, activation and password-reset links too: anyone else who
    could open it could take any account over.
    """
    return not current_app.config["MAIL_SERVER"] and can_use_push_viewer(user)


def _from_this_machine() -> bool:
    """Does the request come from the loopback address (after ProxyFix, the client's)?"""
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def can_use_push_viewer(user: User) -> bool:
    """The development push viewer: demo mode, from the machine itself or as an admin."""
    return bool(current_app.config["DEMO"]) and (is_admin(user) or _from_this_machine())


def can_add_demo_phone(user: User) -> bool:
    """Demo mode: anyone logged in may add a phone that needs no real push service."""
    return bool(current_app.config["DEMO"]) and user.is_authenticated


# -- absence (absentie) ---------------------------------------------------------


def reportable_children(user: User) -> list[Student]:
    """A guardian's children who are in a group this year: those they can report absent."""
    return [student for student, group in family(user) if group is not None]


def can_report_absence(user: User, student: Student) -> bool:
    """Sick reports and appointments: a guardian, for their own child in a group this year."""
    return is_guardian_of(user, student) and current_group_of(student) is not None


def can_withdraw_absence(user: User, report) -> bool:
    """Any guardian of the child may withdraw (whether it still may be is the service's rule)."""
    return is_guardian_of(user, report.student)


def can_see_absences_of_group(user: User, group: Group) -> bool:
    return is_admin_of(user, school_id_of_group(group)) or teaches(user, group)


def can_see_absence_overview(user: User) -> bool:
    """The morning overview of the user's groups: teachers and the office."""
    return is_staff(user)


def can_manage_absences(user: User) -> bool:
    """All absences, the CSV export and the reasons: the office."""
    return is_admin(user)


def can_record_phoned_absence(user: User, student: Student) -> bool:
    """A report a parent phoned in: the office for any child in a group this year, a
    teacher for the children of their own groups."""
    group = current_group_of(student)
    if group is None:
        return False
    return is_admin_of(user, student.school_id) or teaches(user, group)


def can_record_phoned_absences(user: User) -> bool:
    """Whether the user may open the form at all (staff; the child decides the rest)."""
    return is_staff(user)


# -- the jaarkalender ---------------------------------------------------------


def can_see_calendar(user: User) -> bool:
    """Everyone of the school sees its calendar (their own groups' part of it)."""
    return in_a_school(user)


def can_manage_calendar(user: User) -> bool:
    """Holidays, study days and events are entered and imported by the office."""
    return is_admin(user)


def can_manage_calendar_item(user: User, item) -> bool:
    """An item is changed by the office of its own school."""
    return is_admin_of(user, item.school_id)


# -- activities (activiteiten) ------------------------------------------------


def activity_group_ids(activity) -> set[int]:
    return {group.id for group in activity.groups}


def can_create_activity(user: User) -> bool:
    """Teachers with a group this year, and the school office."""
    return is_admin(user) or bool(taught_group_ids(user))


def can_create_activity_for(user: User, group: Group) -> bool:
    """An activity for this group: its teachers, or an admin (groups of this year only)."""
    if is_admin(user):
        return group.school_year_id == _year_id()
    return teaches(user, group)


def can_manage_activity(user: User, activity) -> bool:
    """See every answer, block slots, book for families, delete: its groups' teachers, and
    the admins of its school."""
    groups = activity_group_ids(activity)
    if is_admin(user):
        return works_with(user, groups)
    return bool(groups & taught_group_ids(user))


def can_see_activity(user: User, activity) -> bool:
    return can_manage_activity(user, activity) or bool(
        activity_group_ids(activity) & child_group_ids(user)
    )


def takes_part(student: Student, activity) -> bool:
    """The child is in one of the activity's groups this school year."""
    group = current_group_of(student)
    return group is not None and group.id in activity_group_ids(activity)


def can_act_for_child(user: User, activity, student: Student) -> bool:
    """Book or answer for this child: its guardian, or staff of the activity."""
    if is_guardian(user):
        # The same question answered from the family's one query of the request
        # (a guardian manages no activity): their own child, in one of its groups.
        return any(child.id == student.id and group is not None
                   and group.id in activity_group_ids(activity)
                   for child, group in family(user))
    return takes_part(student, activity) and (
        is_guardian_of(user, student) or can_manage_activity(user, activity)
    )


def can_book(user: User, slot, student: Student) -> bool:
    return can_act_for_child(user, slot.activity, student)


def can_change_booking(user: User, booking) -> bool:
    """Move or cancel: any guardian of the child, or only its own guardian when separate."""
    if can_manage_activity(user, booking.activity):
        return True
    if booking.guardian_id is not None and booking.guardian_id != user.id:
        return False
    return can_act_for_child(user, booking.activity, booking.student)


def can_sign_up(user: User, shift) -> bool:
    return is_guardian(user) and can_see_activity(user, shift.activity)


def can_change_signup(user: User, signup) -> bool:
    activity = signup.shift.activity
    if can_manage_activity(user, activity):
        return True
    return signup.user_id == user.id and can_see_activity(user, activity)


def can_pledge(user: User, item) -> bool:
    return is_guardian(user) and can_see_activity(user, item.activity)


# -- gesprekken ---------------------------------------------------------------


def conversation_member_clause(user_id):
    """SQL condition: `user_id` (a value or a column) is a member of `Conversation`.

    Kindgesprek: a guardian of the child, or a teacher of the child's group, both
    only while the child is in a group this school year. A staff-started chat:
    its participants. Computed from the current data, so nothing needs syncing.
    """
    guardian = exists(
        select(1)
        .select_from(Guardianship)
        .join(Membership, Membership.student_id == Guardianship.student_id)
        .join(SchoolYear, SchoolYear.id == Membership.school_year_id)
        .where(
            Guardianship.user_id == user_id,
            Guardianship.student_id == Conversation.student_id,
            SchoolYear.is_current,
        )
    )
    teacher = exists(
        select(1)
        .select_from(Membership)
        .join(SchoolYear, SchoolYear.id == Membership.school_year_id)
        .join(TeacherAssignment, TeacherAssignment.group_id == Membership.group_id)
        .where(
            TeacherAssignment.user_id == user_id,
            Membership.student_id == Conversation.student_id,
            SchoolYear.is_current,
        )
    )
    participant = exists().where(
        Participant.conversation_id == Conversation.id, Participant.user_id == user_id
    )
    return or_(
        and_(Conversation.kind == ConversationKind.CHILD, or_(guardian, teacher)),
        and_(Conversation.kind == ConversationKind.GROUP, participant),
        and_(Conversation.kind == ConversationKind.OFFICE,
             or_(_office_writer(user_id), _admin_clause(user_id))),
    )


def _admin_clause(user_id):
    """SQL condition: `user_id` is an admin whose account works, at the conversation's school.

    The admin is an alias: given the column User.id (the members of a conversation), the
    table itself inside would be the subquery's own, and every admin of any school one."""
    admin = aliased(User)
    return exists(
        select(1).select_from(admin)
        .join(SchoolStaff, and_(SchoolStaff.user_id == admin.id,
                                SchoolStaff.school_id == Conversation.school_id))
        .where(admin.id == user_id, admin.role == Role.ADMIN, admin.disabled.is_(False))
    )


def _office_writer(user_id):
    """SQL condition: `user_id` is the guardian of an office conversation, and still the
    guardian of the child it is about, or, about the family, of a child at its school (a
    school that took a family of two schools off its lists is not theirs to read)."""
    still_guardian = exists(
        select(1).select_from(Guardianship)
        .join(Student, Student.id == Guardianship.student_id)
        .where(
            Guardianship.user_id == user_id,
            or_(Guardianship.student_id == Conversation.about_student_id,
                and_(Conversation.about_student_id.is_(None),
                     Student.school_id == Conversation.school_id)),
        )
    )
    return and_(Conversation.created_by_id == user_id, still_guardian)


def member_conversation_ids(user_id: int, office_school_id=None, staff_school_id=None,
                            role: Role | None = None):
    """SELECT of the ids of the conversations `user_id` is a member of; `office_school_id`
    (a value or a bind parameter): an admin's office conversations of that school only
    (the list and counts of the school they work in), not of every school of theirs;
    `staff_school_id`: likewise a teacher's kindgesprekken, of that school's groups only.

    The same membership as conversation_member_clause, but found from the user's
    side through indexes (their children, their groups, their chats), for queries
    that would otherwise test the clause on every conversation or message.

    With the user's `role`, only the ways that role can be a member: a family's
    children and letters, staff's groups, an admin's office. The statement is planned
    once for all users (database.py, force_generic_plan); planned for every role, it
    expected an admin's office conversations for a parent too, and read every
    conversation of the installation (2.5 ms among a board's 7,358, 0.8 among one
    school's 987; README, Performance).
    """
    as_guardian = (
        select(Conversation.id)
        .join(Guardianship, Guardianship.student_id == Conversation.student_id)
        .join(Membership, Membership.student_id == Guardianship.student_id)
        .where(Guardianship.user_id == user_id, Membership.school_year_id.in_(_CURRENT_YEARS))
    )
    teacher_current = _CURRENT_YEARS if staff_school_id is None else \
        _CURRENT_YEARS.where(SchoolYear.school_id == staff_school_id)
    as_teacher = (
        select(Conversation.id)
        .join(Membership, Membership.student_id == Conversation.student_id)
        .join(TeacherAssignment, TeacherAssignment.group_id == Membership.group_id)
        .where(TeacherAssignment.user_id == user_id,
               Membership.school_year_id.in_(teacher_current))
    )
    # Only staff-started chats have participants: found from the user's index alone.
    as_participant = select(Participant.conversation_id).where(Participant.user_id == user_id)
    as_office_writer = select(Conversation.id).where(
        Conversation.kind == ConversationKind.OFFICE, Conversation.created_by_id == user_id,
        _office_writer(user_id),
    )
    as_office = select(Conversation.id).where(
        Conversation.kind == ConversationKind.OFFICE, _admin_clause(user_id)
    )
    if office_school_id is not None:
        as_office = as_office.where(Conversation.school_id == office_school_id)
    ways = {Role.GUARDIAN: (as_guardian, as_office_writer, as_participant),
            Role.TEACHER: (as_teacher, as_participant),
            Role.ADMIN: (as_teacher, as_participant, as_office)}
    return union(*ways.get(role, (as_guardian, as_teacher, as_participant, as_office_writer,
                                  as_office)))


@prebuilt
def _member_statement():
    return select(Conversation.id).where(
        Conversation.id == CONVERSATION_ID, conversation_member_clause(USER_ID))


def in_other_school(user: User, conversation: Conversation) -> bool:
    """Staff work in one school at a time: a kindgesprek or office conversation of their
    other school is not theirs to read or write in until they switch to it (its page
    offers the switch). A group chat belongs to its participants, from either school."""
    return (user.is_staff and conversation.kind != ConversationKind.GROUP
            and conversation.school_id != current_school_id())


def can_see_conversation(user: User, conversation: Conversation,
                         any_school: bool = False) -> bool:
    """A member of the conversation, working in its school (in_other_school); with
    `any_school`, in any school of theirs (the page that offers to switch)."""
    if not user.is_authenticated or (not any_school and in_other_school(user, conversation)):
        return False
    values = {"conversation_id": conversation.id, "user_id": user.id}
    return per_request(
        f"conversation_{conversation.id}_{user.id}",
        lambda: db.session.scalar(_member_statement(), values) is not None,
    )


def can_post_in(user: User, conversation: Conversation, chat_off: bool) -> bool:
    """Members may write, except guardians while every teacher has switched chat off
    (`chat_off`: chat.availability.chat_closed)."""
    return can_see_conversation(user, conversation) and not (user.is_guardian and chat_off)


def can_open_child_chat(user: User, student: Student) -> bool:
    """The kindgesprek about this child: its guardians and teachers, while it is in a group."""
    group = current_group_of(student)
    return group is not None and (is_guardian_of(user, student) or teaches(user, group))


def can_write_office(user: User) -> bool:
    """Guardians write to the office (administratie) about a child or their family."""
    return is_guardian(user) and not user.disabled


def can_write_office_about(user: User, student: Student | None) -> bool:
    """About one of their own children (any year), or about the family (None)."""
    if not can_write_office(user):
        return False
    return student is None or is_guardian_of(user, student)


def can_start_chat(user: User) -> bool:
    """Staff start chats with guardians of the groups they teach this year."""
    return is_staff(user) and bool(taught_group_ids(user))


def can_start_chat_with(user: User, guardians: list[User]) -> bool:
    if not can_start_chat(user) or not guardians:
        return False
    allowed = set(
        db.session.scalars(
            select(Guardianship.user_id)
            .join(Membership, Membership.student_id == Guardianship.student_id)
            .where(
                Membership.school_year_id == _year_id(),
                Membership.group_id.in_(taught_group_ids(user)),
            )
        )
    )
    return all(u.is_guardian and u.id in allowed for u in guardians)


def can_see_message(user: User, message: Message) -> bool:
    """Members of the conversation see its messages, but for deleted ones and those the
    school hid after a report."""
    return (not message.is_deleted and not message.is_hidden
            and can_see_conversation(user, message.conversation))


def can_change_message(user: User, message: Message) -> bool:
    """Authors edit and delete their own messages while they are in the conversation."""
    return user.is_authenticated and message.author_id == user.id and can_see_message(user, message)


def can_see_attachment(user: User, attachment: MessageAttachment) -> bool:
    return can_see_message(user, attachment.message)


def can_use_chat(user: User) -> bool:
    return in_a_school(user)


def can_set_availability(user: User) -> bool:
    return is_staff(user)


# -- group feed and privacy ----------------------------------------------------

def can_post_in_group(user: User, group: Group) -> bool:
    """Group posts are written by the teachers of the group (admins announce instead)."""
    return user.is_authenticated and user.is_teacher and teaches(user, group)


@dataclass(frozen=True, slots=True)
class PostRights:
    """What a user may do with a post: the questions a post card asks, decided together
    (the feed asks them of twenty posts a page) by post_rights, the one rule for each."""

    see: bool = False
    like: bool = False
    edit: bool = False
    delete: bool = False
    report: bool = False
    stats: bool = False  # who liked it and which families read it


_NO_RIGHTS = PostRights()


def post_rights(user: User, post: PostFacts) -> PostRights:
    """Guardians see published posts of their children's groups; staff see their groups'
    posts, scheduled ones too; admins and the author see it. A post the school hid after a
    report is seen by nobody (the admin reads it in the queue) and kept for the audit:
    nobody edits or deletes it from the feed. Guardians and teachers who see a published
    post may like it; anyone who sees it may report it, except its author. Who liked it
    and which families read it: the author, the group's teachers, admins. The author only
    while they work in the post's school (works_with): one who left it has no post there."""
    if not user.is_authenticated:
        return _NO_RIGHTS
    hidden, published = post.is_hidden, post.is_published()
    admin = user.is_admin and works_with(user, post.group_ids)
    # The author's rights last while they work at the post's school (works_with).
    own = post.author_id == user.id and works_with(user, post.group_ids)
    if admin or own:
        stats = in_view = True
    elif user.is_staff:
        stats = in_view = bool(post.group_ids & taught_group_ids(user))
    else:
        stats = False
        in_view = published and not hidden and bool(post.group_ids & child_group_ids(user))
    see = in_view and not hidden
    edit = own and not hidden
    return PostRights(
        see=see,
        like=see and published and (user.is_guardian or user.is_teacher),
        edit=edit,
        delete=edit or (admin and not hidden),
        report=see and published and not own,
        stats=stats,
    )


def can_see_post(user: User, post: PostFacts) -> bool:
    return post_rights(user, post).see


def can_edit_post(user: User, post: PostFacts) -> bool:
    return post_rights(user, post).edit


def can_delete_post(user: User, post: PostFacts) -> bool:
    return post_rights(user, post).delete


def can_like(user: User, post: PostFacts) -> bool:
    return post_rights(user, post).like


def can_announce(user: User) -> bool:
    """School-wide announcements are the school office's."""
    return is_admin(user)


def can_manage_announcement(user: User, announcement: Announcement) -> bool:
    """The office of the announcement's school deletes it."""
    return is_admin_of(user, announcement.school_id)


def reading_school_ids(user: User) -> set[int]:
    """The schools whose school-wide things (announcements, calendar) a user reads: a
    guardian's children's schools while the child is in a group this year; staff's, the
    school they work in now. From the request's family query: no query of its own."""
    if not user.is_authenticated:
        return set()
    if user.is_guardian:
        return {student.school_id for student, group in family(user) if group is not None}
    school_id = current_school_id()
    return {school_id} if school_id is not None else set()


def can_see_announcement(user: User, announcement: Announcement) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_admin:
        return is_admin_of(user, announcement.school_id)
    if announcement.starts_on > today():
        return False
    if announcement.all_groups:  # not for last year's families, nor another school's
        return announcement.school_id in _schools_with_groups(user)
    ids = {ag.group_id for ag in announcement.announcement_groups}
    return bool(ids & visible_group_ids(user))


def _schools_with_groups(user: User) -> set[int]:
    """The schools where the user has a group this year: a guardian's children's (each in
    their own school), staff's current school."""
    return reading_school_ids(user) if user.is_guardian or visible_group_ids(user) else set()


def can_see_post_attachment(user: User, attachment: Attachment) -> bool:
    if attachment.post is not None:
        return can_see_post(user, attachment.post) and attachment.id not in hidden_photo_ids(
            user, [attachment]
        )
    return can_see_announcement(user, attachment.announcement)


def pending_cutoff() -> datetime:
    """Files kept from a refused post before this moment have expired (PENDING_UPLOAD_HOURS):
    nothing serves or places them, and the retention run removes them."""
    return now() - timedelta(hours=current_app.config["PENDING_UPLOAD_HOURS"])


def can_see_pending_upload(user: User, upload) -> bool:
    """A file kept from a refused post: only its uploader, and only until it expires (when
    they leave a school, theirs expire at once: auth.service.drop_from_school)."""
    return (is_staff(user) and not user.disabled and upload.uploader_id == user.id
            and upload.created_at >= pending_cutoff())


def can_view_photo(user: User, post: Post, attachment: Attachment) -> bool:
    """A photo of a post in the photo viewer: one of the post's photos that this user sees."""
    return (attachment.post_id == post.id and attachment.kind == "photo"
            and can_see_post(user, post)
            and attachment.id not in hidden_photo_ids(user, [attachment]))


def can_save_photo(user: User, post: Post, attachment: Attachment) -> bool:
    """Saving a photo (a download) only where the post's school allows it, for what one
    may see."""
    groups = [pg.group for pg in post.post_groups]
    school = groups[0].year.school if groups else current_school()
    return bool(school and school.photo_download) and can_view_photo(user, post, attachment)


def app_photo_consented(student_ids) -> set[int]:
    """Of these students, those whose guardians said yes to photos in the app this school
    year (consent is asked again every year; an answer of an earlier year does not count)."""
    return {sid for sid, given in app_photo_answers(student_ids).items() if given}


def app_photo_answers(student_ids) -> dict[int, bool]:
    """Student id -> this school year's answer on photos in the app; missing: not answered."""
    ids = list(student_ids)
    if not ids:
        return {}
    return dict(db.session.execute(_consented_statement(), {"ids": ids}).all())


@prebuilt
def _consented_statement():
    """This school year's answers on photos in the app of the students sql.IDS."""
    return (
        select(Consent.student_id, Consent.given)
        .join(ConsentTopic, ConsentTopic.id == Consent.topic_id)
        .where(ConsentTopic.key == APP_PHOTOS, Consent.school_year_id.in_(_CURRENT_YEARS))
        .where(Consent.student_id.in_(IDS))
    )


def _tag_consented():
    """Whether the child of a PhotoTag row has this school year's yes to photos in the app:
    correlated, so it looks up each tagged child's answer by (student, topic) instead of
    reading every answer of the year."""
    return exists().where(
        Consent.student_id == PhotoTag.student_id,
        Consent.topic_id.in_(select(ConsentTopic.id).where(ConsentTopic.key == APP_PHOTOS)),
        Consent.given.is_(True),
        Consent.school_year_id.in_(_CURRENT_YEARS),
    )


@prebuilt
def _unconsented_statement():
    return select(PhotoTag.attachment_id, PhotoTag.student_id).where(
        PhotoTag.attachment_id.in_(IDS), ~_tag_consented())


@prebuilt
def _tags_statement():
    return (
        select(PhotoTag.attachment_id, Student.first_name, Student.last_name,
               _tag_consented())
        .join(Student, Student.id == PhotoTag.student_id)
        .where(PhotoTag.attachment_id.in_(IDS))
        .order_by(Student.first_name, Student.last_name, Student.id)
    )


def photo_tags(attachments) -> list[tuple[int, str, bool]]:
    """(photo, child's name, consent for photos in the app) for every child tagged in these
    photos, by name: what staff see of the tags. One query for a whole page of photos."""
    ids = [a.id for a in attachments]
    if not ids:
        return []
    return [(photo, f"{first} {last}", bool(consented)) for photo, first, last, consented
            in db.session.execute(_tags_statement(), {"ids": ids})]


def _unconsented_tags(attachments) -> list[tuple[int, int]]:
    """(photo, child) for each child tagged in these photos without consent for photos in
    the app: one query for a whole page of photos."""
    ids = [a.id for a in attachments]
    if not ids:
        return []
    return [tuple(row) for row in db.session.execute(_unconsented_statement(), {"ids": ids})]


def own_children_ids(user: User) -> set[int]:
    if not is_guardian(user):
        return set()
    return per_request(
        f"own_children_{user.id}", lambda: {student.id for student, _group in family(user)}
    )


def unconsented_photo_ids(attachments) -> set[int]:
    """Photos in which a child is tagged who has no consent for photos in the app."""
    return {photo for photo, _child in _unconsented_tags(attachments)}


def hidden_photo_ids(user: User, attachments) -> set[int]:
    """Photos this user may not see: a child without consent is in them, and it is not theirs.

    Staff still see them (flagged), so that they can take them away.
    """
    if is_staff(user):
        return set()
    own = own_children_ids(user)
    return {photo for photo, child in _unconsented_tags(attachments) if child not in own}


def can_set_consent(user: User, student: Student) -> bool:
    """Consent is the guardians' to give or refuse."""
    return is_guardian_of(user, student)


def can_view_consent(user: User, student: Student) -> bool:
    return can_view_student(user, student)


def can_see_consent_overview(user: User, group: Group) -> bool:
    return is_admin_of(user, school_id_of_group(group)) or teaches(user, group)


def can_manage_consent_topic(user: User, topic: ConsentTopic) -> bool:
    return is_admin_of(user, topic.school_id)


def can_manage_consent_topics(user: User) -> bool:
    return is_admin(user)


def can_answer_consent(user: User) -> bool:
    """The page with every child's privacy questions: a guardian's own children only."""
    return is_guardian(user)


def can_run_consent_round(user: User) -> bool:
    """The office follows the yearly consent round per group and sends reminders."""
    return is_admin(user)


# -- moderation and the audit log ---------------------------------------------------


def can_report_post(user: User, post: PostFacts) -> bool:
    return post_rights(user, post).report


def can_report_message(user: User, message: Message) -> bool:
    """Members of the conversation may report a message of someone else's."""
    return user.is_authenticated and message.author_id != user.id and can_see_message(user, message)


def can_see_own_reports(user: User) -> bool:
    """What one reported to a school: staff and families (a board admin reads nothing to
    report)."""
    return in_a_school(user)


def can_moderate(user: User) -> bool:
    """The queue of reports; hiding an item or dismissing a report: the school office."""
    return is_admin(user)


def report_school_id(report) -> int | None:
    """The school of a reported post (its groups') or message (its conversation's)."""
    if report.message_id is not None:
        return report.message.conversation.school_id
    groups = report.post.groups
    return school_id_of_group(groups[0]) if groups else None


def can_handle_report(user: User, report) -> bool:
    """A report about the current school's posts and messages, for its office."""
    return is_admin_of(user, report_school_id(report))


def can_read_audit_log(user: User) -> bool:
    return is_admin(user)


def require(allowed: bool) -> None:
    """Stop the request with 403 unless allowed."""
    if not allowed:
        abort(403)
