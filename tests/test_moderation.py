"""Moderation: reporting posts and chat messages, the admin's queue, hiding and answering."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from parro import media
from parro.extensions import db
from parro.models import AuditEvent, Message, MessageAttachment, Post, Report
from parro.moderation import service

from .factories import make_kindgesprek, make_message, make_post
from .feed_helpers import fresh, reader, sign_in
from .helpers import count_queries, mails_to, text_of
from .world import build_world

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

PLACEHOLDER = "Dit bericht is verborgen door de school"


@pytest.fixture
def w(app):
    world = build_world()
    world.post = make_post(world.group, author=world.teacher, title="Schoolreisje",
                           body="Wie betaalt er nog niet? Familie X natuurlijk.", photos=1)
    world.chat = make_kindgesprek(world.student)
    world.message = make_message(world.chat, world.guardian, "Jullie zijn allemaal prutsers")
    db.session.commit()
    return world


def reports() -> list[Report]:
    fresh()
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def moderation_events() -> list[AuditEvent]:
    fresh()
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "moderation").order_by(AuditEvent.id)
    ))


def report_post(client, w, reason="Dit noemt een familie bij naam."):
    return client.post(f"/meldingen/groepsbericht/{w.post.id}", data={"reason": reason})


# -- reporting -----------------------------------------------------------------------


def test_the_report_link_is_on_posts_and_messages_of_others_only(client, w):
    sign_in(client, w.guardian)
    assert f'href="/meldingen/groepsbericht/{w.post.id}"' in client.get("/groepen/").text
    # Their own message has no report link; the teacher's view of it has one.
    chat = client.get(f"/gesprekken/{w.chat.id}").text
    assert f"/meldingen/chatbericht/{w.message.id}" not in chat
    sign_in(client, w.teacher)
    assert f'href="/meldingen/groepsbericht/{w.post.id}"' not in client.get("/groepen/").text
    assert f"/meldingen/chatbericht/{w.message.id}" in client.get(f"/gesprekken/{w.chat.id}").text


def test_a_guardian_reports_a_post_with_a_reason_once(client, w):
    sign_in(client, w.guardian)
    form = client.get(f"/meldingen/groepsbericht/{w.post.id}")
    assert form.status_code == 200
    assert "Schoolreisje" in text_of(form) and "Waarom meldt u dit?" in text_of(form)

    response = report_post(client, w)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/groepen/bericht/{w.post.id}")
    [report] = reports()
    assert (report.reporter_id, report.post_id, report.status) == (w.guardian.id, w.post.id, "open")
    [event] = moderation_events()
    assert event.actor_id == w.guardian.id and "Melding" in event.summary

    again = report_post(client, w, "Nog een keer")
    assert again.status_code == 422
    assert "U heeft dit bericht al gemeld" in text_of(again)
    assert len(reports()) == 1
    assert "U heeft dit bericht al gemeld" in text_of(
        client.get(f"/meldingen/groepsbericht/{w.post.id}")
    )


def test_the_database_refuses_a_second_report_when_two_clicks_race(app, w):
    service.report_item(w.guardian, w.post, "eerste")
    # The page's check passed for both clicks; the constraint stops the second.
    with pytest.raises(service.AlreadyReported):
        service.report_item(w.guardian, db.session.get(Post, w.post.id), "tweede")
    assert len(reports()) == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_report_needs_a_short_reason(client, w, reason):
    sign_in(client, w.guardian)
    response = report_post(client, w, reason)
    assert response.status_code == 422
    assert "Controleer de velden" in text_of(response)
    assert reports() == []


def test_nobody_reports_what_they_cannot_see(client, w):
    sign_in(client, w.guardian_other)
    assert report_post(client, w).status_code == 403
    assert client.post(f"/meldingen/chatbericht/{w.message.id}",
                       data={"reason": "x"}).status_code == 403
    sign_in(client, w.guardian)  # their own message
    assert client.post(f"/meldingen/chatbericht/{w.message.id}",
                       data={"reason": "x"}).status_code == 403
    assert reports() == []


# -- the queue -----------------------------------------------------------------------


def _reported(client, w):
    sign_in(client, w.guardian)
    assert report_post(client, w).status_code == 303
    sign_in(client, w.teacher)
    assert client.post(f"/meldingen/chatbericht/{w.message.id}",
                       data={"reason": "Onbeleefd tegen de leerkrachten"}).status_code == 303
    post_report, message_report = reports()
    return post_report, message_report


def test_the_admin_sees_open_reports_with_the_item_in_context(client, w):
    make_message(w.chat, w.teacher, "Goedemorgen, Sem had een leuke dag.")
    db.session.commit()
    _reported(client, w)
    sign_in(client, w.admin)
    assert 'href="/beheer/meldingen"' in client.get("/beheer/").text
    page = text_of(client.get("/beheer/meldingen"))
    assert "Dit noemt een familie bij naam." in page and "Schoolreisje" in page
    assert "Onbeleefd tegen de leerkrachten" in page and "Jullie zijn allemaal prutsers" in page
    # The conversation around the message, so the admin can judge it.
    assert "Goedemorgen, Sem had een leuke dag." in page
    assert "Sem Jansen" in page  # the kindgesprek it is in


def test_hiding_a_post_removes_it_for_everyone_and_tells_author_and_reporter(client, w):
    post_report, _ = _reported(client, w)
    photo_key = w.post.photos[0].key
    sign_in(client, w.admin)
    decision = {"decision": "hide", "answer": "Namen van gezinnen horen hier niet.",
                "author_answer": "Uw bericht noemt een gezin bij naam; daarom is het verborgen."}
    response = client.post(f"/beheer/meldingen/{post_report.id}", data=decision)
    assert response.status_code == 303

    fresh()
    post = db.session.get(Post, w.post.id)
    assert post is not None and post.hidden_at is not None and post.hidden_by_id == w.admin.id
    for user in (w.guardian, w.teacher, w.admin):
        sign_in(client, user)
        assert "Schoolreisje" not in client.get("/groepen/").text
        assert client.get(f"/groepen/bericht/{w.post.id}").status_code == 403
        assert client.get(f"/media/{photo_key}/groot").status_code == 403
    # Nor can its author change or remove the evidence.
    sign_in(client, w.teacher)
    assert client.post(f"/groepen/bericht/{w.post.id}/verwijderen").status_code == 403

    # Each gets their own text: the author the explanation, the reporter the answer.
    [author_mail] = mails_to(w.teacher.email)
    assert "verborgen" in author_mail.subject
    assert "Uw bericht noemt een gezin bij naam; daarom is het verborgen." in author_mail.body_text
    assert "Namen van gezinnen horen hier niet." not in author_mail.body_text
    assert w.guardian.email not in author_mail.body_text  # the reporter stays unnamed
    [answer] = mails_to(w.guardian.email)
    assert "Namen van gezinnen horen hier niet." in answer.body_text
    assert "noemt een gezin bij naam" not in answer.body_text

    sign_in(client, w.guardian)
    mine = text_of(client.get("/meldingen/"))
    assert "Verborgen door de school" in mine and "Namen van gezinnen horen hier niet." in mine
    assert "noemt een gezin bij naam" not in mine
    assert [e.details.get("decision") for e in moderation_events()] == [None, None, "hidden"]


def test_dismissing_a_report_leaves_the_post_and_answers_the_reporter(client, w):
    post_report, _ = _reported(client, w)
    sign_in(client, w.admin)
    response = client.post(f"/beheer/meldingen/{post_report.id}",
                           data={"decision": "dismiss", "answer": "Dit valt binnen de afspraken."})
    assert response.status_code == 303
    fresh()
    assert db.session.get(Post, w.post.id).hidden_at is None
    assert mails_to(w.teacher.email) == []
    [answer] = mails_to(w.guardian.email)
    assert "laat het staan" in answer.body_text and "binnen de afspraken" in answer.body_text
    sign_in(client, w.guardian)
    assert "Schoolreisje" in client.get("/groepen/").text
    assert "Bekeken, blijft staan" in text_of(client.get("/meldingen/"))
    sign_in(client, w.admin)
    queue = text_of(client.get("/beheer/meldingen"))
    assert "Schoolreisje" not in queue and "prutsers" in queue  # the message is still open
    assert moderation_events()[-1].details["decision"] == "dismissed"


def test_handling_needs_a_decision_and_an_answer_and_happens_once(client, w):
    post_report, _ = _reported(client, w)
    sign_in(client, w.admin)
    url = f"/beheer/meldingen/{post_report.id}"
    assert client.post(url, data={"decision": "hide", "answer": ""}).status_code == 422
    no_explanation = client.post(url, data={"decision": "hide", "answer": "Zo"})
    assert no_explanation.status_code == 422
    assert "Schrijf de schrijver waarom het bericht verborgen wordt." in text_of(no_explanation)
    assert client.post(url, data={"answer": "Zo"}).status_code == 422
    assert db.session.get(Post, w.post.id).hidden_at is None
    assert client.post(url, data={"decision": "dismiss", "answer": "Zo"}).status_code == 303
    again = client.post(url, data={"decision": "hide", "answer": "Toch", "author_answer": "Toch"},
                        follow_redirects=True)
    assert "al afgehandeld" in text_of(again)
    fresh()
    assert db.session.get(Post, w.post.id).hidden_at is None


def test_a_hidden_message_leaves_a_placeholder_and_its_files_are_not_served(client, app, w):
    key = media.new_key()
    path = media.path_for(key, "file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    db.session.add(MessageAttachment(message_id=w.message.id, key=key, kind=media.DOCUMENT,
                                     content_type="application/pdf", filename="brief.pdf",
                                     size=15))
    db.session.commit()
    _, message_report = _reported(client, w)
    revision = w.chat.revision
    sign_in(client, w.admin)
    assert client.post(f"/beheer/meldingen/{message_report.id}",
                       data={"decision": "hide", "answer": "Dank u, het is verborgen.",
                             "author_answer": "Dit is niet respectvol."}
                       ).status_code == 303

    fresh()
    message = db.session.get(Message, w.message.id)
    assert message.body == "Jullie zijn allemaal prutsers"  # kept for the audit
    assert message.hidden_at is not None and message.revision > revision
    for user in (w.guardian, w.teacher):
        sign_in(client, user)
        page = client.get(f"/gesprekken/{w.chat.id}").text
        assert PLACEHOLDER in page and "prutsers" not in page
        assert client.get(f"/gesprekken/bijlagen/{key}/bestand").status_code == 403
        assert PLACEHOLDER in client.get("/gesprekken/").text
    [author_mail] = mails_to(w.guardian.email)
    assert "Dit is niet respectvol." in author_mail.body_text
    [answer] = mails_to(w.teacher.email)
    assert "verborgen" in answer.body_text


def test_hiding_closes_every_open_report_of_the_item(client, w):
    service.report_item(w.guardian, w.post, "Namen")
    service.report_item(w.admin, db.session.get(Post, w.post.id), "Ook gezien")
    first = reports()[0]
    sign_in(client, w.admin)
    client.post(f"/beheer/meldingen/{first.id}",
                data={"decision": "hide", "answer": "Weg", "author_answer": "Niet netjes"})
    assert [r.status for r in reports()] == ["hidden", "hidden"]
    assert "Er zijn geen gemelde berichten die op u wachten" in text_of(
        client.get("/beheer/meldingen"))
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Report)) == 2


def test_a_hidden_post_does_not_change_the_feed_query_count(make_client, w):
    make_post(w.group, author=w.teacher, title="Blijft staan", photos=1)
    db.session.commit()
    client = make_client()
    sign_in(client, w.guardian)
    client.get("/groepen/")  # the read receipts are written once, on the first view
    counts = []
    for hide in (False, True):
        if hide:
            service.report_item(w.guardian, db.session.get(Post, w.post.id), "x")
            report = reports()[0]
            service.handle(report, db.session.get(type(w.admin), w.admin.id), True, "weg")
        sign_in(client, w.guardian)
        with count_queries(client.application) as queries:
            assert client.get("/groepen/").status_code == 200
        counts.append(queries.count)
    assert "Blijft staan" in client.get("/groepen/").text
    assert counts[0] == counts[1], counts


# -- undoing a hide (issue 19, point 7) -------------------------------------------------


def _hide(client, w, report):
    sign_in(client, w.admin)
    response = client.post(f"/beheer/meldingen/{report.id}", data={
        "decision": "hide", "answer": "Verborgen.", "author_answer": "Dit past niet."})
    assert response.status_code == 303


def test_a_hidden_post_can_be_shown_again_and_it_is_logged(client, w):
    post_report, _ = _reported(client, w)
    sign_in(client, w.guardian)
    assert "Schoolreisje" in client.get("/groepen/").text  # cached as it was
    _hide(client, w, post_report)
    queue = text_of(client.get("/beheer/meldingen"))
    assert "Verborgen berichten" in queue and "Weer zichtbaar maken" in queue
    response = client.post(f"/beheer/meldingen/{post_report.id}/weer-tonen")
    assert response.status_code == 303
    fresh()
    post = db.session.get(Post, w.post.id)
    assert post.hidden_at is None and post.hidden_by_id is None
    assert [r.status for r in reports() if r.post_id] == ["restored"]
    assert moderation_events()[-1].details["decision"] == "restored"
    assert "weer zichtbaar gemaakt" in moderation_events()[-1].summary
    for user in (w.guardian, w.teacher):
        sign_in(client, user)
        assert "Schoolreisje" in client.get("/groepen/").text
        assert client.get(f"/groepen/bericht/{w.post.id}").status_code == 200
    sign_in(client, w.guardian)
    assert "weer zichtbaar gemaakt door de school" in text_of(client.get("/meldingen/"))
    # Twice: nothing to undo, nothing changes.
    sign_in(client, w.admin)
    again = client.post(f"/beheer/meldingen/{post_report.id}/weer-tonen", follow_redirects=True)
    assert "Dit bericht is niet (meer) verborgen." in text_of(again)
    assert len(moderation_events()) == 4  # two reports, hide, restore: no second restore


def test_a_hidden_message_can_be_shown_again_in_open_conversations(client, w):
    _, message_report = _reported(client, w)
    _hide(client, w, message_report)
    fresh()
    revision = db.session.get(Message, w.message.id).revision
    sign_in(client, w.admin)
    assert client.post(f"/beheer/meldingen/{message_report.id}/weer-tonen").status_code == 303
    fresh()
    message = db.session.get(Message, w.message.id)
    assert message.hidden_at is None and message.revision > revision  # polls pick it up
    sign_in(client, w.teacher)
    page = client.get(f"/gesprekken/{w.chat.id}").text
    assert "prutsers" in page and PLACEHOLDER not in page
    poll = client.get(f"/gesprekken/{w.chat.id}/nieuw?v={revision}&na={message.id}")
    assert poll.status_code == 200 and "prutsers" in poll.text


def test_an_open_or_dismissed_report_cannot_be_undone(client, w):
    post_report, message_report = _reported(client, w)
    sign_in(client, w.admin)
    client.post(f"/beheer/meldingen/{message_report.id}",
                data={"decision": "dismiss", "answer": "Mag blijven."})
    for report in (post_report, message_report):
        response = client.post(f"/beheer/meldingen/{report.id}/weer-tonen",
                               follow_redirects=True)
        assert "Dit bericht is niet (meer) verborgen." in text_of(response)
    assert [r.status for r in reports()] == ["open", "dismissed"]
    sign_in(client, w.teacher)
    assert client.post(f"/beheer/meldingen/{post_report.id}/weer-tonen").status_code == 403
