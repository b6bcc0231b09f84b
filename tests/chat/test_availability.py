"""Availability: working days and hours, chat switched off, the digest at the start of the day."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from parro import clock
from parro.chat.availability import default_availability, next_period_start, period_start
from parro.chat.digest import send_digests, send_notices
from parro.extensions import db
from parro.models import Availability, Message, NotificationChoice, OutboxMail

from ..factories import make_chat, make_message
from ..helpers import login_as, text_of
from .chat_helpers import fresh, fresh_all, kindgesprek

AMS = ZoneInfo("Europe/Amsterdam")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def set_hours(user, weekdays="12345", start="08:00", end="16:30", off=False, message="",
              until=None):
    db.session.merge(
        Availability(user_id=user.id, weekdays=weekdays, starts_at=time.fromisoformat(start),
                     ends_at=time.fromisoformat(end), chat_off=off, off_message=message,
                     off_until=until)
    )
    db.session.commit()


# -- the next working period ------------------------------------------------------------


@pytest.mark.parametrize(
    "moment, expected",
    [
        (at(2026, 11, 17, 7, 0), at(2026, 11, 17, 8, 0)),  # Tuesday early: today
        (at(2026, 11, 17, 10, 0), at(2026, 11, 17, 10, 0)),  # working now
        (at(2026, 11, 17, 16, 30), at(2026, 11, 18, 8, 0)),  # the end is not included
        (at(2026, 11, 20, 17, 0), at(2026, 11, 23, 8, 0)),  # Friday evening: Monday
        (at(2026, 11, 21, 12, 0), at(2026, 11, 23, 8, 0)),  # Saturday
    ],
)
def test_next_working_period_with_the_default_hours(app, moment, expected):
    assert next_period_start(default_availability(), moment) == expected


def test_working_days_and_hours_are_the_teachers_own(app):
    av = default_availability()
    av.weekdays = "45"
    av.starts_at, av.ends_at = time(12, 0), time(15, 0)
    assert next_period_start(av, at(2026, 11, 17, 13, 0)) == at(2026, 11, 19, 12, 0)
    assert period_start(av, at(2026, 11, 19, 13, 0)) == at(2026, 11, 19, 12, 0)
    assert period_start(av, at(2026, 11, 19, 15, 0)) is None


def test_hours_are_the_schools_local_time_also_across_daylight_saving(app):
    av = default_availability()
    # Friday 27 March 2026 17:00 CET; the clocks go forward that Sunday: Monday 8:00 is CEST.
    monday = next_period_start(av, at(2026, 3, 27, 17, 0))
    assert monday == at(2026, 3, 30, 8, 0)
    assert monday.utcoffset().total_seconds() == 2 * 3600


# -- what guardians see --------------------------------------------------------------------


def test_outside_hours_the_guardian_sees_before_sending_when_it_will_be_read(s, client):
    set_hours(s.bram, weekdays="45")  # Bram works Thursday and Friday
    conversation = kindgesprek(s)
    clock.set_now(at(2026, 11, 17, 20, 0))  # Tuesday evening
    login_as(client, s.eva)
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "De leerkrachten zijn nu niet beschikbaar." in page
    assert "Het wordt gelezen vanaf morgen om 08:00." in page
    # A job-sharing pair: each teacher's own availability.
    assert "Anna de Boer : weer beschikbaar morgen om 08:00" in page
    assert "Bram Visser : weer beschikbaar donderdag 19 november om 08:00" in page
    assert "<textarea" in client.get(f"/gesprekken/{conversation.id}").get_data(as_text=True)
    response = client.post(f"/gesprekken/{conversation.id}", data={"body": "Sem is ziek"})
    assert response.status_code == 303  # they can still write


def test_within_hours_there_is_no_warning(s, client):
    set_hours(s.bram, weekdays="45")
    conversation = kindgesprek(s)
    login_as(client, s.eva)  # Tuesday 10:00
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "niet beschikbaar." not in page
    assert "Anna de Boer : nu beschikbaar" in page
    assert "Bram Visser : weer beschikbaar donderdag 19 november om 08:00" in page


def test_a_single_teacher_is_named(s, client):
    chat = make_chat(s.anna, [s.eva])
    db.session.commit()
    clock.set_now(at(2026, 11, 20, 18, 0))  # Friday evening
    login_as(client, s.eva)
    page = text_of(client.get(f"/gesprekken/{chat.id}"))
    assert "Anna de Boer is nu niet beschikbaar." in page
    assert "Het wordt gelezen vanaf maandag 23 november om 08:00." in page


def test_teachers_do_not_see_the_guardians_notice(s, client):
    conversation = kindgesprek(s)
    clock.set_now(at(2026, 11, 17, 20, 0))
    login_as(client, s.anna)
    assert "niet beschikbaar" not in text_of(client.get(f"/gesprekken/{conversation.id}"))


def test_chat_off_shows_the_school_phone_instead_of_a_send_box_and_refuses_posts(s, client):
    set_hours(s.anna, off=True, message="Ik ben met verlof tot de kerstvakantie.")
    set_hours(s.bram, off=True)
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    response = client.get(f"/gesprekken/{conversation.id}")
    page = text_of(response)
    assert "De chat staat uit." in page
    assert "010 000 00 00" in page
    assert 'href="tel:0100000000"' in response.get_data(as_text=True)
    assert "Ik ben met verlof tot de kerstvakantie." in page
    assert "<textarea" not in response.get_data(as_text=True)

    response = client.post(f"/gesprekken/{conversation.id}", data={"body": "Hallo?"})
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert "De leerkracht heeft de chat uitgezet" in page
    response = client.post(
        f"/gesprekken/{conversation.id}", data={"body": "Hallo?"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422 and "De chat staat uit." in text_of(response)
    assert fresh(select(Message.id)) is None

    login_as(client, s.anna)  # staff can still write
    response = client.post(f"/gesprekken/{conversation.id}", data={"body": "Ik ben er even"})
    assert response.status_code == 303


def test_when_one_of_two_teachers_has_chat_off_guardians_can_still_write(s, client):
    set_hours(s.anna, off=True, message="Met verlof.", until=date(2026, 11, 30))
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "Anna de Boer : chat staat uit tot dinsdag 1 december om 08:00 — Met verlof." in page
    assert "Bram Visser : nu beschikbaar" in page
    response = client.post(f"/gesprekken/{conversation.id}", data={"body": "Hoi Bram"})
    assert response.status_code == 303


def test_chat_is_on_again_after_the_last_day_off(s, client):
    set_hours(s.anna, off=True, until=date(2026, 11, 16))
    set_hours(s.bram, off=True, until=date(2026, 11, 16))
    conversation = kindgesprek(s)
    login_as(client, s.eva)  # Tuesday 17 November
    response = client.get(f"/gesprekken/{conversation.id}")
    assert "De chat staat uit." not in text_of(response)
    assert "<textarea" in response.get_data(as_text=True)


# -- the settings page ------------------------------------------------------------------


def test_staff_see_the_default_hours_and_save_their_own(s, client):
    login_as(client, s.bram)
    page = client.get("/gesprekken/beschikbaarheid")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="08:00"' in html and 'value="16:30"' in html
    response = client.post(
        "/gesprekken/beschikbaarheid",
        data={"weekdays": ["4", "5"], "starts_at": "08:15", "ends_at": "14:00",
              "off_message": ""},
    )
    assert response.status_code == 303
    assert "Uw beschikbaarheid is opgeslagen." in text_of(client.get(response.headers["Location"]))
    row = fresh(select(Availability))
    assert (row.user_id, row.weekdays, row.starts_at, row.ends_at, row.chat_off) == (
        s.bram.id, "45", time(8, 15), time(14, 0), False
    )


def test_switching_chat_off_with_a_message_and_a_last_day(s, client):
    login_as(client, s.anna)
    response = client.post(
        "/gesprekken/beschikbaarheid",
        data={"weekdays": ["1", "2", "3", "4", "5"], "starts_at": "08:00", "ends_at": "16:30",
              "chat_off": "y", "off_until": "2026-12-18", "off_message": "Met verlof."},
    )
    assert response.status_code == 303
    row = fresh(select(Availability))
    assert row.chat_off and row.off_until == date(2026, 12, 18) and row.off_message == "Met verlof."


@pytest.mark.parametrize(
    "data, error",
    [
        ({"weekdays": ["1"], "starts_at": "16:00", "ends_at": "08:00"},
         "De eindtijd moet na de begintijd liggen."),
        ({"starts_at": "08:00", "ends_at": "16:00"}, "Kies minstens één werkdag."),
        ({"weekdays": ["1"], "starts_at": "acht uur", "ends_at": "16:00"}, "Vul een begintijd in"),
        ({"weekdays": ["1"], "starts_at": "08:00", "ends_at": "16:00", "chat_off": "y",
          "off_until": "2026-11-01"}, "Deze datum is al voorbij."),
    ],
)
def test_bad_availability_is_refused_with_a_message(s, client, data, error):
    login_as(client, s.anna)
    response = client.post("/gesprekken/beschikbaarheid", data=data)
    assert response.status_code == 422
    assert error in text_of(response)
    assert fresh(select(Availability)) is None


# -- the digest ---------------------------------------------------------------------------


def mails_to(email):
    return fresh_all(select(OutboxMail).where(OutboxMail.recipient == email))


def test_one_digest_at_the_start_of_the_next_working_period_never_twice(s):
    set_hours(s.bram, weekdays="45")
    conversation = kindgesprek(s)
    chat = make_chat(s.anna, [s.eva, s.peter], title="Schoolreis")
    clock.set_now(at(2026, 11, 17, 19, 0))  # Tuesday evening
    make_message(conversation, s.eva, "Sem heeft morgen de tandarts, geheim detail")
    make_message(conversation, s.peter, "Hij wordt om 10 uur opgehaald")
    make_message(chat, s.peter, "Ik kan rijden")
    db.session.commit()

    clock.set_now(at(2026, 11, 17, 19, 5))
    assert send_digests() == 0  # nobody is at work: no mail
    clock.set_now(at(2026, 11, 18, 7, 59))
    assert send_digests() == 0

    clock.set_now(at(2026, 11, 18, 8, 3))  # Wednesday: Anna's day starts, Bram's does not
    assert send_digests() == 1
    assert send_digests() == 0  # idempotent
    [mail] = mails_to("anna@example.org")
    assert mail.subject == "Berichten van buiten uw werktijden"
    assert "Kindgesprek Sem Jansen: 2 berichten van Eva Jansen, Peter Jansen" in mail.body_text
    assert "Schoolreis: 1 bericht van Peter Jansen" in mail.body_text
    assert f"http://parro.test/gesprekken/{conversation.id}" in mail.body_text
    assert "tandarts" not in mail.body_text and "rijden" not in mail.body_text  # privacy
    assert mails_to("bram@example.org") == []

    clock.set_now(at(2026, 11, 19, 8, 0))  # Thursday: Bram
    assert send_digests() == 1
    [mail] = mails_to("bram@example.org")
    assert "Kindgesprek Sem Jansen: 2 berichten" in mail.body_text
    assert "Schoolreis" not in mail.body_text  # not his chat
    assert len(mails_to("anna@example.org")) == 1


def test_what_was_read_or_written_during_working_hours_is_not_in_the_digest(s, client):
    conversation = kindgesprek(s)
    clock.set_now(at(2026, 11, 17, 19, 0))
    make_message(conversation, s.eva, "Vraagje")
    db.session.commit()
    login_as(client, s.anna)
    client.get(f"/gesprekken/{conversation.id}")  # Anna read it at home
    clock.set_now(at(2026, 11, 18, 9, 0))
    make_message(conversation, s.eva, "Tijdens werktijd")  # the day has begun
    db.session.commit()
    assert send_digests() == 1  # Bram only
    assert mails_to("anna@example.org") == []
    [mail] = mails_to("bram@example.org")
    assert "1 bericht van Eva Jansen" in mail.body_text


def test_no_digest_while_chat_is_off(s):
    set_hours(s.anna, off=True)
    set_hours(s.bram, off=True)
    conversation = kindgesprek(s)
    clock.set_now(at(2026, 11, 17, 19, 0))
    make_message(conversation, s.eva, "Hallo")
    db.session.commit()
    clock.set_now(at(2026, 11, 18, 8, 5))
    assert send_digests() == 0


def test_the_digest_command(s, app):
    conversation = kindgesprek(s)
    clock.set_now(at(2026, 11, 17, 19, 0))
    make_message(conversation, s.eva, "Hallo")
    db.session.commit()
    clock.set_now(at(2026, 11, 18, 8, 5))
    result = app.test_cli_runner().invoke(args=["chat", "digest"])
    assert result.exit_code == 0, result.output
    # Digests for Anna and Bram; Peter, the other guardian, has not read Eva's message.
    assert "2 chat digest(s), 1 chat notice(s), 0 daily digest(s) queued" in result.output
    assert len(fresh_all(select(OutboxMail))) == 3


# -- the 15-minute notice -----------------------------------------------------------------


def test_a_message_unread_for_a_quarter_gets_one_email_without_its_text(s, client):
    conversation = kindgesprek(s)
    chat = make_chat(s.anna, [s.eva], title="Schoolreis")
    make_message(conversation, s.anna, "Sem was vandaag heel behulpzaam, geheim")
    make_message(chat, s.anna, "Wie rijdt er mee?")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 10, 14))
    assert send_notices() == 0  # not yet a quarter
    assert mails_to("eva@example.org") == []
    clock.set_now(at(2026, 11, 17, 10, 16))
    assert send_notices() == 3  # Eva, Peter, and Bram who is at work
    assert send_notices() == 0
    [mail] = mails_to("eva@example.org")
    assert mail.subject == "Ongelezen berichten in parro"
    assert "Kindgesprek Sem Jansen: 1 bericht van Anna de Boer" in mail.body_text
    assert "Schoolreis: 1 bericht van Anna de Boer" in mail.body_text
    assert "geheim" not in mail.body_text and "rijdt" not in mail.body_text
    assert len(mails_to("peter@example.org")) == 1


def test_no_second_notice_for_a_conversation_until_it_is_read(s, client):
    conversation = kindgesprek(s)
    make_message(conversation, s.anna, "Een")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 10, 20))
    send_notices()
    make_message(conversation, s.anna, "Twee")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 11, 0))
    send_notices()
    assert len(mails_to("eva@example.org")) == 1  # still unread: no second mail
    login_as(client, s.eva)
    client.get(f"/gesprekken/{conversation.id}")
    make_message(conversation, s.anna, "Drie")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 11, 16))
    send_notices()
    assert len(mails_to("eva@example.org")) == 2


def test_staff_get_notices_only_during_their_hours(s):
    set_hours(s.bram, weekdays="45")
    conversation = kindgesprek(s)
    make_message(conversation, s.eva, "Vraagje")  # Tuesday 10:00
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 10, 20))
    send_notices()
    assert len(mails_to("anna@example.org")) == 1  # at work
    assert mails_to("bram@example.org") == []  # not his day
    assert len(mails_to("peter@example.org")) == 1


def test_members_can_switch_notices_off(s, client):
    login_as(client, s.eva)
    page = client.get("/account/meldingen")
    assert page.status_code == 200
    assert re.search(r'<input checked id="chat-0"[^>]*value="direct"', page.get_data(as_text=True))
    response = client.post("/account/meldingen", data={"chat": "off"})
    assert response.status_code == 303
    chat = select(NotificationChoice).where(NotificationChoice.category == "chat")
    assert fresh(chat).mail == "off"
    conversation = kindgesprek(s)
    make_message(conversation, s.anna, "Hallo")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 10, 30))
    send_notices()
    assert mails_to("eva@example.org") == []
    assert len(mails_to("peter@example.org")) == 1
