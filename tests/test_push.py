"""Web Push (issue 17): devices, the push outbox and its sender, against a real push
service on loopback (tests/push_service.py: it checks VAPID and decrypts every payload)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from parro import clock, push
from parro.extensions import db
from parro.models import NotificationChoice, PushMessage, PushSubscription, UserSession
from parro.notifications import CHAT, GROUP_POSTS, IMPORTANT_POSTS
from parro.security import hash_token, new_token

from .factories import (
    make_admin,
    make_chat,
    make_group,
    make_guardian,
    make_message,
    make_post,
    make_school,
    make_student,
    make_teacher,
)
from .helpers import login_as
from .push_service import PushService

ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Mobile Safari/537.36")
SUBSCRIBE = "/account/meldingen-op-deze-telefoon/aanzetten"


# A Wednesday morning at school (10:00 in Amsterdam): inside teachers' default working
# hours and outside parents' quiet hours, whenever the tests run.
SCHOOL_MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _morning(app):
    clock.set_now(SCHOOL_MORNING)


@pytest.fixture
def service(app):
    running = PushService().start()
    app.config["PUSH_TEST_ORIGIN"] = running.origin  # the test side's sender admits it
    yield running
    running.stop()


@pytest.fixture
def browser(make_client, service):
    """A phone's browser: its requests go to an app that admits the loopback service."""
    return make_client(PUSH_TEST_ORIGIN=service.origin)


def _session(user) -> int:
    row = UserSession(token_hash=hash_token(new_token()), user_id=user.id, user_agent=ANDROID)
    db.session.add(row)
    db.session.flush()
    return row.id


def device_for(user, service, *answers) -> tuple[PushSubscription, dict]:
    """A device of `user`'s with push, as the device page would have stored it."""
    subscription = service.subscription(*answers)
    row = push.subscribe(user, _session(user), push.parse_subscription(subscription), ANDROID)
    db.session.commit()
    return row, subscription


def push_on(user, *categories) -> None:
    for category in categories:
        db.session.merge(NotificationChoice(user_id=user.id, category=category, push=True,
                                            mail="direct"))
    db.session.commit()


@pytest.fixture
def family(app):
    make_school()
    group = make_group()
    child = make_student(group)
    teacher = make_teacher(group, name="juf Anna")
    parent = make_guardian(child, name="Sanne de Vries")
    db.session.commit()
    return group, teacher, parent


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- the service worker and the page ------------------------------------------------------


def test_the_service_worker_is_served_from_the_root_uncached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "worker-src 'self'" in response.headers["Content-Security-Policy"]
    body = response.get_data(as_text=True)
    assert 'addEventListener("push"' in body and 'addEventListener("notificationclick"' in body
    assert "caches." not in body  # it keeps no pages and no data


def test_the_device_page_works_without_javascript(client, family):
    _, _, parent = family
    login_as(client, parent)
    page = client.get("/account/meldingen-op-deze-telefoon").get_data(as_text=True)
    assert "Meldingen op deze telefoon" in page
    assert f'data-public-key="{push.public_key()}"' in page
    # Without JavaScript this is what shows; push.js hides it where Push works.
    assert "Deze browser kan geen meldingen ontvangen, of JavaScript staat uit" in page
    assert "Zet op beginscherm" in page  # the iPhone steps, shown by push.js there
    assert "Nog op geen enkel apparaat" in page
    assert 'href="/account/meldingen-op-deze-telefoon"' in client.get("/account").get_data(
        as_text=True)


# -- subscribing ---------------------------------------------------------------------------


def test_a_phone_subscribes_and_is_listed_with_its_name(browser, service, family):
    _, _, parent = family
    login_as(browser, parent)
    subscription = service.subscription()
    response = browser.post(SUBSCRIBE, json=subscription, headers={"User-Agent": ANDROID})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["ok"] is True
    device = db.session.scalar(select(PushSubscription))
    assert device.user_id == parent.id and device.endpoint == subscription["endpoint"]
    session_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == parent.id))
    assert device.session_id == session_id
    page = browser.get("/account/meldingen-op-deze-telefoon").get_data(as_text=True)
    assert "Chrome op Android" in page
    assert "Stuur een testmelding" in page and "nog niet" in page
    assert service.requests == 0  # subscribing sends nothing


