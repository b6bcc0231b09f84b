"""Uitnodigingen: yes / no / maybe with how many; the teacher sees totals and who is missing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import Activity, Answer, Response

from ..factories import make_group, make_guardian, make_invitation, make_student, make_teacher
from ..helpers import login_as, text_of
from .conftest import at


@pytest.fixture
def school(app):
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    noor = make_student(group, first_name="Noor", last_name="Bakker")
    return {
        "group": group, "sem": sem, "noor": noor,
        "teacher": make_teacher(group),
        "eva": make_guardian(child=sem, name="Eva Jansen"),
        "tom": make_guardian(child=sem, name="Tom Jansen"),
        "linda": make_guardian(child=noor, name="Linda Bakker"),
    }


def test_teacher_invites(client, school):
    db.session.commit()
    login_as(client, school["teacher"])
    response = client.post("/activiteiten/nieuw/uitnodiging", data={
        "title": "Paasontbijt", "groups": [str(school["group"].id)], "location": "Aula",
        "event_date": "2027-03-26", "event_start": "08:30", "event_end": "09:30",
        "deadline_date": "2027-03-19", "deadline_time": "23:59",
    })
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    assert (activity.starts_at, activity.ends_at) == (
        at(2027, 3, 26, 8, 30), at(2027, 3, 26, 9, 30))


@pytest.mark.parametrize("overrides, message", [
    ({"event_end": "08:00"}, "De eindtijd moet na de begintijd liggen."),
    ({"deadline_date": "2027-03-27"}, "Ouders moeten vóór het begin kunnen antwoorden."),
    ({"event_date": "2027-02-26", "deadline_date": "2027-02-20"}, "Deze datum is al voorbij."),
    ({"event_date": ""}, "Vul de datum in."),
    ({"event_start": "half negen"}, "Dit is geen tijd. Schrijf bijvoorbeeld 15:30."),
])
def test_bad_invitations_are_refused(client, school, overrides, message):
    db.session.commit()
    login_as(client, school["teacher"])
    data = {"title": "Paasontbijt", "groups": [str(school["group"].id)],
            "event_date": "2027-03-26", "event_start": "08:30", "event_end": "09:30",
            "deadline_date": "2027-03-19", "deadline_time": "23:59"}
    data.update(overrides)
    response = client.post("/activiteiten/nieuw/uitnodiging", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert db.session.scalar(select(func.count(Activity.id))) == 0


def test_families_answer_and_the_teacher_counts(make_client, school):
    activity = make_invitation(school["group"], title="Paasontbijt")
    db.session.commit()
    eva, tom, teacher = make_client(), make_client(), make_client()
    for c, who in ((eva, "eva"), (tom, "tom"), (teacher, "teacher")):
        login_as(c, school[who])
    url = f"/activiteiten/{activity.id}/antwoord"

    page = text_of(teacher.get(f"/activiteiten/{activity.id}"))
    assert "0 van 2 gezinnen hebben geantwoord" in page
    assert "Nog geen antwoord (2) Noor Bakker Sem Jansen" in page

    response = eva.post(url, data={"child_id": school["sem"].id, "answer": "yes", "people": "3"})
    assert response.status_code == 303
    page = text_of(eva.get(response.headers["Location"]))
    assert "Uw antwoord is opgeslagen: U komt, met 3 personen." in page
    # The other guardian of Sem changes the family's answer: still one answer.
    answer = {"child_id": school["sem"].id, "answer": "maybe", "people": "2"}
    assert tom.post(url, data=answer).status_code == 303
    rows = db.session.scalars(select(Response)).all()
    assert [(r.answer, r.people) for r in rows] == [(Answer.MAYBE, 2)]

    page = text_of(teacher.get(f"/activiteiten/{activity.id}"))
    assert "1 van 2 gezinnen hebben geantwoord" in page
    assert "Misschien 1 gezin, 2 personen" in page
    assert "Sem Jansen: misschien, 2 personen" in page
    assert "Nog geen antwoord (1) Noor Bakker" in page

    answer = {"child_id": school["sem"].id, "answer": "no", "people": "2"}
    assert tom.post(url, data=answer).status_code == 303
    db.session.expire_all()
    assert [(r.answer, r.people) for r in db.session.scalars(select(Response))] == [(Answer.NO, 0)]


def test_bad_answers_change_nothing(make_client, school):
    activity = make_invitation(school["group"], deadline=at(2027, 3, 5, 12, 0))
    db.session.commit()
    eva = make_client()
    login_as(eva, school["eva"])
    url = f"/activiteiten/{activity.id}/antwoord"
    # Not your child.
    answer = {"child_id": school["noor"].id, "answer": "yes", "people": "1"}
    assert eva.post(url, data=answer).status_code == 403
    # No answer chosen; coming with nobody; too many.
    for data, message in (
        ({"people": "1"}, "Kies ja, nee of misschien."),
        ({"answer": "yes", "people": "0"}, "Met hoeveel personen komt u? Vul minstens 1 in."),
        ({"answer": "yes", "people": "99"}, "Vul een aantal van 0 tot 20 in."),
    ):
        response = eva.post(url, data={"child_id": school["sem"].id, **data})
        assert response.status_code == 422
        assert message in text_of(response)
    # After the deadline.
    clock.set_now(at(2027, 3, 5, 12, 0))
    login_as(eva, school["eva"])
    response = eva.post(url, data={"child_id": school["sem"].id, "answer": "yes", "people": "1"})
    assert response.status_code == 422
    assert "Aanmelden en wijzigen kon tot vrijdag 5 maart om 12:00." in text_of(response)
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_teacher_changes_place_and_deadline_and_answers_stay(make_client, school):
    activity = make_invitation(school["group"], title="Paasontbijt")
    db.session.add(Response(activity=activity, student=school["sem"], answer=Answer.YES, people=2))
    db.session.commit()
    teacher = make_client()
    login_as(teacher, school["teacher"])
    url = f"/activiteiten/{activity.id}/bewerken"
    form = text_of(teacher.get(url))
    assert "Paasontbijt" in teacher.get(url).get_data(as_text=True)
    assert "Activiteit wijzigen" in form

    response = teacher.post(url, data={
        "title": "Paasontbijt met opa en oma", "description": "Neem een bord mee.",
        "location": "Gymzaal", "deadline_date": "2027-03-15", "deadline_time": "12:00"})
    assert response.status_code == 303
    page = text_of(teacher.get(response.headers["Location"]))
    assert "De wijzigingen zijn opgeslagen." in page
    assert "Paasontbijt met opa en oma" in page and "Gymzaal" in page
    db.session.expire_all()
    assert activity.deadline == at(2027, 3, 15, 12, 0)
    assert db.session.scalar(select(func.count(Response.id))) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"deadline_date": "2027-03-21"}, "Reageren moet sluiten voordat de activiteit begint"),
    ({"deadline_date": "2027-02-20"}, "Deze datum is al voorbij."),
    ({"title": " "}, "Geef de activiteit een titel."),
])
def test_bad_changes_are_refused_and_nothing_changes(make_client, school, overrides, message):
    activity = make_invitation(school["group"], title="Paasontbijt")
    db.session.commit()
    deadline = activity.deadline
    teacher = make_client()
    login_as(teacher, school["teacher"])
    data = {"title": "Anders", "location": "Gymzaal", "deadline_date": "2027-03-15",
            "deadline_time": "12:00"}
    data.update(overrides)
    response = teacher.post(f"/activiteiten/{activity.id}/bewerken", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    db.session.expire_all()
    assert (activity.title, activity.location, activity.deadline) == (
        "Paasontbijt", "Aula", deadline)


def test_parents_cannot_change_an_activity(make_client, school):
    activity = make_invitation(school["group"], title="Paasontbijt")
    db.session.commit()
    eva = make_client()
    login_as(eva, school["eva"])
    assert eva.get(f"/activiteiten/{activity.id}/bewerken").status_code == 403
    response = eva.post(f"/activiteiten/{activity.id}/bewerken", data={
        "title": "Gehackt", "deadline_date": "2027-03-15", "deadline_time": "12:00"})
    assert response.status_code == 403
    assert "Activiteit wijzigen" not in text_of(eva.get(f"/activiteiten/{activity.id}"))
