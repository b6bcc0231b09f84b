"""Hulpouders: tasks with places; sign up and withdraw until the deadline; full is full."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import Activity, Shift, SignUp

from ..factories import make_group, make_guardian, make_student, make_teacher, make_volunteer
from ..helpers import login_as, text_of
from .conftest import at


@pytest.fixture
def school(app):
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem")
    noor = make_student(group, first_name="Noor")
    return {
        "group": group,
        "teacher": make_teacher(group),
        "eva": make_guardian(child=sem, name="Eva Jansen"),
        "linda": make_guardian(child=noor, name="Linda Bakker"),
    }


def signups():
    return db.session.scalar(select(func.count(SignUp.id)))


def test_teacher_asks_for_volunteers(client, school):
    db.session.commit()
    login_as(client, school["teacher"])
    response = client.post("/activiteiten/nieuw/hulpouders", data={
        "title": "Excursie Naturalis", "groups": [str(school["group"].id)],
        "description": "We gaan met de bus.", "location": "Leiden",
        "shifts-0-title": "Begeleiders", "shifts-0-date": "2027-03-12",
        "shifts-0-start": "08:30", "shifts-0-end": "15:00", "shifts-0-places": "4",
        "shifts-1-title": "Koffie zetten", "shifts-1-places": "1",
        "deadline_date": "2027-03-10", "deadline_time": "12:00",
    })
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    assert [(s.title, s.places, s.taken) for s in activity.shifts] == [
        ("Begeleiders", 4, 0), ("Koffie zetten", 1, 0)]
    assert activity.shifts[0].starts_at == at(2027, 3, 12, 8, 30)
    assert activity.shifts[1].starts_at is None


@pytest.mark.parametrize("overrides, message", [
    ({"shifts-0-places": ""}, "Vul in hoeveel ouders u zoekt."),
    ({"shifts-0-places": "0"}, "Kies 1 tot 200 plaatsen."),
    ({"shifts-0-title": ""}, "Vul in wat de taak is."),
    ({"shifts-0-title": "", "shifts-0-places": ""}, "Vul minstens één taak in."),
    ({"shifts-0-date": "2027-03-12"}, "Vul de begintijd in, of laat de datum leeg."),
    ({"shifts-0-start": "09:00"}, "Vul ook de datum in."),
    ({"deadline_date": "2027-02-01"}, "Deze datum is al voorbij."),
])
def test_bad_volunteer_calls_are_refused(client, school, overrides, message):
    db.session.commit()
    login_as(client, school["teacher"])
    data = {"title": "Excursie", "groups": [str(school["group"].id)],
            "shifts-0-title": "Begeleiders", "shifts-0-places": "4",
            "deadline_date": "2027-03-10", "deadline_time": "12:00"}
    data.update(overrides)
    response = client.post("/activiteiten/nieuw/hulpouders", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert db.session.scalar(select(func.count(Activity.id))) == 0


def test_guardian_signs_up_and_withdraws(make_client, school):
    activity = make_volunteer(school["group"], shifts=(("Begeleiders Naturalis", 2),))
    db.session.commit()
    eva, teacher = make_client(), make_client()
    login_as(eva, school["eva"])
    login_as(teacher, school["teacher"])
    shift = activity.shifts[0]

    assert "nog 2 van 2 plaatsen vrij" in text_of(eva.get(f"/activiteiten/{activity.id}"))
    response = eva.post(f"/activiteiten/taak/{shift.id}/aanmelden")
    assert response.status_code == 303
    page = text_of(eva.get(response.headers["Location"]))
    assert "U staat ingeschreven voor ‘Begeleiders Naturalis’" in page
    assert "nog 1 van 2 plaatsen vrij" in page
    assert "U helpt mee" in page

    # Twice is once.
    response = eva.post(f"/activiteiten/taak/{shift.id}/aanmelden")
    assert response.status_code == 422
    assert "U staat al ingeschreven voor deze taak." in text_of(response)
    assert signups() == 1

    # The teacher sees who; another guardian does not.
    assert "Aangemeld: Eva Jansen" in text_of(teacher.get(f"/activiteiten/{activity.id}"))
    linda = make_client()
    login_as(linda, school["linda"])
    assert "Eva Jansen" not in text_of(linda.get(f"/activiteiten/{activity.id}"))

    signup = db.session.scalar(select(SignUp))
    response = eva.post(f"/activiteiten/aanmelding/{signup.id}/afmelden")
    assert response.status_code == 303
    assert signups() == 0
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).taken == 0


def test_full_is_full(make_client, school):
    activity = make_volunteer(school["group"], shifts=(("Koffie zetten", 1),))
    db.session.commit()
    eva, linda = make_client(), make_client()
    login_as(eva, school["eva"])
    login_as(linda, school["linda"])
    shift_id = activity.shifts[0].id
    assert eva.post(f"/activiteiten/taak/{shift_id}/aanmelden").status_code == 303
    page = text_of(linda.get(f"/activiteiten/{activity.id}"))
    assert "vol" in page and "Ik help mee" not in page
    response = linda.post(f"/activiteiten/taak/{shift_id}/aanmelden")
    assert response.status_code == 422
    assert "Deze taak is helaas al vol." in text_of(response)
    assert signups() == 1


def test_after_the_deadline_nobody_signs_up_or_withdraws(make_client, school):
    activity = make_volunteer(school["group"], deadline=at(2027, 3, 1, 12, 0))
    db.session.commit()
    eva = make_client()
    login_as(eva, school["eva"])
    shift_id = activity.shifts[0].id
    assert eva.post(f"/activiteiten/taak/{shift_id}/aanmelden").status_code == 303
    clock.set_now(at(2027, 3, 1, 12, 0))
    login_as(eva, school["eva"])
    response = eva.post(f"/activiteiten/taak/{shift_id}/aanmelden")
    assert response.status_code == 422
    assert "Aanmelden en wijzigen kon tot" in text_of(response)
    signup_id = db.session.scalar(select(SignUp.id))
    response = eva.post(f"/activiteiten/aanmelding/{signup_id}/afmelden")
    assert response.status_code == 422
    assert "Aanmelden en wijzigen kon tot maandag 1 maart om 12:00." in text_of(response)
    assert signups() == 1


def test_teachers_do_not_sign_up_and_strangers_do_not_withdraw(make_client, school):
    activity = make_volunteer(school["group"])
    other = make_guardian(child=make_student(make_group("Groep 5", grade=5)))
    db.session.commit()
    teacher, eva, stranger = make_client(), make_client(), make_client()
    login_as(teacher, school["teacher"])
    login_as(eva, school["eva"])
    login_as(stranger, other)
    shift_id = activity.shifts[0].id
    assert teacher.post(f"/activiteiten/taak/{shift_id}/aanmelden").status_code == 403
    assert stranger.post(f"/activiteiten/taak/{shift_id}/aanmelden").status_code == 403
    assert eva.post(f"/activiteiten/taak/{shift_id}/aanmelden").status_code == 303
    signup_id = db.session.scalar(select(SignUp.id))
    linda = make_client()
    login_as(linda, school["linda"])
    assert linda.post(f"/activiteiten/aanmelding/{signup_id}/afmelden").status_code == 403
    assert signups() == 1


def test_ten_guardians_for_four_places_at_once(app, make_client, school):
    """The conditional UPDATE of the counter lets exactly four in, whatever the timing."""
    activity = make_volunteer(school["group"], shifts=(("Begeleiders Naturalis", 4),))
    guardians = [make_guardian(child=make_student(school["group"])) for _ in range(10)]
    db.session.commit()
    clients = []
    for guardian in guardians:
        c = make_client()
        login_as(c, guardian)
        clients.append(c)
    url = f"/activiteiten/taak/{activity.shifts[0].id}/aanmelden"
    shift_id = activity.shifts[0].id
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def attempt(i):
        barrier.wait()
        r = clients[i].post(url)
        results[i] = (r.status_code, text_of(r))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _t in results) == [303] * 4 + [422] * 6, results
    assert all("Deze taak is helaas al vol." in t for s, t in results if s == 422)
    db.session.expire_all()
    assert db.session.get(Shift, shift_id).taken == 4
    assert signups() == 4


def test_the_database_never_holds_more_than_the_places(app, school):
    from sqlalchemy.exc import IntegrityError

    activity = make_volunteer(school["group"], shifts=(("Koffie", 1),))
    db.session.commit()
    activity.shifts[0].taken = 2
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