@pytest.mark.parametrize("change, message", [
    (lambda s: {**s, "endpoint": "https://push.evil.example/abc"}, "niet toestaat"),
    (lambda s: {**s, "endpoint": "https://10.0.0.7/push/abc"}, "niet toestaat"),
    (lambda s: {**s, "endpoint": "https://fcm.googleapis.com:8443/x"}, "https"),
    (lambda s: {**s, "endpoint": "http://fcm.googleapis.com/fcm/send/x"}, "https"),
    (lambda s: {**s, "endpoint": "https://user:pw@fcm.googleapis.com/x"}, "https"),
    (lambda s: {**s, "endpoint": "https://fcm.googleapis.com/" + "x" * 1000}, "adres"),
    (lambda s: {**s, "keys": {**s["keys"], "p256dh": "not base64 !"}}, "sleutels"),
    (lambda s: {**s, "keys": {**s["keys"], "p256dh": "A" * 2000}}, "sleutels"),
    (lambda s: {**s, "keys": {**s["keys"], "auth": "AAAA"}}, "sleutels"),
    # 65 bytes that are no point on P-256
    (lambda s: {**s, "keys": {**s["keys"], "p256dh": "BA" + "A" * 85}}, "sleutels"),
    (lambda s: {"endpoint": s["endpoint"]}, "adres"),
    (lambda s: "a string", "adres"),
])
def test_bad_subscriptions_are_refused_and_nothing_is_stored(browser, service, family,
                                                             change, message):
    _, _, parent = family
    login_as(browser, parent)
    response = browser.post(SUBSCRIBE, json=change(service.subscription()))
    assert response.status_code == 422
    assert message in response.get_json()["message"]
    assert _count(PushSubscription) == 0
    assert service.requests == 0


def test_an_oversized_request_is_refused(browser, service, family):
    _, _, parent = family
    login_as(browser, parent)
    subscription = service.subscription()
    subscription["padding"] = "x" * 5000
    response = browser.post(SUBSCRIBE, json=subscription)
    assert response.status_code == 413
    assert _count(PushSubscription) == 0


def test_a_loopback_or_http_endpoint_is_refused_outside_tests(make_client, service, family):
    """The loopback service is admitted only in tests: without PUSH_TEST_ORIGIN, or with
    it but not TESTING, the same subscription is refused."""
    _, _, parent = family
    for overrides in ({"PUSH_TEST_ORIGIN": ""},
                      {"PUSH_TEST_ORIGIN": service.origin, "TESTING": False}):
        phone = make_client(**overrides)
        login_as(phone, parent)
        response = phone.post(SUBSCRIBE, json=service.subscription())
        assert response.status_code == 422, overrides
        assert "https" in response.get_json()["message"]
    assert _count(PushSubscription) == 0


def test_the_endpoint_check(app):
    app.config["PUSH_TEST_ORIGIN"] = ""
    push.check_endpoint("https://fcm.googleapis.com/fcm/send/abc", resolve=False)
    push.check_endpoint("https://wns2-par02p.notify.windows.com/w/?token=x", resolve=False)
    push.check_endpoint("https://web.push.apple.com/QO8", resolve=False)
    for bad in ("https://fcm.googleapis.com.evil.example/x", "https://notify.windows.com/x",
                "https://evilnotify.windows.com.example/x", "https://127.0.0.1/x",
                "https://[::1]/x", "ftp://fcm.googleapis.com/x", "https:///x"):
        with pytest.raises(push.Refused):
            push.check_endpoint(bad, resolve=False)
    # An allowed name that resolves to a private or loopback address is refused too.
    app.config["PUSH_HOSTS"] = ["localhost"]
    with pytest.raises(push.Refused):
        push.check_endpoint("https://localhost/push/x")


def test_subscribing_needs_the_csrf_token(make_client, service, family):
    _, _, parent = family
    phone = make_client(PUSH_TEST_ORIGIN=service.origin, WTF_CSRF_ENABLED=True)
    login_as(phone, parent)
    response = phone.post(SUBSCRIBE, json=service.subscription())
    assert response.status_code == 400
    assert _count(PushSubscription) == 0


