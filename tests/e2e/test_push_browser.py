"""In Debian's chromium: the service worker (static/sw.js) registers with scope /, shows
a push that parro made, and the device page offers the button where Push works.

The push is handed to the worker through the DevTools protocol
(ServiceWorker.deliverPushMessage), as a push service would after decrypting: the
payload is the one parro's outbox holds for the guardian's phone (tests/test_push.py
covers encryption and delivery against a push service on loopback).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.models import NotificationChoice, PushMessage, PushSubscription, UserSession
from parro.security import hash_token, new_token

from ..factories import PASSWORD, make_group, make_guardian, make_post, make_student, make_teacher

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday morning: no quiet hours
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Mobile Safari/537.36")


@pytest.fixture
def live_server_config():
    return {"RATELIMIT_LOGIN_IP": "1000 per minute"}


def log_in(page, email):
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_a_push_from_parro_is_shown_by_the_service_worker(app, new_page, live_server,
                                                          artifacts):
    from playwright.sync_api import expect

    clock.set_now(NOW)
    group = make_group("Groep 3")
    child = make_student(group, first_name="Sem")
    parent = make_guardian(child, name="Eva Jansen", email="eva@example.org")
    teacher = make_teacher(group, name="juf Anna")
    # The phone's subscription as the device page stores it (the endpoint is never called).
    login = UserSession(token_hash=hash_token(new_token()), user_id=parent.id)
    db.session.add(login)
    db.session.flush()
    db.session.add(PushSubscription(
        user_id=parent.id, session_id=login.id, endpoint="https://fcm.googleapis.com/fcm/send/x",
        p256dh="B" + "A" * 86, auth="A" * 22, user_agent=ANDROID))
    db.session.add(NotificationChoice(user_id=parent.id, category="group_posts", push=True,
                                      mail="digest"))
    db.session.flush()
    post = make_post(group, author=teacher, title="Morgen naar het bos",
                     body="Neem laarzen mee.")
    db.session.commit()
    post_id = post.id
    payload = db.session.scalar(select(PushMessage.payload))
    db.session.commit()
    assert payload["title"] == "Nieuw bericht van juf Anna"

    page = new_page(viewport={"width": 360, "height": 740}, locale="nl-NL", is_mobile=True,
                    has_touch=True, device_scale_factor=2)
    page.context.grant_permissions(["notifications"], origin=live_server)
    log_in(page, "eva@example.org")
    page.goto("/account/meldingen-op-deze-telefoon")
    # Push works in this browser: the button, not the "no push here" text.
    expect(page.get_by_role("button", name="Meldingen aanzetten op dit apparaat")).to_be_visible()
    expect(page.get_by_text("Deze browser kan geen meldingen ontvangen")).to_be_hidden()
    # README's picture (docs/screenshots/meldingen-telefoon.jpg) is this one.
    page.screenshot(path=str(artifacts / "push-devices-360.jpg"), type="jpeg", quality=70,
                    full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    violations = [v["id"] for v in Axe().run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == []

    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    scope = page.evaluate("""() => navigator.serviceWorker.register("/sw.js", {scope: "/"})
        .then(() => navigator.serviceWorker.ready).then((r) => r.scope)""")
    assert scope == f"{live_server}/"
    for _ in range(50):
        if any(r["scopeURL"] == scope and not r.get("isDeleted") for r in registrations):
            break
        page.wait_for_timeout(100)
    registration_id = next(r["registrationId"] for r in registrations
                           if r["scopeURL"] == scope and not r.get("isDeleted"))

    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server, "registrationId": registration_id, "data": json.dumps(payload),
    })
    shown = []
    for _ in range(100):  # until the worker has shown it (at most 10 s)
        shown = page.evaluate("""() => navigator.serviceWorker.ready
            .then((r) => r.getNotifications())
            .then((list) => list.map((n) => ({title: n.title, body: n.body, tag: n.tag,
                                              url: n.data && n.data.url})))""")
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [{
        "title": "Nieuw bericht van juf Anna", "body": "Morgen naar het bos",
        "tag": payload["tag"],
        "url": f"{live_server}/groepen/bericht/{post_id}",
    }]
    assert new_page.violations == []
