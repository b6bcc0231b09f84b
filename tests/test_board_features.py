"""Several schools in one installation (issue 22): the features decide per school.

Two schools of one board, A (Basisschool De Test) and B (Basisschool De Ander). A family
has a child at each; the staff of A see nothing of B; a gym teacher works at both.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import (
    AbsenceReason,
    Activity,
    Announcement,
    CalendarItem,
    CalendarKind,
    ConsentTopic,
    Conversation,
    Message,
    SchoolStaff,
)

from .factories import (
    current_year,
    make_absence,
    make_admin,
    make_conference,
    make_guardian,
    make_kindgesprek,
    make_materials,
    make_message,
    make_post,
    make_student,
)
from .feed_helpers import fresh, page_text, reader
from .helpers import login_as, mails_to
from .world import two_schools

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 9, 7, 0, tzinfo=UTC)  # a Tuesday, 08:00 at school
TODAY = date(2027, 3, 9)


def _announcement(school, title):
    item = Announcement(school_id=school.id, title=title, body="Voor iedereen.",
                        all_groups=True, starts_on=TODAY, ends_on=TODAY + timedelta(days=7))
    db.session.add(item)
    return item


def _calendar(school, title, kind=CalendarKind.EVENT, day=TODAY + timedelta(days=2)):
    item = CalendarItem(school_id=school.id, kind=kind, title=title, starts_on=day,
                        ends_on=day)
    db.session.add(item)
    return item


@pytest.fixture
def board(app):
    clock.set_now(NOW)
    world = two_schools()
    a, b, a3, b5 = world["a"], world["b"], world["a3"], world["b5"]
    sem, lotte = world["sem"], world["lotte"]
    bram = world["bram"] = make_student(b5, first_name="Bram")
    world["b_parent"] = make_guardian(child=bram, name="Ouder van Bram")
    world["admin_b"] = make_admin(name="Admin B", school=b)
    _announcement(a, "Mededeling van school A")
    _announcement(b, "Mededeling van school B")
    _calendar(a, "Sportdag A")
    _calendar(b, "Sportdag B")
    make_materials(a3, title="Spullen voor groep 3a", deadline=NOW + timedelta(days=5))
    make_materials(b5, title="Spullen voor groep 5b", deadline=NOW + timedelta(days=5))
    db.session.add_all([
        AbsenceReason(school_id=a.id, name="Huisarts", position=1),
        AbsenceReason(school_id=b.id, name="Logopedie", position=1),
    ])
    for student in (sem, lotte, bram):
        make_message(make_kindgesprek(student), world["family"] if student is not bram
                     else world["b_parent"], body=f"Over {student.first_name}")
    make_absence(lotte, by=world["family"])  # sick today, at school B
    db.session.commit()
    return world


def get(client, user, path, school=None):
    fresh()
    login_as(client, user, school)
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    return page_text(response)


# -- a family with a child at each school ---------------------------------------------


def test_a_family_sees_both_childrens_groups_in_one_feed_with_a_filter_per_child(
        client, board):
    text = get(client, board["family"], "/groepen/")
    assert "Nieuws uit groep 3a" in text and "Nieuws uit groep 5b" in text
    # Each school's announcements for its own child, and each school's coming days.
    assert "Mededeling van school A" in text and "Mededeling van school B" in text
    assert "Sportdag A" in text and "Sportdag B" in text
    # The filter: a tab per child's group.
    html = client.get("/groepen/").get_data(as_text=True)
    assert f'href="/groepen/{board["a3"].id}"' in html
    assert f'href="/groepen/{board["b5"].id}"' in html
    one = get(client, board["family"], f"/groepen/{board['b5'].id}")
    assert "Nieuws uit groep 5b" in one and "Nieuws uit groep 3a" not in one
    assert "Mededeling van school B" in one and "Mededeling van school A" not in one


def test_a_family_at_two_schools_reads_whose_announcement_it_is_and_may_switch(client, board):
    text = get(client, board["family"], "/groepen/")
    assert f"Mededeling van {board['a'].name}" in text
    assert f"Mededeling van {board['b'].name}" in text
    assert "Andere school" in text  # in the menu: the school whose colour and office they use
    one = get(client, board["b_parent"], "/groepen/")  # one school: as before the board
    assert "Mededeling van de school" in one and "Andere school" not in one


def test_a_family_has_both_kindgesprekken_and_both_schools_activities(client, board):
    chats = get(client, board["family"], "/gesprekken/")
    assert "Sem" in chats and "Lotte" in chats
    assert "Bram" not in chats
    activities = get(client, board["family"], "/activiteiten/")
    assert "Spullen voor groep 3a" in activities and "Spullen voor groep 5b" in activities
    calendar = get(client, board["family"], "/kalender/")
    assert "Sportdag A" in calendar and "Sportdag B" in calendar
    # Each item says whose it is.
    assert "Sportdag A Basisschool De Test" in calendar
    assert "Sportdag B Basisschool De Ander" in calendar


def _topics(board):
    """A privacy question of each school's own."""
    db.session.add_all([
        ConsentTopic(school_id=board["a"].id, name="Foto's op de website van A", position=1),
        ConsentTopic(school_id=board["b"].id, name="Foto's in de schoolgids van B", position=1),
    ])
    db.session.commit()


