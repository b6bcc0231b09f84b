"""Photo consent: topics, answers per child with their log, overviews, and tagged photos."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import (
    APP_PHOTOS,
    Attachment,
    Consent,
    ConsentChange,
    ConsentTopic,
    OutboxMail,
    PhotoTag,
    Post,
)

from .factories import (
    give_consent,
    make_admin,
    make_consent_topic,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
    photo_bytes,
)
from .feed_helpers import files_under, fresh, page_text, reader, sign_in, upload

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def media_dir(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def client(make_client, media_dir):
    return make_client(MEDIA_PATH=str(media_dir))


@pytest.fixture
def school(app, media_dir):
    clock.set_now(NOW)
    g3, g5 = make_group("Groep 3"), make_group("Groep 5", grade=5)
    sem = make_student(g3, first_name="Sem", last_name="Jansen")
    lisa = make_student(g3, first_name="Lisa", last_name="Bakker")
    mo = make_student(g3, first_name="Mo", last_name="Amrani")
    noah = make_student(g5, first_name="Noah", last_name="Dekker")
    app_topic = make_consent_topic("Foto's in de app", position=1)
    website = make_consent_topic("Foto's op de website", app_photos=False, position=2)
    world = {
        "g3": g3, "g5": g5, "sem": sem, "lisa": lisa, "mo": mo, "noah": noah,
        "app_topic": app_topic, "website": website,
        "teacher": make_teacher(g3, name="Anna de Boer", email="anna@example.org"),
        "other_teacher": make_teacher(g5),
        "jansen": make_guardian(child=sem, name="Eva Jansen"),
        "jansen2": make_guardian(child=sem, name="Tom Jansen"),
        "bakker": make_guardian(child=lisa, name="Ilse Bakker"),
        "amrani": make_guardian(child=mo, name="Fatma Amrani"),
        "admin": make_admin(),
    }
    give_consent(sem, app_topic, True)
    give_consent(lisa, app_topic, True)
    give_consent(mo, app_topic, False)
    db.session.commit()
    return world


def answer(client, student, **answers):
    return client.post(f"/privacy/kind/{student.id}", data=answers)


def field(topic) -> str:
    return f"topic_{topic.id}"


# -- topics --------------------------------------------------------------------------


def test_admin_adds_and_edits_topics(client, school):
    sign_in(client, school["admin"])
    response = client.post("/privacy/onderwerpen", data={"name": "Social media", "position": "4",
                                                         "app_photos": "y"})
    assert response.status_code == 303
    fresh()
    topic = db.session.scalar(select(ConsentTopic).where(ConsentTopic.name == "Social media"))
    assert topic.key is None  # there is already a topic for photos in the app
    assert db.session.scalar(
        select(func.count()).select_from(ConsentTopic).where(ConsentTopic.key == APP_PHOTOS)
    ) == 1
    page = client.get("/privacy/onderwerpen")
    assert "Social media" in page_text(page) and "bepaalt foto's in parro" in page_text(page)
    response = client.post(f"/privacy/onderwerpen/{topic.id}", data={"name": "Sociale media"})
    assert response.status_code == 303
    assert client.post("/privacy/onderwerpen", data={"name": ""}).status_code == 422
    sign_in(client, school["teacher"])
    assert client.get("/privacy/onderwerpen").status_code == 403


# -- answers and their log -------------------------------------------------------------


def test_guardian_answers_per_topic_and_every_change_is_logged(client, school):
    sem, website = school["sem"], school["website"]
    sign_in(client, school["jansen"])
    page = client.get(f"/privacy/kind/{sem.id}")
    assert page.status_code == 200
    # The website topic:
    assert "Nog niet ingevuld voor dit schooljaar: geen toestemming." in page_text(page)

    clock.set_now(datetime(2027, 3, 11, 8, 15, tzinfo=UTC))
    sign_in(client, school["jansen"])
    assert answer(client, sem, **{field(website): "ja"}).status_code == 303
    clock.set_now(datetime(2027, 3, 12, 18, 0, tzinfo=UTC))
    sign_in(client, school["jansen2"])
    assert answer(client, sem, **{field(website): "nee"}).status_code == 303
    assert answer(client, sem, **{field(website): "nee"}).status_code == 303  # no change

    fresh()
    consent = db.session.scalar(select(Consent).where(Consent.topic_id == website.id))
    assert consent.given is False and consent.changed_by_id == school["jansen2"].id
    log = db.session.execute(
        select(ConsentChange.given, ConsentChange.changed_by_id, ConsentChange.changed_at)
        .where(ConsentChange.topic_id == website.id)
        .order_by(ConsentChange.id)
    ).all()
    assert [tuple(row) for row in log] == [
        (True, school["jansen"].id, datetime(2027, 3, 11, 8, 15, tzinfo=UTC)),
        (False, school["jansen2"].id, datetime(2027, 3, 12, 18, 0, tzinfo=UTC)),
    ]
    text = page_text(client.get(f"/privacy/kind/{sem.id}"))
    assert "12 mrt 2027, 19:00 Foto's op de website nee Tom Jansen" in text
    assert "11 mrt 2027, 09:15 Foto's op de website ja Eva Jansen" in text


def test_only_the_childs_guardians_answer(client, school):
    sem, website = school["sem"], school["website"]
    sign_in(client, school["bakker"])
    assert client.get(f"/privacy/kind/{sem.id}").status_code == 403
    assert answer(client, sem, **{field(website): "ja"}).status_code == 403
    sign_in(client, school["teacher"])
    page = client.get(f"/privacy/kind/{sem.id}")
    assert page.status_code == 200 and "<form method=\"post\" class=\"card consent-form\"" not in \
        page.get_data(as_text=True)
    assert answer(client, sem, **{field(website): "ja"}).status_code == 403
    sign_in(client, school["other_teacher"])
    assert client.get(f"/privacy/kind/{sem.id}").status_code == 403
    fresh()
    assert db.session.scalar(select(func.count()).select_from(ConsentChange)) == 0


def test_teacher_sees_the_overview_of_their_group(client, school):
    sign_in(client, school["teacher"])
    page = client.get(f"/privacy/groep/{school['g3'].id}")
    assert page.status_code == 200
    text = page_text(page)
    assert "Leerling Foto's in de app Foto's op de website" in text
    assert "Lisa Bakker ✓ toestemming ? nog niet ingevuld" in text
    assert "Mo Amrani ✗ geen toestemming ? nog niet ingevuld" in text
    assert "Noah" not in text
    assert client.get(f"/privacy/groep/{school['g5'].id}").status_code == 403
    sign_in(client, school["jansen"])
    assert client.get(f"/privacy/groep/{school['g3'].id}").status_code == 403


# -- tagging photos ----------------------------------------------------------------------


def post_with_tags(client, school, tagged, files=None):
    group = school["g3"]
    return client.post(
        f"/groepen/{group.id}/nieuw",
        data={"groups": [str(group.id)], "body": "Buiten spelen",
              "files": files if files is not None else upload(("a.jpg", photo_bytes())),
              "tagged": [str(s.id) for s in tagged]},
        content_type="multipart/form-data",
    )


def test_the_post_form_flags_children_without_consent(client, school):
    sign_in(client, school["teacher"])
    html = client.get(f"/groepen/{school['g3'].id}/nieuw").get_data(as_text=True)
    flagged = html.split(f'id="tagged-{school["mo"].id}"')[1].split("</li>")[0]
    assert "geen toestemming" in flagged
    sem = html.split(f'id="tagged-{school["sem"].id}"')[1].split("</li>")[0]
    assert "geen toestemming" not in sem


def test_tagging_children_with_consent_is_stored_per_photo(client, school):
    sign_in(client, school["teacher"])
    response = post_with_tags(client, school, [school["sem"], school["lisa"]],
                              upload(("a.jpg", photo_bytes()), ("b.jpg", photo_bytes())))
    assert response.status_code == 303
    fresh()
    tags = db.session.execute(select(PhotoTag.attachment_id, PhotoTag.student_id)).all()
    assert len(tags) == 4


def test_tagging_a_child_without_consent_is_refused_whatever_the_page_showed(client, school,
                                                                             media_dir):
    sign_in(client, school["teacher"])
    # Mo has said no; Noah never answered (and is not even in this group).
    response = post_with_tags(client, school, [school["sem"], school["mo"]])
    assert response.status_code == 422
    assert "Voor Mo Amrani is er geen toestemming voor foto's in de app." in page_text(response)
    response = post_with_tags(client, school, [school["noah"]])
    assert response.status_code == 422
    assert "Een aangevinkt kind zit niet in de gekozen groepen." in page_text(response)
    assert "Noah" not in page_text(response)  # not the teacher's pupil: no name given away
    unanswered = make_student(school["g3"], first_name="Zoë", last_name="Smit")
    db.session.commit()
    response = post_with_tags(client, school, [unanswered])
    assert response.status_code == 422
    assert "Voor Zoë Smit is er geen toestemming" in page_text(response)
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0
    # The photos are kept for the teacher alone, to be placed once the tags are right.
    from parro.models import Attachment, PendingUpload

    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    kept = db.session.scalars(select(PendingUpload.key)).all()
    assert len(kept) == 3 and len(files_under(media_dir)) == 3 * 3
    assert all(any(k in f for k in kept) for f in files_under(media_dir))


def test_withdrawn_consent_hides_the_photos_from_other_families_and_tells_the_teacher(
        client, school):
    sem, app_topic = school["sem"], school["app_topic"]
    tagged = make_post(school["g3"], author=school["teacher"], title="Sem bij de moestuin",
                       photos=1, tagged=[sem])
    untagged = make_post(school["g3"], author=school["teacher"], title="Het lokaal", photos=1)
    tagged_key, untagged_key = tagged.photos[0].key, untagged.photos[0].key
    db.session.commit()

    sign_in(client, school["bakker"])
    assert tagged_key in client.get(f"/groepen/{school['g3'].id}").get_data(as_text=True)
    assert client.get(f"/media/{tagged_key}/klein").status_code == 200

    sign_in(client, school["jansen"])
    assert answer(client, sem, **{field(app_topic): "nee"}).status_code == 303

    # Other families no longer see the photo, nor can they fetch it.
    sign_in(client, school["bakker"])
    html = client.get(f"/groepen/{school['g3'].id}").get_data(as_text=True)
    assert tagged_key not in html and untagged_key in html
    assert "Sem bij de moestuin" in html  # the post itself stays
    assert client.get(f"/media/{tagged_key}/groot").status_code == 403
    assert client.get(f"/media/{untagged_key}/groot").status_code == 200
    # Sem's own family and the teacher still see it; the teacher sees it flagged.
    sign_in(client, school["jansen2"])
    assert client.get(f"/media/{tagged_key}/groot").status_code == 200
    sign_in(client, school["teacher"])
    html = client.get(f"/groepen/{school['g3'].id}").get_data(as_text=True)
    assert tagged_key in html and "Geen toestemming: niet zichtbaar voor andere ouders" in html

    fresh()
    [mail] = db.session.scalars(select(OutboxMail)).all()
    assert mail.recipient == "anna@example.org"
    assert mail.subject == "Toestemming voor foto's ingetrokken: Sem Jansen"
    assert f"Sem bij de moestuin: http://parro.test/groepen/bericht/{tagged.id}" in mail.body_text
    assert "Het lokaal" not in mail.body_text

    # Consent given again: the photo is back.
    sign_in(client, school["jansen"])
    answer(client, sem, **{field(app_topic): "ja"})
    sign_in(client, school["bakker"])
    assert client.get(f"/media/{tagged_key}/groot").status_code == 200
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 2
