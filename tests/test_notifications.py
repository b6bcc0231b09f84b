"""E-mailberichten: each user's choice per category, staff quiet hours, the daily digest."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from parro import clock, notifications
from parro.absence import service as absence
from parro.activities.reminders import send_reminders
from parro.chat.digest import send_notices
from parro.extensions import db
from parro.mail import send_all
from parro.models import (
    Booking,
    NotificationChoice,
    NotificationDigest,
    NotificationItem,
    NotificationSetting,
    OutboxMail,
)
from parro.notifications import send_digests

from .conftest import create_schema, drop_schema
from .factories import (
    make_conference,
    make_group,
    make_guardian,
    make_invitation,
    make_kindgesprek,
    make_message,
    make_post,
    make_student,
    make_teacher,
)
from .helpers import login_as, mails_to

AMS = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 11, 17, 10, 0, tzinfo=AMS)
PAGE = "/account/meldingen"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


@pytest.fixture
def s(app):
    db.session().expire_on_commit = False
    clock.set_now(TUESDAY_10)
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    ns = SimpleNamespace(
        group=group,
        sem=sem,
        eva=make_guardian(child=sem, name="Eva Jansen", email="eva@example.org"),
        anna=make_teacher(group, name="Anna de Boer", email="anna@example.org"),
    )
    db.session.commit()
    return ns


def choose(user, digest_time=None, **modes):
    """Set the user's mail for these categories (push stays off)."""
    notifications.save(user, {key: (False, mode) for key, mode in modes.items()}, digest_time)
    db.session.commit()


def subjects(email):
    return [m.subject for m in mails_to(email)]


# -- what happens in each category ---------------------------------------------------


def _group_post(s):
    make_post(s.group, author=s.anna, title="Schoolreis")
    db.session.commit()
    return "Nieuw bericht: Schoolreis", "Anna de Boer voor Groep 3: Schoolreis"


def _important_post(s):
    make_post(s.group, author=s.anna, title="Luizencontrole", important=True)
    db.session.commit()
    return "Belangrijk bericht: Luizencontrole", "Anna de Boer voor Groep 3: Luizencontrole"


def _chat(s):
    make_message(make_kindgesprek(s.sem), s.anna, "Hoe gaat het met Sem?")
    db.session.commit()
    clock.set_now(TUESDAY_10 + timedelta(minutes=20))
    send_notices()
    return "Ongelezen berichten in parro", "Kindgesprek Sem Jansen: 1 bericht van Anna de Boer"


def _day_before(s):
    conference = make_conference(s.group, day=date(2026, 11, 18), title="Oudergesprekken")
    db.session.add(Booking(activity_id=conference.id, slot_id=conference.slots[0].id,
                           student_id=s.sem.id, booked_by_id=s.eva.id))
    db.session.commit()
    send_reminders()
    return "Morgen: Oudergesprekken", "Oudergesprekken: uw gesprek is morgen"


def _absence(s):
    from flask import current_app

    with current_app.test_request_context():  # the receipt links to the absence page
        absence.report_sick(s.eva, s.sem, email_receipt=True)
    return "Bevestiging: absentie van Sem doorgegeven", "De absentie van Sem op dinsdag 17 november"


CASES = {
    "group_posts": _group_post,
    "important_posts": _important_post,
    "chat": _chat,
    "activities": _day_before,
    "absence": _absence,
}


@pytest.mark.parametrize("category, mode", [
    (category, mode) for category in CASES for mode in ("direct", "digest", "off")
    if (category, mode) != ("important_posts", "off")  # cannot be off: see below
])
def test_each_choice_in_each_category(s, category, mode):
    choose(s.eva, **{category: mode})
    subject, line = CASES[category](s)
    assert subjects("eva@example.org") == ([subject] if mode == "direct" else [])

    clock.set_now(at(2026, 11, 17, 18, 5))  # the default digest time has passed
    send_digests()
    send_digests()  # a second run sends nothing new
    mails = mails_to("eva@example.org")
    digests = [m for m in mails if m.subject == "Uw dagelijks overzicht van parro"]
    if mode == "digest":
        assert len(digests) == 1
        assert line in digests[0].body_text
    else:
        assert digests == []
    clock.set_now(at(2026, 11, 18, 18, 5))
    assert send_digests() == 0  # the next day: nothing shows twice