def test_each_child_gets_its_own_schools_privacy_questions(client, board):
    _topics(board)
    # The feed sends the family to the questions of both schools first.
    text = get(client, board["family"], "/groepen/")
    # By first name: Lotte's questions, then Sem's.
    _before, rest = text.split("Lotte Tester · Groep 5b", 1)
    lotte_part, sem_part = rest.split("Sem Tester · Groep 3a", 1)
    assert "Foto's op de website van A" in sem_part
    assert "Foto's in de schoolgids van B" not in sem_part
    assert "Foto's in de schoolgids van B" in lotte_part
    assert "Foto's op de website van A" not in lotte_part
    # Answering stores each child's own question, for its own school's year.
    fresh()
    topic_a = db.session.query(ConsentTopic).filter_by(school_id=board["a"].id).one()
    topic_b = db.session.query(ConsentTopic).filter_by(school_id=board["b"].id).one()
    sem, lotte = board["sem"], board["lotte"]
    response = client.post("/privacy/keuzes", data={
        f"c_{sem.id}_{topic_a.id}": "ja", f"c_{lotte.id}_{topic_b.id}": "nee"})
    assert response.status_code == 303
    # Another school's question for a child is refused, and nothing is stored.
    refused = client.post("/privacy/keuzes", data={
        f"c_{sem.id}_{topic_a.id}": "ja", f"c_{lotte.id}_{topic_b.id}": "nee",
        f"c_{sem.id}_{topic_b.id}": "ja"})
    assert refused.status_code == 403
    fresh()
    from parro.models import Consent

    answers = {(c.student_id, c.topic_id, c.given, c.school_year_id)
               for c in db.session.query(Consent)}
    assert answers == {(sem.id, topic_a.id, True, current_year(board["a"]).id),
                       (lotte.id, topic_b.id, False, current_year(board["b"]).id)}
    # With everything answered, the feed no longer sends the family to the questions.
    assert client.get("/groepen/").status_code == 200
    # Each child's page shows its own school's question only.
    lotte_page = page_text(client.get(f"/privacy/kind/{lotte.id}"))
    assert "Foto's in de schoolgids van B" in lotte_page
    assert "Foto's op de website van A" not in lotte_page
    # The family's download: each child's current choices are its own school's questions.
    archive = zipfile.ZipFile(io.BytesIO(client.post("/account/gegevens-downloaden").data))
    consent = {c["kind"]: [n["onderwerp"] for n in c["nu"]]
               for c in json.loads(archive.read("toestemming.json"))}
    assert consent == {"Sem Tester": ["Foto's op de website van A"],
                       "Lotte Tester": ["Foto's in de schoolgids van B"]}


