"""Privacy preferences asked, not assumed: at activation and again every school year, per
child and topic, nothing ticked beforehand; three states when tagging; the office follows
the round per group and sends reminders (issue 19, point 4)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import Consent, ConsentChange, OutboxMail, Post, SchoolYear

from .factories import (
    PASSWORD,
    current_year,
    give_consent,
    make_admin,
    make_consent_topic,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
    photo_bytes,
)
from .feed_helpers import fresh, page_text, reader, sign_in, upload
from .helpers import activation_path

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)


@pytest.fixture
def school(app):
    clock.set_now(NOW)
    g3, g5 = make_group("Groep 3"), make_group("Groep 5", grade=5)
    sem = make_student(g3, first_name="Sem", last_name="Jansen")
    lotte = make_student(g5, first_name="Lotte", last_name="Jansen")
    lisa = make_student(g3, first_name="Lisa", last_name="Bakker")
    noah = make_student(g5, first_name="Noah", last_name="Dekker")
    app_topic = make_consent_topic("Foto's in de app", position=1)
    website = make_consent_topic("Foto's op de website", app_photos=False, position=2)
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    from parro.models import Guardianship

    db.session.add(Guardianship(user=eva, student=lotte))
    world = {
        "g3": g3, "g5": g5, "sem": sem, "lotte": lotte, "lisa": lisa, "noah": noah,
        "app": app_topic, "website": website, "eva": eva,
        "bakker": make_guardian(child=lisa, name="Ilse Bakker", email="ilse@example.org"),
        "dekker": make_guardian(child=noah, name="Mark Dekker", email="mark@example.org"),
        "teacher": make_teacher(g3, name="Anna de Boer"),
        "admin": make_admin(),
    }
    db.session.commit()
    return world


def choices(school, student, app="ja", website="nee"):
    data = {}
    if app is not None:
        data[f"c_{student.id}_{school['app'].id}"] = app
    if website is not None:
        data[f"c_{student.id}_{school['website'].id}"] = website
    return data


def checked_radios(html: str) -> list[str]:
    return re.findall(r'<input[^>]*checked[^>]*name="(c_\d+_\d+)"|'
                      r'<input[^>]*name="(c_\d+_\d+)"[^>]*checked', html)


def tag_row(html: str, student) -> str:
    """The tagging checkbox of a child with its label."""
    before, after = html.split(f'id="tagged-{student.id}"')
    return before.rsplit("<li", 1)[1] + after.split("</li>")[0]


def stored(**where) -> list[Consent]:
    fresh()
    return list(db.session.scalars(select(Consent).filter_by(**where).order_by(Consent.id)))


def test_activation_asks_per_child_and_topic_with_nothing_ticked(client, school):
    from parro.auth import service
    from parro.models import Guardianship, User

    service.invite_guardian(school["sem"], "tom@example.org", school["admin"], "nl")
    dad = db.session.scalar(select(User).where(User.email == "tom@example.org"))
    db.session.add(Guardianship(user=dad, student=school["lotte"]))
    db.session.commit()
    path = activation_path("tom@example.org")
    response = client.post(path, data={
        "name": "Tom Jansen", "locale": "nl", "password": PASSWORD,
        "password_again": PASSWORD, "accept": "y"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/privacy/keuzes?welkom=1"
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    text = page_text(page)
    assert "Nog één stap" in text
    # Per child (with the group) and per topic; nothing chosen beforehand.
    assert "Lotte Jansen · Groep 5" in text and "Sem Jansen · Groep 3" in text
    assert html.count('type="radio"') == 8
    assert checked_radios(html) == []
    assert "Vorig schooljaar" not in text

    # Half an answer is no answer: said per question, nothing stored.
    url = "/privacy/keuzes?welkom=1"
    response = client.post(url, data={**choices(school, school["sem"]),
                                      **choices(school, school["lotte"], website=None)})
    assert response.status_code == 422
    assert page_text(response).count("Kies ja of nee.") == 1
    assert len(checked_radios(response.get_data(as_text=True))) == 3  # kept as chosen
    assert stored() == []

    response = client.post(url, data={**choices(school, school["sem"]),
                                      **choices(school, school["lotte"], app="nee")})
    assert response.status_code == 303 and response.headers["Location"] == "/groepen/"
    feed = page_text(client.get("/groepen/"))
    assert "Uw keuzes zijn opgeslagen; u kunt ze altijd veranderen onder Mijn account." in feed
    assert "Privacyvoorkeuren: graag uw antwoord" not in feed
    year = current_year().id
    answers = {(c.student_id, c.topic_id): (c.given, c.school_year_id) for c in stored()}
    assert answers == {
        (school["sem"].id, school["app"].id): (True, year),
        (school["sem"].id, school["website"].id): (False, year),
        (school["lotte"].id, school["app"].id): (False, year),
        (school["lotte"].id, school["website"].id): (False, year),
    }
    assert db.session.scalar(select(func.count(ConsentChange.id))) == 4


def test_an_answer_for_another_familys_child_is_refused(client, school):
    sign_in(client, school["eva"])
    data = {**choices(school, school["sem"]), **choices(school, school["lotte"]),
            **choices(school, school["lisa"])}
    assert client.post("/privacy/keuzes", data=data).status_code == 403
    # Nor on the child's own page.
    assert client.post(f"/privacy/kind/{school['lisa'].id}",
                       data={f"topic_{school['app'].id}": "ja"}).status_code == 403
    assert stored() == []
    # The other family's children are not on the page at all.
    assert "Lisa" not in page_text(client.get("/privacy/keuzes"))


def test_each_school_year_asks_again_until_answered(client, school):
    sem, lisa = school["sem"], school["lisa"]
    last_year = SchoolYear(school=current_year().school, name="2025-2026",
                           starts_on=date(2025, 8, 1), ends_on=date(2026, 7, 31))
    db.session.add(last_year)
    db.session.flush()
    for student in (sem, school["lotte"], lisa):
        for topic, given in ((school["app"], True), (school["website"], False)):
            db.session.add(Consent(student_id=student.id, topic_id=topic.id, given=given,
                                   school_year_id=last_year.id))
    db.session.commit()

    # Opening the app (the feed) leads to the page that asks, on every visit until answered;
    # a group's feed still shows the card above its posts.
    sign_in(client, school["eva"])
    for _ in range(2):
        response = client.get("/groepen/")
        assert response.status_code == 303
        assert response.headers["Location"] == "/privacy/keuzes?ronde=1"
    assert "Privacyvoorkeuren: graag uw antwoord" in page_text(
        client.get(f"/groepen/{school['g3'].id}"))
    page = client.get("/privacy/keuzes?ronde=1")
    assert "Een nieuw schooljaar" in page_text(page)
    assert checked_radios(page.get_data(as_text=True)) == []  # last year's not ticked
    assert page_text(page).count("Vorig schooljaar koos u: ja.") == 2
    # Until then last year's yes does not count: the teacher cannot tick Sem.
    teacher = client.application.test_client()
    sign_in(teacher, school["teacher"])
    html = teacher.get(f"/groepen/{school['g3'].id}/nieuw").get_data(as_text=True)
    assert "disabled" in tag_row(html, sem) and "nog niet ingevuld" in tag_row(html, sem)

    # Confirming the same answers counts for this year, and is logged; then the feed opens.
    response = client.post("/privacy/keuzes?ronde=1",
                           data={**choices(school, sem), **choices(school, school["lotte"])})
    assert response.status_code == 303 and response.headers["Location"] == "/groepen/"
    feed = client.get("/groepen/")
    assert feed.status_code == 200 and "Uw keuzes zijn opgeslagen" in page_text(feed)
    assert "Privacyvoorkeuren: graag uw antwoord" not in page_text(feed)
    assert client.get("/privacy/keuzes?ronde=1").headers["Location"] == "/groepen/"
    this_year = current_year().id
    assert {c.school_year_id for c in stored(student_id=sem.id)} == {this_year}
    assert {c.school_year_id for c in stored(student_id=lisa.id)} == {last_year.id}
    assert db.session.scalar(select(func.count(ConsentChange.id))) == 4
    html = teacher.get(f"/groepen/{school['g3'].id}/nieuw").get_data(as_text=True)
    assert "disabled" not in tag_row(html, sem) and "✓ toestemming" in tag_row(html, sem)
    # The page, from Mijn account, now shows this year's answers.
    assert "/privacy/keuzes" in client.get("/account").get_data(as_text=True)
    assert len(checked_radios(client.get("/privacy/keuzes").get_data(as_text=True))) == 4


def test_teachers_see_three_states_and_cannot_tick_without_consent(client, school, app,
                                                                   tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    sem, lisa = school["sem"], school["lisa"]
    mo = make_student(school["g3"], first_name="Mo", last_name="Amrani")
    give_consent(sem, school["app"], True)
    give_consent(mo, school["app"], False)
    db.session.commit()
    sign_in(client, school["teacher"])
    html = client.get(f"/groepen/{school['g3'].id}/nieuw").get_data(as_text=True)
    assert "✓ toestemming" in tag_row(html, sem) and "disabled" not in tag_row(html, sem)
    assert "✗ geen toestemming" in tag_row(html, mo) and "disabled" in tag_row(html, mo)
    assert "? nog niet ingevuld" in tag_row(html, lisa) and "disabled" in tag_row(html, lisa)
    # The group overview shows the same three states.
    text = page_text(client.get(f"/privacy/groep/{school['g3'].id}"))
    assert "Lisa Bakker ? nog niet ingevuld" in text
    assert "Mo Amrani ✗ geen toestemming" in text
    assert "Sem Jansen ✓ toestemming" in text
    # Whatever the page showed, the server refuses a child without consent.
    for child in (mo, lisa):
        response = client.post(f"/groepen/{school['g3'].id}/nieuw", data={
            "groups": [str(school["g3"].id)], "body": "Buiten spelen",
            "files": upload(("a.jpg", photo_bytes())), "tagged": [str(child.id)]},
            content_type="multipart/form-data")
        assert response.status_code == 422
        assert "is er geen toestemming voor foto's in de app" in page_text(response)
    fresh()
    assert db.session.scalar(select(func.count(Post.id))) == 0


def test_the_office_sees_who_answered_and_sends_reminders(client, school):
    sem, lotte, noah = school["sem"], school["lotte"], school["noah"]
    for topic in (school["app"], school["website"]):
        give_consent(noah, topic, True)
        give_consent(sem, topic, True)
    give_consent(lotte, school["app"], True)  # the website question still open
    pending = make_guardian(child=school["lisa"], email="pending@example.org", active=False,
                            password=None)
    db.session.commit()
    sign_in(client, school["admin"])
    assert "/privacy/ronde" in client.get("/privacy/onderwerpen").get_data(as_text=True)
    text = page_text(client.get("/privacy/ronde"))
    assert "Groep 3 1 van 2 beantwoord Herinnering sturen (Groep 3) Nog niet beantwoord (1) "\
        "Lisa Bakker" in text
    assert "Groep 5 1 van 2 beantwoord Herinnering sturen (Groep 5) Nog niet beantwoord (1) "\
        "Lotte Jansen" in text

    # One group: Lisa's mother (Lisa's other guardian has no account yet).
    response = client.post("/privacy/ronde/herinnering", data={"group_id": school["g3"].id})
    assert response.status_code == 303
    assert "Er is 1 herinnering verstuurd." in page_text(client.get("/privacy/ronde"))
    fresh()
    [mail] = db.session.scalars(select(OutboxMail)).all()
    assert mail.recipient == "ilse@example.org"
    assert mail.subject == "Privacyvoorkeuren voor schooljaar 2026-2027: graag uw antwoord"
    assert "nog niet ingevuld voor: Lisa." in mail.body_text
    assert "http://parro.test/privacy/keuzes" in mail.body_text
    assert pending.email not in [m.recipient for m in db.session.scalars(select(OutboxMail))]

    # All groups: one mail per guardian.
    client.post("/privacy/ronde/herinnering", data={})
    fresh()
    recipients = sorted(m.recipient for m in db.session.scalars(select(OutboxMail)))
    assert recipients == ["eva@example.org", "ilse@example.org", "ilse@example.org"]
    eva_mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.recipient == "eva@example.org"))
    assert "nog niet ingevuld voor: Lotte." in eva_mail.body_text

    # A group of another year: said so, nothing sent.
    old = make_group("Groep 8", grade=8, year=SchoolYear(
        school=current_year().school, name="2024-2025", starts_on=date(2024, 8, 1),
        ends_on=date(2025, 7, 31)))
    db.session.commit()
    response = client.post("/privacy/ronde/herinnering", data={"group_id": old.id})
    assert "Deze groep hoort niet bij dit schooljaar." in page_text(
        client.get(response.headers["Location"]))
    response = client.post("/privacy/ronde/herinnering", data={"group_id": "abc"})
    assert "Kies een groep." in page_text(client.get(response.headers["Location"]))
    fresh()
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 3


def test_only_the_office_runs_the_round(client, school):
    for user in (school["eva"], school["teacher"]):
        sign_in(client, user)
        assert client.get("/privacy/ronde").status_code == 403
        assert client.post("/privacy/ronde/herinnering", data={}).status_code == 403
    sign_in(client, school["teacher"])
    assert client.get("/privacy/keuzes").status_code == 403
    fresh()
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0


def test_the_feed_asks_with_one_query_and_only_guardians_with_open_questions(client, school):
    """The redirect costs the feed nothing extra: the card above the posts asked the same."""
    from .helpers import count_queries

    # Eva has answered for both children: her feed is the feed.
    sign_in(client, school["eva"])
    client.post("/privacy/keuzes", data={**choices(school, school["sem"]),
                                         **choices(school, school["lotte"])})
    with count_queries(client.application) as answered:
        assert client.get("/groepen/").status_code == 200
    # A new topic later in the year: one unanswered question is enough to be asked.
    make_consent_topic(name="Foto's in de nieuwsbrief", app_photos=False)
    db.session.commit()
    with count_queries(client.application) as asked:
        response = client.get("/groepen/")
    assert response.headers["Location"] == "/privacy/keuzes?ronde=1"
    assert asked.count < answered.count
    opened = [q for q in asked.statements if "consent" in q.lower()]
    assert len(opened) == 1, opened
    # Older posts (htmx or not) and staff are never sent there.
    assert client.get("/groepen/?voor=1").status_code == 200
    sign_in(client, school["teacher"])
    assert client.get("/groepen/").status_code == 200
