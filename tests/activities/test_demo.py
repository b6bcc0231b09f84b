"""The demo school's activities: something to click through for every kind."""

from __future__ import annotations

from sqlalchemy import select

from parro.demo import create_demo
from parro.extensions import db
from parro.models import Activity, Booking, User

from ..helpers import login_as, text_of


def test_the_demo_has_a_round_with_jansens_booking_and_one_of_each_kind(app, make_client):
    create_demo()
    kinds = sorted(a.kind.value for a in db.session.scalars(select(Activity)))
    assert kinds == ["conference", "conference", "invitation", "materials", "volunteer"]
    groep3 = db.session.scalar(select(Activity).where(Activity.title == "Oudergesprekken groep 3"))
    assert len(groep3.slots) == 18 and sum(s.blocked for s in groep3.slots) == 2
    booked = db.session.scalars(select(Booking).where(Booking.activity_id == groep3.id)).all()
    assert len(booked) == 9
    jansen = db.session.scalar(select(User).where(User.email == "ouder.jansen@example.org"))
    assert [b.student.first_name for b in booked if b.booked_by_id == jansen.id] == ["Sem"]

    client = make_client()
    login_as(client, jansen)
    page = text_of(client.get("/activiteiten/"))
    assert "Gesprek voor Sem:" in page
    assert "Plan een gesprek voor Lotte" in page
    groep6 = db.session.scalar(select(Activity).where(Activity.title == "Oudergesprekken groep 6"))
    page = text_of(client.get(f"/activiteiten/{groep6.id}"))
    assert "sluit aan op uw gesprek voor Sem om 14:30" in page