def test_absence_follows_the_childs_own_school(client, board):
    # A study day at school B today: Lotte has no school, Sem has.
    _calendar(board["b"], "Studiedag B", kind=CalendarKind.STUDY_DAY, day=TODAY)
    board["b"].leave_info = "Verlof vraagt u aan bij meester Bas."
    db.session.commit()
    text = get(client, board["family"], "/absentie/")
    # How to ask for leave: each school's own way, under its name.
    assert ("Basisschool De Ander Verlof vraagt u aan bij meester Bas. "
            "Basisschool De Test Vraag de administratie hoe u verlof aanvraagt. "
            "Telefoon: 010 000 00 00.") in text
    # Each school's own reasons, named with their school.
    assert "Huisarts (Basisschool De Test)" in text
    assert "Logopedie (Basisschool De Ander)" in text
    fresh()
    response = client.post("/absentie/ziek", data={"sick-student": board["sem"].id})
    assert response.status_code == 303
    refused = client.post("/absentie/ziek", data={"sick-student": board["bram"].id})
    assert refused.status_code == 422
    # Lotte's school is closed today (its own calendar), so no sick report for her.
    fresh()
    from parro.models import AbsenceReport

    db.session.query(AbsenceReport).filter_by(student_id=board["lotte"].id).delete()
    db.session.commit()
    closed = client.post("/absentie/ziek", data={"sick-student": board["lotte"].id})
    assert closed.status_code == 422
    assert "Studiedag B" in page_text(closed)
    # An appointment for Sem with school B's reason is refused: Sem's school has its own.
    fresh()
    logopedie = db.session.query(AbsenceReason).filter_by(name="Logopedie").one()
    wrong = client.post("/absentie/afspraak", data={
        "appt-student": board["sem"].id, "appt-day": "2027-03-11", "appt-starts_at": "10:00",
        "appt-ends_at": "11:00", "appt-reason": logopedie.id})
    assert wrong.status_code == 422
    assert "Kies een reden uit de lijst." in page_text(wrong)


def test_school_a_closed_does_not_close_school_b(client, board):
    _calendar(board["a"], "Studiedag A", kind=CalendarKind.STUDY_DAY, day=TODAY)
    db.session.commit()
    fresh()
    login_as(client, board["b_parent"])
    # Bram's school is open today: he can be reported sick.
    response = client.post("/absentie/ziek", data={"sick-student": board["bram"].id})
    assert response.status_code == 303


def test_office_hours_and_the_office_written_to_are_the_childs_schools(client, board):
    fresh()
    board["b"].office_opens_at, board["b"].office_closes_at = time(7, 45), time(12, 15)
    db.session.commit()
    text = get(client, board["family"], f"/gesprekken/administratie?over={board['lotte'].id}")
    assert "07:45" in text and "12:15" in text
    assert "Lotte Tester · Basisschool De Ander" in text
    fresh()
    response = client.post("/gesprekken/administratie", data={
        "subject": str(board["lotte"].id), "body": "Nieuw adres voor Lotte"})
    assert response.status_code == 303
    # The office of school B reads it; that of school A does not.
    assert "Nieuw adres voor Lotte" not in get(client, board["admin_a"], "/gesprekken/")
    assert "Familie de Wit" in get(client, board["admin_b"], "/gesprekken/")


# -- the staff of school A see nothing of school B ------------------------------------


@pytest.mark.parametrize("who", ["admin_a", "teacher_a"])
def test_staff_of_school_a_see_nothing_of_school_b(client, board, who):
    user = board[who]
    feed = get(client, user, "/groepen/")
    assert "Nieuws uit groep 3a" in feed
    assert "Nieuws uit groep 5b" not in feed and "Groep 5b" not in feed
    assert "Mededeling van school A" in feed and "Mededeling van school B" not in feed
    assert "Sportdag A" in feed and "Sportdag B" not in feed
    calendar = get(client, user, "/kalender/")
    assert "Sportdag A" in calendar and "Sportdag B" not in calendar
    assert "Sportdag A Basisschool De Test" not in calendar  # one school: no school names
    overview = get(client, user, "/absentie/overzicht")
    assert "Lotte" not in overview
    activities = get(client, user, "/activiteiten/")
    assert "Spullen voor groep 5b" not in activities
    chats = get(client, user, "/gesprekken/")
    assert "Lotte" not in chats and "Bram" not in chats
    for path in (f"/groepen/{board['b5'].id}", f"/leerlingen/{board['lotte'].id}",
                 f"/privacy/groep/{board['b5'].id}", f"/privacy/kind/{board['lotte'].id}"):
        assert client.get(path).status_code in (403, 404), path