def test_subscribing_is_rate_limited(browser, service, family, app):
    _, _, parent = family
    login_as(browser, parent)
    statuses = [browser.post(SUBSCRIBE, json=service.subscription()).status_code
                for _ in range(11)]
    assert statuses == [201] * 10 + [429]
    assert _count(PushSubscription) == push.MAX_DEVICES


def test_a_subscription_sent_by_a_second_user_moves_to_that_user(browser, service, family):
    """A shared family tablet: the next user's subscription is theirs only, and what
    still waited for the first user is not delivered to the second."""
    group, teacher, parent = family
    other = make_guardian(name="Ouder Twee")
    db.session.commit()
    device, subscription = device_for(parent, service)
    push_on(parent, GROUP_POSTS)
    make_post(group, author=teacher, title="Voor Sanne")
    db.session.commit()
    assert _count(PushMessage) == 1
    login_as(browser, other)
    assert browser.post(SUBSCRIBE, json=subscription).status_code == 201
    rows = db.session.scalars(select(PushSubscription)).all()
    assert [(r.user_id, r.endpoint) for r in rows] == [(other.id, subscription["endpoint"])]
    assert _count(PushMessage) == 0
    push.send_all()
    assert service.received == []


def test_logging_out_on_the_device_removes_its_subscription(browser, service, family):
    _, _, parent = family
    login_as(browser, parent)
    assert browser.post(SUBSCRIBE, json=service.subscription()).status_code == 201
    other_device, _ = device_for(parent, service)  # the same parent's other phone stays
    assert browser.post("/logout").status_code == 303
    rows = db.session.scalars(select(PushSubscription)).all()
    assert [r.id for r in rows] == [other_device.id]


def test_a_password_change_elsewhere_ends_the_devices_logins_and_pushes(app, service, family):
    from parro.security import end_all_sessions

    _, _, parent = family
    device_for(parent, service)
    end_all_sessions(parent)
    db.session.commit()
    assert _count(PushSubscription) == 0


# -- the device list: test push and turning off ------------------------------------------


def test_a_test_push_reaches_the_device(browser, service, family, app):
    _, _, parent = family
    clock.set_now(clock.now())
    login_as(browser, parent)
    device, subscription = device_for(parent, service)
    response = browser.post(f"/account/meldingen-op-deze-telefoon/{device.id}/testmelding",
                            follow_redirects=True)
    assert "De testmelding is onderweg naar Chrome op Android" in response.get_data(as_text=True)
    assert push.send_all()["sent"] == 1
    [payload] = service.payloads(subscription)
    assert payload["title"] == "Testmelding van parro"
    assert payload["url"] == "/account/meldingen-op-deze-telefoon"
    db.session.expire_all()
    assert db.session.get(PushSubscription, device.id).last_delivered_at == clock.now()


def test_someone_elses_device_cannot_be_tested_or_turned_off(browser, service, family):
    _, _, parent = family
    other = make_guardian(name="Ouder Twee")
    db.session.commit()
    device, _ = device_for(other, service)
    login_as(browser, parent)
    base = f"/account/meldingen-op-deze-telefoon/{device.id}"
    assert browser.post(f"{base}/testmelding").status_code == 403
    assert browser.post(f"{base}/uitzetten").status_code == 403
    assert _count(PushMessage) == 0 and _count(PushSubscription) == 1
    assert service.requests == 0


def test_a_test_push_to_a_device_that_is_gone_says_so(browser, service, family):
    _, _, parent = family
    login_as(browser, parent)
    response = browser.post("/account/meldingen-op-deze-telefoon/999/testmelding",
                            follow_redirects=True)
    assert "Dit apparaat krijgt geen meldingen meer" in response.get_data(as_text=True)
    assert _count(PushMessage) == 0 and service.requests == 0


def test_turning_a_device_off(browser, service, family):
    _, _, parent = family
    login_as(browser, parent)
    device, _ = device_for(parent, service)
    push.queue_test(device)
    db.session.commit()
    response = browser.post(f"/account/meldingen-op-deze-telefoon/{device.id}/uitzetten",
                            follow_redirects=True)
    assert "Chrome op Android krijgt geen meldingen meer" in response.get_data(as_text=True)
    assert _count(PushSubscription) == 0 and _count(PushMessage) == 0


