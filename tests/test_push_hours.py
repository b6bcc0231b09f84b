"""When a push may buzz (parro.push_hours): staff working hours, parents' quiet hours."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from parro import clock, push, push_hours
from parro.extensions import db
from parro.models import (
    Availability,
    NotificationSetting,
    PushHeld,
    PushMessage,
    PushSubscription,
    UserSession,
)
from parro.security import hash_token, new_token

from .factories import make_admin, make_group, make_guardian, make_student, make_teacher

AMS = ZoneInfo("Europe/Amsterdam")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


# 17 November 2026 is a Tuesday.
TUESDAY_10 = at(2026, 11, 17, 10, 0)


@pytest.fixture
def s(app):
    db.session().expire_on_commit = False
    clock.set_now(TUESDAY_10)
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    ns = SimpleNamespace(
        sem=sem,
        eva=make_guardian(child=sem, name="Eva Jansen"),
        anna=make_teacher(group, name="Anna de Boer"),
        office=make_admin(name="Kantoor"),
    )
    db.session.commit()
    return ns


def set_hours(user, weekdays="12345", start="08:00", end="16:30", off=False, until=None):
    db.session.merge(Availability(
        user_id=user.id, weekdays=weekdays, starts_at=time.fromisoformat(start),
        ends_at=time.fromisoformat(end), chat_off=off, off_message="", off_until=until))
    db.session.commit()


def set_quiet(user, quiet=True, start="21:00", end="07:00"):
    db.session.merge(NotificationSetting(
        user_id=user.id, digest_time=time(18), quiet=quiet,
        quiet_from=time.fromisoformat(start), quiet_until=time.fromisoformat(end)))
    db.session.commit()


def when(user, moment, category="chat", important=False):
    clock.set_now(moment)
    return push_hours.when(user, category, important)


# -- staff: only within their working hours -------------------------------------------


@pytest.mark.parametrize("moment, expected", [
    (at(2026, 11, 17, 10, 0), "now"),                # Tuesday, working
    (at(2026, 11, 17, 8, 0), "now"),                 # the start is included
    (at(2026, 11, 17, 7, 59), at(2026, 11, 17, 8, 0)),
    (at(2026, 11, 17, 16, 30), at(2026, 11, 18, 8, 0)),  # the end is not
    (at(2026, 11, 17, 23, 30), at(2026, 11, 18, 8, 0)),
    (at(2026, 11, 20, 17, 0), at(2026, 11, 23, 8, 0)),   # Friday evening: Monday
    (at(2026, 11, 22, 12, 0), at(2026, 11, 23, 8, 0)),   # Sunday
])
def test_staff_get_push_only_within_the_default_hours(s, moment, expected):
    got = when(s.anna, moment)
    assert got == (moment if expected == "now" else expected)
    assert got.tzinfo is not None


def test_staff_hours_are_their_own_and_hold_for_every_category(s):
    set_hours(s.anna, weekdays="24", start="12:00", end="15:00")
    assert when(s.anna, TUESDAY_10) == at(2026, 11, 17, 12, 0)
    assert when(s.anna, at(2026, 11, 17, 13, 0), "group_posts") == at(2026, 11, 17, 13, 0)
    assert when(s.anna, at(2026, 11, 17, 15, 0)) == at(2026, 11, 19, 12, 0)  # Thursday
    # Important or not: outside their hours nothing buzzes for staff.
    assert when(s.anna, at(2026, 11, 17, 20, 0), "important_posts", True) == \
        at(2026, 11, 19, 12, 0)
    # An administrator is staff too.
    assert when(s.office, at(2026, 11, 17, 20, 0)) == at(2026, 11, 18, 8, 0)


def test_chat_switched_off_until_a_day_holds_push_until_the_next_period_after_it(s):
    set_hours(s.anna, off=True, until=date(2026, 11, 19))  # off until Thursday included
    assert when(s.anna, TUESDAY_10) == at(2026, 11, 20, 8, 0)
    assert when(s.anna, at(2026, 11, 20, 9, 0)) == at(2026, 11, 20, 9, 0)  # on again


def test_chat_switched_off_without_an_end_is_never(s):
    set_hours(s.anna, off=True)
    assert when(s.anna, TUESDAY_10) is None


def test_hours_that_never_start_are_never(s):
    set_hours(s.anna, start="16:00", end="08:00")  # a form refuses it; an old row may have it
    assert when(s.anna, TUESDAY_10) is None


def test_the_moment_is_utc(s):
    got = when(s.anna, at(2026, 11, 17, 18, 0))
    assert got.utcoffset().total_seconds() == 0
    assert got == datetime(2026, 11, 18, 7, 0, tzinfo=UTC)


# -- parents: quiet hours ----------------------------------------------------------------


@pytest.mark.parametrize("moment, expected", [
    (at(2026, 11, 17, 20, 59), "now"),
    (at(2026, 11, 17, 21, 0), at(2026, 11, 18, 7, 0)),   # the start is included
    (at(2026, 11, 17, 23, 45), at(2026, 11, 18, 7, 0)),
    (at(2026, 11, 18, 3, 0), at(2026, 11, 18, 7, 0)),    # after midnight: this morning
    (at(2026, 11, 18, 7, 0), "now"),                     # the end is not
    (at(2026, 11, 21, 23, 0), at(2026, 11, 22, 7, 0)),   # every day, weekends too
])
def test_parents_default_quiet_hours_are_nine_to_seven(s, moment, expected):
    got = when(s.eva, moment, "group_posts")
    assert got == (moment if expected == "now" else expected)


def test_important_posts_buzz_in_quiet_hours(s):
    night = at(2026, 11, 17, 23, 0)
    assert when(s.eva, night, "important_posts", important=True) == night
    assert when(s.eva, night, "chat") == at(2026, 11, 18, 7, 0)


def test_a_parent_chooses_their_own_quiet_hours_or_none(s):
    set_quiet(s.eva, start="22:30", end="06:00")
    assert when(s.eva, at(2026, 11, 17, 22, 0)) == at(2026, 11, 17, 22, 0)
    assert when(s.eva, at(2026, 11, 17, 22, 30)) == at(2026, 11, 18, 6, 0)
    set_quiet(s.eva, start="13:00", end="15:00")  # an afternoon nap: within one day
    assert when(s.eva, at(2026, 11, 17, 14, 0)) == at(2026, 11, 17, 15, 0)
    assert when(s.eva, at(2026, 11, 17, 23, 0)) == at(2026, 11, 17, 23, 0)
    set_quiet(s.eva, quiet=False)
    assert when(s.eva, at(2026, 11, 17, 23, 0)) == at(2026, 11, 17, 23, 0)
    set_quiet(s.eva, start="07:00", end="07:00")  # an empty span is no quiet hours
    assert when(s.eva, at(2026, 11, 17, 23, 0)) == at(2026, 11, 17, 23, 0)


def test_quiet_hours_over_the_change_to_winter_time(s):
    # 25 October 2026: the clocks go back at 03:00; 07:00 is still seven in the morning.
    got = when(s.eva, at(2026, 10, 24, 23, 0))
    assert got == at(2026, 10, 25, 7, 0) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)


def test_a_parent_never_gets_working_hours(s):
    set_hours(s.eva, weekdays="1", start="08:00", end="09:00")  # a stray row changes nothing
    assert when(s.eva, TUESDAY_10) == TUESDAY_10


# -- holding -------------------------------------------------------------------------


def test_hold_keeps_a_push_for_the_summary_in_the_callers_transaction(s):
    due = when(s.eva, at(2026, 11, 17, 22, 0))
    push_hours.hold(s.eva, "chat", "Nieuw bericht van juf Anna " + "x" * 300, "/gesprekken/1",
                    due)
    db.session.rollback()
    assert db.session.scalar(select(PushHeld)) is None
    push_hours.hold(s.eva, "chat", "Nieuw bericht van juf Anna", "/gesprekken/1", due)
    db.session.commit()
    (row,) = db.session.scalars(select(PushHeld)).all()
    assert (row.user_id, row.category, row.url, row.due_at) == \
        (s.eva.id, "chat", "/gesprekken/1", at(2026, 11, 18, 7, 0))


# -- the summary when the hours begin -----------------------------------------------------


def phone(user) -> PushSubscription:
    """A device of the user's with push on (a row as the device page stores it)."""
    session = UserSession(token_hash=hash_token(new_token()), user_id=user.id)
    db.session.add(session)
    db.session.flush()
    device = PushSubscription(user_id=user.id, session_id=session.id,
                              endpoint=f"https://fcm.googleapis.com/fcm/send/{new_token()}",
                              p256dh="x", auth="y")
    db.session.add(device)
    db.session.commit()
    return device


