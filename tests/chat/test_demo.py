"""The demo school has kindgesprekken with history, a teacher's chat, and someone unavailable."""

from __future__ import annotations

from sqlalchemy import select

from parro import clock
from parro.demo import create_demo
from parro.extensions import db
from parro.models import User

from ..helpers import login_as, text_of
from .chat_helpers import TUESDAY_10


def test_demo_school_has_chats_for_ouder_jansen_and_the_groep_3_teachers(app, client):
    clock.set_now(TUESDAY_10)
    create_demo()
    jansen = db.session.scalar(select(User).where(User.email == "ouder.jansen@example.org"))
    anna = db.session.scalar(select(User).where(User.email == "juf.anna@example.org"))
    db.session.commit()

    login_as(client, jansen)
    page = text_of(client.get("/gesprekken/"))
    assert "Kindgesprek Sem Jansen" in page and "Kindgesprek Lotte Jansen" in page
    assert "Schoolreis groep 3: rijders gezocht 1 ongelezen" in page
    lotte = client.get("/gesprekken/kind/" + str(_student_id("Lotte")))
    page = text_of(client.get(lotte.headers["Location"]))
    assert "chat staat uit — Ik ben met zwangerschapsverlof." in page

    login_as(client, anna)
    page = text_of(client.get("/gesprekken/"))
    assert "Gesprekken 1 ongelezen bericht" in page  # Eva's question about the dentist
    assert "Kindgesprek Sem Jansen 1 ongelezen" in page


def _student_id(first):
    from parro.models import Student

    value = db.session.scalar(select(Student.id).where(Student.first_name == first,
                                                       Student.last_name == "Jansen"))
    db.session.commit()
    return value