def test_important_posts_cannot_be_switched_off(s, client):
    login_as(client, s.eva)
    response = client.post(PAGE, data={"important_posts": "off", "group_posts": "off"})
    assert response.status_code == 422
    assert "Belangrijke berichten moeten u op minstens één manier bereiken" in \
        response.get_data(as_text=True)
    assert db.session.scalar(select(NotificationChoice)) is None  # nothing changed
    with pytest.raises(ValueError):
        notifications.save(s.eva, {"important_posts": (False, "off")}, time(18))

    _important_post(s)
    assert subjects("eva@example.org") == ["Belangrijk bericht: Luizencontrole"]


def test_invitations_to_act_on_still_come_when_activities_are_off(s):
    choose(s.eva, activities="off")
    make_invitation(s.group, title="Kerstmusical", deadline=at(2026, 11, 18, 23, 59))
    db.session.commit()
    send_reminders()
    assert mails_to("eva@example.org") == []
    clock.set_now(at(2026, 11, 17, 18, 5))
    assert send_digests() == 1
    (mail,) = mails_to("eva@example.org")
    assert "Kerstmusical: u heeft nog niet gereageerd" in mail.body_text


@pytest.mark.parametrize("data", [
    {"chat": "soms"},
    {"important_posts": "nooit"},
    {"group_posts": ""},
    {"digest_time": "25:00"},
    {"digest_time": "07:30"},
])
def test_the_form_refuses_bad_values_and_changes_nothing(s, client, data):
    login_as(client, s.eva)
    response = client.post(PAGE, data={"group_posts": "off", "digest_time": "07:00", **data})
    assert response.status_code == 422
    assert "Kies een van de mogelijkheden." in response.get_data(as_text=True)
    assert db.session.scalar(select(NotificationSetting)) is None
    assert db.session.scalar(select(NotificationChoice)) is None


def test_a_guardian_saves_their_choices(s, client):
    login_as(client, s.eva)
    page = client.get(PAGE).get_data(as_text=True)
    for label in ("Berichten in de groep", "Belangrijke berichten", "Chatberichten",
                  "Activiteiten", "Bevestiging van een absentiemelding"):
        assert label in page
    # The defaults: group posts in the digest at 18:00, the rest direct.
    assert re.search(r'<input checked id="group_posts-1"[^>]*value="digest"', page)
    assert re.search(r'<input checked id="chat-0"[^>]*value="direct"', page)
    assert re.search(r'<option selected value="18:00">', page)

    response = client.post(PAGE, data={
        "group_posts": "off", "important_posts": "digest", "chat": "digest",
        "activities": "digest", "absence": "off", "digest_time": "07:00",
    })
    assert response.status_code == 303
    db.session.expire_all()
    assert {key: (c.push, c.mail) for key, c in notifications.choices_of(s.eva).items()} == {
        "group_posts": (False, "off"), "important_posts": (False, "digest"),
        "chat": (False, "digest"), "activities": (False, "digest"), "absence": (False, "off")}
    assert notifications.setting_of(s.eva).digest_time == time(7, 0)
    db.session.commit()
    saved = client.get(PAGE).get_data(as_text=True)
    assert "Uw keuzes voor meldingen zijn opgeslagen." in saved


def test_staff_see_their_own_categories_and_their_working_hours(s, client):
    login_as(client, s.anna)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Chatberichten" in page and "Werktijden instellen" in page
    assert "Belangrijke berichten" not in page  # staff write those, they do not get them
    response = client.post(PAGE, data={"chat": "digest", "digest_time": "20:00"})
    assert response.status_code == 303
    db.session.expire_all()
    assert notifications.mail_mode(s.anna, "chat") == "digest"
    assert notifications.setting_of(s.anna).digest_time == time(20, 0)
    assert notifications.choice_of(s.anna, "group_posts").category == "group_posts"  # no row
    assert db.session.get(NotificationChoice, (s.anna.id, "group_posts")) is None
    db.session.commit()