def test_the_office_of_school_a_lists_and_changes_only_its_own(client, board):
    admin = board["admin_a"]
    _topics(board)
    text = get(client, admin, "/groepen/mededelingen")
    assert "Mededeling van school A" in text and "Mededeling van school B" not in text
    office = get(client, admin, f"/absentie/administratie?van={TODAY}&tot={TODAY}")
    assert "Lotte" not in office
    topics = get(client, admin, "/privacy/onderwerpen")
    assert "Foto's op de website van A" in topics
    assert "Foto's in de schoolgids van B" not in topics
    round_page = get(client, admin, "/privacy/ronde")
    assert "Groep 5b" not in round_page
    fresh()
    b_announcement = db.session.query(Announcement).filter_by(school_id=board["b"].id).one()
    b_item = db.session.query(CalendarItem).filter_by(title="Sportdag B").one()
    b_topic = db.session.query(ConsentTopic).filter_by(school_id=board["b"].id).one()
    b_reason = db.session.query(AbsenceReason).filter_by(school_id=board["b"].id).one()
    b_activity_id = db.session.query(Activity).filter_by(title="Spullen voor groep 5b").one().id
    for path in (f"/groepen/mededelingen/{b_announcement.id}/verwijderen",
                 f"/kalender/{b_item.id}/verwijderen",
                 f"/absentie/beheer/redenen/{b_reason.id}",
                 f"/activiteiten/{b_activity_id}/verwijderen"):
        assert client.post(path).status_code == 403, path
    assert client.get(f"/kalender/{b_item.id}/bewerken").status_code == 403
    assert client.get(f"/privacy/onderwerpen/{b_topic.id}").status_code == 403
    fresh()
    assert db.session.get(Announcement, b_announcement.id) is not None
    assert db.session.get(CalendarItem, b_item.id) is not None
    assert db.session.get(AbsenceReason, b_reason.id).active


# -- staff at two schools ---------------------------------------------------------------


def test_a_teacher_at_two_schools_switches_and_sees_the_other_schools_groups(client, board):
    gym = board["gym"]
    text = get(client, gym, "/groepen/", school=board["a"])
    assert "Nieuws uit groep 3a" in text and "Nieuws uit groep 5b" not in text
    assert "Sportdag A" in text and "Sportdag B" not in text
    chats = page_text(client.get("/gesprekken/"))
    assert "Sem Tester" in chats and "Lotte Tester" not in chats
    response = client.post("/scholen", data={"school_id": board["b"].id},
                           follow_redirects=True)
    assert "U werkt nu in Basisschool De Ander." in page_text(response)
    text = page_text(client.get("/groepen/"))
    assert "Nieuws uit groep 5b" in text and "Nieuws uit groep 3a" not in text
    assert "Mededeling van school B" in text and "Mededeling van school A" not in text
    assert "Sportdag B" in text and "Sportdag A" not in text
    chats = page_text(client.get("/gesprekken/"))
    assert "Lotte Tester" in chats and "Bram Tester" in chats and "Sem Tester" not in chats


def test_a_teacher_at_two_schools_writes_in_a_schools_chats_only_while_working_there(
        client, board):
    """Working in B, the gym teacher may not write, change or delete in A's kindgesprek
    (crafted requests): its page offers the switch, and nothing changes. Back in A, they may."""
    gym, sem = board["gym"], board["sem"]
    conversation = db.session.scalar(select(Conversation).filter_by(student_id=sem.id))
    own = make_message(conversation, gym, body="Sem was vandaag moe")
    db.session.commit()
    ids = (conversation.id, own.id)
    login_as(client, gym, board["b"])
    base = f"/gesprekken/{ids[0]}"
    assert "Basisschool De Test" in page_text(client.get(base))  # the switch is offered
    assert client.post(base, data={"body": "Vanuit school B"}).status_code == 403
    edit = f"{base}/berichten/{ids[1]}/bewerken"
    assert client.get(edit).status_code == 403
    assert client.post(edit, data={"body": "Veranderd"}).status_code == 403
    assert client.post(f"{base}/berichten/{ids[1]}/verwijderen").status_code == 403
    assert client.get(f"{base}/nieuw?v=0").status_code == 403
    fresh()
    message = db.session.get(Message, ids[1])
    assert message.body == "Sem was vandaag moe" and not message.is_deleted
    assert db.session.scalar(select(func.count(Message.id)).where(
        Message.conversation_id == ids[0], Message.body == "Vanuit school B")) == 0
    client.post("/scholen", data={"school_id": board["a"].id})
    assert client.post(edit, data={"body": "Veranderd"}).status_code == 303
    fresh()
    assert db.session.get(Message, ids[1]).body == "Veranderd"