def summaries(device) -> list[dict]:
    """The summary pushes waiting in the outbox for this device."""
    db.session.expire_all()
    return [m.payload for m in db.session.scalars(
        select(PushMessage).where(PushMessage.subscription_id == device.id,
                                  PushMessage.category == "summary").order_by(PushMessage.id))]


def held(user, moment, category="chat", title="Nieuw bericht van Eva Jansen",
         url="/gesprekken/1"):
    """What push.queue_pushes does with a push outside the user's hours."""
    due = when(user, moment, category)
    assert due > moment
    push_hours.hold(user, category, title, url, due)
    db.session.commit()
    return due


def test_what_arrived_outside_working_hours_comes_in_one_push_when_they_begin(s):
    device = phone(s.anna)
    due = held(s.anna, at(2026, 11, 17, 18, 0))
    held(s.anna, at(2026, 11, 17, 19, 0), title="Nieuw bericht van Piet Jansen",
         url="/gesprekken/2")
    held(s.anna, at(2026, 11, 18, 6, 0))  # the same title twice is named once
    clock.set_now(at(2026, 11, 18, 7, 59))
    assert push_hours.send_summaries(push.push_now) == 0 and summaries(device) == []
    clock.set_now(due)
    assert push_hours.send_summaries(push.push_now) == 1
    (summary,) = summaries(device)
    assert (summary["title"], summary["url"], summary["tag"]) == \
        ("3 nieuwe meldingen", "/gesprekken/", "parro-samenvatting")
    assert summary["body"] == "Nieuw bericht van Eva Jansen · Nieuw bericht van Piet Jansen"
    assert db.session.scalar(select(PushHeld)) is None
    assert push_hours.send_summaries(push.push_now) == 0 and len(summaries(device)) == 1