def test_the_chat_page_links_to_the_one_settings_page(s, client):
    login_as(client, s.eva)
    page = client.get("/gesprekken/").get_data(as_text=True)
    assert f'href="{PAGE}"' in page


# -- staff quiet hours ---------------------------------------------------------------


def test_staff_mail_waits_for_their_next_working_period(s):
    choose(s.anna, chat="digest", digest_time=time(20, 0))
    make_message(make_kindgesprek(s.sem), s.eva, "Sem is ziek")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 20, 5))  # Tuesday evening: Anna works 8:00-16:30
    assert send_digests() == 1
    (mail,) = mails_to("anna@example.org")
    assert "Kindgesprek Sem Jansen: 1 bericht van Eva Jansen" in mail.body_text
    assert mail.next_attempt_at == at(2026, 11, 18, 8, 0)
    send_all()
    assert mails_to("anna@example.org")[0].sent_at is None  # still waiting
    clock.set_now(at(2026, 11, 18, 8, 1))
    send_all()
    assert mails_to("anna@example.org")[0].sent_at is not None


def test_staff_mail_without_a_choice_also_waits(s):
    clock.set_now(at(2026, 11, 21, 11, 0))  # Saturday
    notifications.notify(s.anna, None, "Toestemming voor foto's ingetrokken: {child}",
                         "consent_withdrawn", user=s.anna, child="Sem Jansen", posts=[],
                         school_name="De Test")
    notifications.notify(s.eva, "important_posts", "Test", "consent_withdrawn", user=s.eva,
                         child="Sem Jansen", posts=[], school_name="De Test")
    db.session.commit()
    assert mails_to("anna@example.org")[0].next_attempt_at == at(2026, 11, 23, 8, 0)
    assert mails_to("eva@example.org")[0].next_attempt_at == at(2026, 11, 21, 11, 0)


# -- one digest a day, nothing twice ------------------------------------------------------


def test_nothing_shows_twice_across_two_digests(s):
    choose(s.eva, group_posts="digest", digest_time=time(7, 0))
    make_post(s.group, author=s.anna, title="Eerste")
    db.session.commit()
    clock.set_now(at(2026, 11, 18, 7, 0))
    assert send_digests() == 1
    make_post(s.group, author=s.anna, title="Tweede")
    db.session.commit()
    assert send_digests() == 0  # one a day: the second post waits for tomorrow
    clock.set_now(at(2026, 11, 19, 7, 0))
    assert send_digests() == 1
    first, second = mails_to("eva@example.org")
    assert "Eerste" in first.body_text and "Tweede" not in first.body_text
    assert "Tweede" in second.body_text and "Eerste" not in second.body_text


def test_a_digest_before_its_time_is_not_sent(s):
    choose(s.eva, group_posts="digest", digest_time=time(20, 0))
    make_post(s.group, author=s.anna, title="Eerste")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 19, 59))
    assert send_digests() == 0
    clock.set_now(at(2026, 11, 17, 20, 0))
    assert send_digests() == 1


def test_a_deleted_post_leaves_the_digest(s):
    from parro.feed import service

    post = make_post(s.group, author=s.anna, title="Vergissing")
    db.session.commit()
    assert len(db.session.scalars(select(NotificationItem)).all()) == 1
    service.delete_with_files(post)
    db.session.commit()
    assert db.session.scalars(select(NotificationItem)).all() == []
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 18, 5))
    assert send_digests() == 0


def test_another_run_that_was_faster_wins(s):
    make_post(s.group, author=s.anna, title="Eerste")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 18, 5))
    db.session.add(NotificationDigest(user_id=s.eva.id, day=date(2026, 11, 17)))
    db.session.commit()
    assert notifications.digest_for(s.eva, date(2026, 11, 17)) is False
    assert mails_to("eva@example.org") == []


def test_two_runs_at_once_send_one_digest(s, app):
    make_post(s.group, author=s.anna, title="Eerste")
    db.session.commit()
    clock.set_now(at(2026, 11, 17, 18, 5))
    results, errors = [], []
    start = threading.Barrier(2)

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(send_digests())
            except Exception as exc:  # pragma: no cover - shown below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert len(mails_to("eva@example.org")) == 1
    to_anna = select(OutboxMail.id).where(OutboxMail.recipient == "anna@example.org")
    assert db.session.scalar(to_anna) is None


