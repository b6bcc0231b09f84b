"""In a real browser: a guardian writes in the kindgesprek, the teacher's open page shows it.

Two browser contexts (guardian on a 360 px phone, teacher on a 1280 px PC) on a
live server over the test database. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from parro import clock
from parro.extensions import db

from ..factories import (
    PASSWORD,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_student,
    make_teacher,
)

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).parent.parent / "artifacts"
TUESDAY_EVENING = datetime(2026, 11, 17, 19, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.fixture
def live_server_config():
    """The navigation's unread count polls every second, so the test need not wait long."""
    return {"NAV_POLL_SECONDS": 1, "RATELIMIT_LOGIN_IP": "1000 per minute"}


def open_page(browser, base, user, width, height, errors):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="nl-NL")
    page = context.new_page()
    # Console errors include CSP violations. A missing resource is reported with its
    # URL below instead (the foundation's favicon does not exist yet on this branch).
    page.on("console", lambda msg: msg.type == "error" and "Failed to load resource" not in msg.text
            and errors.append(f"{user.email}: {msg.text}"))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/img/icon.svg")
            and errors.append(f"{user.email}: {r.status} {r.url}"))
    page.on("pageerror", lambda exc: errors.append(f"{user.email}: {exc}"))
    page.goto(f"{base}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_a_message_from_the_guardian_appears_on_the_teachers_open_page(app, live_server, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    clock.set_now(TUESDAY_EVENING)
    db.session().expire_on_commit = False
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    anna = make_teacher(group, name="Anna de Boer", email="anna@example.org")
    bram = make_teacher(group, name="Bram Visser", email="bram@example.org")
    conversation = make_kindgesprek(sem)
    make_message(conversation, anna, "Goedemorgen! Morgen is de gymles in de grote zaal. "
                 "Meer informatie: https://example.org/gym")
    make_message(conversation, eva, "Dank u, Sem neemt zijn gymschoenen mee.")
    db.session.commit()
    url = f"{live_server}/gesprekken/{conversation.id}"
    errors: list[str] = []

    teacher = open_page(browser, live_server, anna, 1280, 800, errors)
    teacher.goto(url)
    teacher.evaluate("window.noReload = true")
    colleague = open_page(browser, live_server, bram, 1280, 800, errors)
    colleague.goto(f"{live_server}/gesprekken/")
    expect(colleague.locator("#nav-count-chat .nav-count")).to_have_text("2")

    guardian = open_page(browser, live_server, eva, 360, 740, errors)
    guardian.goto(url)
    expect(guardian.locator(".chat-away")).to_contain_text(
        "Het wordt gelezen vanaf morgen om 08:00")
    guardian.evaluate("window.noReload = true")
    text = "Sem heeft morgen om 10 uur de tandarts.\nOpa haalt hem op."
    guardian.fill("textarea[name=body]", text)
    guardian.screenshot(path=ARTIFACTS / "chat-guardian-360-before-sending.png", full_page=True,
                        caret="initial")
    guardian.click("button:has-text('Versturen')")

    # Appended at once on the sender's page, without a reload, and the box is empty again.
    expect(guardian.locator("#messages li").last).to_contain_text("Opa haalt hem op.")
    expect(guardian.locator("textarea[name=body]")).to_have_value("")
    assert guardian.evaluate("window.noReload") is True
    # The teacher's open page shows it at its next poll (every 3 s), without reload.
    expect(teacher.locator("#messages li").last).to_contain_text("Opa haalt hem op.")
    assert teacher.evaluate("window.noReload") is True
    assert teacher.locator("#messages li").count() == 3
    # Bram's navigation counts it.
    expect(colleague.locator("#nav-count-chat .nav-count")).to_have_text("3")

    # The teacher answers; the guardian's phone shows it.
    teacher.fill("textarea[name=body]", "Prima, dank u voor het laten weten!")
    teacher.click("button:has-text('Versturen')")
    expect(guardian.locator("#messages li").last).to_contain_text("Prima")
    expect(teacher.locator("#messages li")).to_have_count(4)

    teacher.screenshot(path=ARTIFACTS / "chat-teacher-1280.png", full_page=True, caret="initial")
    guardian.screenshot(path=ARTIFACTS / "chat-guardian-360.png", full_page=True, caret="initial")
    colleague.screenshot(path=ARTIFACTS / "chat-list-1280.png", full_page=True, caret="initial")
    guardian.goto(f"{live_server}/gesprekken/")
    guardian.screenshot(path=ARTIFACTS / "chat-list-360.png", full_page=True, caret="initial")
    assert not errors, errors


def test_polling_stops_while_the_tab_is_hidden(app, live_server, browser):
    clock.set_now(TUESDAY_EVENING)
    db.session().expire_on_commit = False
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    conversation = make_kindgesprek(sem)
    db.session.commit()
    errors: list[str] = []
    page = open_page(browser, live_server, eva, 360, 740, errors)
    # The page's clock (timers and Date) stands still; only run_for() moves it.
    page.clock.install(time=TUESDAY_EVENING)
    page.clock.pause_at(TUESDAY_EVENING + timedelta(minutes=5))
    polls: list[str] = []
    page.on("request", lambda r: "/nieuw" in r.url and polls.append(r.url))
    page.goto(f"{live_server}/gesprekken/{conversation.id}")
    # Polling while visible: every 3 seconds. Its answer is awaited: a poll still
    # under way when the tab comes back is not sent twice.
    with page.expect_response(lambda r: "/nieuw" in r.url):
        page.clock.run_for(4000)

    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    polls.clear()
    page.clock.run_for(60_000)  # a minute in the background

    # At once when it is visible again: its clock stands still, so no timer sent this one.
    with page.expect_request(lambda r: "/nieuw" in r.url) as back:
        page.evaluate("""() => {
            Object.defineProperty(document, 'visibilityState',
                                  {value: 'visible', configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }""")
    assert polls == [back.value.url]  # and nothing while hidden
    assert not errors, errors


def test_screens_of_the_demo_school(app, live_server, browser):
    """Not-available and chat-off notices, settings and a new chat, to look at."""
    from sqlalchemy import select

    from parro.demo import create_demo
    from parro.models import Availability, Student, User

    from ..chat.chat_helpers import TUESDAY_10

    ARTIFACTS.mkdir(exist_ok=True)
    clock.set_now(TUESDAY_10)
    db.session().expire_on_commit = False
    create_demo()
    people = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
    ilse = people["juf.ilse"]
    db.session.merge(Availability(user_id=ilse.id, weekdays="12345", starts_at=TUESDAY_10.time(),
                                  ends_at=TUESDAY_10.time().replace(hour=16), chat_off=True,
                                  off_message="Ik ben ziek. Bel de school voor dringende zaken."))
    lotte = db.session.scalar(select(Student.id).where(Student.first_name == "Lotte"))
    noah = db.session.scalar(select(Student.id).where(Student.first_name == "Noah"))
    db.session.commit()
    errors: list[str] = []

    def login(user, width):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="nl-NL")
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and "Failed to load" not in m.text
                and errors.append(m.text))
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", "demo-wachtwoord")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    jansen = login(people["ouder.jansen"], 360)
    jansen.goto(f"{live_server}/gesprekken/")
    jansen.screenshot(path=ARTIFACTS / "demo-list-360.png", full_page=True, caret="initial")
    jansen.goto(f"{live_server}/gesprekken/kind/{lotte}")
    jansen.screenshot(path=ARTIFACTS / "demo-lotte-360.png", full_page=True, caret="initial")
    dekker = login(people["ouder.dekker"], 360)
    dekker.goto(f"{live_server}/gesprekken/kind/{noah}")
    assert "De chat staat uit." in dekker.inner_text("#chat-compose")
    dekker.screenshot(path=ARTIFACTS / "demo-chat-off-360.png", full_page=True, caret="initial")
    bram = login(people["meester.bram"], 1280)
    bram.goto(f"{live_server}/gesprekken/beschikbaarheid")
    bram.screenshot(path=ARTIFACTS / "demo-availability-1280.png", full_page=True, caret="initial")
    anna = login(people["juf.anna"], 1280)
    anna.goto(f"{live_server}/gesprekken/starten")
    anna.screenshot(path=ARTIFACTS / "demo-start-1280.png", full_page=False, caret="initial")
    assert not errors, errors