def test_a_parent_gets_one_push_when_quiet_hours_end(s):
    s.eva.locale = "en"
    db.session.commit()
    device = phone(s.eva)
    held(s.eva, at(2026, 11, 17, 22, 0), "group_posts", "New post from Anna de Boer",
         "/groepen/bericht/7")
    clock.set_now(at(2026, 11, 18, 7, 5))  # the sender's next round after seven
    assert push_hours.send_summaries(push.push_now) == 1
    (summary,) = summaries(device)
    assert (summary["title"], summary["body"], summary["url"]) == \
        ("1 new notification", "New post from Anna de Boer", "/groepen/bericht/7")


def test_only_what_is_due_is_summarised_each_for_its_own_user(s):
    anna, eva = phone(s.anna), phone(s.eva)
    held(s.anna, at(2026, 11, 17, 18, 0))                      # due Wednesday 08:00
    held(s.eva, at(2026, 11, 17, 22, 0), "group_posts")        # due Wednesday 07:00
    clock.set_now(at(2026, 11, 18, 7, 30))
    assert push_hours.send_summaries(push.push_now) == 1
    assert len(summaries(eva)) == 1 and summaries(anna) == []
    assert db.session.scalars(select(PushHeld.user_id)).all() == [s.anna.id]


def test_hours_changed_in_between_move_the_summary(s):
    device = phone(s.anna)
    held(s.anna, at(2026, 11, 17, 18, 0))  # due Wednesday 08:00
    set_hours(s.anna, start="10:00", end="16:00")
    clock.set_now(at(2026, 11, 18, 8, 0))
    assert push_hours.send_summaries(push.push_now) == 0
    assert db.session.scalar(select(PushHeld.due_at)) == at(2026, 11, 18, 10, 0)
    clock.set_now(at(2026, 11, 18, 10, 0))
    assert push_hours.send_summaries(push.push_now) == 1
    assert len(summaries(device)) == 1


