"""When a push may buzz (parro.push_hours): staff working hours, parents' quiet hours."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from parro import clock, push_hours
from parro.extensions import db
from parro.models import Availability, NotificationSetting, PushHeld

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


class Sent(list):
    """The summaries, as parro.push.push_now is called with them (in the sweep's transaction)."""

    def __call__(self, user, category, title, body="", url="/", tag=""):
        with force_locale(user.locale):
            self.append(SimpleNamespace(user=user.id, category=category, title=str(title),
                                        body=body, url=url, tag=tag))


def held(user, moment, category="chat", title="Nieuw bericht van Eva Jansen",
         url="/gesprekken/1"):
    """What queue_pushes does with a push outside the user's hours."""
    due = when(user, moment, category)
    assert due > moment
    push_hours.hold(user, category, title, url, due)
    db.session.commit()
    return due


def test_what_arrived_outside_working_hours_comes_in_one_push_when_they_begin(s):
    due = held(s.anna, at(2026, 11, 17, 18, 0))
    held(s.anna, at(2026, 11, 17, 19, 0), title="Nieuw bericht van Piet Jansen",
         url="/gesprekken/2")
    held(s.anna, at(2026, 11, 18, 6, 0))  # the same title twice is named once
    sent = Sent()
    clock.set_now(at(2026, 11, 18, 7, 59))
    assert push_hours.send_summaries(sent) == 0 and sent == []
    clock.set_now(due)
    assert push_hours.send_summaries(sent) == 1
    (summary,) = sent
    assert (summary.user, summary.category, summary.title, summary.url, summary.tag) == \
        (s.anna.id, "summary", "3 nieuwe meldingen", "/gesprekken/", "parro-samenvatting")
    assert summary.body == "Nieuw bericht van Eva Jansen · Nieuw bericht van Piet Jansen"
    assert db.session.scalar(select(PushHeld)) is None
    assert push_hours.send_summaries(sent) == 0 and len(sent) == 1  # once


def test_a_parent_gets_one_push_when_quiet_hours_end(s):
    s.eva.locale = "en"
    db.session.commit()
    held(s.eva, at(2026, 11, 17, 22, 0), "group_posts", "New post from Anna de Boer",
         "/groepen/bericht/7")
    sent = Sent()
    clock.set_now(at(2026, 11, 18, 7, 5))  # the sender's next round after seven
    assert push_hours.send_summaries(sent) == 1
    assert (sent[0].title, sent[0].body, sent[0].url) == \
        ("1 new notification", "New post from Anna de Boer", "/groepen/bericht/7")


def test_only_what_is_due_is_summarised_each_for_its_own_user(s):
    held(s.anna, at(2026, 11, 17, 18, 0))                      # due Wednesday 08:00
    held(s.eva, at(2026, 11, 17, 22, 0), "group_posts")        # due Wednesday 07:00
    sent = Sent()
    clock.set_now(at(2026, 11, 18, 7, 30))
    assert push_hours.send_summaries(sent) == 1
    assert [x.user for x in sent] == [s.eva.id]
    assert db.session.scalars(select(PushHeld.user_id)).all() == [s.anna.id]


def test_hours_changed_in_between_move_the_summary(s):
    held(s.anna, at(2026, 11, 17, 18, 0))  # due Wednesday 08:00
    set_hours(s.anna, start="10:00", end="16:00")
    sent = Sent()
    clock.set_now(at(2026, 11, 18, 8, 0))
    assert push_hours.send_summaries(sent) == 0
    assert db.session.scalar(select(PushHeld.due_at)) == at(2026, 11, 18, 10, 0)
    clock.set_now(at(2026, 11, 18, 10, 0))
    assert push_hours.send_summaries(sent) == 1


def test_chat_switched_off_without_an_end_drops_the_summary(s):
    held(s.anna, at(2026, 11, 17, 18, 0))
    set_hours(s.anna, off=True)
    sent = Sent()
    clock.set_now(at(2026, 11, 18, 8, 0))
    assert push_hours.send_summaries(sent) == 0 and sent == []
    assert db.session.scalar(select(PushHeld)) is None  # it is in the app, not in a push


def test_two_senders_at_once_send_one_summary(s, app):
    held(s.anna, at(2026, 11, 17, 18, 0))
    held(s.anna, at(2026, 11, 17, 19, 0))
    clock.set_now(at(2026, 11, 18, 8, 0))
    sent, results, errors = Sent(), [], []
    start = threading.Barrier(2)

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(push_hours.send_summaries(sent))
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
    assert len(sent) == 1 and sent[0].title == "2 nieuwe meldingen"
