"""An admin deletes a departed family: exactly that family's data goes, nothing else.

The Jansens leave: Sem (groep 3) and Lisa (no group this year). Mama is guardian
of both and loses her account; Papa is also guardian of Tim, who stays at school
with another family, so Papa keeps his account. The Dekkers (Noah) stay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from parro import audit, clock
from parro.extensions import db
from parro.models import (
    Answer,
    AuditEvent,
    Booking,
    ConsentChange,
    Invitation,
    Like,
    LoginEvent,
    OutboxMail,
    Pledge,
    ReadReceipt,
    Response,
    SignUp,
    UserSession,
)
from parro.security import hash_token, new_token

from .erasure_helpers import chat_file, diff, files_of, snapshot, watch_removals
from .factories import (
    give_consent,
    make_absence,
    make_admin,
    make_chat,
    make_conference,
    make_consent_topic,
    make_group,
    make_guardian,
    make_invitation,
    make_kindgesprek,
    make_materials,
    make_message,
    make_post,
    make_student,
    make_teacher,
    make_volunteer,
)
from .helpers import login_as, text_of

pytest_plugins = ["tests.admin_helpers"]


def _session(user):
    db.session.add(UserSession(token_hash=hash_token(new_token()), user_id=user.id))


def _history(student, by, topic, given=True):
    give_consent(student, topic, given=given, by=by)
    db.session.add(ConsentChange(student_id=student.id, topic_id=topic.id, given=given,
                                 changed_by_id=by.id))


@pytest.fixture
def w(app):
    clock.set_now(datetime(2027, 1, 15, 10, 0, tzinfo=UTC))
    g3, g5 = make_group("Groep 3", grade=3), make_group("Groep 5", grade=5)
    sem = make_student(g3, first_name="Sem", last_name="Jansen")
    lisa = make_student(None, first_name="Lisa", last_name="Jansen")
    tim = make_student(g5, first_name="Tim", last_name="Bakker")
    noah = make_student(g5, first_name="Noah", last_name="Dekker")
    mama = make_guardian(children=[sem, lisa], email="mama@example.org", name="Mama Jansen")
    papa = make_guardian(children=[sem, tim], email="papa@example.org", name="Papa Jansen")
    bakker = make_guardian(child=tim, email="bakker@example.org", name="Ria Bakker")
    dekker = make_guardian(child=noah, email="dekker@example.org", name="Piet Dekker")
    teacher = make_teacher(groups=[g3, g5], name="Juf Anna")
    topic = make_consent_topic()
    _history(sem, mama, topic, given=True)   # Sem may be in photos, Lisa has no answer
    _history(noah, dekker, topic, given=True)

    # Activities: a booking and an answer per child, sign-ups and pledges per guardian.
    conference = make_conference(g3, groups=[g5])
    db.session.add_all([
        Booking(slot=conference.slots[0], student=sem, booked_by=mama),
        Booking(slot=conference.slots[1], student=noah, booked_by=dekker),
    ])
    shift = make_volunteer(g3, groups=[g5]).shifts[0]
    item = make_materials(g3, groups=[g5]).items[0]
    db.session.add_all([SignUp(shift=shift, user=mama), SignUp(shift=shift, user=dekker),
                        Pledge(item=item, user=mama, quantity=3),
                        Pledge(item=item, user=dekker, quantity=2)])
    shift.taken, item.pledged = 2, 5
    party = make_invitation(g3, groups=[g5])
    db.session.add_all([
        Response(activity_id=party.id, student_id=sem.id, answer=Answer.YES, people=2),
        Response(activity_id=party.id, student_id=noah.id, answer=Answer.NO, people=0),
    ])

    make_absence(sem, by=mama)
    make_absence(noah, by=dekker)

    for user in (mama, dekker, papa):
        _session(user)
        db.session.add(LoginEvent(user_id=user.id, email=user.email, success=True))
        db.session.add(Invitation(user_id=user.id, token_hash=hash_token(new_token()),
                                  expires_at=clock.now()))
        db.session.add(OutboxMail(recipient=user.email, subject="Hallo", body_text="..."))
    db.session.add(LoginEvent(user_id=None, email="mama@example.org", success=False))

    # Gesprekken: a kindgesprek per child, and a chat the teacher started with three parents.
    sem_chat, noah_chat = make_kindgesprek(sem), make_kindgesprek(noah)
    sem_msg = make_message(sem_chat, mama, "Sem is ziek")
    make_message(sem_chat, teacher, "Beterschap")
    noah_msg = make_message(noah_chat, dekker, "Noah komt later")
    trip = make_chat(teacher, [mama, papa, dekker], title="Schoolreis")
    mama_trip = make_message(trip, mama, "Ik rijd mee")
    dekker_trip = make_message(trip, dekker, "Ik ook")
    papa_trip = make_message(trip, papa, "Ik niet")
    files = SimpleNamespace(
        sem_chat=chat_file(sem_msg), noah_chat=chat_file(noah_msg),
        mama_trip=chat_file(mama_trip), dekker_trip=chat_file(dekker_trip),
        papa_trip=chat_file(papa_trip),
    )
    db.session.commit()

    # Posts by the teacher: Sem (consent) with Noah in one photo, Lisa (no consent) in another.
    post = make_post(g3, author=teacher, photos=1, tagged=[], body="Knutselen")
    post2 = make_post(g3, author=teacher, photos=2, body="Buiten spelen")
    from parro.models import PhotoTag
    db.session.add_all([
        PhotoTag(attachment_id=post.attachments[0].id, student_id=sem.id),
        PhotoTag(attachment_id=post.attachments[0].id, student_id=noah.id),
        PhotoTag(attachment_id=post2.attachments[0].id, student_id=lisa.id),
        Like(post_id=post.id, user_id=mama.id), Like(post_id=post.id, user_id=dekker.id),
        ReadReceipt(post_id=post.id, user_id=mama.id),
        ReadReceipt(post_id=post.id, user_id=dekker.id),
    ])
    admin = make_admin(name="Beheerder")
    db.session.commit()
    return SimpleNamespace(**locals())


def _delete(client, w, **params):
    return client.post("/beheer/gezin-verwijderen", data={
        "leerling": w.sem.id, "kies": "1", "kind": [w.sem.id, w.lisa.id], **params,
    })


def test_the_page_lists_what_goes_and_what_stays(app, browser, w):
    client = browser()
    login_as(client, w.admin)
    page = text_of(client.get(f"/beheer/gezin-verwijderen?leerling={w.sem.id}"))
    # Lisa (no group this year) is chosen with Sem; Tim, in a group, is not.
    assert "Kinderen: Lisa Jansen, Sem Jansen," in page
    assert "Mama Jansen (mama@example.org)" in page
    assert "Papa Jansen houdt het account, omdat Tim Bakker op school blijft" in page
    assert "Absentiemeldingen: 1." in page
    assert ("Kindgesprekken over deze kinderen en gesprekken met de administratie: 1, met alle 2 "
            "berichten.") in page
    assert "Foto's waarop een kind staat zonder toestemming voor foto's in de app: 1." in page
    assert "verwijderde gebruiker" in page
    assert "Familie Jansen definitief verwijderen" in page
    assert "Piet Dekker" not in page and "Noah" not in page


def test_from_the_guardian_page_the_choice_can_be_changed(app, browser, w):
    client = browser()
    login_as(client, w.admin)
    page = text_of(client.get(f"/beheer/gezin-verwijderen?ouder={w.papa.id}"))
    # Papa's children: Sem and Tim are in a group, Lisa (a sibling via Mama) is not.
    assert "Kinderen: Lisa Jansen," in page
    page = text_of(client.get(
        f"/beheer/gezin-verwijderen?ouder={w.papa.id}&kies=1&kind={w.sem.id}&kind={w.tim.id}"
        f"&kind={w.lisa.id}"
    ))
    assert "Kinderen: Lisa Jansen, Sem Jansen, Tim Bakker," in page
    # Now no guardian keeps a child: all four accounts would go.
    assert "Ria Bakker (bakker@example.org)" in page
    assert "houdt het account" not in page
    assert "Familie Bakker / Jansen definitief verwijderen" in page


def test_deleting_the_family_removes_exactly_its_data(app, browser, w):
    client = browser()
    login_as(client, w.admin)
    before = snapshot()
    post_files = files_of(*(a.key for a in w.post.attachments + w.post2.attachments))
    assert len(post_files) == 9  # three photos: display size, thumbnail and WebP each
    expected_gone = files_of(w.files.sem_chat.key, w.files.mama_trip.key,
                             w.post2.attachments[0].key)
    assert len(expected_gone) == 5  # two chat files; a photo with its thumbnail and WebP

    ids = lambda *objs: {o.id for o in objs}  # noqa: E731
    rows = before["rows"]
    of = lambda table, **match: {  # noqa: E731
        pk for pk, r in rows[table].items() if all(r[k] in v for k, v in match.items())
    }
    jansen, users = ids(w.sem, w.lisa), ids(w.mama)
    expected = {
        "student": jansen,
        "app_user": users,
        "membership": of("membership", student_id=jansen),
        "guardianship": of("guardianship", student_id=jansen),
        "consent": of("consent", student_id=jansen),
        "consent_change": of("consent_change", student_id=jansen),
        "absence_report": of("absence_report", student_id=jansen),
        "booking": of("booking", student_id=jansen),
        "response": of("response", student_id=jansen),
        "sign_up": of("sign_up", user_id=users),
        "pledge": of("pledge", user_id=users),
        "user_session": of("user_session", user_id=users),
        "login_event": of("login_event", email={"mama@example.org"}),
        "invitation": of("invitation", user_id=users),
        "outbox_mail": of("outbox_mail", recipient={"mama@example.org"}),
        "notification_item": of("notification_item", user_id=users),
        "conversation": ids(w.sem_chat),
        "message": of("message", conversation_id={w.sem_chat.id}),
        "message_attachment": ids(w.files.sem_chat, w.files.mama_trip),
        "conversation_read": {pk for pk in rows["conversation_read"]
                              if pk[0] == w.sem_chat.id or pk[1] in users},
        "participant": of("participant", user_id=users),
        "post_like": of("post_like", user_id=users),
        "read_receipt": of("read_receipt", user_id=users),
        "photo_tag": of("photo_tag", student_id=jansen),
        "attachment": ids(w.post2.attachments[0]),  # Lisa, without consent
    }

    response = _delete(client, w)
    assert response.status_code == 303
    assert "Familie Jansen is verwijderd" in text_of(client.get(response.headers["Location"]))
    after = snapshot()
    removed, changed, added = diff(before, after)
    assert removed == expected

    # Changed: Mama's message in the teacher's chat (author gone, text kept, new
    # revision), that chat's revision, and the places Mama held.
    assert changed == {
        # the version too: the cached message shows the author no more
        "message": {w.mama_trip.id: {"author_id", "revision", "version"}},
        "conversation": {w.trip.id: {"revision"}},
        "shift": {w.shift.id: {"taken"}},
        "item": {w.item.id: {"pledged"}},
    }
    assert after["rows"]["message"][w.mama_trip.id]["body"] == "Ik rijd mee"
    assert after["rows"]["message"][w.mama_trip.id]["author_id"] is None
    assert after["rows"]["shift"][w.shift.id]["taken"] == 1
    assert after["rows"]["item"][w.item.id]["pledged"] == 2
    assert set(added) == {"audit_event"} and len(added["audit_event"]) == 1

    # Files: the kindgesprek's, Mama's in the chat and Lisa's photo; nobody else's.
    assert before["files"] - after["files"] == expected_gone
    assert after["files"] - before["files"] == set()
    for kept in (w.files.noah_chat, w.files.dekker_trip, w.files.papa_trip):
        assert files_of(kept.key)
    assert post_files - expected_gone <= after["files"]


def test_the_deletion_is_audited_without_personal_data(app, browser, w):
    client = browser()
    login_as(client, w.admin)
    _delete(client, w)
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == audit.DELETION))
    assert event.summary == "Familie Jansen verwijderd"
    assert event.actor_id == w.admin.id
    assert event.details["children"] == 2 and event.details["accounts"] == 1
    assert event.details["absence_reports"] == 1
    assert "mama" not in str(event.details).lower() and "Sem" not in str(event.details)


def test_a_guardian_with_a_child_at_school_keeps_the_account(app, browser, w):
    client = browser()
    login_as(client, w.admin)
    _delete(client, w)
    db.session.expire_all()
    papa = db.session.get(type(w.papa), w.papa.id)
    assert papa is not None
    assert [gs.student.first_name for gs in papa.guardianships] == ["Tim"]
    # Papa can still log in and his message in the teacher's chat is still his.
    assert db.session.get(type(w.papa_trip), w.papa_trip.id).author_id == papa.id
    other = browser()
    login_as(other, papa)
    assert other.get("/").status_code in (200, 302, 303)  # 303: the privacy questions first


def test_a_teacher_who_is_also_a_parent_keeps_the_account(app, browser, w):
    from parro.models import Guardianship, User

    db.session.add(Guardianship(user=w.teacher, student=w.lisa))
    db.session.commit()
    client = browser()
    login_as(client, w.admin)
    page = text_of(client.get(f"/beheer/gezin-verwijderen?leerling={w.sem.id}"))
    assert "Juf Anna houdt het account, omdat het een medewerker van de school is" in page
    teacher_id, mama_id = w.teacher.id, w.mama.id
    assert _delete(client, w).status_code == 303
    db.session.expire_all()
    teacher = db.session.get(User, teacher_id)
    assert teacher is not None and teacher.guardianships == []
    assert db.session.get(User, mama_id) is None


def test_a_message_of_a_deleted_guardian_shows_verwijderde_gebruiker(app, browser, w):
    client = browser()
    login_as(client, w.admin)
    _delete(client, w)
    teacher = browser()
    login_as(teacher, w.teacher)
    page = text_of(teacher.get(f"/gesprekken/{w.trip.id}"))
    assert "verwijderde gebruiker" in page and "Ik rijd mee" in page
    assert "Mama Jansen" not in page


def test_nothing_chosen_changes_nothing(app, browser, w):
    client = browser()
    login_as(client, w.admin)
    before = snapshot()
    response = client.post("/beheer/gezin-verwijderen",
                           data={"leerling": w.sem.id, "kies": "1"})
    assert response.status_code == 422
    assert "Kies welke kinderen de school verlaten" in text_of(response)
    # A child of another family smuggled into the form is ignored as well.
    response = client.post("/beheer/gezin-verwijderen",
                           data={"leerling": w.sem.id, "kies": "1", "kind": w.noah.id})
    assert response.status_code == 422
    assert snapshot() == before


def test_a_teacher_cannot_delete_a_family(app, browser, w):
    client = browser()
    login_as(client, w.teacher)
    before = snapshot()
    assert _delete(client, w).status_code == 403
    assert snapshot() == before


def test_files_go_only_after_the_rows_are_committed_away(app, browser, w, monkeypatch):
    keys = {w.files.sem_chat.key, w.files.mama_trip.key, w.post2.attachments[0].key}
    calls = watch_removals(monkeypatch)
    client = browser()
    login_as(client, w.admin)
    assert _delete(client, w).status_code == 303
    assert [set(k) for k, _ in calls] == [keys]
    assert [left for _, left in calls] == [[]]
