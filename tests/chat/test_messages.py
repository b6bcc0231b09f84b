"""Messages: text, sending with and without htmx, editing, deleting, polling, unread and read."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import select

from parro.extensions import db
from parro.models import Message, ReadState

from ..factories import make_chat, make_message
from ..helpers import count_queries, login_as, text_of
from .chat_helpers import TUESDAY_10, fresh, fresh_all, kindgesprek

HX = {"HX-Request": "true"}


# -- sending ------------------------------------------------------------------------


def test_a_plain_form_post_saves_and_redirects_to_the_conversation(s, client):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    response = client.post(
        f"/gesprekken/{conversation.id}", data={"body": "  Sem is ziek.\nHij blijft thuis.  "}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/gesprekken/{conversation.id}#chat-compose")
    message = fresh(select(Message))
    assert message.body == "Sem is ziek.\nHij blijft thuis."
    assert message.author_id == s.eva.id
    page = client.get(f"/gesprekken/{conversation.id}")
    assert "Sem is ziek.<br>\nHij blijft thuis." in page.get_data(as_text=True)


def test_an_htmx_post_answers_with_the_new_message_and_a_fresh_send_box(s, client):
    conversation = kindgesprek(s)
    earlier = make_message(conversation, s.anna, "Goedemorgen")
    db.session.commit()
    login_as(client, s.eva)
    response = client.post(
        f"/gesprekken/{conversation.id}",
        data={"body": "Dank u!", "na": earlier.id, "v": 1},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<section id="chat-compose"' in html  # the swapped send box, empty again
    assert "Dank u!</textarea>" not in html
    assert 'data-hx-swap-oob="beforeend:#messages"' in html
    assert "Dank u!" in html and "Goedemorgen" not in html  # only what the page lacks
    assert 'name="v" value="2"' in html


def test_an_empty_message_is_refused_with_a_clear_message(s, client):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    response = client.post(f"/gesprekken/{conversation.id}", data={"body": "   \n "})
    assert response.status_code == 422
    assert "Schrijf eerst een bericht." in text_of(response)
    response = client.post(f"/gesprekken/{conversation.id}", data={"body": ""}, headers=HX)
    assert response.status_code == 422
    assert "Schrijf eerst een bericht." in text_of(response)
    assert fresh(select(Message.id)) is None


def test_a_too_long_message_is_refused(s, make_client):
    conversation = kindgesprek(s)
    client = make_client(CHAT_MAX_LENGTH=100)
    login_as(client, s.eva)
    response = client.post(f"/gesprekken/{conversation.id}", data={"body": "a" * 101})
    assert response.status_code == 422
    assert "maximaal 100 tekens" in text_of(response)
    assert fresh(select(Message.id)) is None


def test_fifty_messages_in_a_second_are_rate_limited_with_a_clear_message(s, make_client):
    conversation = kindgesprek(s)
    client = make_client(RATELIMIT_CHAT_POST="5 per 2 seconds")
    login_as(client, s.eva)
    url = f"/gesprekken/{conversation.id}"
    # The limiter counts in windows of the system clock (time.time()): stop that clock,
    # so the fifty posts fall in one window however long a busy machine takes for them.
    with time_machine.travel(TUESDAY_10, tick=False) as system_clock:
        statuses = [client.post(url, data={"body": f"spam {i}"}).status_code for i in range(50)]
        assert statuses[:5] == [303] * 5 and set(statuses[5:]) == {429}
        response = client.post(url, data={"body": "nog een"})
        assert "U stuurt veel berichten kort na elkaar" in text_of(response)
        response = client.post(url, data={"body": "Nog iets"}, headers=HX)
        # htmx gets the send box back with the message and the text kept.
        assert response.status_code == 422 and "Wacht even" in text_of(response)
        assert "Nog iets</textarea>" in response.get_data(as_text=True)
        assert len(fresh_all(select(Message.id))) == 5
        # Another member is not slowed down by it.
        login_as(client, s.anna)
        assert client.post(url, data={"body": "Rustig!"}).status_code == 303
        # Two seconds later the window has passed.
        login_as(client, s.eva)
        system_clock.shift(2)
        assert client.post(url, data={"body": "Sorry!"}).status_code == 303


# -- editing and deleting -------------------------------------------------------------


def test_an_edited_message_shows_bewerkt(s, client):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.eva, "Sem komt om 9 uur")
    db.session.commit()
    login_as(client, s.eva)
    url = f"/gesprekken/{conversation.id}/berichten/{message.id}/bewerken"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"body": "Sem komt om 10 uur"})
    assert response.status_code == 303
    login_as(client, s.anna)
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "Sem komt om 10 uur" in page and "bewerkt" in page
    assert "Sem komt om 9 uur" not in page


def test_editing_with_htmx_returns_the_message_and_empty_text_is_refused(s, client):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.eva, "Eerst")
    db.session.commit()
    login_as(client, s.eva)
    url = f"/gesprekken/{conversation.id}/berichten/{message.id}/bewerken"
    form = client.get(url, headers=HX)
    assert form.status_code == 200 and "<textarea" in form.get_data(as_text=True)
    bad = client.post(url, data={"body": " "}, headers=HX)
    assert bad.status_code == 422 and "kan niet leeg zijn" in text_of(bad)
    good = client.post(url, data={"body": "Daarna"}, headers=HX)
    assert good.status_code == 200
    assert f'id="message-{message.id}"' in good.get_data(as_text=True)
    assert "bewerkt" in text_of(good)


def test_a_deleted_message_leaves_bericht_verwijderd(s, client):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.eva, "Oeps, verkeerde chat")
    db.session.commit()
    login_as(client, s.eva)
    response = client.post(f"/gesprekken/{conversation.id}/berichten/{message.id}/verwijderen")
    assert response.status_code == 303
    login_as(client, s.bram)
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "Bericht verwijderd" in page and "Oeps" not in page
    stored = fresh(select(Message))
    assert stored.deleted_at is not None and stored.body == ""


@pytest.mark.parametrize("who", ["anna", "peter", "mark"])
def test_only_the_author_edits_or_deletes(s, client, who):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.eva, "Van Eva")
    db.session.commit()
    login_as(client, getattr(s, who))
    base = f"/gesprekken/{conversation.id}/berichten/{message.id}"
    assert client.post(f"{base}/bewerken", data={"body": "Gehackt"}).status_code == 403
    assert client.post(f"{base}/verwijderen").status_code == 403
    stored = fresh(select(Message))
    assert stored.body == "Van Eva" and stored.deleted_at is None


def test_a_message_id_from_another_conversation_is_404(s, client):
    conversation = kindgesprek(s)
    chat = make_chat(s.anna, [s.eva])
    message = make_message(chat, s.eva, "In de chat")
    db.session.commit()
    login_as(client, s.eva)
    url = f"/gesprekken/{conversation.id}/berichten/{message.id}/bewerken"
    assert client.post(url, data={"body": "x"}).status_code == 404


# -- polling --------------------------------------------------------------------------


def test_an_empty_poll_is_204_without_body_in_two_queries(s, client):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.anna, "Hallo")
    db.session.commit()
    login_as(client, s.eva)
    client.get(f"/gesprekken/{conversation.id}")  # a first request may touch the session
    url = f"/gesprekken/{conversation.id}/nieuw?na={message.id}&v=1"
    with count_queries(client.application) as q:
        response = client.get(url, headers=HX)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert q.count <= 2, q
    assert "FROM user_session" in q.statements[0]
    # Read without BEGIN and COMMIT (database.read_without_transaction), on SQLite too.
    assert q.executed == q.statements, q.executed


def test_a_poll_returns_new_messages_and_marks_them_read(s, client):
    conversation = kindgesprek(s)
    first = make_message(conversation, s.anna, "Eerste")
    db.session.commit()
    login_as(client, s.eva)
    client.get(f"/gesprekken/{conversation.id}")
    second = make_message(conversation, s.bram, "Tweede <b>vet</b>")
    db.session.commit()
    response = client.get(f"/gesprekken/{conversation.id}/nieuw?na={first.id}&v=1", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="message-{second.id}"' in html and "Eerste" not in html
    assert "Tweede &lt;b&gt;vet&lt;/b&gt;" in html
    assert f'name="na" value="{second.id}"' in html and 'name="v" value="2"' in html
    state = fresh(select(ReadState).where(ReadState.user_id == s.eva.id))
    assert state.last_read_message_id == second.id


def test_a_poll_carries_edits_and_deletions_to_the_other_members(s, client):
    from parro.chat import service

    conversation = kindgesprek(s)
    first = make_message(conversation, s.anna, "Gym is morgen")
    second = make_message(conversation, s.anna, "Neem gymschoenen mee")
    db.session.commit()
    service.edit_message(first, "Gym is overmorgen")
    service.delete_message(second)
    db.session.commit()
    login_as(client, s.eva)
    response = client.get(f"/gesprekken/{conversation.id}/nieuw?na={second.id}&v=2", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<li id="message-{first.id}" class="chat-message" data-hx-swap-oob="true">' in html
    assert "Gym is overmorgen" in html and "bewerkt" in html
    assert "Bericht verwijderd" in html and "gymschoenen" not in html
    assert "beforeend:#messages" not in html  # nothing new to append


def test_polling_someone_elses_conversation_is_refused(s, client):
    conversation = kindgesprek(s)
    make_message(conversation, s.eva, "Privé")
    db.session.commit()
    login_as(client, s.mark)
    response = client.get(f"/gesprekken/{conversation.id}/nieuw?na=0&v=0", headers=HX)
    assert response.status_code == 403 and "Privé" not in response.get_data(as_text=True)
    response = client.get(f"/gesprekken/{conversation.id}/nieuw?na=5&v=5", headers=HX)
    assert response.status_code == 403  # also when there would be nothing new
    assert client.get("/gesprekken/999/nieuw?v=0").status_code == 404


def test_the_page_polls_with_its_cursor_and_app_js_drives_it(s, client):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.anna, "Hallo")
    db.session.commit()
    login_as(client, s.eva)
    html = client.get(f"/gesprekken/{conversation.id}").get_data(as_text=True)
    cursor = re.search(r'<div id="chat-cursor"[^>]*>', html).group(0)
    assert f'data-hx-get="/gesprekken/{conversation.id}/nieuw"' in cursor
    assert 'data-hx-trigger="parro:poll"' in cursor and 'data-poll="3"' in cursor
    assert f'name="na" value="{message.id}"' in html and 'name="v" value="1"' in html


# -- unread and read --------------------------------------------------------------------


def test_unread_counts_per_conversation_and_in_the_navigation(s, client):
    conversation = kindgesprek(s)
    chat = make_chat(s.anna, [s.eva], title="Schoolreis")
    make_message(conversation, s.eva, "eigen berichten tellen niet")
    for text in ("een", "twee", "drie"):
        make_message(conversation, s.anna, text)
    make_message(chat, s.anna, "vier")
    deleted = make_message(chat, s.anna, "weg")
    from parro.chat import service

    service.delete_message(deleted)
    db.session.commit()
    login_as(client, s.eva)
    html = client.get("/gesprekken/").get_data(as_text=True)
    badge = re.search(r'<span id="nav-count-chat".*?</span></span>', html, re.DOTALL)
    assert badge and '<span class="nav-count">4</span>' in badge.group(0)
    assert '<span class="sr-only"> ongelezen berichten</span>' in badge.group(0)
    assert re.search(r'data-hx-get="/tellers\?[^"]*chat=4', html)
    page = text_of(client.get("/gesprekken/"))
    assert "Kindgesprek Sem Jansen 3 ongelezen" in page
    assert "Schoolreis 1 ongelezen" in page

    client.get(f"/gesprekken/{conversation.id}")  # reading it
    page = client.get("/gesprekken/").get_data(as_text=True)
    assert '<span class="nav-count">1</span>' in page


def test_the_navigation_poll_is_204_while_the_unread_count_is_unchanged(s, client):
    conversation = kindgesprek(s)
    make_message(conversation, s.anna, "een")
    db.session.commit()
    login_as(client, s.eva)
    shown = "/tellers?feed=0&chat=1&activities=0"
    client.get(shown)
    with count_queries(client.application) as q:
        response = client.get(shown, headers=HX)
    assert response.status_code == 204 and response.get_data() == b""
    assert q.count <= 2, q
    make_message(conversation, s.bram, "twee")
    db.session.commit()
    response = client.get(shown, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<span id="nav-count-chat" data-hx-swap-oob="innerHTML">' in html
    assert '<span class="nav-count">2</span>' in html
    assert 'data-hx-get="/tellers?feed=0&amp;chat=2&amp;activities=0"' in html


def test_the_sender_sees_who_has_read_their_last_message(s, client):
    conversation = kindgesprek(s)
    make_message(conversation, s.eva, "Is er morgen gym?")
    db.session.commit()
    login_as(client, s.eva)
    assert "Nog niet gelezen" in text_of(client.get(f"/gesprekken/{conversation.id}"))
    login_as(client, s.bram)
    client.get(f"/gesprekken/{conversation.id}")
    login_as(client, s.eva)
    html = client.get(f"/gesprekken/{conversation.id}").get_data(as_text=True)
    read_by = re.search(r'<p id="read-by"[^>]*>(.*?)</p>', html, re.DOTALL).group(1)
    assert read_by.strip() == "✓ Gelezen door Bram Visser"
    # Other members do not get the line under Eva's message.
    login_as(client, s.anna)
    assert "Gelezen door" not in text_of(client.get(f"/gesprekken/{conversation.id}"))


def test_older_messages_are_behind_a_link(s, make_client):
    conversation = kindgesprek(s)
    ids = [make_message(conversation, s.anna, f"bericht {i}").id for i in range(5)]
    db.session.commit()
    client = make_client(CHAT_PAGE_SIZE=2)
    login_as(client, s.eva)
    page = client.get(f"/gesprekken/{conversation.id}")
    assert "bericht 4" in text_of(page) and "bericht 2" not in text_of(page)
    assert f"voor={ids[3]}" in page.get_data(as_text=True)
    older = client.get(f"/gesprekken/{conversation.id}?voor={ids[3]}")
    assert "bericht 1" in text_of(older) and "bericht 2" in text_of(older)
    assert "bericht 3" not in text_of(older)
    # Writing happens with the newest messages in view, where the page polls.
    assert "<textarea" not in older.get_data(as_text=True)
    assert 'id="chat-cursor"' not in older.get_data(as_text=True)
