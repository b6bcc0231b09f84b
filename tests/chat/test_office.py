"""Parents write to the office (issue 19, point 3): about a child or the family, every admin
reads and answers as "De administratie", the office's opening hours, and the same rules as
other chats (no other parent, moderation, notices, export, deletion)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.chat import service
from parro.chat.digest import send_digests, send_notices
from parro.extensions import db
from parro.models import Conversation, ConversationKind, Message, OutboxMail, Report, School

from ..factories import make_admin
from ..helpers import login_as, text_of
from .chat_helpers import AMS, fresh, fresh_all


@pytest.fixture
def office(s):
    s.lies = make_admin(name="Lies Admin", email="lies@example.org")
    s.joop = make_admin(name="Joop Admin", email="joop@example.org")
    db.session.commit()
    return s


def _count(model) -> int:
    return fresh(select(func.count()).select_from(model))


def _write(client, subject, body="Wij zijn verhuisd naar de Dorpsstraat 1."):
    return client.post("/gesprekken/administratie", data={"subject": subject, "body": body})


def test_a_guardian_writes_to_the_office_about_a_child_and_every_admin_reads_it(office, client):
    s = office
    login_as(client, s.eva)
    page = text_of(client.get(f"/gesprekken/administratie?over={s.sem.id}"))
    assert "De administratie schrijven" in page and "Sem Jansen" in page
    assert "De administratie is nu open." in page  # Tuesday 10:00, default hours
    assert "Openingstijden administratie: maandag t/m vrijdag, 08:30–16:00." in page

    response = _write(client, str(s.sem.id))
    assert response.status_code == 303
    conversation = fresh(select(Conversation).where(Conversation.kind == ConversationKind.OFFICE))
    assert response.headers["Location"].endswith(f"/gesprekken/{conversation.id}")
    assert conversation.about_student_id == s.sem.id and conversation.created_by_id == s.eva.id
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "Administratie: over Sem" in page and "Met: De administratie, Eva Jansen" in page
    assert "Lies" not in page and "Joop" not in page  # the guardian is not told who reads

    for admin in (s.lies, s.joop):
        login_as(client, admin)
        index = text_of(client.get("/gesprekken/"))
        assert "Administratie: Eva Jansen over Sem Jansen" in index
        page = text_of(client.get(f"/gesprekken/{conversation.id}"))
        assert "Wij zijn verhuisd naar de Dorpsstraat 1." in page


@pytest.mark.parametrize("who", ["peter", "mark", "anna", "ilse"])
def test_nobody_else_sees_or_writes_in_an_office_conversation(office, client, who):
    """Not the other parent of the same child (no parent-to-parent chat), not teachers."""
    s = office
    conversation = service.write_to_office(s.eva, s.sem, "Ons nieuwe adres")
    login_as(client, getattr(s, who))
    assert client.get(f"/gesprekken/{conversation.id}").status_code == 403
    assert client.post(f"/gesprekken/{conversation.id}", data={"body": "hoi"}).status_code == 403
    assert "Ons nieuwe adres" not in text_of(client.get("/gesprekken/"))
    assert _count(Message) == 1


def test_writing_about_someone_elses_child_is_refused_and_nothing_is_stored(office, client):
    s = office
    login_as(client, s.eva)
    for subject in (str(s.noah.id), "999999", "kind", ""):
        response = _write(client, subject)
        assert response.status_code == 422
        page = text_of(response)
        assert ("U kunt de administratie alleen schrijven over uw eigen kinderen of over uw gezin."
                in page or "Kies waarover u schrijft." in page)
        assert "Wij zijn verhuisd naar de Dorpsstraat 1." in page  # the text is kept
    assert _count(Conversation) == 0 and _count(Message) == 0


def test_bad_messages_are_refused_in_dutch_and_english(office, client, app):
    s = office
    login_as(client, s.eva)
    response = _write(client, "gezin", body="   ")
    assert response.status_code == 422 and "Schrijf eerst een bericht." in text_of(response)
    response = _write(client, "gezin", body="x" * (app.config["CHAT_MAX_LENGTH"] + 1))
    assert response.status_code == 422 and "Uw bericht is te lang" in text_of(response)
    s.eva.locale = "en"
    db.session.commit()
    response = _write(client, str(s.noah.id))
    assert "You can only write to the office about your own children or your family." in \
        text_of(response)
    assert _count(Message) == 0


def test_one_conversation_per_subject(office, client):
    s = office
    login_as(client, s.eva)
    _write(client, str(s.sem.id), body="Eerste")
    _write(client, str(s.sem.id), body="Tweede")
    _write(client, "gezin", body="Over ons gezin")
    rows = fresh_all(select(Conversation).order_by(Conversation.id))
    assert [(c.about_student_id, c.last_message_id > 0) for c in rows] == [
        (s.sem.id, True), (None, True)
    ]
    assert [m.body for m in fresh_all(select(Message).where(
        Message.conversation_id == rows[0].id).order_by(Message.id))] == ["Eerste", "Tweede"]
    login_as(client, s.eva)
    index = text_of(client.get("/gesprekken/"))
    assert "Administratie: over Sem" in index and "Administratie: over ons gezin" in index
    # Peter, Sem's other parent, writes his own conversation about Sem.
    login_as(client, s.peter)
    assert _write(client, str(s.sem.id), body="Van Peter").status_code == 303
    assert _count(Conversation) == 3


def test_the_office_answers_as_de_administratie_and_its_name_is_kept(office, client):
    s = office
    conversation = service.write_to_office(s.eva, None, "Nieuw telefoonnummer: 06 1234")
    login_as(client, s.lies)
    assert client.post(f"/gesprekken/{conversation.id}",
                       data={"body": "Dank u, aangepast."}).status_code == 303
    answer = fresh(select(Message).where(Message.body == "Dank u, aangepast."))
    assert answer.author_id == s.lies.id and answer.as_office  # who it was, for the record

    # Staff see the name, first (so a cached part could leak it), the guardian does not.
    login_as(client, s.joop)
    html = client.get(f"/gesprekken/{conversation.id}").get_data(as_text=True)
    assert "De administratie <span class=\"muted\">(Lies Admin)</span>" in html
    login_as(client, s.eva)
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "De administratie" in page and "Dank u, aangepast." in page
    assert "Lies" not in page
    assert "Lies" not in text_of(client.get("/gesprekken/"))  # the list's last message
    # The office read it: the guardian's own newest message says so, without a name.
    client.post(f"/gesprekken/{conversation.id}", data={"body": "Top"})
    login_as(client, s.joop)
    client.get(f"/gesprekken/{conversation.id}")
    login_as(client, s.eva)
    page = text_of(client.get(f"/gesprekken/{conversation.id}"))
    assert "Gelezen door de administratie" in page and "Joop" not in page


def test_closed_office_says_from_when_it_reads(office, client):
    s = office
    clock.set_now(datetime(2026, 11, 17, 18, 0, tzinfo=AMS))  # Tuesday evening
    login_as(client, s.eva)
    page = text_of(client.get("/gesprekken/administratie"))
    assert "De administratie is nu gesloten." in page
    assert "Het wordt gelezen vanaf morgen om 08:30." in page


def test_admin_sets_the_office_hours_and_bad_hours_change_nothing(office, client):
    s = office
    login_as(client, s.lies)
    page = text_of(client.get("/beheer/school/openingstijden"))
    assert "Openingstijden administratie" in page
    response = client.post("/beheer/school/openingstijden", data={
        "weekdays": ["1", "2"], "opens_at": "12:00", "closes_at": "09:00"})
    assert response.status_code == 422
    assert "De eindtijd moet na de begintijd liggen." in text_of(response)
    response = client.post("/beheer/school/openingstijden", data={
        "opens_at": "09:00", "closes_at": "12:00"})
    assert response.status_code == 422 and "Kies minstens één dag." in text_of(response)
    school = fresh(select(School))
    assert school.office_weekdays == "12345"

    response = client.post("/beheer/school/openingstijden", data={
        "weekdays": ["1", "3"], "opens_at": "09:00", "closes_at": "12:00"})
    assert response.status_code == 303
    login_as(client, s.eva)
    page = text_of(client.get("/gesprekken/administratie"))  # Tuesday 10:00: closed now
    assert "Openingstijden administratie: maandag, woensdag, 09:00–12:00." in page
    assert "De administratie is nu gesloten." in page
    assert "Het wordt gelezen vanaf morgen om 09:00." in page


def test_admins_are_notified_and_the_guardian_hears_from_de_administratie(office):
    s = office
    conversation = service.write_to_office(s.eva, s.sem, "Formulier kwijt")
    clock.set_now(datetime(2026, 11, 17, 10, 30, tzinfo=AMS))
    assert send_notices() == 2  # both admins (at work), nobody else
    mails = fresh_all(select(OutboxMail).order_by(OutboxMail.recipient))
    assert [m.recipient for m in mails] == ["joop@example.org", "lies@example.org"]
    assert "Administratie: Eva Jansen over Sem Jansen: 1 bericht van Eva Jansen" in \
        mails[0].body_text
    assert "Formulier kwijt" not in mails[0].body_text

    service.post_message(conversation, s.lies, "Ik stuur een nieuw formulier mee.")
    db.session.commit()
    clock.set_now(datetime(2026, 11, 17, 11, 0, tzinfo=AMS))
    assert send_notices() == 1
    [mail] = fresh_all(select(OutboxMail).where(OutboxMail.recipient == "eva@example.org"))
    assert "Administratie: over Sem: 1 bericht van De administratie" in mail.body_text
    assert "Lies" not in mail.body_text
    assert send_digests() == 0


def test_the_unread_count_of_an_admin_counts_office_messages(office, client):
    s = office
    service.write_to_office(s.eva, None, "Vraagje")
    login_as(client, s.lies)
    assert "1 ongelezen bericht" in text_of(client.get("/gesprekken/"))


def test_a_message_in_an_office_conversation_can_be_reported(office, client):
    s = office
    conversation = service.write_to_office(s.eva, None, "Vraag")
    service.post_message(conversation, s.lies, "Antwoord")
    db.session.commit()
    answer = fresh(select(Message).where(Message.body == "Antwoord"))
    login_as(client, s.eva)
    assert client.get(f"/meldingen/chatbericht/{answer.id}").status_code == 200
    response = client.post(f"/meldingen/chatbericht/{answer.id}", data={"reason": "Onbeleefd"})
    assert response.status_code == 303
    assert _count(Report) == 1
    login_as(client, s.peter)  # not in the conversation: cannot report in it
    assert client.get(f"/meldingen/chatbericht/{answer.id}").status_code == 403


def test_the_guardians_export_holds_the_office_conversation(office, client):
    s = office
    conversation = service.write_to_office(s.eva, s.sem, "Nieuw adres")
    service.post_message(conversation, s.lies, "Verwerkt")
    db.session.commit()
    login_as(client, s.eva)
    response = client.post("/account/gegevens-downloaden")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    messages = json.loads(archive.read("berichten.json"))
    assert [(m["gesprek"], m["tekst"]) for m in messages["verstuurd"]] == [
        ("Administratie: over Sem", "Nieuw adres")
    ]
    assert [(m["van"], m["tekst"]) for m in messages["antwoorden_administratie"]] == [
        ("De administratie", "Verwerkt")
    ]
    assert "Lies" not in archive.read("berichten.json").decode()
    # Peter's export has none of it.
    login_as(client, s.peter)
    archive = zipfile.ZipFile(io.BytesIO(client.post("/account/gegevens-downloaden").get_data()))
    assert "Nieuw adres" not in archive.read("berichten.json").decode()


def test_deleting_the_family_deletes_its_office_conversations(office, client):
    s = office
    service.write_to_office(s.eva, s.sem, "Over Sem")
    service.write_to_office(s.eva, None, "Over ons gezin")
    service.write_to_office(s.mark, None, "Van een andere familie")
    login_as(client, s.lies)
    page = text_of(client.get(f"/beheer/gezin-verwijderen?leerling={s.sem.id}"))
    assert "gesprekken met de administratie: 2, met alle 2 berichten" in page
    response = client.post("/beheer/gezin-verwijderen",
                           data={"leerling": s.sem.id, "kies": "1", "kind": [s.sem.id]})
    assert response.status_code == 303
    assert [m.body for m in fresh_all(select(Message))] == ["Van een andere familie"]
