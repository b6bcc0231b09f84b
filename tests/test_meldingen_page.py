"""Mijn account → Meldingen: push and mail per category, quiet hours, staff working hours."""

from __future__ import annotations

import re
from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from parro import clock, notifications
from parro.extensions import db
from parro.models import Availability, NotificationChoice, NotificationSetting

from .factories import make_group, make_guardian, make_student, make_teacher
from .helpers import login_as, text_of

AMS = ZoneInfo("Europe/Amsterdam")
PAGE = "/account/meldingen"
EVERYTHING = {  # what a guardian's browser sends with nothing changed
    "group_posts": "digest", "important_posts_push": "y", "important_posts": "direct",
    "chat_push": "y", "chat": "direct", "activities": "direct", "absence": "direct",
    "quiet": "y", "quiet_from": "21:00", "quiet_until": "07:00", "digest_time": "18:00",
}


@pytest.fixture
def s(app):
    db.session().expire_on_commit = False
    clock.set_now(datetime(2026, 11, 17, 10, 0, tzinfo=AMS))
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    ns = SimpleNamespace(
        eva=make_guardian(child=sem, name="Eva Jansen", email="eva@example.org"),
        anna=make_teacher(group, name="Anna de Boer", email="anna@example.org"),
    )
    db.session.commit()
    return ns


def channels(user):
    db.session.expire_all()
    return {key: (c.push, c.mail) for key, c in notifications.choices_of(user).items()}


def nothing_stored():
    return db.session.scalar(select(NotificationChoice)) is None and \
        db.session.scalar(select(NotificationSetting)) is None