# -- what is pushed --------------------------------------------------------------------------


def test_a_teachers_post_is_pushed_to_guardians_who_want_it(app, service, family):
    group, teacher, parent = family
    quiet = make_guardian(make_student(group), name="Zonder push")
    db.session.commit()
    _, subscription = device_for(parent, service)
    device_for(quiet, service)  # a device, but push for group posts is off
    push_on(parent, GROUP_POSTS)
    post = make_post(group, author=teacher, title="", photos=1,
                     body="Morgen gaan we naar het bos.\nNeem laarzen mee.")
    db.session.commit()
    assert push.send_all()["sent"] == 1
    [received] = service.received
    assert received.payload == {
        "title": "Nieuw bericht van juf Anna", "body": "Morgen gaan we naar het bos.",
        "url": f"/groepen/bericht/{post.id}", "tag": f"groep-{group.id}",
    }
    assert received.headers["urgency"] == "normal"
    assert received.headers["ttl"] == str(push.TTL[GROUP_POSTS])
    assert received.headers["topic"] == f"groep-{group.id}"
    assert received.vapid_key == push.public_key()
    assert received.claims["aud"] == service.origin
    assert received.claims["sub"] == "mailto:parro@localhost"


def test_an_important_post_is_urgent(app, service, family):
    group, teacher, parent = family
    _, subscription = device_for(parent, service)
    push_on(parent, IMPORTANT_POSTS)
    make_post(group, author=teacher, title="School dicht door storm", important=True)
    db.session.commit()
    push.send_all()
    [received] = service.received
    assert received.payload["title"] == "Belangrijk bericht van juf Anna"
    assert received.payload["body"] == "School dicht door storm"
    assert received.headers["urgency"] == "high"
    assert received.headers["ttl"] == str(push.TTL[IMPORTANT_POSTS])


def test_a_scheduled_post_is_pushed_when_it_is_published(app, service, family):
    from parro.feed.publishing import publish_due

    group, teacher, parent = family
    device_for(parent, service)
    push_on(parent, GROUP_POSTS)
    make_post(group, author=teacher, title="Later", publish_at=clock.now() + timedelta(hours=1))
    db.session.commit()
    assert _count(PushMessage) == 0
    clock.set_now(clock.now() + timedelta(hours=2))
    publish_due()
    push.send_all()
    assert [p["body"] for p in service.payloads()] == ["Later"]


def test_a_chat_message_is_pushed_to_the_other_members(app, service, family):
    group, teacher, parent = family
    _, parent_phone = device_for(parent, service)
    _, teacher_phone = device_for(teacher, service)
    push_on(parent, CHAT)
    push_on(teacher, CHAT)
    conversation = make_chat(teacher, [parent], title="Schoolreis")
    make_message(conversation, teacher, "Heeft Tim zijn jas nog?\nHij hing bij de deur.")
    db.session.commit()
    push.send_all()
    assert service.payloads(teacher_phone) == []  # not to the author
    assert service.payloads(parent_phone) == [{
        "title": "Nieuw bericht van juf Anna", "body": "Heeft Tim zijn jas nog?",
        "url": f"/gesprekken/{conversation.id}", "tag": f"gesprek-{conversation.id}",
    }]
    make_message(conversation, parent, "Ja, hij heeft hem.")
    db.session.commit()
    push.send_all()
    assert [p["title"] for p in service.payloads(teacher_phone)] == [
        "Nieuw bericht van Sanne de Vries"]


def test_without_devices_a_post_costs_one_query_for_push(app, family):
    from .helpers import count_queries

    group, teacher, parent = family
    push_on(parent, GROUP_POSTS)
    parent_id = parent.id
    with count_queries() as q:
        push.queue_pushes([parent_id], GROUP_POSTS, "Titel")
    assert q.count == 1


def test_the_payload_is_in_the_users_language_and_short(app, service, family):
    group, teacher, parent = family
    parent.locale = "en"
    _, subscription = device_for(parent, service)
    push_on(parent, GROUP_POSTS)
    make_post(group, author=teacher, title="x" * 150)
    db.session.commit()
    push.send_all()
    [payload] = service.payloads(subscription)
    assert payload["title"] == "New message from juf Anna"
    assert len(payload["body"]) == push.BODY_CHARS and payload["body"].endswith("…")


