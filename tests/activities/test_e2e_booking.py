"""In a real browser: a parent books a conference slot and adds it to their calendar."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select
from werkzeug.serving import make_server

from parro.extensions import db
from parro.models import Booking

from ..factories import (
    PASSWORD,
    make_conference,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
)
from .conftest import AMS

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_server(make_app):
    """The app on a free loopback port, on the tests' database, in a thread."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


def test_a_parent_books_a_slot_and_downloads_it_for_the_calendar(
        app, live_server, chromium_browser):
    browser = chromium_browser
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    make_teacher(group)
    make_guardian(child=sem, email="eva@example.org", name="Eva Jansen")
    activity = make_conference(group, title="Oudergesprekken groep 3", count=12)
    db.session.commit()
    activity_id = activity.id
    db.session.commit()  # no transaction of ours stays open while the browser works

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="nl-NL",
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "eva@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text("Menu", exact=True).click()  # on a phone the navigation is behind Menu
    page.get_by_role("link", name="Activiteiten").first.click()
    page.get_by_role("link", name="Oudergesprekken groep 3").click()
    assert page.get_by_text("Gesprek voor Sem").is_visible()
    page.screenshot(path=str(ARTIFACTS / "activities-book-360-before.png"), full_page=True)

    page.get_by_role("button", name="Kies 14:20").click()
    flash = page.locator(".flash-success")
    assert flash.inner_text() == "Het gesprek voor Sem staat gepland op woensdag 10 maart om 14:20."
    assert page.locator(".booked").inner_text() == "Woensdag 10 maart om 14:20–14:30"
    page.screenshot(path=str(ARTIFACTS / "activities-book-360.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="In mijn agenda zetten").click()
    download = download_info.value
    assert download.suggested_filename == "gesprek-sem.ics"
    path = ARTIFACTS / "gesprek-sem.ics"
    download.save_as(str(path))
    calendar = Calendar.from_ical(path.read_bytes())
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == "Europe/Amsterdam"
    assert start.replace(tzinfo=None).isoformat() == "2027-03-10T14:20:00"
    assert start.astimezone(AMS).strftime("%H:%M") == "14:20"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    context.close()

    db.session.expire_all()
    (booking,) = db.session.scalars(select(Booking).where(Booking.activity_id == activity_id)).all()
    assert booking.slot.starts_at.astimezone(AMS).strftime("%H:%M") == "14:20"
