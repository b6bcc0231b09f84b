"""The conversation page's cost, and its cached messages (parro/fragments.py):
the same one client (so the same app and cache) switches between viewers."""

from __future__ import annotations

import re
from datetime import timedelta

from parro import clock
from parro.chat import service
from parro.extensions import db
from parro.models import TeacherAssignment

from ..factories import make_message
from ..helpers import count_queries, login_as
from .chat_helpers import TUESDAY_10, kindgesprek


def _page(client, conversation):
    response = client.get(f"/gesprekken/{conversation.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _message(html, message):
    return re.search(rf'<li id="message-{message.id}".*?</li>', html, re.S).group(0)


def _page_queries(client, conversation) -> int:
    client.get(f"/gesprekken/{conversation.id}")
    with count_queries(client.application) as q:
        _page(client, conversation)
    return q.count


def test_the_page_costs_the_same_queries_for_few_and_many_messages(s, client, app):
    conversation = kindgesprek(s)
    for i in range(3):
        make_message(conversation, s.anna if i % 2 else s.eva, f"Bericht {i}")
    db.session.commit()
    login_as(client, s.eva)
    few = _page_queries(client, conversation)
    for i in range(app.config["CHAT_PAGE_SIZE"] + 11):
        make_message(conversation, s.anna if i % 2 else s.eva, f"Nog een bericht {i}")
    db.session.commit()
    many = _page_queries(client, conversation)
    assert few == many, (few, many)
    # Session, conversation, may see it, messages, members, availability, school,
    # how far each member read, the navigation's counts (a reload marks nothing read).
    assert many <= 9, many


def test_a_visit_marks_read_once_and_a_reload_writes_nothing(s, client):
    conversation = kindgesprek(s)
    make_message(conversation, s.anna, "Gym is morgen")
    db.session.commit()
    login_as(client, s.eva)
    with count_queries(client.application) as first:
        _page(client, conversation)
    with count_queries(client.application) as reload:
        _page(client, conversation)
    writes = [q for q in first.executed if q.startswith("INSERT INTO conversation_read")]
    assert len(writes) == 1, first.executed
    assert not [q for q in reload.executed if q.startswith(("INSERT", "UPDATE", "BEGIN IMMEDIATE"))]
    make_message(conversation, s.anna, "En de gymschoenen")
    db.session.commit()
    with count_queries(client.application) as news:
        _page(client, conversation)
    assert any(q.startswith("INSERT INTO conversation_read") for q in news.executed)


def test_a_cached_message_holds_no_token_and_shows_each_viewer_their_own_actions(s, client):
    """A message is kept whole: one's own links to its edit form (where deleting is, with
    the CSRF token of that request), someone else's to the report form."""
    conversation = kindgesprek(s)
    message = make_message(conversation, s.eva, "Sem is ziek")
    db.session.commit()
    login_as(client, s.eva)
    html = _page(client, conversation)
    own = _message(html, message)
    edit_url = f"/gesprekken/{conversation.id}/berichten/{message.id}/bewerken"
    assert 'class="chat-message mine"' in own and "Bewerken" in own and edit_url in own
    assert "csrf_token" not in own and "Melden" not in own
    login_as(client, s.peter)
    other = _message(_page(client, conversation), message)
    assert "mine" not in other and "Bewerken" not in other and "csrf_token" not in other
    assert "Melden" in other and "Sem is ziek" in other
    phone = client.application.test_client()  # Eva's second browser, on the same app
    login_as(phone, s.eva)
    assert _message(_page(phone, conversation), message) == own
    # Without JavaScript: the edit page has the delete button, with this browser's token.
    edit_page = phone.get(edit_url).get_data(as_text=True)
    form = re.search(r'action="([^"]+/verwijderen)".*?value="([^"]+)"', edit_page, re.S)
    response = phone.post(form.group(1), data={"csrf_token": form.group(2)})
    assert response.status_code == 303
    assert "Bericht verwijderd" in _message(_page(phone, conversation), message)


def test_the_inline_edit_form_deletes_with_htmx(s, client):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.eva, "Sem is ziek")
    db.session.commit()
    login_as(client, s.eva)
    htmx = {"HX-Request": "true"}
    base = f"/gesprekken/{conversation.id}/berichten/{message.id}"
    editing = client.get(f"{base}/bewerken", headers=htmx).get_data(as_text=True)
    button = re.search(r'<button[^>]*formaction="([^"]+)"[^>]*data-hx-post="([^"]+)"'
                       r'[^>]*data-hx-target="#message-(\d+)"[^>]*data-hx-confirm=[^>]*>'
                       r'Verwijderen</button>', editing)
    assert button.group(1) == button.group(2) == f"{base}/verwijderen"
    assert button.group(3) == str(message.id)
    response = client.post(button.group(2), headers=htmx)  # the tests' app checks no token
    assert response.status_code == 200
    assert "Bericht verwijderd" in response.get_data(as_text=True)


def test_edits_hiding_and_a_new_name_show_at_once(s, client):
    conversation = kindgesprek(s)
    message = make_message(conversation, s.eva, "Gym is morgen")
    db.session.commit()
    login_as(client, s.anna)
    assert "Gym is morgen" in _message(_page(client, conversation), message)
    service.edit_message(message, "Gym is overmorgen")
    db.session.commit()
    shown = _message(_page(client, conversation), message)
    assert "Gym is overmorgen" in shown and "bewerkt" in shown and "Gym is morgen" not in shown
    s.eva.name = "Eva de Vries"
    db.session.commit()
    assert "Eva de Vries" in _message(_page(client, conversation), message)
    service.hide_message(message, s.anna)
    db.session.commit()
    shown = _message(_page(client, conversation), message)
    assert "Dit bericht is verborgen door de school" in shown and "overmorgen" not in shown


def test_cached_messages_keep_their_times_true(s, client):
    conversation = kindgesprek(s)
    clock.set_now(TUESDAY_10 - timedelta(days=1))
    yesterday = make_message(conversation, s.anna, "Gisteren geschreven")
    clock.set_now(TUESDAY_10)
    today = make_message(conversation, s.anna, "Net geschreven")
    db.session.commit()
    login_as(client, s.eva)
    html = _page(client, conversation)
    assert "gisteren om 10:00</time>" in _message(html, yesterday)
    assert "vandaag om 10:00</time>" in _message(html, today)
    assert "data-fresh" in _message(html, today)  # static/js/app.js: "zojuist"
    clock.set_now(TUESDAY_10 + timedelta(days=1))
    login_as(client, s.eva)  # the session has timed out
    html = _page(client, conversation)
    assert "2 dagen geleden</time>" in _message(html, yesterday)
    assert "gisteren om 10:00</time>" in _message(html, today)
    assert "data-fresh" not in _message(html, today)


def test_a_former_members_messages_keep_their_name_for_one_query_more(s, client):
    """The authors come with the page's members; one who left costs one query, not one each."""
    conversation = kindgesprek(s)
    brams = [make_message(conversation, s.bram, f"Bericht {i} van Bram") for i in range(3)]
    make_message(conversation, s.anna, "Van Anna")
    db.session.commit()
    login_as(client, s.eva)
    members_only = _page_queries(client, conversation)
    db.session.execute(
        TeacherAssignment.__table__.delete().where(TeacherAssignment.user_id == s.bram.id)
    )
    db.session.commit()
    html = _page(client, conversation)
    assert "Bram Visser" not in html.split('id="chat"')[0]  # no longer in "Met: ..."
    for message in brams:
        assert "Bram Visser" in _message(html, message)
    assert _page_queries(client, conversation) == members_only + 1
