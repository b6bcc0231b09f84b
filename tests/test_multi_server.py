"""Two app servers, two schools of a board: PostgreSQL, a shared media folder, Redis for
rate limits.

Each server is gunicorn in a subprocess with its own instance folder; they share
the database, PARRO_MEDIA_PATH, PARRO_SECRET_KEY (so the Flask session and its
CSRF token from one server are good on the other; the login itself is a row in
the database) and the Redis rate-limit counters. Both run the outbox sender
against one SMTP server: every mail arrives once. The people of each school do
the same things through both servers, and see nothing of the other school.
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
    current_year,
    make_conference,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_other_school,
    make_school,
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


def seed_school(school, tag: str) -> dict:
    """Groep 3 of `school`: Sem (Eva's) and Noor (Mark's), juf Anna, Sem's kindgesprek and a
    conference round of two slots; emails end in `tag` (".a", ".b")."""
    group = make_group("Groep 3", year=current_year(school))
    sem = make_student(group, first_name="Sem")
    noor = make_student(group, first_name="Noor")
    eva = make_guardian(child=sem, name="Eva Jansen", email=f"eva{tag}@example.org")
    mark = make_guardian(child=noor, name="Mark de Wit", email=f"mark{tag}@example.org")
    anna = make_teacher(group, name="Anna de Boer", email=f"anna{tag}@example.org",
                        school=school)
    chat = make_kindgesprek(sem)
    round_ = make_conference(group, count=2)
    return {"name": school.name, "group": group.id, "sem": sem.id, "noor": noor.id,
            "chat": chat.id, "round": round_.id, "slot": round_.slots[0].id,
            "eva": auth_token(eva), "mark": auth_token(mark), "anna": auth_token(anna)}


def school_flow(s: dict, first: Server, second: Server) -> None:
    """One school's people through both servers: written through `first`, read through
    `second` and the other way round."""
    # A chat message sent through one server is read through the other, by the teacher and
    # by its author, whose session and CSRF token came from the first.
    parent = Client(first).login(s["eva"]).fetch_csrf()
    sent = parent.post(f"/gesprekken/{s['chat']}", {"body": f"Sem heeft koorts ({s['name']})"})
    assert sent.status == 303, sent.text[:500]
    teacher = Client(second).login(s["anna"])
    assert f"Sem heeft koorts ({s['name']})" in teacher.get(f"/gesprekken/{s['chat']}").text
    parent.server = second
    again = parent.post(f"/gesprekken/{s['chat']}", {"body": f"Hij blijft thuis ({s['name']})"})
    assert again.status == 303, again.text[:500]
    assert f"Hij blijft thuis ({s['name']})" in Client(first).login(
        s["anna"]).get(f"/gesprekken/{s['chat']}").text

    # A photo uploaded through one server is served through the other (one media folder).
    teacher.server = first
    teacher.fetch_csrf()
    posted = teacher.post(
        f"/groepen/{s['group']}/nieuw",
        {"groups": [str(s["group"])], "title": f"Kinderboerderij {s['name']}",
         "body": "Leuke dag"},
        files=[("files", "geit.jpg", photo_bytes(), "image/jpeg")],
    )
    assert posted.status == 303, posted.text[:500]
    page = parent.get(f"/groepen/{s['group']}").text  # parent is on the second server
    assert f"Kinderboerderij {s['name']}" in page
    (thumb,) = set(re.findall(r'/media/[\w-]+/klein', page))  # in src and in srcset
    photo = parent.get(thumb)
    assert photo.status == 200 and photo.headers["Content-Type"] == "image/jpeg"
    assert photo.body[:3] == b"\xff\xd8\xff"

    # A slot booked through one server cannot be booked through the other.
    parent.server = first
    booked = parent.post(f"/activiteiten/{s['round']}/boeken",
                         {"slot_id": s["slot"], "child_id": s["sem"]})
    assert booked.status == 303, booked.text[:500]
    other = Client(second).login(s["mark"]).fetch_csrf()
    refused = other.post(f"/activiteiten/{s['round']}/boeken",
                         {"slot_id": s["slot"], "child_id": s["noor"]})
    assert refused.status == 422
    assert "Dit tijdstip is net door iemand anders gekozen." in refused.text


def test_two_servers_serve_two_schools(app, tmp_path, redis_prefix):
    schools = [seed_school(make_school("Basisschool De Regenboog"), ".a"),
               seed_school(make_other_school("Basisschool De Vlinder"), ".b")]
    for i in range(MAILS):
        db.session.add(OutboxMail(recipient=f"ouder{i}@example.org", subject=f"Bericht {i}",
                                  body_text="Hallo"))
    db.session.commit()

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

        # Each school's people do the same, the first school's written through A, the
        # second's through B.
        school_flow(schools[0], a, b)
        school_flow(schools[1], b, a)

        # Neither server shows one school's people anything of the other's.
        for mine, theirs in (schools, schools[::-1]):
            for server in (a, b):
                parent = Client(server).login(mine["eva"])
                feed = parent.get("/groepen/")
                assert feed.status == 200 and f"Kinderboerderij {mine['name']}" in feed.text
                assert f"Kinderboerderij {theirs['name']}" not in feed.text
                assert parent.get(f"/groepen/{theirs['group']}").status in (403, 404)
                chat = parent.get(f"/gesprekken/{theirs['chat']}")
                assert chat.status in (403, 404)
                assert "Sem heeft koorts" not in chat.text
                teacher = Client(server).login(mine["anna"])
                assert teacher.get(f"/gesprekken/{theirs['chat']}").status in (403, 404)

        # Failed logins are counted in Redis: three on either server, then no more.
        wrong = {"email": "anna.a@example.org", "password": "geraden"}
        for server in (a, b, a):
            assert Client(server).fetch_csrf("/login").post("/login", wrong).status == 422
        blocked = Client(b).fetch_csrf("/login").post(
            "/login", {"email": "anna.a@example.org", "password": PASSWORD})
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
