"""Editing an activity tells the families who already answered (issue 19, point 7), each by
the channel they chose for activities; the rest hear nothing, and nothing changed: no mail."""

from __future__ import annotations

from sqlalchemy import select

from parro.extensions import db
from parro.models import (
    Answer,
    Booking,
    NotificationChoice,
    NotificationItem,
    OutboxMail,
    Pledge,
    Response,
    SignUp,
)

from ..factories import (
    make_conference,
    make_group,
    make_guardian,
    make_invitation,
    make_materials,
    make_student,
    make_teacher,
    make_volunteer,
)
from ..helpers import login_as, text_of
from .conftest import AMS


def _school():
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    noor = make_student(group, first_name="Noor", last_name="Bakker")
    daan = make_student(group, first_name="Daan", last_name="Visser")
    return {
        "group": group, "sem": sem, "noor": noor, "daan": daan,
        "teacher": make_teacher(group, email="juf@example.org"),
        "eva": make_guardian(child=sem, name="Eva Jansen", email="eva@example.org"),
        "tom": make_guardian(child=sem, name="Tom Jansen", email="tom@example.org"),
        "linda": make_guardian(child=noor, name="Linda Bakker", email="linda@example.org"),
        "piet": make_guardian(child=daan, name="Piet Visser", email="piet@example.org"),
    }


def _mails():
    rows = list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.recipient)))
    db.session.commit()
    return rows


def _edit(client, activity, **changes):
    data = {"title": activity.title, "description": activity.description or "",
            "location": activity.location or "", "deadline_date": "2027-03-15",
            "deadline_time": "12:00", **changes}
    return client.post(f"/activiteiten/{activity.id}/bewerken", data=data)


def test_the_families_who_answered_an_invitation_hear_what_changed(app, make_client):
    s = _school()
    activity = make_invitation(s["group"], title="Paasontbijt")
    db.session.add(Response(activity=activity, student=s["sem"], answer=Answer.YES, people=2))
    db.session.add(Response(activity=activity, student=s["noor"], answer=Answer.NO, people=0))
    db.session.add(NotificationChoice(user_id=s["linda"].id, category="activities", mail="digest"))
    db.session.commit()
    teacher = make_client()
    login_as(teacher, s["teacher"])
    response = _edit(teacher, activity, location="Gymzaal", title="Paasontbijt met opa")
    assert response.status_code == 303
    page = text_of(teacher.get(response.headers["Location"]))
    assert "De wijzigingen zijn opgeslagen. 3 ouders die al reageerden krijgen bericht." in page

    mails = _mails()
    # Both of Sem's parents; Linda chose the daily overview; Piet did not answer.
    assert [m.recipient for m in mails] == ["eva@example.org", "tom@example.org"]
    assert mails[0].subject == "Aangepast: Paasontbijt met opa"
    body = mails[0].body_text
    assert "Titel: Paasontbijt met opa (was: Paasontbijt)" in body
    assert "Waar: Gymzaal (was: Aula)" in body
    assert "Reageren kan tot maandag 15 maart om 12:00" in body
    assert "Uw antwoord blijft staan." in body
    [line] = list(db.session.scalars(select(NotificationItem)))
    assert line.user_id == s["linda"].id
    assert line.text == "Paasontbijt met opa: de school heeft de activiteit aangepast"
    db.session.commit()


def test_saving_without_changes_tells_nobody(app, make_client):
    s = _school()
    activity = make_invitation(s["group"], title="Paasontbijt")
    db.session.add(Response(activity=activity, student=s["sem"], answer=Answer.YES, people=2))
    db.session.commit()
    teacher = make_client()
    login_as(teacher, s["teacher"])
    first = _edit(teacher, activity)  # the deadline changes once
    assert first.status_code == 303 and len(_mails()) == 2
    assert "2 ouders die al reageerden" in text_of(teacher.get(first.headers["Location"]))
    again = _edit(teacher, activity)
    assert again.status_code == 303
    assert "krijgen bericht" not in text_of(teacher.get(again.headers["Location"]))
    assert len(_mails()) == 2


def test_volunteers_pledgers_and_booked_families_are_told_in_their_language(app, make_client):
    s = _school()
    s["linda"].locale = "en"
    conference = make_conference(s["group"], title="Oudergesprekken")
    db.session.add(Booking(slot=conference.slots[0], student=s["noor"], booked_by=s["linda"]))
    volunteer = make_volunteer(s["group"], title="Hulp bij de excursie")
    db.session.add(SignUp(shift=volunteer.shifts[0], user=s["piet"]))
    materials = make_materials(s["group"], title="Knutselspullen")
    db.session.add(Pledge(item=materials.items[0], user=s["eva"], quantity=3))
    db.session.commit()
    teacher = make_client()
    login_as(teacher, s["teacher"])
    for activity in (conference, volunteer, materials):
        deadline = activity.deadline.astimezone(AMS)  # unchanged: only the place changes
        response = _edit(teacher, activity, location="Lokaal 12",
                         deadline_date=deadline.strftime("%Y-%m-%d"),
                         deadline_time=deadline.strftime("%H:%M"))
        assert response.status_code == 303, text_of(response)
    mails = {m.recipient: m for m in _mails()}
    assert set(mails) == {"linda@example.org", "piet@example.org", "eva@example.org"}
    assert mails["linda@example.org"].subject == "Changed: Oudergesprekken"
    assert "Where: Lokaal 12" in mails["linda@example.org"].body_text
    assert "Hulp bij de excursie" in mails["piet@example.org"].subject
    assert "Knutselspullen" in mails["eva@example.org"].subject
