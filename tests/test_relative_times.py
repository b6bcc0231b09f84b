"""Times on posts, messages and reports read like a person would say them, in the
reader's language and the school's time zone, with the exact moment on hover.

The server says what only changes with the date ("vandaag om 15:10"), so that cached
page parts stay true all day; static/js/app.js turns the times of today marked
data-fresh into "zojuist" and "20 minuten geleden"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from parro import clock
from parro.i18n import relative, time_element

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 24, 15, 30, tzinfo=AMS)  # a Tuesday afternoon


def at(day, hh, mm, ss=0, month=11, year=2026):
    return datetime(year, month, day, hh, mm, ss, tzinfo=AMS)


@pytest.mark.parametrize("moment, dutch, english", [
    (at(24, 15, 29, 30), "vandaag om 15:29", "today at 15:29"),
    (at(24, 0, 5), "vandaag om 00:05", "today at 00:05"),
    (at(23, 14, 5), "gisteren om 14:05", None),
    (at(21, 9, 0), "3 dagen geleden", "3 days ago"),
    (at(3, 9, 0), "3 nov", "Nov 3"),
    (at(3, 9, 0, month=6, year=2025), "3 jun 2025", "Jun 3, 2025"),
    (at(26, 8, 0), "26 nov 2026, 08:00", "Nov 26, 2026, 08:00"),
])
def test_relative_times_in_both_languages(app, moment, dutch, english):
    clock.set_now(NOW)
    with app.test_request_context():
        with force_locale("nl"):
            assert relative(moment).replace(".", "") == dutch
        with force_locale("en"):
            if english:  # None: our own words, in English once the catalog is updated
                assert relative(moment).replace(".", "") == english


def test_time_element_carries_the_exact_moment_in_the_school_time_zone(app):
    clock.set_now(NOW)
    moment = datetime(2026, 11, 23, 13, 5, tzinfo=ZoneInfo("UTC"))  # 14:05 in Amsterdam
    with app.test_request_context(), force_locale("nl"):
        html = str(time_element(moment))
    assert html == ('<time datetime="2026-11-23T13:05:00+00:00" '
                    'title="maandag 23 november 2026, 14:05">gisteren om 14:05</time>')


def test_times_of_today_are_marked_for_the_page_to_keep_fresh(app):
    clock.set_now(NOW)
    with app.test_request_context(), force_locale("nl"):
        assert ' data-fresh>vandaag om 15:10</time>' in str(time_element(at(24, 15, 10)))
        assert "data-fresh" not in str(time_element(at(26, 8, 0)))  # planned
