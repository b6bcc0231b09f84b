"""When a push may buzz (parro.push_hours): staff working hours, parents' quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
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
