"""No loss under load: gunicorn with 2 workers, 50 browsers at once, on the suite's database.

50 browsers (40 guardians, 10 teachers) post 2,000 chat messages, and between
them 500 families (10 per browser, each logged in with its own session) try to
book a conference on a round of 100 slots, five families per slot. Every message the server
accepted (303) is stored exactly once, nothing answers 500 or "database is
locked", and every refused booking gets 422 with the reason. The chat rate limit
is raised for the test (one browser sends 40 messages in seconds); everything
else is the production configuration.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter

from sqlalchemy import func, select

from parro.extensions import db
from parro.models import Booking, Message

from .factories import (
    make_conference,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_student,
    make_teacher,
)
from .servers import Client, Server, auth_token, start_servers

CLIENTS = 50  # browsers at once: 40 guardians and 10 teachers chatting
TEACHERS = 10
MESSAGES = 2000  # in total, 40 per browser
FAMILIES = 500  # each tries once to book a conference for their child
SLOTS = 100
TAKEN = "Dit tijdstip is net door iemand anders gekozen."


def seed():
    """The school, logins, and per browser: where it chats and which families it books for."""
    group = make_group("Groep 6", grade=6)
    teachers = [make_teacher(group, password=None) for _ in range(TEACHERS)]
    children = [make_student(group) for _ in range(FAMILIES)]
    guardians = [make_guardian(child=child, password=None) for child in children]
    chatting = CLIENTS - TEACHERS
    chats = [make_kindgesprek(child) for child in children[:chatting]]
    round_ = make_conference(group, count=SLOTS, minutes=5)
    db.session.flush()
    # Guardian n chats in their child's conversation; teachers join those of every fourth.
    chatters = [(auth_token(g), chats[n].id) for n, g in enumerate(guardians[:chatting])]
    chatters += [(auth_token(t), chats[n * 4].id) for n, t in enumerate(teachers)]
    # Each slot is wanted by five families; browser n books for families n, n + 50, ...
    bookers = [[] for _ in range(CLIENTS)]
    for n, (guardian, child) in enumerate(zip(guardians, children, strict=True)):
        bookers[n % CLIENTS].append((auth_token(guardian), round_.slots[n % SLOTS].id, child.id))
    round_id = round_.id
    db.session.commit()
    return round_id, chatters, bookers


def test_nothing_is_lost_under_load(app, tmp_path):
    round_id, chatters, bookers = seed()
    server = Server(tmp_path / "instance", workers=2, MEDIA_PATH=tmp_path / "media",
                    RATELIMIT_CHAT_POST="100000 per minute")
    per_client = MESSAGES // CLIENTS
    sent: dict[str, int] = {}  # message text -> status
    bookings: list[tuple[int, str]] = []
    problems: list[str] = []
    lock = threading.Lock()

    def check(kind, response):
        if response.status >= 500 or "database is locked" in response.text:
            with lock:
                problems.append(f"{kind} {response.status}: {response.text[:300]}")

    def browse(n: int):
        token, chat_id = chatters[n]
        chatter = Client(server).login(token).fetch_csrf()
        families = [Client(server, dict(chatter.cookies), chatter.csrf).login(token)
                    for token, _slot, _child in bookers[n]]
        for i in range(per_client):
            text = f"load-{n}-{i}-{uuid.uuid4().hex[:8]}"
            r = chatter.post(f"/gesprekken/{chat_id}", {"body": text})
            check("chat", r)
            with lock:
                sent[text] = r.status
            if i % 4 == 0 and families:  # a booking now and then, from another family
                family, (_token, slot_id, child_id) = families.pop(), bookers[n].pop()
                r = family.post(f"/activiteiten/{round_id}/boeken",
                                {"slot_id": slot_id, "child_id": child_id})
                check("booking", r)
                with lock:
                    bookings.append((r.status, "" if r.status == 303 else r.text))

    try:
        start_servers(server)
        started = time.monotonic()
        threads = [threading.Thread(target=browse, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        server_cpu = server.cpu_seconds()
    finally:
        server.stop()
    print(f"\n{len(sent)} messages and {len(bookings)} bookings in {elapsed:.1f} s "
          f"(server CPU {server_cpu:.1f} s, load average {os.getloadavg()[0]:.1f})")

    assert problems == [], problems[:5]
    assert len(sent) == MESSAGES and len(bookings) == FAMILIES
    accepted = [text for text, status in sent.items() if status == 303]
    assert len(accepted) == MESSAGES, Counter(sent.values())
    stored = Counter(db.session.scalars(select(Message.body).where(Message.body.like("load-%"))))
    assert set(stored) == set(accepted)
    assert set(stored.values()) == {1}

    statuses = Counter(status for status, _body in bookings)
    assert statuses == {303: SLOTS, 422: FAMILIES - SLOTS}, statuses
    assert all(TAKEN in body for status, body in bookings if status == 422)
    assert db.session.scalar(select(func.count(Booking.id))) == SLOTS