# -- hours (parro.push_hours decides; its own tests are in test_push_hours.py) -----------------


def test_a_parents_quiet_hours_hold_a_post_but_not_an_important_one(app, service, family):
    from parro.models import PushHeld

    group, teacher, parent = family
    clock.set_now(datetime(2026, 12, 2, 21, 30, tzinfo=UTC))  # 22:30 in Amsterdam
    _, subscription = device_for(parent, service)
    push_on(parent, GROUP_POSTS, IMPORTANT_POSTS)
    make_post(group, author=teacher, title="Foto's van vandaag")
    make_post(group, author=teacher, title="Morgen geen school", important=True)
    db.session.commit()
    push.send_all()
    assert [p["title"] for p in service.payloads(subscription)] == [
        "Belangrijk bericht van juf Anna"]
    [held] = db.session.scalars(select(PushHeld)).all()
    assert held.user_id == parent.id and held.title == "Nieuw bericht van juf Anna"
    assert held.due_at == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 07:00 in Amsterdam


def test_what_was_held_arrives_as_one_summary_when_the_quiet_hours_end(app, service, family):
    group, teacher, parent = family
    clock.set_now(datetime(2026, 12, 2, 21, 30, tzinfo=UTC))  # 22:30 in Amsterdam
    _, subscription = device_for(parent, service)
    push_on(parent, GROUP_POSTS)
    make_post(group, author=teacher, title="Foto's van vandaag")
    make_post(group, author=teacher, title="Het lied voor de kerstviering")
    db.session.commit()
    push.send_all()
    assert service.requests == 0
    clock.set_now(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))  # 07:00
    assert push.send_all()["sent"] == 1
    [payload] = service.payloads(subscription)
    assert payload["title"] == "2 nieuwe meldingen"
    assert payload["tag"] == "parro-samenvatting"
    assert push.send_all() == {"sent": 0, "retry": 0, "failed": 0, "gone": 0}


def test_the_mail_sender_command_delivers_pushes_too(app, service, family):
    _, _, parent = family
    device, subscription = device_for(parent, service)
    push.queue_test(device)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "pushes: 1 sent" in result.output
    assert len(service.payloads(subscription)) == 1


def test_a_teacher_gets_no_push_outside_working_hours(app, service, family):
    from parro.models import PushHeld

    group, teacher, parent = family
    clock.set_now(datetime(2026, 12, 2, 18, 0, tzinfo=UTC))  # 19:00, after 16:30
    _, teacher_phone = device_for(teacher, service)
    push_on(teacher, CHAT)
    conversation = make_chat(teacher, [parent])
    make_message(conversation, parent, "Is de gymles morgen buiten?")
    db.session.commit()
    push.send_all()
    assert service.requests == 0
    [held] = db.session.scalars(select(PushHeld)).all()
    assert held.user_id == teacher.id and held.url == f"/gesprekken/{conversation.id}"
    assert held.due_at == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # Thursday 08:00


def test_a_test_push_goes_at_once_even_in_quiet_hours(app, service, family):
    _, _, parent = family
    clock.set_now(datetime(2026, 12, 2, 23, 0, tzinfo=UTC))
    device, subscription = device_for(parent, service)
    push.queue_test(device)
    db.session.commit()
    push.send_all()
    assert len(service.payloads(subscription)) == 1


# -- delivery: answers, retries, exactly once ---------------------------------------------------


def _queued(parent, device, title="Hallo") -> PushMessage:
    push.queue_pushes([parent.id], "test", title, url="/", tag="t")
    db.session.commit()
    return db.session.scalars(select(PushMessage).order_by(PushMessage.id.desc())).first()


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted(app, service, family, status):
    _, _, parent = family
    device, _ = device_for(parent, service, status)
    _queued(parent, device)
    assert push.send_all()["gone"] == 1
    assert _count(PushSubscription) == 0 and _count(PushMessage) == 0


