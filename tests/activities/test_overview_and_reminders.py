"""The Activiteiten overview, the feed function, and the reminder command."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from parro import clock
from parro.activities import activities_for_feed
from parro.extensions import db
from parro.models import ActivityReminder, Answer, Booking, OutboxMail, Response, SignUp

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
from .conftest import at


@pytest.fixture
def school(app):
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    noor = make_student(group, first_name="Noor", last_name="Bakker")
    return {
        "group": group, "sem": sem, "noor": noor,
        "teacher": make_teacher(group, name="Anna de Boer"),
        "eva": make_guardian(child=sem, name="Eva Jansen", email="eva@example.org"),
        "tom": make_guardian(child=sem, name="Tom Jansen", email="tom@example.org"),
        "linda": make_guardian(child=noor, name="Linda Bakker", email="linda@example.org"),
    }


# -- overview ------------------------------------------------------------------------------


def test_a_guardian_sees_what_is_open_and_what_they_signed_up_for(make_client, school):
    conference = make_conference(school["group"], title="Oudergesprekken maart")
    invitation = make_invitation(school["group"], title="Paasontbijt")
    volunteer = make_volunteer(school["group"], title="Excursie Naturalis")
    make_materials(school["group"], title="Knutselspullen")
    make_invitation(school["group"], title="Al gesloten", deadline=at(2027, 2, 28, 12, 0))
    make_conference(school["group"], title="Later open", opens_at=at(2027, 3, 3, 19, 0))
    other = make_group("Groep 5", grade=5)
    make_invitation(other, title="Voor groep 5")
    db.session.commit()
    eva = make_client()
    login_as(eva, school["eva"])

    page = text_of(eva.get("/activiteiten/"))
    open_part, mine_part = page.split("Waar u zich voor heeft opgegeven")
    assert "Oudergesprekken maart Oudergesprekken Plan een gesprek voor Sem" in open_part
    assert "Paasontbijt Uitnodiging Laat weten of u komt" in open_part
    assert "Excursie Naturalis Hulpouders gezocht Er zijn nog plaatsen vrij" in open_part
    assert "Knutselspullen Spullen gevraagd Er is nog iets nodig" in open_part
    assert "Later open Oudergesprekken Inschrijven kan vanaf woensdag 3 maart om 19:00" in open_part
    assert "Al gesloten" not in page and "Voor groep 5" not in page
    assert "U heeft zich nog nergens voor opgegeven." in mine_part

    db.session.add(Booking(slot=conference.slots[1], student=school["sem"]))
    db.session.add(
        Response(activity=invitation, student=school["sem"], answer=Answer.YES, people=3))
    db.session.add(SignUp(shift=volunteer.shifts[0], user=school["eva"]))
    db.session.commit()
    html = eva.get("/activiteiten/").get_data(as_text=True)
    page = text_of(eva.get("/activiteiten/"))
    open_part, mine_part = page.split("Waar u zich voor heeft opgegeven")
    assert "Oudergesprekken maart" not in open_part and "Paasontbijt" not in open_part
    assert "Gesprek voor Sem: woensdag 10 maart om 14:10" in mine_part
    assert "U helpt mee: Begeleiders excursie Naturalis" in mine_part
    assert "U komt, met 3 personen Paasontbijt" in mine_part
    booking_id = db.session.scalar(select(Booking.id))
    assert f'href="/activiteiten/boeking/{booking_id}.ics"' in html


def test_a_teacher_sees_their_activities_with_response_rates(make_client, school):
    conference = make_conference(school["group"], title="Oudergesprekken maart")
    make_volunteer(school["group"], title="Excursie", shifts=(("Begeleiders", 4),))
    make_invitation(make_group("Groep 5", grade=5), title="Niet van mij")
    db.session.add(Booking(slot=conference.slots[0], student=school["sem"]))
    db.session.commit()
    teacher = make_client()
    login_as(teacher, school["teacher"])
    page = text_of(teacher.get("/activiteiten/"))
    assert "Nieuwe activiteit" in page
    assert "Oudergesprekken maart Oudergesprekken Groep 3 · tot maandag 8 maart om 23:59" in page
    assert "1 van 2 kinderen ingeschreven" in page
    assert "0 van 4 plaatsen gevuld" in page
    assert "Niet van mij" not in page


def test_the_feed_function_lists_new_activities_of_the_groups(app, school):
    first = make_invitation(school["group"], title="Eerst")
    clock.set_now(at(2027, 3, 1, 10, 0))
    second = make_volunteer(school["group"], title="Daarna")
    make_invitation(make_group("Groep 5", grade=5), title="Elders")
    db.session.commit()
    assert activities_for_feed({school["group"].id}) == [second, first]
    assert activities_for_feed({school["group"].id}, not_after=first.created_at) == [first]
    assert activities_for_feed({school["group"].id}, newer_than=first.created_at) == [second]
    assert activities_for_feed(set()) == []
    from flask import render_template

    with app.test_request_context():
        html = render_template("activities/_feed_item.html", activity=second)
    assert "Daarna" in html and f"/activiteiten/{second.id}" in html


# -- reminders -------------------------------------------------------------------------------


def remind(app):
    db.session.commit()  # the command runs in its own session
    result = app.test_cli_runner().invoke(args=["activities", "remind"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def mails():
    return sorted(
        (m.recipient, m.subject) for m in db.session.scalars(select(OutboxMail))
    )


def test_guardians_who_have_not_booked_get_one_reminder_before_the_deadline(app, school):
    activity = make_conference(school["group"], title="Oudergesprekken")  # deadline 8 March 23:59
    db.session.add(Booking(slot=activity.slots[0], student=school["sem"]))
    make_guardian(child=school["noor"], email="nog.niet.actief@example.org", active=False)
    db.session.commit()

    clock.set_now(at(2027, 3, 5, 7, 0))  # three days before: not yet
    assert "0 deadline reminders" in remind(app)
    assert mails() == []

    clock.set_now(at(2027, 3, 6, 7, 0))  # two days before (ACTIVITIES_REMIND_DAYS)
    assert "1 deadline reminders" in remind(app)
    assert mails() == [("linda@example.org", "Herinnering: Oudergesprekken")]
    body = db.session.scalar(select(OutboxMail.body_text))
    assert "U heeft nog geen tijd gekozen voor ‘Oudergesprekken’ voor Noor." in body
    assert "Inschrijven kan tot maandag 8 maart om 23:59." in body
    assert f"http://parro.test/activiteiten/{activity.id}" in body

    # Again, and the next day: never twice.
    assert "0 deadline reminders" in remind(app)
    clock.set_now(at(2027, 3, 8, 7, 0))
    assert "0 deadline reminders" in remind(app)
    assert len(mails()) == 1
    assert db.session.scalar(select(ActivityReminder.kind)) == "deadline"
    # After the deadline nobody is reminded of it any more.
    db.session.query(ActivityReminder).delete()
    clock.set_now(at(2027, 3, 9, 7, 0))
    assert "0 deadline reminders" in remind(app)


def test_the_reminder_day_is_configurable(make_app, school):
    make_invitation(school["group"], title="Paasontbijt")  # deadline 8 March 23:59
    db.session.commit()
    early = make_app(ACTIVITIES_REMIND_DAYS=5)
    for day, expected in ((2, "0 deadline reminders"), (3, "3 deadline reminders")):
        clock.set_now(at(2027, 3, day, 7, 0))
        with early.app_context():
            result = early.test_cli_runner().invoke(args=["activities", "remind"])
        assert expected in result.output  # Eva, Tom and Linda: nobody answered
    body = db.session.scalar(
        select(OutboxMail.body_text).where(OutboxMail.recipient == "eva@example.org"))
    assert "U heeft nog niet laten weten of u komt naar ‘Paasontbijt’ (Sem)." in body


def test_booked_guardians_get_a_reminder_the_day_before(app, school):
    activity = make_conference(school["group"], title="Oudergesprekken")  # Wednesday 10 March
    db.session.add(Booking(slot=activity.slots[2], student=school["sem"]))
    make_volunteer(school["group"])  # volunteer calls send no reminders
    db.session.commit()
    clock.set_now(at(2027, 3, 9, 7, 0))
    assert "2 day-before reminders" in remind(app)
    assert mails() == [("eva@example.org", "Morgen: Oudergesprekken"),
                       ("tom@example.org", "Morgen: Oudergesprekken")]
    body = db.session.scalar(select(OutboxMail.body_text))
    assert "- Sem: woensdag 10 maart om 14:20–14:30" in body
    assert "Waar: Lokaal 3" in body
    assert "0 day-before reminders" in remind(app)
    clock.set_now(at(2027, 3, 10, 7, 0))
    assert "0 day-before reminders" in remind(app)
    assert len(mails()) == 2


def test_a_new_activity_shows_in_the_feed_of_its_groups_only(app, school, make_client):
    from tests.factories import make_guardian, make_post, make_student
    from tests.helpers import login_as, text_of

    other_group = make_group("Groep 5", grade=5)
    make_post(school["group"], title="Bericht van vorige week", publish_at=at(2027, 2, 22, 9, 0))
    clock.set_now(at(2027, 3, 1, 10, 0))
    make_volunteer(school["group"], title="Hulpouders gezocht voor de excursie")
    outsider = make_guardian(child=make_student(other_group))
    db.session.commit()
    insider, other = make_client(), make_client()
    login_as(insider, school["eva"])
    login_as(other, outsider)
    page = text_of(insider.get("/groepen/"))
    assert "Hulpouders gezocht voor de excursie" in page
    assert page.index("Hulpouders gezocht") < page.index("Bericht van vorige week")  # newest first
    assert "Hulpouders gezocht" not in text_of(other.get("/groepen/"))
