"""The teacher's list of conversations (issue 19, point 6): news first, then the rest;
only the unread ones; a search by child or parent; no screen of empty rows."""

from __future__ import annotations

from datetime import timedelta

from parro import clock
from parro.extensions import db

from ..factories import make_chat, make_guardian, make_message, make_student
from ..helpers import login_as, text_of
from .chat_helpers import kindgesprek


def test_news_first_then_the_rest_and_children_without_messages_folded_away(s, client):
    extra = [make_student(s.group, first_name=f"Kind{n}", last_name="Leeg") for n in range(8)]
    make_guardian(child=extra[0], name="Fatima Leeg")
    sem = kindgesprek(s)
    make_message(sem, s.eva, "Sem is jarig vandaag")  # older, but unread by Anna
    clock.set_now(clock.now() + timedelta(minutes=5))
    chat = make_chat(s.anna, [s.eva, s.peter], title="Luizenouders")
    make_message(chat, s.anna, "Wie helpt woensdag?")  # newer, Anna's own: read
    db.session.commit()
    login_as(client, s.anna)
    page = text_of(client.get("/gesprekken/"))
    assert page.index("Kindgesprek Sem Jansen") < page.index("Luizenouders")
    assert "Kind0" not in page  # no row for each child without a message
    assert "Met 8 kinderen van uw groepen is er nog geen bericht" in page

    unread = text_of(client.get("/gesprekken/?filter=ongelezen"))
    assert "Kindgesprek Sem Jansen" in unread and "Luizenouders" not in unread


def test_search_by_child_or_parent_finds_also_the_quiet_ones(s, client):
    extra = make_student(s.group, first_name="Noor", last_name="Bakker")
    make_guardian(child=extra, name="Fatima Bakker")
    make_message(kindgesprek(s), s.eva, "Vraagje")
    db.session.commit()
    login_as(client, s.anna)
    by_parent = client.get("/gesprekken/?q=fatima")
    page = text_of(by_parent)
    assert "Kindgesprek Noor Bakker" in page and "Sem" not in page
    assert f'href="/gesprekken/kind/{extra.id}"' in by_parent.get_data(as_text=True)
    assert "Kindgesprek Sem Jansen" in text_of(client.get("/gesprekken/?q=peter+jansen"))
    assert "Kindgesprek Noor Bakker" in text_of(client.get("/gesprekken/?q=NOOR"))
    nothing = text_of(client.get("/gesprekken/?q=zzz"))
    assert "Geen gesprek gevonden met ‘zzz’" in nothing
    assert client.get("/gesprekken/?q=" + "x" * 5000).status_code == 200
    read_all = text_of(client.get("/gesprekken/?filter=ongelezen&q=noor"))
    assert "Geen gesprek gevonden" in read_all


def test_a_guardian_still_sees_each_childs_kindgesprek(s, client):
    login_as(client, s.eva)
    page = text_of(client.get("/gesprekken/"))
    assert "Kindgesprek Sem Jansen" in page and "Nog geen berichten" in page