# -- the migration -------------------------------------------------------------------------


@contextmanager
def schema_at(revision):
    """The database as migrations left it at an old revision; the models' schema after."""
    from flask_migrate import upgrade

    db.session.remove()
    drop_schema()
    try:
        upgrade(revision=revision)
        yield
    finally:
        db.session.remove()
        drop_schema()  # tables of old revisions too (school_holiday, ...)
        create_schema()


def insert_guardians(conn, *emails) -> dict[str, int]:
    """Guardians as rows of an old revision's app_user (the model has columns added since)."""
    for email in emails:
        conn.execute(text(
            "INSERT INTO app_user (email, name, role, locale, active, disabled, created_at) "
            "VALUES (:email, '', 'GUARDIAN', 'nl', false, false, '2026-11-01 10:00:00')"
        ), {"email": email})
    return dict(conn.execute(text("SELECT email, id FROM app_user")).all())



def test_the_migration_keeps_chat_notices_that_were_switched_off(app):
    from flask_migrate import downgrade, upgrade

    with schema_at("totp01"):
        with db.engine.begin() as conn:
            ids = insert_guardians(conn, "uit@example.org", "aan@example.org")
            conn.execute(text("INSERT INTO chat_setting (user_id, email_notices) VALUES "
                              "(:off, false), (:on, true)"),
                         {"off": ids["uit@example.org"], "on": ids["aan@example.org"]})
        upgrade(revision="notify01")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT user_id, chat, group_posts FROM notification_setting")
            ).all()
        assert rows == [(ids["uit@example.org"], "off", "digest")]  # the other keeps the defaults
        downgrade(revision="totp01")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT user_id, email_notices FROM chat_setting")).all()
        assert back == [(ids["uit@example.org"], False)]


def test_a_scheduled_group_post_is_told_at_its_time_once(s):
    from parro.feed.publishing import publish_due

    choose(s.eva, group_posts="direct")
    make_post(s.group, author=s.anna, title="Morgen gym", publish_at=at(2026, 11, 18, 7, 0))
    db.session.commit()
    assert publish_due() == 0 and mails_to("eva@example.org") == []
    clock.set_now(at(2026, 11, 18, 7, 1))
    assert publish_due() == 1 and publish_due() == 0
    assert subjects("eva@example.org") == ["Nieuw bericht: Morgen gym"]


# -- one category's mail off (the one-click unsubscribe in a mail) -----------------------


def test_turning_off_one_categorys_mail_keeps_the_others(s):
    choose(s.eva, chat="digest")
    assert notifications.turn_off_mail(s.eva, "group_posts") is True
    db.session.commit()
    modes = {key: c.mail for key, c in notifications.choices_of(s.eva).items()}
    assert modes == {"group_posts": "off", "important_posts": "direct", "chat": "digest",
                     "activities": "direct", "absence": "direct"}
    _group_post(s)
    assert mails_to("eva@example.org") == []


def test_important_posts_mail_goes_off_only_beside_push(s):
    notifications.save(s.eva, {"important_posts": (False, "direct")})
    assert notifications.turn_off_mail(s.eva, "important_posts") is False
    db.session.commit()
    assert notifications.choice_of(s.eva, "important_posts").mail == "direct"  # unchanged
    notifications.save(s.eva, {"important_posts": (True, "direct")})
    assert notifications.turn_off_mail(s.eva, "important_posts") is True
    db.session.commit()
    assert (notifications.choice_of(s.eva, "important_posts").mail) == "off"