def test_a_guardian_sees_push_and_mail_for_every_category_with_the_defaults(s, client):
    login_as(client, s.eva)
    response = client.get(PAGE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Meldingen</h1>" in page
    for key, label in [("group_posts", "Berichten in de groep"),
                       ("important_posts", "Belangrijke berichten"),
                       ("chat", "Chatberichten"), ("activities", "Activiteiten"),
                       ("absence", "Bevestiging van een absentiemelding")]:
        assert f"<legend>{label}</legend>" in page
        assert f'name="{key}_push" type="checkbox"' in page
        for mode in ("direct", "digest", "off"):
            assert f'name="{key}" type="radio" value="{mode}"' in page
    # Defaults: push for chats and important posts, group posts in the digest.
    assert re.search(r'<input checked id="chat_push"', page)
    assert re.search(r'<input checked id="important_posts_push"', page)
    assert not re.search(r'<input checked id="group_posts_push"', page)
    assert re.search(r'<input checked id="group_posts-1"[^>]*value="digest"', page)
    assert re.search(r'<input checked id="quiet"', page)
    assert '<option selected value="21:00">' in page and '<option selected value="07:00">' in page
    assert "Werktijden" not in page
    # A plain form: it works without JavaScript.
    assert '<form method="post" class="card notification-settings"' in page
    assert "data-hx-" not in page.split('<form method="post" class="card notification')[1]


def test_a_guardian_saves_push_and_mail_in_every_category(s, client):
    login_as(client, s.eva)
    response = client.post(PAGE, data={
        "group_posts_push": "y", "group_posts": "direct",   # both
        "important_posts_push": "y", "important_posts": "off",  # push alone
        "chat": "digest",                                     # mail alone
        "activities_push": "y", "activities": "digest",
        "absence": "off",                                     # nothing
        "quiet": "y", "quiet_from": "22:30", "quiet_until": "06:00", "digest_time": "07:00",
    })
    assert response.status_code == 303
    assert channels(s.eva) == {
        "group_posts": (True, "direct"), "important_posts": (True, "off"),
        "chat": (False, "digest"), "activities": (True, "digest"), "absence": (False, "off")}
    setting = notifications.setting_of(s.eva)
    assert (setting.quiet, setting.quiet_from, setting.quiet_until, setting.digest_time) == \
        (True, time(22, 30), time(6, 0), time(7, 0))
    db.session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "Uw keuzes voor meldingen zijn opgeslagen." in page
    assert re.search(r'<input checked id="group_posts_push"', page)
    assert not re.search(r'<input checked id="chat_push"', page)
    assert '<option selected value="22:30">' in page


def test_quiet_hours_can_be_switched_off(s, client):
    login_as(client, s.eva)
    data = {**EVERYTHING}
    del data["quiet"]
    assert client.post(PAGE, data=data).status_code == 303
    db.session.expire_all()
    assert notifications.setting_of(s.eva).quiet is False
    from parro import push_hours

    assert push_hours.quiet_hours_of(s.eva) is None


def test_important_posts_need_at_least_one_channel(s, client):
    login_as(client, s.eva)
    data = {**EVERYTHING, "important_posts": "off"}
    del data["important_posts_push"]
    response = client.post(PAGE, data=data)
    assert response.status_code == 422
    assert "Belangrijke berichten moeten u op minstens één manier bereiken: zet de pushmelding " \
        "aan of kies direct of dagelijks overzicht." in text_of(response)
    assert nothing_stored()
    # The same choice by another way than the form: refused too.
    with pytest.raises(ValueError):
        notifications.save(s.eva, {"important_posts": (False, "off")})
    db.session.rollback()


@pytest.mark.parametrize("forged", [
    {"chat_push": "ja"},
    {"chat_push": ["y", "y"]},
    {"chat": "sms"},
    {"chat": ""},
    {"important_posts": "nooit"},
    {"quiet": "1"},
    {"quiet_from": "25:00"},
    {"quiet_until": "06:15"},
    {"digest_time": "03:00"},
])
def test_forged_channel_values_are_refused_and_change_nothing(s, client, forged):
    login_as(client, s.eva)
    response = client.post(PAGE, data={**EVERYTHING, "group_posts": "off", **forged})
    assert response.status_code == 422
    assert "Kies een van de mogelijkheden." in text_of(response)
    assert nothing_stored()


def test_a_forged_category_is_ignored(s, client):
    login_as(client, s.eva)
    response = client.post(PAGE, data={**EVERYTHING, "secret": "direct", "secret_push": "y",
                                       "group_posts": "off"})
    assert response.status_code == 303
    rows = db.session.scalars(select(NotificationChoice.category)).all()
    assert sorted(rows) == ["absence", "activities", "chat", "group_posts", "important_posts"]


def test_quiet_hours_that_end_when_they_begin_are_refused(s, client):
    login_as(client, s.eva)
    response = client.post(PAGE, data={**EVERYTHING, "quiet_from": "07:00"})
    assert response.status_code == 422
    assert "De stille uren moeten eindigen op een andere tijd dan ze beginnen." in \
        text_of(response)
    assert nothing_stored()


def test_staff_choose_chat_and_see_their_working_hours_for_push(s, client):
    db.session.add(Availability(user_id=s.anna.id, weekdays="124", starts_at=time(8, 15),
                                ends_at=time(15, 0), chat_off=False, off_message=""))
    db.session.commit()
    login_as(client, s.anna)
    page = client.get(PAGE).get_data(as_text=True)
    assert "<legend>Chatberichten</legend>" in page
    assert "Belangrijke berichten" not in page and 'name="quiet"' not in page
    text = " ".join(page.split())
    assert "U krijgt pushmeldingen alleen binnen uw werktijden: <strong>ma, di, do 08:15–15:00" \
        "</strong>" in text
    assert 'href="/gesprekken/beschikbaarheid"' in page
    # Fields that are not on a staff member's page are ignored when posted.
    response = client.post(PAGE, data={"chat": "digest", "digest_time": "20:00", "quiet": "y",
                                       "quiet_from": "01:00", "quiet_until": "02:00",
                                       "group_posts_push": "y", "group_posts": "direct"})
    assert response.status_code == 303
    assert channels(s.anna)["chat"] == (False, "digest")
    assert db.session.get(NotificationChoice, (s.anna.id, "group_posts")) is None
    setting = notifications.setting_of(s.anna)
    assert (setting.quiet_from, setting.digest_time) == (time(21), time(20))


def test_staff_with_chat_switched_off_read_that_push_is_off(s, client):
    db.session.add(Availability(user_id=s.anna.id, weekdays="12345", starts_at=time(8),
                                ends_at=time(16), chat_off=True, off_message=""))
    db.session.commit()
    login_as(client, s.anna)
    assert "Uw chat staat uit: zolang krijgt u geen pushmeldingen." in \
        text_of(client.get(PAGE))


def test_the_old_address_leads_to_meldingen(s, client):
    login_as(client, s.eva)
    response = client.get("/account/e-mailberichten")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(PAGE)


def test_the_account_page_and_chat_link_to_meldingen(s, client):
    login_as(client, s.eva)
    assert f'href="{PAGE}"' in client.get("/account").get_data(as_text=True)
    assert f'href="{PAGE}"' in client.get("/gesprekken/").get_data(as_text=True)


def test_in_english(s, client):
    s.eva.locale = "en"
    db.session.commit()
    login_as(client, s.eva)
    data = {**EVERYTHING, "important_posts": "off"}
    del data["important_posts_push"]
    response = client.post(PAGE, data=data)
    assert response.status_code == 422
    assert "Important posts" in text_of(response)


def test_the_page_says_whether_push_can_reach_a_device(s, client):
    from parro.models import PushSubscription, UserSession
    from parro.security import hash_token, new_token

    login_as(client, s.eva)
    page = text_of(client.get(PAGE))
    assert "Dat heeft u nog op geen enkel apparaat gedaan." in page
    assert 'href="/account/meldingen-op-deze-telefoon"' in client.get(PAGE).get_data(as_text=True)
    session = UserSession(token_hash=hash_token(new_token()), user_id=s.eva.id)
    db.session.add(session)
    db.session.flush()
    db.session.add(PushSubscription(user_id=s.eva.id, session_id=session.id, p256dh="x",
                                    auth="y", endpoint="https://fcm.googleapis.com/fcm/send/1"))
    db.session.commit()
    assert "Dat heeft u op 1 apparaat gedaan." in text_of(client.get(PAGE))
