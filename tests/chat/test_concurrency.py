"""Twenty people post to one conversation at the same moment, while someone polls it.

Every message must arrive exactly once, in the order the database accepted them
(ids and revisions hand out in commit order), and the poller must see each one
exactly once: a poll that has seen message n never later finds an older one
appear. Runs on SQLite and on PostgreSQL (PARRO_TEST_DATABASE_URL).
"""

from __future__ import annotations

import re
import threading

from sqlalchemy import select

from parro.extensions import db
from parro.models import Conversation, Message

from ..factories import make_guardian, make_teacher
from ..helpers import login_as
from .chat_helpers import fresh, fresh_all, kindgesprek

WRITERS = 20


def test_twenty_simultaneous_posts_arrive_once_each_in_order(s, make_app):
    conversation = kindgesprek(s)
    # Twenty members: guardians and teachers of Sem, so no rate limit is shared.
    writers = [make_guardian(child=s.sem, name=f"Ouder {i}") for i in range(WRITERS // 2)]
    writers += [make_teacher(s.group, name=f"Juf {i}") for i in range(WRITERS - len(writers))]
    db.session.commit()
    app = make_app(RATELIMIT_CHAT_POST="1000 per second")
    clients = []
    for user in writers:
        client = app.test_client()
        login_as(client, user)
        clients.append(client)
    poller = app.test_client()
    login_as(poller, s.eva)
    conversation_id = conversation.id

    start = threading.Barrier(WRITERS + 1)
    done = threading.Event()
    statuses: list[int] = []
    seen: list[int] = []
    errors: list[BaseException] = []

    def write(i, client):
        try:
            start.wait()
            response = client.post(f"/gesprekken/{conversation_id}", data={"body": f"bericht {i}"})
            statuses.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def poll():
        na = v = 0
        try:
            start.wait()
            while True:
                finished = done.is_set()  # one last round after the writers are done
                response = poller.get(
                    f"/gesprekken/{conversation_id}/nieuw?na={na}&v={v}",
                    headers={"HX-Request": "true"},
                )
                if response.status_code == 200:
                    html = response.get_data(as_text=True)
                    block = re.search(r'beforeend:#messages">(.*?)</ol>', html, re.DOTALL)
                    if block:
                        ids = re.findall(r'<li id="message-(\d+)"', block.group(1))
                        seen.extend(int(n) for n in ids)
                    na = int(re.search(r'name="na" value="(\d+)"', html).group(1))
                    v = int(re.search(r'name="v" value="(\d+)"', html).group(1))
                else:
                    assert response.status_code == 204, response.status_code
                if finished:
                    break
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i, c)) for i, c in enumerate(clients)]
    polling = threading.Thread(target=poll)
    for t in [*threads, polling]:
        t.start()
    for t in threads:
        t.join(60)
    done.set()
    polling.join(60)

    assert not errors, errors
    assert statuses == [303] * WRITERS
    messages = fresh_all(select(Message).order_by(Message.id))
    assert sorted(m.body for m in messages) == sorted(f"bericht {i}" for i in range(WRITERS))
    # Ids and revisions agree: the n-th message accepted is revision n.
    assert [m.revision for m in messages] == list(range(1, WRITERS + 1))
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)
    stored = fresh(select(Conversation))
    assert stored.revision == WRITERS and stored.last_message_id == messages[-1].id
    # The poller saw every message exactly once, oldest first.
    assert seen == [m.id for m in messages]