def test_429_waits_as_long_as_the_service_asks(app, service, family):
    _, _, parent = family
    clock.set_now(clock.now())
    device, subscription = device_for(parent, service, (429, {"Retry-After": "120"}))
    message = _queued(parent, device)
    assert push.send_all()["retry"] == 1
    db.session.expire_all()
    row = db.session.get(PushMessage, message.id)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=120)
    assert row.sent_at is None and "429" in row.last_error
    assert push.send_all()["sent"] == 0  # not yet due
    clock.set_now(clock.now() + timedelta(seconds=121))
    assert push.send_all()["sent"] == 1
    assert len(service.payloads(subscription)) == 1


def test_5xx_and_timeouts_are_retried_with_back_off(app, service, family):
    _, _, parent = family
    clock.set_now(clock.now())
    device, subscription = device_for(parent, service, 500, 503)
    message = _queued(parent, device)
    start = clock.now()
    assert push.send_all()["retry"] == 1
    clock.set_now(start + timedelta(minutes=1))
    assert push.send_all()["retry"] == 1
    db.session.expire_all()
    row = db.session.get(PushMessage, message.id)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(minutes=2)
    clock.set_now(clock.now() + timedelta(minutes=2))
    assert push.send_all()["sent"] == 1
    assert len(service.payloads(subscription)) == 1
    # No answer at all (nothing listens on the port) is a retry as well.
    service.stop()
    _queued(parent, device)
    assert push.send_all()["retry"] == 1


def test_a_refused_request_is_given_up(app, service, family):
    _, _, parent = family
    device, _ = device_for(parent, service, 400)
    message = _queued(parent, device)
    assert push.send_all()["failed"] == 1
    db.session.expire_all()
    assert db.session.get(PushMessage, message.id).failed_at is not None
    assert _count(PushSubscription) == 1


def test_an_endpoint_refused_at_sending_gets_no_request(app, service, family):
    """The allow-list is checked again right before each send (it may have changed)."""
    _, _, parent = family
    device, _ = device_for(parent, service)
    message = _queued(parent, device)
    app.config["PUSH_TEST_ORIGIN"] = ""
    assert push.send_all()["failed"] == 1
    assert service.requests == 0
    db.session.expire_all()
    assert "refused" in db.session.get(PushMessage, message.id).last_error


