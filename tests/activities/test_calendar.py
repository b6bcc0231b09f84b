"""Calendar files and the private subscription URL."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import select

from parro.extensions import db
from parro.models import Answer, Booking, CalendarFeed, Response, SignUp

from ..factories import (
    make_conference,
    make_group,
    make_guardian,
    make_invitation,
    make_student,
    make_teacher,
    make_volunteer,
)
from ..helpers import login_as, logout, text_of
from .conftest import AMS, at


@pytest.fixture
def school(app):
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    noor = make_student(group, first_name="Noor", last_name="Bakker")
    return {
        "group": group, "sem": sem, "noor": noor,
        "teacher": make_teacher(group),
        "eva": make_guardian(child=sem, name="Eva Jansen"),
        "linda": make_guardian(child=noor, name="Linda Bakker"),
    }


def events(body: bytes):
    cal = Calendar.from_ical(body)
    return cal, [c for c in cal.walk("VEVENT")]


def test_a_booking_downloads_as_ics_in_school_time(make_client, school):
    # 1 April 2027 is summer time (UTC+2): the file must say 14:20 local, 12:20 UTC.
    activity = make_conference(school["group"], day=date(2027, 4, 1), title="Oudergesprekken")
    db.session.add(Booking(slot=activity.slots[2], student=school["sem"]))
    db.session.commit()
    eva = make_client()
    login_as(eva, school["eva"])
    booking_id = db.session.scalar(select(Booking.id))

    response = eva.get(f"/activiteiten/boeking/{booking_id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="gesprek-sem.ics"'
    body = response.get_data()
    assert b"DTSTART;TZID=Europe/Amsterdam:20270401T142000" in body
    cal, (event,) = events(body)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert event["SUMMARY"] == "Oudergesprekken: Sem"
    assert event["LOCATION"] == "Lokaal 3"
    start = event.decoded("DTSTART")
    assert start.astimezone(UTC) == datetime(2027, 4, 1, 12, 20, tzinfo=UTC)
    assert event.decoded("DTEND").astimezone(AMS).strftime("%H:%M") == "14:30"
    uid = str(event["UID"])
    assert uid == f"booking-{booking_id}@parro.test"
    assert event["SEQUENCE"] == 0

    # Moved: the same calendar entry (UID), a higher SEQUENCE, the new time.
    eva.post(f"/activiteiten/boeking/{booking_id}/verplaatsen",
             data={"slot_id": activity.slots[4].id})
    _cal, (event,) = events(eva.get(f"/activiteiten/boeking/{booking_id}.ics").get_data())
    assert str(event["UID"]) == uid
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART").astimezone(AMS).strftime("%H:%M") == "14:40"

    # Another family cannot download it.
    linda = make_client()
    login_as(linda, school["linda"])
    assert linda.get(f"/activiteiten/boeking/{booking_id}.ics").status_code == 403


def test_a_shift_and_an_event_download_as_ics(make_client, school):
    volunteer = make_volunteer(school["group"], title="Excursie")
    invitation = make_invitation(school["group"], title="Paasontbijt")
    db.session.add(SignUp(shift=volunteer.shifts[0], user=school["eva"]))
    db.session.commit()
    eva = make_client()
    login_as(eva, school["eva"])
    signup_id = db.session.scalar(select(SignUp.id))
    _cal, (event,) = events(eva.get(f"/activiteiten/aanmelding/{signup_id}.ics").get_data())
    assert event["SUMMARY"] == "Excursie: Begeleiders excursie Naturalis"
    assert event.decoded("DTSTART").astimezone(AMS) == at(2027, 3, 12, 9, 0)
    _cal, (event,) = events(eva.get(f"/activiteiten/{invitation.id}/agenda.ics").get_data())
    assert event["SUMMARY"] == "Paasontbijt"
    assert str(event["UID"]) == f"activity-{invitation.id}@parro.test"


def test_the_private_calendar_url(make_client, school):
    activity = make_conference(school["group"])
    invitation = make_invitation(school["group"], title="Paasontbijt")
    mine = Booking(slot=activity.slots[0], student=school["sem"])
    theirs = Booking(slot=activity.slots[1], student=school["noor"])
    db.session.add_all([mine, theirs])
    db.session.add(
        Response(activity=invitation, student=school["sem"], answer=Answer.YES, people=2))
    db.session.commit()
    mine_id, theirs_id = mine.id, theirs.id
    eva = make_client()
    login_as(eva, school["eva"])

    page = eva.get("/activiteiten/agenda")
    assert "Agenda-link maken" in text_of(page)
    assert eva.post("/activiteiten/agenda").status_code == 303
    html = eva.get("/activiteiten/agenda").get_data(as_text=True)
    url = re.search(r'value="(http://parro.test/activiteiten/agenda/[^"]+\.ics)"', html).group(1)
    assert 'href="webcal://parro.test/activiteiten/agenda/' in html
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = db.session.scalar(select(CalendarFeed))
    # Only its hash is stored.
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (feed.nonce, feed.token_hash)

    # It works without a login, and shows this family's items only.
    stranger = make_client()
    response = stranger.get(url.removeprefix("http://parro.test"))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal, found = events(response.get_data())
    uids = {str(e["UID"]) for e in found}
    assert uids == {f"booking-{mine_id}@parro.test", f"activity-{invitation.id}@parro.test"}
    assert f"booking-{theirs_id}@" not in response.get_data(as_text=True)
    assert str(cal["X-WR-CALNAME"]) == "Basisschool De Test: mijn afspraken"

    # A new link replaces the old one; switching it off kills it.
    assert eva.post("/activiteiten/agenda").status_code == 303
    assert stranger.get(url.removeprefix("http://parro.test")).status_code == 404
    html = eva.get("/activiteiten/agenda").get_data(as_text=True)
    url2 = re.search(r'value="(http://parro.test/activiteiten/agenda/[^"]+\.ics)"', html).group(1)
    assert url2 != url
    assert stranger.get(url2.removeprefix("http://parro.test")).status_code == 200
    assert eva.post("/activiteiten/agenda/intrekken").status_code == 303
    assert stranger.get(url2.removeprefix("http://parro.test")).status_code == 404
    assert db.session.scalar(select(CalendarFeed)) is None


def test_a_disabled_account_has_no_calendar(make_client, school):
    eva = make_client()
    login_as(eva, school["eva"])
    eva.post("/activiteiten/agenda")
    html = eva.get("/activiteiten/agenda").get_data(as_text=True)
    path = re.search(r'value="http://parro.test(/activiteiten/agenda/[^"]+\.ics)"', html).group(1)
    logout(eva)
    assert eva.get(path).status_code == 200
    school["eva"].disabled = True
    db.session.commit()
    assert eva.get(path).status_code == 404


def test_a_teachers_calendar_lists_the_conferences_of_their_groups(make_client, school):
    activity = make_conference(school["group"])
    db.session.add(Booking(slot=activity.slots[0], student=school["sem"]))
    other = make_conference(make_group("Groep 5", grade=5))
    db.session.add(Booking(slot=other.slots[0], student=make_student(other.groups[0])))
    db.session.commit()
    teacher = make_client()
    login_as(teacher, school["teacher"])
    teacher.post("/activiteiten/agenda")
    html = teacher.get("/activiteiten/agenda").get_data(as_text=True)
    path = re.search(r'value="http://parro.test(/activiteiten/agenda/[^"]+\.ics)"', html).group(1)
    _cal, found = events(make_client().get(path).get_data())
    assert [str(e["SUMMARY"]) for e in found] == ["Oudergesprekken: Sem Jansen"]
