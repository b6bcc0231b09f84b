"""In a real browser: the menu's count of new posts updates without a reload, and
reading on the phone clears it on the laptop. Screenshot of the phone in tests/artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parro import clock
from parro.extensions import db

from ..factories import PASSWORD, make_group, make_guardian, make_post, make_student, make_teacher

pytestmark = pytest.mark.e2e

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def live_server_config():
    """The counts poll every second, so the test need not wait long."""
    return {"NAV_POLL_SECONDS": 1, "RATELIMIT_LOGIN_IP": "1000 per minute"}


def log_in(page, email):
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_the_count_of_new_posts_follows_reading_on_another_device(app, new_page, artifacts):
    from playwright.sync_api import expect

    clock.set_now(NOW)
    db.session().expire_on_commit = False
    g3, g5 = make_group("Groep 3", grade=3), make_group("Groep 5", grade=5)
    sem = make_student(g3, first_name="Sem", last_name="Jansen")
    lisa = make_student(g5, first_name="Lisa", last_name="Jansen")
    make_guardian(children=[sem, lisa], name="Eva Jansen", email="eva@example.org")
    anna = make_teacher(g3, name="Anna de Boer", email="anna@example.org")
    ilse = make_teacher(g5, name="Ilse Vermeulen", email="ilse@example.org")
    db.session.commit()
    g3_id = g3.id

    laptop = new_page(viewport={"width": 1280, "height": 800}, locale="nl-NL")
    log_in(laptop, "eva@example.org")
    laptop.goto("/help")
    laptop.evaluate("window.noReload = true")
    count = laptop.locator("#nav-count-feed")
    expect(count).to_have_attribute("aria-live", "polite")
    expect(count).to_have_text("")

    clock.set_now(NOW + timedelta(minutes=5))
    make_post(g3, author=anna, title="Gymles", body="Morgen gym in de grote zaal.")
    make_post(g5, author=ilse, title="Toets", body="Vrijdag de rekentoets.")
    db.session.commit()
    clock.set_now(NOW + timedelta(minutes=6))
    expect(count.locator(".nav-count")).to_have_text("2")
    expect(count).to_contain_text("nieuwe berichten")

    # Eva logs in on her phone: she lands on all her groups' posts, so both are read.
    phone = new_page(viewport={"width": 360, "height": 740}, locale="nl-NL")
    log_in(phone, "eva@example.org")
    expect(phone.locator("h1")).to_have_text("Groepen")
    expect(count).to_have_text("")

    clock.set_now(NOW + timedelta(minutes=10))
    make_post(g5, author=ilse, title="Schoolreis", body="Vergeet de lunch niet.")
    db.session.commit()
    clock.set_now(NOW + timedelta(minutes=11))
    phone.goto(f"/groepen/{g3_id}")
    expect(phone.locator("#nav-count-feed .nav-count")).to_have_text("1")
    expect(phone.locator(".chips a", has_text="Lisa").locator(".nav-count")).to_have_text("1")
    phone.screenshot(path=str(artifacts / "nav-counts-phone-360.png"), full_page=True)

    expect(count.locator(".nav-count")).to_have_text("1")
    expect(count).to_contain_text("nieuw bericht")
    assert laptop.evaluate("window.noReload") is True
    assert not new_page.violations