def test_a_teacher_removed_from_the_school_they_work_in_moves_to_their_other_school(
        client, board):
    gym = board["gym"]
    fresh()
    login_as(client, gym, board["b"])
    assert "Nieuws uit groep 5b" in page_text(client.get("/groepen/"))
    fresh()
    db.session.query(SchoolStaff).filter_by(user_id=gym.id, school_id=board["b"].id).delete()
    db.session.commit()
    text = page_text(client.get("/groepen/", follow_redirects=True))
    assert "U werkt niet meer bij die school in parro; u ziet nu uw andere school." in text
    assert "Nieuws uit groep 3a" in text and "Nieuws uit groep 5b" not in text


def test_a_teacher_removed_from_their_last_school_is_logged_out(client, board):
    teacher = board["teacher_b"]
    fresh()
    login_as(client, teacher)
    assert client.get("/groepen/").status_code == 200
    fresh()
    db.session.query(SchoolStaff).filter_by(user_id=teacher.id).delete()
    db.session.commit()
    response = client.get("/groepen/", follow_redirects=True)
    text = page_text(response)
    assert "Uw account hoort bij geen school meer." in text
    assert "Nieuws uit groep 5b" not in text


def test_a_child_at_another_school_does_not_make_a_family_book_conferences_earlier(
        client, board):
    # The conference round of school A opens on Friday; families with several children
    # at A may book three days earlier. The family has one child at A, one at B.
    opens = datetime(2027, 3, 12, 18, 0, tzinfo=UTC)
    activity = make_conference(board["a3"], day=date(2027, 3, 20), opens_at=opens,
                               early_days=3, deadline=opens + timedelta(days=5))
    db.session.commit()
    text = get(client, board["family"], f"/activiteiten/{activity.id}")
    assert "U kunt inschrijven vanaf vrijdag 12 maart om 19:00." in text
    # A second child at school A does count.
    fresh()
    from parro.models import Guardianship

    db.session.add(Guardianship(user=board["family"],
                                student=make_student(board["a3"], first_name="Noor")))
    db.session.commit()
    text = get(client, board["family"], f"/activiteiten/{activity.id}")
    assert "U kunt inschrijven vanaf dinsdag 9 maart om 19:00." in text


def test_a_post_mail_is_signed_by_the_posts_own_school(client, board):
    make_post(board["b5"], author=board["teacher_b"], title="Schoolreis", important=True)
    db.session.commit()
    (mail,) = [m for m in mails_to(board["b_parent"].email) if "Schoolreis" in m.subject]
    assert mail.body_text.rstrip().endswith("Basisschool De Ander")


def test_the_first_day_for_an_appointment_is_the_soonest_of_the_childrens_schools(
        client, board):
    # School A (the family's first) is closed tomorrow; school B is open.
    _calendar(board["a"], "Studiedag A", kind=CalendarKind.STUDY_DAY,
              day=TODAY + timedelta(days=1))
    db.session.commit()
    text = get(client, board["family"], "/absentie/")
    assert "De eerste dag die u nu kunt kiezen is woensdag 10 maart." in text
    # Each child by its own school's calendar: Sem's first school day is Thursday,
    # Lotte's is Wednesday.
    fresh()
    huisarts = db.session.query(AbsenceReason).filter_by(name="Huisarts").one()
    logopedie = db.session.query(AbsenceReason).filter_by(name="Logopedie").one()
    day = {"appt-day": "2027-03-10", "appt-starts_at": "10:00", "appt-ends_at": "11:00"}
    refused = client.post("/absentie/afspraak", data={
        **day, "appt-student": board["sem"].id, "appt-reason": huisarts.id})
    assert refused.status_code == 422
    assert "De eerste dag die nu nog kan is donderdag 11 maart." in page_text(refused)
    fresh()
    accepted = client.post("/absentie/afspraak", data={
        **day, "appt-student": board["lotte"].id, "appt-reason": logopedie.id})
    assert accepted.status_code == 303