def test_chat_switched_off_without_an_end_drops_the_summary(s):
    device = phone(s.anna)
    held(s.anna, at(2026, 11, 17, 18, 0))
    set_hours(s.anna, off=True)
    clock.set_now(at(2026, 11, 18, 8, 0))
    assert push_hours.send_summaries(push.push_now) == 0 and summaries(device) == []
    assert db.session.scalar(select(PushHeld)) is None  # it is in the app, not in a push


def _at_once(app, work, n=2):
    """Run `work` in n threads that start together; their results, and no errors."""
    results, errors = [], []
    start = threading.Barrier(n)

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(work())
            except Exception as exc:  # pragma: no cover - shown below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    return results


def test_two_senders_at_once_queue_one_summary(s, app):
    device = phone(s.anna)
    held(s.anna, at(2026, 11, 17, 18, 0))
    held(s.anna, at(2026, 11, 17, 19, 0))
    clock.set_now(at(2026, 11, 18, 8, 0))
    results = _at_once(app, lambda: push_hours.send_summaries(push.push_now))
    assert sorted(results) == [0, 1]
    assert [p["title"] for p in summaries(device)] == ["2 nieuwe meldingen"]


def test_a_sender_that_found_no_summary_due_still_claims_after_another_wrote(s, app):
    # The second of two senders: no summary is due for it (the first sent it), the
    # first then writes (its push, its tidying); the second's claim must wait its turn,
    # not fail on SQLite because its empty look at the summaries kept an old snapshot.
    phone(s.anna)
    clock.set_now(at(2026, 11, 18, 8, 0))
    assert push_hours.send_summaries(push.push_now) == 0
    with app.app_context():  # the other sender, on a connection of its own
        anna = db.session.get(type(s.anna), s.anna.id)
        push.push_now(anna, "chat", "Nieuw bericht", "Sem is ziek", "/gesprekken/")
        db.session.commit()
        db.session.remove()
    assert len(push.claim_due()) == 1


# -- end to end: a teacher's phone, the real sender and a push service on loopback ------


@pytest.fixture
def service(app):
    from .push_service import PushService

    running = PushService().start()
    app.config["PUSH_TEST_ORIGIN"] = running.origin
    yield running
    running.stop()


def test_a_teachers_phone_is_silent_in_the_evening_and_gets_one_summary_at_eight(
        s, app, service):
    from .factories import make_kindgesprek, make_message
    from .test_push import device_for, push_on

    _, subscription = device_for(s.anna, service)
    push_on(s.anna, "chat")
    conversation = make_kindgesprek(s.sem)
    for hour, text in ((17, "Sem is ziek"), (19, "Hij blijft morgen thuis"), (23, "Sorry!")):
        clock.set_now(at(2026, 11, 17, hour, 0))
        make_message(conversation, s.eva, text)
        db.session.commit()
        push.send_all()
    assert service.requests == 0  # nothing buzzed
    clock.set_now(at(2026, 11, 18, 8, 0))
    # Two senders (the web process's thread and cron) at the start of the working period.
    _at_once(app, push.send_all)
    [summary] = service.payloads(subscription)
    assert summary["title"] == "3 nieuwe meldingen"
    assert summary["url"] == f"/gesprekken/{conversation.id}"
    assert push.send_all() == {"sent": 0, "retry": 0, "failed": 0, "gone": 0}
    # Within the hours a message buzzes at once.
    clock.set_now(at(2026, 11, 18, 9, 0))
    make_message(conversation, s.eva, "Hij is weer beter")
    db.session.commit()
    push.send_all()
    assert [p["title"] for p in service.payloads(subscription)][1:] == \
        ["Nieuw bericht van Eva Jansen"]


def test_a_teachers_reply_in_a_kindgesprek_buzzes_the_parent_at_once(s, app, service):
    from .factories import make_kindgesprek, make_message
    from .test_push import device_for

    _, subscription = device_for(s.eva, service)  # chat push is on by default
    conversation = make_kindgesprek(s.sem)  # members by the policy: no Participant rows
    make_message(conversation, s.anna, "Beterschap voor Sem!")
    db.session.commit()
    push.send_all()
    [reply] = service.payloads(subscription)
    assert (reply["title"], reply["url"]) == \
        ("Nieuw bericht van Anna de Boer", f"/gesprekken/{conversation.id}")
