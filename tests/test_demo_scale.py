"""`flask demo --scale`: the benchmark's big school, written in bulk, works like any other."""

from __future__ import annotations

import click
import pytest
from sqlalchemy import func, select

from parro import policy
from parro.chat import service as chat
from parro.demo import create_demo
from parro.demo_scale import add_history, scale_factor
from parro.extensions import db
from parro.models import (
    Attachment,
    Conversation,
    Message,
    Post,
    PostGroup,
    SchoolYear,
    User,
)

from .helpers import login_as


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_scale_names_and_factors():
    assert scale_factor("large") == 1.0
    assert scale_factor("small") == 0.01
    assert scale_factor("0.5") == 0.5
    for bad in ("huge", "0", "-1", "5"):
        with pytest.raises(click.BadParameter):
            scale_factor(bad)


def test_scaled_demo_has_five_years_of_history_that_the_app_serves(app, make_client, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    client = make_client(MEDIA_PATH=app.config["MEDIA_PATH"])
    school = create_demo()
    posts_before, messages_before = count(Post), count(Message)
    add_history(school, 0.004)  # 200 posts, 2,000 messages

    assert count(SchoolYear) == 5
    assert count(Post) == posts_before + 200
    assert count(Message) == messages_before + 2000
    # Every child of this year has a kindgesprek; the counters match the messages.
    for conversation in db.session.scalars(select(Conversation)):
        newest = db.session.scalar(select(func.max(Message.id)).where(
            Message.conversation_id == conversation.id))
        assert conversation.last_message_id == (newest or 0)

    # The fixed login still works and sees a feed with the bulk photos, which are served.
    jansen = db.session.scalar(select(User).where(User.email == "ouder.jansen@example.org"))
    groups = policy.visible_group_ids(jansen)
    photo = db.session.scalar(
        select(Attachment).join(PostGroup, PostGroup.post_id == Attachment.post_id)
        .where(PostGroup.group_id.in_(groups), Attachment.post_id > posts_before)
        .order_by(Attachment.id.desc()).limit(1))
    login_as(client, jansen)
    assert client.get("/groepen/").status_code == 200
    response = client.get(f"/media/{photo.key}/klein")
    assert response.status_code == 200
    assert response.data[:2] == b"\xff\xd8"  # a JPEG

    # Ids handed out in bulk leave the database's own sequences usable.
    db.session.add(Post(author_id=jansen.id, body="Nog een bericht"))
    db.session.commit()


def test_membership_from_the_users_side_matches_the_membership_clause(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    add_history(create_demo(), 0.002)
    for user in db.session.scalars(select(User).order_by(User.id)):
        found = set(db.session.scalars(policy.member_conversation_ids(user.id)))
        expected = set(db.session.scalars(
            select(Conversation.id).where(policy.conversation_member_clause(user.id))))
        assert found == expected, user.email
    # And the unread count built on it still counts only the user's conversations.
    bram = db.session.scalar(select(User).where(User.email == "meester.bram@example.org"))
    total = db.session.scalar(select(chat.unread_count(bram.role)),
                              {"user_id": bram.id, "school_id": policy.current_school_id()})
    assert total == sum(chat.unread_counts(bram).values()) > 0


def test_board_demo_has_twenty_schools_each_with_its_own_rows(app, make_client, tmp_path):
    """`flask demo --scale board`, small (30-50 children a school, a tiny history): 20
    schools, each with its current year, every row with a school_id in the right school,
    families at two schools with one account, and the demo logins as before."""
    from parro.demo_board import GYM_TEACHER, SHARED_FAMILIES, add_board
    from parro.models import (
        AbsenceReason,
        AbsenceReport,
        Announcement,
        CalendarItem,
        CalendarItemGroup,
        Consent,
        ConsentTopic,
        ConversationKind,
        Group,
        Guardianship,
        Membership,
        School,
        SchoolStaff,
        Student,
        TeacherAssignment,
    )

    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    client = make_client(MEDIA_PATH=app.config["MEDIA_PATH"])
    demo = create_demo()
    own = count(Membership)
    made = add_board(demo, 0.002, children=(30, 50))

    schools = list(db.session.scalars(select(School).order_by(School.id)))
    assert len(schools) == 20 == len({s.name for s in schools})
    assert schools[0].name == "Basisschool De Regenboog" and policy.is_board()
    for school in schools:
        current = list(db.session.scalars(select(SchoolYear).where(
            SchoolYear.school_id == school.id, SchoolYear.is_current)))
        assert len(current) == 1, school.name
        children = count(Membership, Membership.school_year_id == current[0].id)
        if school.id == demo.id:  # topped up with two parallel groups
            assert children == own + 50
        else:
            assert 30 <= children <= 50, (school.name, children)
        grades = set(db.session.scalars(select(Group.grade).where(
            Group.school_year_id == current[0].id)))
        assert grades == set(range(1, 9)), school.name
        assert count(SchoolStaff, SchoolStaff.school_id == school.id) >= 10
    assert [m.school_id for m in made] == [s.id for s in schools]

    # Every row that names a school names the one of its group, child or author.
    school_of_group = dict(db.session.execute(
        select(Group.id, SchoolYear.school_id).join(SchoolYear)).all())
    school_of_student = dict(db.session.execute(select(Student.id, Student.school_id)).all())
    for student_id, group_id in db.session.execute(
            select(Membership.student_id, Membership.group_id)):
        assert school_of_student[student_id] == school_of_group[group_id]
    staff = set(db.session.execute(select(SchoolStaff.user_id, SchoolStaff.school_id)).all())
    for user_id, group_id in db.session.execute(
            select(TeacherAssignment.user_id, TeacherAssignment.group_id)):
        assert (user_id, school_of_group[group_id]) in staff
    children_of = {}
    for user_id, student_id in db.session.execute(
            select(Guardianship.user_id, Guardianship.student_id)):
        children_of.setdefault(user_id, set()).add(school_of_student[student_id])
    for kind, school_id, student_id, created_by_id in db.session.execute(select(
            Conversation.kind, Conversation.school_id, Conversation.student_id,
            Conversation.created_by_id)):
        if kind == ConversationKind.CHILD:
            assert school_id == school_of_student[student_id]
        elif kind == ConversationKind.OFFICE and created_by_id in children_of:
            assert school_id in children_of[created_by_id]
    assert count(Conversation, Conversation.kind == ConversationKind.OFFICE) == 21
    for student_id, reason_school in db.session.execute(
            select(AbsenceReport.student_id, AbsenceReason.school_id).join(AbsenceReason)):
        assert reason_school == school_of_student[student_id]
    for student_id, topic_school in db.session.execute(
            select(Consent.student_id, ConsentTopic.school_id).join(ConsentTopic)):
        assert topic_school == school_of_student[student_id]
    for item_school, group_id in db.session.execute(
            select(CalendarItem.school_id, CalendarItemGroup.group_id).join(CalendarItemGroup)):
        assert item_school == school_of_group[group_id]
    for school_id, author_id in db.session.execute(
            select(Announcement.school_id, Announcement.author_id)):
        assert (author_id, school_id) in staff
    for school in schools:
        assert count(AbsenceReason, AbsenceReason.school_id == school.id) >= 5
        assert count(ConsentTopic, ConsentTopic.school_id == school.id,
                     ConsentTopic.key == "app_photos") == 1

    # Families at two schools: one account, children in both, both in one feed.
    two = {uid for uid, ids in children_of.items() if len(ids) == 2}
    assert all(len(m.shared) == SHARED_FAMILIES for m in made[1:])
    assert two == {uid for m in made for f in m.shared for uid in f.guardians}
    assert not any(len(ids) > 2 for ids in children_of.values())
    parent = db.session.get(User, made[1].shared[0].guardians[0])
    assert parent.id in two and parent.active
    kids = list(db.session.scalars(select(Student).join(Guardianship)
                                   .where(Guardianship.user_id == parent.id)))
    assert {k.school_id for k in kids} == {schools[0].id, schools[1].id}
    assert len({k.last_name for k in kids}) == 1
    assert count(User, User.email == parent.email) == 1
    groups = set(policy.visible_group_ids(parent))
    assert {school_of_group[g] for g in groups} == {schools[0].id, schools[1].id}
    login_as(client, parent)
    feed = client.get("/groepen/")
    assert feed.status_code == 200  # each child's school's questions are answered
    for kid in kids:
        assert kid.first_name in feed.get_data(as_text=True)
    for kid in kids:
        group = db.session.scalar(select(Group).join(Membership).join(SchoolYear).where(
            Membership.student_id == kid.id, SchoolYear.is_current))
        response = client.get(f"/groepen/{group.id}")
        assert response.status_code == 200, (kid.school_id, response.status_code)
        assert group.name in response.get_data(as_text=True)

    # The gym teacher works at the first two schools; the demo logins work as before.
    gym = db.session.scalar(select(User).where(User.email == GYM_TEACHER))
    assert {s for u, s in staff if u == gym.id} == {schools[0].id, schools[1].id}
    jansen = db.session.scalar(select(User).where(User.email == "ouder.jansen@example.org"))
    login_as(client, jansen)
    groep3 = db.session.scalar(select(Group).join(SchoolYear).where(
        SchoolYear.school_id == schools[0].id, SchoolYear.is_current, Group.name == "Groep 3"))
    assert "Een goede start" in client.get(f"/groepen/{groep3.id}").get_data(as_text=True)
    assert "Een goede start" in client.get("/groepen/").get_data(as_text=True)
