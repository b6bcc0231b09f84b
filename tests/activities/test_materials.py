"""Spullen: items with a number needed; guardians pledge; never more than needed."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from parro.extensions import db
from parro.models import Activity, Item, Pledge

from ..factories import make_group, make_guardian, make_materials, make_student, make_teacher
from ..helpers import login_as, text_of


@pytest.fixture
def school(app):
    group = make_group("Groep 3", grade=3)
    return {
        "group": group,
        "teacher": make_teacher(group),
        "eva": make_guardian(child=make_student(group, first_name="Sem"), name="Eva Jansen"),
        "linda": make_guardian(child=make_student(group, first_name="Noor"), name="Linda Bakker"),
    }


def pledged(item_id):
    db.session.expire_all()
    item = db.session.get(Item, item_id)
    return item.pledged, sum(p.quantity for p in item.pledges)


def test_teacher_asks_for_things(client, school):
    db.session.commit()
    login_as(client, school["teacher"])
    response = client.post("/activiteiten/nieuw/spullen", data={
        "title": "Knutselen voor Pasen", "groups": [str(school["group"].id)],
        "items-0-name": "lege wc-rollen", "items-0-needed": "10",
        "items-1-name": "", "items-1-needed": "",  # a browser sends empty rows too
        "items-2-name": "eierdozen", "items-2-needed": "4",
        "deadline_date": "2027-03-10", "deadline_time": "12:00",
    })
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    assert [(i.name, i.needed) for i in activity.items] == [
        ("lege wc-rollen", 10), ("eierdozen", 4)]


@pytest.mark.parametrize("overrides, message", [
    ({"items-0-needed": ""}, "Vul in hoeveel er nodig is."),
    ({"items-0-needed": "-3"}, "Kies 1 tot 1000."),
    ({"items-0-needed": "veel"}, "Vul een heel getal in."),
    ({"items-0-name": ""}, "Vul in wat er nodig is."),
    ({"items-0-name": "", "items-0-needed": ""}, "Vul minstens één ding in."),
])
def test_bad_lists_are_refused(client, school, overrides, message):
    db.session.commit()
    login_as(client, school["teacher"])
    data = {"title": "Knutselen", "groups": [str(school["group"].id)],
            "items-0-name": "lege wc-rollen", "items-0-needed": "10",
            "deadline_date": "2027-03-10", "deadline_time": "12:00"}
    data.update(overrides)
    response = client.post("/activiteiten/nieuw/spullen", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert db.session.scalar(select(func.count(Activity.id))) == 0


def test_guardians_pledge_change_and_take_back(make_client, school):
    activity = make_materials(school["group"], items=(("lege wc-rollen", 10),))
    db.session.commit()
    eva, teacher = make_client(), make_client()
    login_as(eva, school["eva"])
    login_as(teacher, school["teacher"])
    item_id = activity.items[0].id
    url = f"/activiteiten/spullen/{item_id}"

    response = eva.post(url, data={"quantity": "3"})
    assert response.status_code == 303
    page = text_of(eva.get(response.headers["Location"]))
    assert "U neemt 3 × lege wc-rollen mee." in page
    assert "nog 7 nodig van 10" in page
    assert pledged(item_id) == (3, 3)

    assert eva.post(url, data={"quantity": "5"}).status_code == 303
    assert pledged(item_id) == (5, 5)
    assert "Toegezegd: Eva Jansen (5)" in text_of(teacher.get(f"/activiteiten/{activity.id}"))

    assert eva.post(url, data={"quantity": "0"}).status_code == 303
    assert pledged(item_id) == (0, 0)
    assert db.session.scalar(select(func.count(Pledge.id))) == 0


def test_pledging_more_than_needed_is_refused(make_client, school):
    activity = make_materials(school["group"], items=(("lege wc-rollen", 10),))
    db.session.commit()
    eva, linda = make_client(), make_client()
    login_as(eva, school["eva"])
    login_as(linda, school["linda"])
    url = f"/activiteiten/spullen/{activity.items[0].id}"

    response = eva.post(url, data={"quantity": "11"})
    assert response.status_code == 422
    assert "Er zijn nog 10 lege wc-rollen nodig; meer toezeggen kan niet." in text_of(response)
    assert pledged(activity.items[0].id) == (0, 0)

    assert eva.post(url, data={"quantity": "9"}).status_code == 303
    response = linda.post(url, data={"quantity": "2"})
    assert response.status_code == 422
    assert "Er is nog 1 lege wc-rollen nodig" in text_of(response)
    # Eva may raise her own pledge to what is left plus what she has.
    assert eva.post(url, data={"quantity": "10"}).status_code == 303
    response = linda.post(url, data={"quantity": "1"})
    assert "Van lege wc-rollen is al genoeg toegezegd. Dank u wel!" in text_of(response)
    assert pledged(activity.items[0].id) == (10, 10)

    for bad, message in (("-1", "Vul een aantal van 0 tot 1000 in."), ("", "Vul een aantal in")):
        response = eva.post(url, data={"quantity": bad})
        assert response.status_code == 422
        assert message in text_of(response)
    assert pledged(activity.items[0].id) == (10, 10)


def test_teachers_and_strangers_do_not_pledge(make_client, school):
    activity = make_materials(school["group"])
    stranger = make_guardian(child=make_student(make_group("Groep 5", grade=5)))
    db.session.commit()
    teacher, other = make_client(), make_client()
    login_as(teacher, school["teacher"])
    login_as(other, stranger)
    url = f"/activiteiten/spullen/{activity.items[0].id}"
    assert teacher.post(url, data={"quantity": "1"}).status_code == 403
    assert other.post(url, data={"quantity": "1"}).status_code == 403
    assert pledged(activity.items[0].id) == (0, 0)


def test_ten_guardians_pledging_the_last_ones_at_once(app, make_client, school):
    activity = make_materials(school["group"], items=(("eierdozen", 10),))
    guardians = [make_guardian(child=make_student(school["group"])) for _ in range(10)]
    db.session.commit()
    clients = []
    for guardian in guardians:
        c = make_client()
        login_as(c, guardian)
        clients.append(c)
    item_id = activity.items[0].id
    url = f"/activiteiten/spullen/{item_id}"
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def attempt(i):
        barrier.wait()
        r = clients[i].post(url, data={"quantity": "3"})
        results[i] = r.status_code

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 3 + 3 + 3 = 9; a fourth would make 12.
    assert sorted(results) == [303] * 3 + [422] * 7
    assert pledged(item_id) == (9, 9)


def test_the_database_never_holds_more_than_needed(app, school):
    from sqlalchemy.exc import IntegrityError

    activity = make_materials(school["group"], items=(("eierdozen", 4),))
    db.session.commit()
    activity.items[0].pledged = 5
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
