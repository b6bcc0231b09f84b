"""Gesprekken: who is in a kindgesprek, opening it, and chats that staff start."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from parro.extensions import db
from parro.models import (
    Conversation,
    Guardianship,
    Membership,
    Message,
    Participant,
    TeacherAssignment,
)

from ..factories import (
    make_chat,
    make_group,
    make_guardian,
    make_message,
    make_student,
    make_teacher,
    make_year,
)
from ..helpers import login_as, text_of
from .chat_helpers import fresh, fresh_all, kindgesprek

# -- who is in a kindgesprek -----------------------------------------------------


def test_kindgesprek_members_are_the_guardians_and_all_teachers_of_the_current_group(s):
    from parro.chat.service import members

    conversation = kindgesprek(s)
    assert {u.id for u in members(conversation)} == {s.eva.id, s.peter.id, s.anna.id, s.bram.id}
    db.session.commit()


@pytest.mark.parametrize("who", ["eva", "peter", "anna", "bram"])
def test_every_member_sees_the_kindgesprek(s, client, who):
    conversation = kindgesprek(s)
    make_message(conversation, s.eva, "Sem heeft een tandartsafspraak.")
    db.session.commit()
    login_as(client, getattr(s, who))
    response = client.get(f"/gesprekken/{conversation.id}")
    assert response.status_code == 200
    assert "Sem heeft een tandartsafspraak." in text_of(response)


@pytest.mark.parametrize("who", ["mark", "ilse"])
def test_other_families_and_teachers_get_403(s, client, who):
    conversation = kindgesprek(s)
    login_as(client, getattr(s, who))
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 403
    assert client.post(f"/gesprekken/{conversation.id}", data={"body": "hoi"}).status_code == 403
    assert client.get(f"/gesprekken/kind/{s.sem.id}").status_code == 403
    assert fresh(select(Message.id)) is None


def test_membership_follows_the_data_without_copies(s, client):
    """A new guardian, a teacher removed and a teacher added are followed at once."""
    conversation = kindgesprek(s)
    new_guardian = make_guardian(child=s.noah, name="Oma Dekker")
    db.session.commit()
    login_as(client, new_guardian)
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 403
    db.session.add(Guardianship(user_id=new_guardian.id, student_id=s.sem.id))
    db.session.commit()
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 200

    login_as(client, s.bram)
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 200
    db.session.execute(
        TeacherAssignment.__table__.delete().where(TeacherAssignment.user_id == s.bram.id)
    )
    db.session.commit()
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 403

    login_as(client, s.ilse)
    db.session.add(TeacherAssignment(user_id=s.ilse.id, group_id=s.group.id))
    db.session.commit()
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 200


def test_after_rollover_the_new_groups_teachers_are_in_it_and_last_years_are_not(s, client):
    conversation = kindgesprek(s)
    make_message(conversation, s.anna, "Fijne vakantie!")
    db.session.commit()
    old_year = s.group.year
    new_year = make_year("2027-2028")
    groep4 = make_group("Groep 4", grade=4, year=new_year)
    hans = make_teacher(groep4, name="Hans Bos")
    db.session.add(Membership(student_id=s.sem.id, group_id=groep4.id, school_year_id=new_year.id))
    old_year.is_current = False
    db.session.flush()
    new_year.is_current = True
    db.session.commit()

    login_as(client, hans)
    response = client.get(f"/gesprekken/{conversation.id}")
    assert response.status_code == 200
    assert "Fijne vakantie!" in text_of(response)  # the history stays with the child
    login_as(client, s.anna)
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 403
    login_as(client, s.eva)
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 200


def test_a_guardian_whose_child_left_the_group_loses_access(s, client):
    conversation = kindgesprek(s)
    db.session.execute(Membership.__table__.delete().where(Membership.student_id == s.sem.id))
    db.session.commit()
    login_as(client, s.eva)
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 403
    assert client.post(f"/gesprekken/{conversation.id}", data={"body": "hoi"}).status_code == 403
    assert client.get(f"/gesprekken/kind/{s.sem.id}").status_code == 403


def test_a_guardian_with_two_children_has_two_kindgesprekken(s, client):
    lotte = make_student(s.other_group, first_name="Lotte", last_name="Jansen")
    db.session.add(Guardianship(user_id=s.eva.id, student_id=lotte.id))
    db.session.commit()
    login_as(client, s.eva)
    page = text_of(client.get("/gesprekken/"))
    assert "Kindgesprek Sem Jansen" in page and "Kindgesprek Lotte Jansen" in page
    first = client.get(f"/gesprekken/kind/{s.sem.id}")
    second = client.get(f"/gesprekken/kind/{lotte.id}")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] != second.headers["Location"]


def test_kindgesprek_is_created_once_when_first_opened(s, client):
    login_as(client, s.eva)
    assert fresh(select(Conversation.id)) is None
    first = client.get(f"/gesprekken/kind/{s.sem.id}")
    login_as(client, s.anna)
    second = client.get(f"/gesprekken/kind/{s.sem.id}")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(fresh_all(select(Conversation))) == 1


def test_a_lost_race_to_create_the_kindgesprek_reads_the_winners_row(s, monkeypatch):
    from parro.chat import service

    winner = kindgesprek(s)
    # The loser looked before the winner committed: it saw nothing.
    monkeypatch.setattr(service, "child_conversation", lambda student: None)
    with db.session.no_autoflush:
        found = service.open_child_conversation(s.sem)
    assert found.id == winner.id
    assert len(fresh_all(select(Conversation))) == 1


# -- chats started by staff -----------------------------------------------------------


def test_teacher_starts_a_chat_with_chosen_guardians_of_their_groups(s, client):
    login_as(client, s.anna)
    page = client.get("/gesprekken/starten")
    assert page.status_code == 200
    assert "Sem: Eva Jansen" in text_of(page) and "Mark Dekker" not in text_of(page)
    response = client.post(
        "/gesprekken/starten",
        data={"title": "Schoolreiscommissie", "guardians": [s.eva.id, s.peter.id]},
    )
    assert response.status_code == 303
    conversation = fresh(select(Conversation))
    assert conversation.title == "Schoolreiscommissie"
    assert response.headers["Location"].endswith(f"/gesprekken/{conversation.id}")
    members = set(fresh_all(select(Participant.user_id)))
    assert members == {s.anna.id, s.eva.id, s.peter.id}

    login_as(client, s.eva)
    page = client.get(f"/gesprekken/{conversation.id}")
    assert page.status_code == 200
    assert "Peter Jansen" in text_of(page)
    # Guardians see each other's names, never their email addresses.
    assert "peter@example.org" not in page.get_data(as_text=True)
    login_as(client, s.bram)  # a colleague who was not chosen
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 403


def test_a_chat_cannot_include_guardians_of_other_groups(s, client):
    login_as(client, s.anna)
    response = client.post(
        "/gesprekken/starten", data={"title": "Commissie", "guardians": [s.eva.id, s.mark.id]}
    )
    assert response.status_code == 403
    response = client.post("/gesprekken/starten", data={"title": "Ik", "guardians": [s.bram.id]})
    assert response.status_code == 403
    assert fresh(select(Conversation.id)) is None


def test_starting_a_chat_without_subject_or_people_says_what_is_missing(s, client):
    login_as(client, s.anna)
    response = client.post("/gesprekken/starten", data={"title": " "})
    assert response.status_code == 422
    page = text_of(response)
    assert "Geef het gesprek een onderwerp." in page
    assert "Kies minstens één ouder of verzorger." in page
    assert fresh(select(Conversation.id)) is None


def test_guardians_cannot_start_chats(s, client):
    login_as(client, s.eva)
    assert client.get("/gesprekken/starten").status_code == 403
    response = client.post("/gesprekken/starten",
                           data={"title": "Ouders", "guardians": [s.peter.id]})
    assert response.status_code == 403
    assert "Nieuw gesprek" not in text_of(client.get("/gesprekken/"))


def test_chat_list_shows_chats_and_kindgesprekken_newest_first(s, client):
    chat = make_chat(s.anna, [s.eva], title="Luizenouders")
    make_message(chat, s.anna, "Wie helpt woensdag?")
    db.session.commit()
    login_as(client, s.eva)
    page = text_of(client.get("/gesprekken/"))
    assert page.index("Luizenouders") < page.index("Kindgesprek Sem Jansen")
    assert "gestart door Anna de Boer" in page