def test_two_senders_at_once_send_every_push_exactly_once(app, service, family):
    _, _, parent = family
    devices = [device_for(parent, service)[0] for _ in range(3)]
    for n in range(20):
        push.queue_pushes([parent.id], "test", f"Bericht {n}")
    db.session.commit()
    assert _count(PushMessage) == 60
    flask_app = app

    def sender(results):
        with flask_app.app_context():
            while True:  # small batches, so the two really take turns
                counts = push.send_pending(limit=3)
                results.append(counts["sent"])
                if not any(counts.values()):
                    break
            db.session.remove()

    results: list[list[int]] = [[], []]
    threads = [threading.Thread(target=sender, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(map(sum, results)) == 60  # who sends which batch is up to them
    got = sorted((r.token, r.payload["title"]) for r in service.received)
    assert len(got) == 60 and len(set(got)) == 60  # each push to each device, once
    db.session.commit()  # the test's own snapshot predates the senders' work
    assert db.session.scalar(select(func.count()).select_from(PushMessage).where(
        PushMessage.sent_at.is_not(None), PushMessage.attempts == 1)) == 60
    assert len(devices) == 3


def test_a_claim_is_a_lease(app, service, family):
    _, _, parent = family
    clock.set_now(clock.now())
    device, _ = device_for(parent, service)
    _queued(parent, device)
    assert len(push.claim_due()) == 1
    assert push.claim_due() == []  # another sender finds it taken
    clock.set_now(clock.now() + push.CLAIM + timedelta(seconds=1))
    assert len(push.claim_due()) == 1  # the first sender died: it is given back


# -- keys -----------------------------------------------------------------------------------


def test_the_vapid_key_is_made_once_in_the_instance_folder(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("PARRO_INSTANCE_PATH", str(tmp_path))
    first = make_app()
    with first.app_context():
        key = push.public_key()
    path = tmp_path / "vapid_private_key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    second = make_app()
    with second.app_context():
        assert push.public_key() == key


def test_a_configured_vapid_key_is_used(make_app):
    from py_vapid import Vapid02

    own = Vapid02()
    own.generate_keys()
    app = make_app(VAPID_PRIVATE_KEY=own.private_pem().decode(), VAPID_CONTACT="it@school.nl")
    with app.app_context():
        assert push.vapid().public_key.public_numbers() == own.public_key.public_numbers()
        assert push.contact() == "mailto:it@school.nl"


# -- the demo's push viewer ---------------------------------------------------------------------


def test_the_push_viewer_lists_what_was_sent_with_its_device(client, service, family, app):
    from parro.models import Role

    from .factories import make_user

    _, _, parent = family
    device, _ = device_for(parent, service)
    push.queue_test(device)
    db.session.commit()
    push.send_all()
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login_as(client, admin)
    page = client.get("/dev/push/").get_data(as_text=True)
    assert "Testmelding van parro" in page and "Chrome op Android" in page
    assert "Sanne de Vries" in page and "afgeleverd" in page


def test_the_push_viewer_is_for_loopback_or_an_admin(client, family):
    _, _, parent = family
    login_as(client, parent)
    assert client.get("/dev/push/").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/dev/push/", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403


def test_the_demo_phone_decrypts_what_it_is_sent(browser, app, family):
    """Demo mode without a real push service: the pushes are encrypted and VAPID-signed as
    for any phone, decrypted by the demo phone and shown, decrypted, in the push viewer."""
    _, _, parent = family
    login_as(browser, parent)
    page = browser.post("/dev/push/telefoon", follow_redirects=True).get_data(as_text=True)
    assert "De demo-telefoon staat in de lijst" in page and "Demo-telefoon" in page
    device = db.session.scalar(select(PushSubscription))
    assert device.endpoint.startswith(push.DEMO_ENDPOINT)
    browser.post(f"/account/meldingen-op-deze-telefoon/{device.id}/testmelding")
    assert push.send_all()["sent"] == 1
    [decrypted] = push.demo_received(device).values()
    assert decrypted["title"] == "Testmelding van parro"
    page = browser.get("/dev/push/").get_data(as_text=True)
    assert "ontsleuteld door de telefoon" in page and "Demo-telefoon" in page


def test_there_is_no_demo_phone_outside_demo_mode(make_client, family, service):
    _, _, parent = family
    phone = make_client(DEMO=False)
    login_as(phone, parent)
    assert phone.post("/dev/push/telefoon").status_code == 404
    assert "Demo-telefoon toevoegen" not in phone.get(
        "/account/meldingen-op-deze-telefoon").get_data(as_text=True)


def test_delivered_pushes_are_deleted_after_a_week(app, service, family):
    _, _, parent = family
    device, _ = device_for(parent, service)
    _queued(parent, device)
    push.send_all()
    assert _count(PushMessage) == 1
    clock.set_now(SCHOOL_MORNING + push.KEEP + timedelta(hours=2))
    _queued(parent, device, "Nieuw")  # waiting: stays
    assert push.tidy() == 1
    assert [m.payload["title"] for m in db.session.scalars(select(PushMessage))] == ["Nieuw"]

def test_an_office_answer_is_pushed_signed_de_administratie(app, service, family):
    """Office conversations (issue 19, point 3): the guardian and every admin, never the
    admin's name to the guardian."""
    from parro.chat import service as chat

    group, teacher, parent = family
    admin = make_admin(name="Lies Admin")
    db.session.commit()
    _, parent_phone = device_for(parent, service)
    _, admin_phone = device_for(admin, service)
    _, teacher_phone = device_for(teacher, service)
    for user in (parent, admin, teacher):
        push_on(user, CHAT)
    conversation = chat.write_to_office(parent, None, "Wij zijn verhuisd.")
    push.send_all()
    assert [p["title"] for p in service.payloads(admin_phone)] == [
        "Nieuw bericht van Sanne de Vries"]
    make_message(conversation, admin, "Dank u, aangepast.")
    db.session.commit()
    push.send_all()
    assert service.payloads(parent_phone) == [{
        "title": "Nieuw bericht van De administratie", "body": "Dank u, aangepast.",
        "url": f"/gesprekken/{conversation.id}", "tag": f"gesprek-{conversation.id}",
    }]
    assert service.payloads(teacher_phone) == []  # not in the conversation