def test_the_database_refuses_important_posts_without_a_channel(s):
    from sqlalchemy.exc import IntegrityError

    db.session.add(NotificationChoice(user_id=s.eva.id, category="important_posts", push=False,
                                      mail="off"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_migration_turns_mail_columns_into_one_choice_per_category(app):
    from flask_migrate import downgrade, upgrade

    with schema_at("feedorder01"):
        with db.engine.begin() as conn:
            ids = insert_guardians(conn, "eva@example.org", "bas@example.org")
            conn.execute(text(
                "INSERT INTO notification_setting (user_id, group_posts, important_posts, chat, "
                "activities, absence, digest_time, updated_at) VALUES (:eva, 'off', 'digest', "
                "'digest', 'direct', 'off', '07:00:00', '2026-11-01 10:00:00')"
            ), {"eva": ids["eva@example.org"]})
        upgrade(revision="channels01")
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT user_id, category, push, mail FROM notification_choice ORDER BY category"
            )).all()
            digest_time = conn.execute(
                text("SELECT digest_time FROM notification_setting")).scalar()
        eva = ids["eva@example.org"]
        assert [tuple(r) for r in rows] == [
            (eva, "absence", False, "off"), (eva, "activities", False, "direct"),
            (eva, "chat", False, "digest"), (eva, "group_posts", False, "off"),
            (eva, "important_posts", False, "digest"),
        ]  # Bas chose nothing: he keeps the defaults
        assert str(digest_time).startswith("07:00")
        with db.engine.begin() as conn:  # push arrived for Eva's important posts, mail went off
            conn.execute(text("UPDATE notification_choice SET push = true, mail = 'off' "
                              "WHERE category = 'important_posts'"))
        downgrade(revision="feedorder01")
        with db.engine.connect() as conn:
            back = conn.execute(text(
                "SELECT user_id, group_posts, important_posts, chat, activities, absence "
                "FROM notification_setting")).all()
        assert [tuple(r) for r in back] == [(eva, "off", "direct", "digest", "direct", "off")]


def test_the_migration_gives_saved_choices_push_for_chats_and_important_posts(app):
    from flask_migrate import downgrade, upgrade

    with schema_at("hours01"):
        with db.engine.begin() as conn:
            eva = insert_guardians(conn, "eva@example.org")["eva@example.org"]
            conn.execute(text(
                "INSERT INTO notification_choice (user_id, category, push, mail) VALUES "
                "(:eva, 'group_posts', false, 'off'), (:eva, 'important_posts', false, "
                "'digest'), (:eva, 'chat', false, 'off'), (:eva, 'absence', false, 'direct')"
            ), {"eva": eva})
        upgrade(revision="channels02")
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT category, push, mail FROM notification_choice ORDER BY category")).all()
        # Push had not been there to choose: it comes on where it is now the default;
        # the mail the user chose stays.
        assert [tuple(r) for r in rows] == [
            ("absence", False, "direct"), ("chat", True, "off"), ("group_posts", False, "off"),
            ("important_posts", True, "digest")]
        downgrade(revision="hours01")
        upgrade()


def test_a_new_guardian_gets_push_for_chats_and_important_posts(s):
    choices = notifications.choices_of(s.eva)
    assert {key: (c.push, c.mail) for key, c in choices.items()} == {
        "group_posts": (False, "digest"), "important_posts": (True, "direct"),
        "chat": (True, "direct"), "activities": (False, "direct"), "absence": (False, "direct")}
    assert notifications.choice_of(s.anna, "chat").push is True  # staff: within their hours
    setting = notifications.setting_of(s.eva)
    assert (setting.quiet, setting.quiet_from, setting.quiet_until) == (True, time(21), time(7))


def test_important_posts_chosen_push_only_are_mailed_while_there_is_no_device(s):
    from parro.models import PushSubscription, UserSession
    from parro.security import hash_token, new_token

    notifications.save(s.eva, {"important_posts": (True, "off")})
    db.session.commit()
    _important_post(s)
    assert subjects("eva@example.org") == ["Belangrijk bericht: Luizencontrole"]
    session = UserSession(token_hash=hash_token(new_token()), user_id=s.eva.id)
    db.session.add(session)
    db.session.flush()
    db.session.add(PushSubscription(user_id=s.eva.id, session_id=session.id, p256dh="x",
                                    auth="y", endpoint="https://fcm.googleapis.com/fcm/send/1"))
    db.session.commit()
    assert notifications.has_push_device(s.eva)
    assert notifications.mail_mode(s.eva, "important_posts") == "off"  # the push reaches her
