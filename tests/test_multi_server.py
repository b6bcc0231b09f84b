"""Two app servers, one school: PostgreSQL, a shared media folder, Redis for rate limits.

Each server is gunicorn in a subprocess with its own instance folder; they share
the database, PARRO_MEDIA_PATH, PARRO_SECRET_KEY (so the Flask session and its
CSRF token from one server are good on the other; the login itself is a row in
the database) and the Redis rate-limit counters. Both run the outbox sender
against one SMTP server: every mail arrives once.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest

from parro.extensions import db
from parro.models import OutboxMail

from .conftest import TEST_DATABASE_URL
from .factories import (
    PASSWORD,
    make_conference,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_student,
    make_teacher,
    photo_bytes,
)
from .helpers import fetch
from .servers import Client, Server, auth_token, start_servers
from .test_mail import SMTPServer

REDIS = "redis://127.0.0.1:6379/15"
MAILS = 30

pytestmark = [
    pytest.mark.skipif(
        not (TEST_DATABASE_URL or "").startswith("postgresql"),
        reason="several app servers need PostgreSQL (SQLite is one file on one machine); "
               "set PARRO_TEST_DATABASE_URL to run this test",
    ),
]


@pytest.fixture
def redis_prefix():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    prefix = f"parro-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):  # LIMITS:LIMITER/<prefix>/...
        client.delete(key)


def test_two_servers_serve_one_school(app, tmp_path, redis_prefix):
    group = make_group("Groep 3")
    sem = make_student(group, first_name="Sem")
    noor = make_student(group, first_name="Noor")
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    mark = make_guardian(child=noor, name="Mark de Wit", email="mark@example.org")
    anna = make_teacher(group, name="Anna de Boer", email="anna@example.org")
    chat = make_kindgesprek(sem)
    round_ = make_conference(group, count=2)
    for i in range(MAILS):
        db.session.add(OutboxMail(recipient=f"ouder{i}@example.org", subject=f"Bericht {i}",
                                  body_text="Hallo"))
    tokens = {u.email: auth_token(u) for u in (eva, mark, anna)}
    db.session.commit()
    ids = {"group": group.id, "sem": sem.id, "noor": noor.id, "chat": chat.id,
           "round": round_.id, "slot": round_.slots[0].id}

    smtp = SMTPServer().start()
    shared = {
        "MEDIA_PATH": tmp_path / "media",
        "RATELIMIT_STORAGE_URI": REDIS,
        "RATELIMIT_KEY_PREFIX": redis_prefix,
        "RATELIMIT_LOGIN_ACCOUNT": "3 per 15 minutes",
        "MAIL_SENDER_THREAD": "true",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
    }
    a = Server(tmp_path / "instance-a", **shared)
    b = Server(tmp_path / "instance-b", **shared)
    try:
        start_servers(a, b)  # the first request of each starts its outbox sender

        # A chat message sent through A is read through B, by the teacher and by its
        # author, whose session and CSRF token came from A.
        parent = Client(a).login(tokens["eva@example.org"]).fetch_csrf()
        sent = parent.post(f"/gesprekken/{ids['chat']}", {"body": "Sem heeft koorts (via A)"})
        assert sent.status == 303, sent.text[:500]
        teacher = Client(b).login(tokens["anna@example.org"])
        assert "Sem heeft koorts (via A)" in teacher.get(f"/gesprekken/{ids['chat']}").text
        parent.server = b
        again = parent.post(f"/gesprekken/{ids['chat']}", {"body": "Hij blijft thuis (via B)"})
        assert again.status == 303, again.text[:500]
        assert "Hij blijft thuis (via B)" in Client(a).login(
            tokens["anna@example.org"]).get(f"/gesprekken/{ids['chat']}").text

        # A photo uploaded through A is served through B (one media folder).
        teacher.server = a
        teacher.fetch_csrf()
        posted = teacher.post(
            f"/groepen/{ids['group']}/nieuw",
            {"groups": [str(ids["group"])], "title": "Kinderboerderij", "body": "Leuke dag"},
            files=[("files", "geit.jpg", photo_bytes(), "image/jpeg")],
        )
        assert posted.status == 303, posted.text[:500]
        page = parent.get(f"/groepen/{ids['group']}").text  # parent is on B
        assert "Kinderboerderij" in page
        (thumb,) = set(re.findall(r'/media/[\w-]+/klein', page))  # in src and in srcset
        photo = parent.get(thumb)
        assert photo.status == 200 and photo.headers["Content-Type"] == "image/jpeg"
        assert photo.body[:3] == b"\xff\xd8\xff"

        # A slot booked through A cannot be booked through B.
        parent.server = a
        booked = parent.post(f"/activiteiten/{ids['round']}/boeken",
                             {"slot_id": ids["slot"], "child_id": ids["sem"]})
        assert booked.status == 303, booked.text[:500]
        other = Client(b).login(tokens["mark@example.org"]).fetch_csrf()
        refused = other.post(f"/activiteiten/{ids['round']}/boeken",
                             {"slot_id": ids["slot"], "child_id": ids["noor"]})
        assert refused.status == 422
        assert "Dit tijdstip is net door iemand anders gekozen." in refused.text

        # Failed logins are counted in Redis: three on either server, then no more.
        wrong = {"email": "anna@example.org", "password": "geraden"}
        for server in (a, b, a):
            assert Client(server).fetch_csrf("/login").post("/login", wrong).status == 422
        blocked = Client(b).fetch_csrf("/login").post(
            "/login", {"email": "anna@example.org", "password": PASSWORD})
        assert blocked.status == 429

        # Both senders ran on the same outbox: every mail arrived exactly once.
        smtp.inbox.wait_for(MAILS)
        a.stop()
        b.stop()  # no sender runs any more: a second delivery would be in the inbox by now
        received = Counter(smtp.inbox.subjects)
        assert sorted(received) == sorted(f"Bericht {i}" for i in range(MAILS))
        assert set(received.values()) == {1}, received
        assert all(m.sent_at is not None for m in fetch(db.select(OutboxMail)))
    except Exception:
        print("server A:\n" + a.output() + "\nserver B:\n" + b.output())
        raise
    finally:
        a.stop()
        b.stop()
        smtp.stop()
