"""Writing, editing and deleting group posts over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from parro.extensions import db
from parro.models import Attachment, Post, Student

from .factories import (
    make_admin,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
    pdf_bytes,
    photo_bytes,
)
from .feed_helpers import files_under, fresh, reader, sign_in, upload
from .helpers import text_of

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]


@pytest.fixture
def media_dir(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def client(make_client, media_dir):
    return make_client(MEDIA_PATH=str(media_dir))


@pytest.fixture
def school(app):
    group = make_group("Groep 3")
    other = make_group("Groep 5")
    child = make_student(group, first_name="Sem")
    teacher = make_teacher(groups=[group], name="Anna de Boer")
    world = {
        "group": group,
        "other": other,
        "teacher": teacher,
        "guardian": make_guardian(child=child),
        "other_teacher": make_teacher(other),
        "admin": make_admin(),
    }
    db.session.commit()
    return world


def post_form(client, group, **data):
    data.setdefault("groups", [str(group.id)])
    return client.post(f"/groepen/{group.id}/nieuw", data=data, content_type="multipart/form-data")


def count(model) -> int:
    fresh()
    return db.session.scalar(select(func.count()).select_from(model))


def test_teacher_posts_text_photos_and_a_pdf(client, school, media_dir):
    sign_in(client, school["teacher"])
    response = post_form(
        client, school["group"], title="Uitje naar de kinderboerderij",
        body="Wat een mooie dag!\nFoto's hieronder.",
        files=upload(("a.jpg", photo_bytes()), ("b.jpg", photo_bytes()),
                     ("brief.pdf", pdf_bytes())),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/groepen/{school['group'].id}")
    fresh()
    post = db.session.scalar(select(Post))
    assert post.title == "Uitje naar de kinderboerderij"
    assert post.body == "Wat een mooie dag!\nFoto's hieronder."
    assert [a.kind for a in post.attachments] == ["photo", "photo", "document"]
    stored = files_under(media_dir)
    # Per photo a JPEG display size and thumbnail and a WebP (small photos: no smaller WebP).
    assert len(stored) == 2 * 3 + 1 and not [f for f in stored if f.endswith(".part")]

    page = client.get(response.headers["Location"])
    assert "Uw bericht is geplaatst." in text_of(page)
    html = page.get_data(as_text=True)
    assert html.count('class="photo-grid') == 1 and html.count("<picture>") == 2
    assert "Wat een mooie dag!<br>\nFoto&#39;s hieronder." in html


def test_a_bad_file_refuses_the_whole_post_and_leaves_no_files(client, school, media_dir):
    sign_in(client, school["teacher"])
    response = post_form(
        client, school["group"], body="Kijk eens",
        files=upload(("goed.jpg", photo_bytes()), ("virus.jpg", b"MZ" + b"\0" * 300)),
    )
    assert response.status_code == 422
    text = text_of(response)
    assert "virus.jpg: dit is geen foto" in text and "kies ze opnieuw" in text
    assert count(Post) == 0 and count(Attachment) == 0
    assert files_under(media_dir) == []


def test_a_failing_transaction_leaves_no_files(client, school, media_dir):
    def fail(*args):
        raise RuntimeError("the database went away")

    event.listen(Attachment, "before_insert", fail)
    try:
        sign_in(client, school["teacher"])
        response = post_form(client, school["group"], body="Kijk eens",
                             files=upload(("a.jpg", photo_bytes()), ("b.jpg", photo_bytes())))
    finally:
        event.remove(Attachment, "before_insert", fail)
    assert response.status_code == 500
    assert count(Post) == 0
    assert files_under(media_dir) == []


def test_posting_to_a_group_one_does_not_teach_is_forbidden(client, school):
    sign_in(client, school["teacher"])
    assert post_form(client, school["other"], body="Hallo").status_code == 403
    # Smuggling another group into the form of one's own group is refused too.
    response = post_form(client, school["group"], body="Hallo",
                         groups=[str(school["group"].id), str(school["other"].id)])
    assert response.status_code == 403
    assert count(Post) == 0
    sign_in(client, school["guardian"])
    assert post_form(client, school["group"], body="Hallo").status_code == 403
    sign_in(client, school["admin"])
    assert post_form(client, school["group"], body="Hallo").status_code == 403


def test_teacher_of_two_groups_posts_to_both(client, school):
    teacher = make_teacher(groups=[school["group"], school["other"]])
    sign_in(client, teacher)
    page = client.get(f"/groepen/{school['group'].id}/nieuw")
    assert "Plaatsen in" in text_of(page)
    response = post_form(client, school["group"], body="Voor beide groepen",
                         groups=[str(school["group"].id), str(school["other"].id)])
    assert response.status_code == 303
    fresh()
    post = db.session.scalar(select(Post))
    assert sorted(g.name for g in post.groups) == ["Groep 3", "Groep 5"]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"body": "   "}, "Schrijf een bericht of voeg een foto of bestand toe."),
        ({"body": "regel\n" * 10_000}, "Het bericht is te lang"),
        ({"body": "Hallo", "groups": []}, "Kies minstens één groep."),
        ({"body": "Hallo", "title": "x" * 151}, "150"),
    ],
)
def test_invalid_posts_get_a_message_and_store_nothing(client, school, data, message):
    sign_in(client, school["teacher"])
    response = post_form(client, school["group"], **data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(Post) == 0


def test_html_in_text_is_shown_as_text(client, school):
    make_post(school["group"], author=school["teacher"], title="<b>Titel</b>",
              body='<script>alert("x")</script> <img src=x onerror=alert(1)> zie https://school.nl')
    sign_in(client, school["guardian"])
    html = client.get("/groepen/").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Titel&lt;/b&gt;" in html
    assert '<a href="https://school.nl" rel="noopener noreferrer nofollow"' in html


def test_upload_larger_than_the_request_limit_gets_a_clear_413(make_client, school):
    client = make_client(MEDIA_MAX_REQUEST_MB=1)
    sign_in(client, school["teacher"])
    response = post_form(client, school["group"], body="Groot",
                         files=upload(("a.jpg", photo_bytes() + b"\0" * 1_200_000)))
    assert response.status_code == 413
    assert "Te groot" in text_of(response)
    assert count(Post) == 0


def test_only_staff_get_the_large_upload_limit(make_client, school):
    # CSRF protection reads the body before the view: anonymous requests get the
    # general MAX_CONTENT_LENGTH there.
    anonymous = make_client(MAX_CONTENT_LENGTH=100_000, WTF_CSRF_ENABLED=True)
    data = {"groups": [str(school["group"].id)], "body": "x",
            "files": upload(("a.jpg", b"\0" * 200_000))}
    response = anonymous.post(f"/groepen/{school['group'].id}/nieuw", data=data,
                              content_type="multipart/form-data")
    assert response.status_code == 413
    client = make_client(MAX_CONTENT_LENGTH=100_000)
    sign_in(client, school["teacher"])
    data["files"] = upload(("a.jpg", photo_bytes() + b"\0" * 200_000))
    response = client.post(f"/groepen/{school['group'].id}/nieuw", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 303


def test_htmx_post_redirects_through_a_header_and_invalid_returns_the_form(client, school):
    sign_in(client, school["teacher"])
    headers = {"HX-Request": "true"}
    url = f"/groepen/{school['group'].id}/nieuw"
    response = client.post(url, data={"groups": [str(school["group"].id)], "body": ""},
                           headers=headers, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and "<html" not in html
    response = client.post(url, data={"groups": [str(school["group"].id)], "body": "Hallo"},
                           headers=headers, content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].endswith(f"/groepen/{school['group'].id}")
    assert "Uw bericht is geplaatst." in text_of(client.get(response.headers["HX-Redirect"]))


def test_author_edits_own_post_others_cannot(client, school):
    post = make_post(school["group"], author=school["teacher"], body="Oud")
    url = f"/groepen/bericht/{post.id}/bewerken"
    sign_in(client, school["other_teacher"])
    assert client.get(url).status_code == 403
    sign_in(client, school["admin"])
    assert client.post(url, data={"body": "Admin"}).status_code == 403
    sign_in(client, school["teacher"])
    response = client.post(url, data={"title": "Nieuw", "body": "Nieuwe <tekst>"})
    assert response.status_code == 303
    fresh()
    assert (post.title, post.body) == ("Nieuw", "Nieuwe <tekst>") and post.edited_at
    assert "bewerkt" in text_of(client.get(f"/groepen/bericht/{post.id}"))


def test_author_and_admin_delete_posts_with_their_files(client, school, media_dir):
    mine = make_post(school["group"], author=school["teacher"], photos=2)
    theirs = make_post(school["group"], author=school["teacher"], photos=1)
    assert len(files_under(media_dir)) == 3 * 3
    sign_in(client, school["other_teacher"])
    assert client.post(f"/groepen/bericht/{mine.id}/verwijderen").status_code == 403
    sign_in(client, school["teacher"])
    assert client.post(f"/groepen/bericht/{mine.id}/verwijderen").status_code == 303
    sign_in(client, school["admin"])
    assert client.post(f"/groepen/bericht/{theirs.id}/verwijderen").status_code == 303
    assert count(Post) == 0 and count(Attachment) == 0
    assert files_under(media_dir) == []


def test_author_removes_single_photos_from_a_post(client, school, media_dir):
    post = make_post(school["group"], author=school["teacher"], photos=3)
    first, second, third = [a.id for a in post.attachments]
    keep_key = post.attachments[2].key
    db.session.commit()
    sign_in(client, school["teacher"])
    page = client.get(f"/groepen/bericht/{post.id}/bewerken")
    assert page.status_code == 200 and 'name="remove"' in page.get_data(as_text=True)
    response = client.post(f"/groepen/bericht/{post.id}/bewerken",
                           data={"title": "", "body": "", "remove": [str(first), str(second)]})
    assert response.status_code == 303
    fresh()
    assert [a.id for a in db.session.get(Post, post.id).attachments] == [third]
    assert {Path(f).name.split(".")[0] for f in files_under(media_dir)} == {keep_key}
    # Removing the last thing with no text left would leave an empty post.
    response = client.post(f"/groepen/bericht/{post.id}/bewerken",
                           data={"title": "", "body": "", "remove": [str(third)]})
    assert response.status_code == 422 and "Schrijf een bericht." in text_of(response)
    # Another post's attachment is not a valid choice.
    other = make_post(school["group"], author=school["teacher"], photos=1)
    other_id = other.attachments[0].id
    db.session.commit()
    response = client.post(f"/groepen/bericht/{post.id}/bewerken",
                           data={"body": "x", "remove": [str(other_id)]})
    assert response.status_code == 422
    fresh()
    assert db.session.get(Attachment, other_id) is not None


def test_photos_get_a_default_description_and_the_author_can_write_one(client, school):
    post = make_post(school["group"], author=school["teacher"], title="Herfstwandeling",
                     photos=2)
    first, second = post.attachments
    db.session.commit()
    sign_in(client, school["guardian"])
    page = client.get(f"/groepen/bericht/{post.id}").get_data(as_text=True)
    assert 'alt="Foto 1 van 2 bij bericht ‘Herfstwandeling’"' in page

    sign_in(client, school["teacher"])
    url = f"/groepen/bericht/{post.id}/bewerken"
    response = client.post(url, data={"title": "Herfstwandeling", "body": "",
                                      f"alt-{first.id}": "  Kinderen   rapen kastanjes  "})
    assert response.status_code == 303
    sign_in(client, school["guardian"])
    page = client.get(f"/groepen/bericht/{post.id}").get_data(as_text=True)
    assert 'alt="Kinderen rapen kastanjes"' in page
    assert 'alt="Foto 2 van 2 bij bericht ‘Herfstwandeling’"' in page


def test_a_too_long_photo_description_is_refused_and_nothing_changes(client, school):
    post = make_post(school["group"], author=school["teacher"], title="Oud", photos=1)
    photo = post.attachments[0]
    db.session.commit()
    sign_in(client, school["teacher"])
    response = client.post(f"/groepen/bericht/{post.id}/bewerken",
                           data={"title": "Nieuw", "body": "", f"alt-{photo.id}": "x" * 301})
    assert response.status_code == 422
    assert "Maak de beschrijving korter: hoogstens 300 tekens." in text_of(response)
    fresh()
    assert (post.title, photo.description) == ("Oud", "")


# -- the files of a refused post are kept for the one who chose them (issue 19, point 6) --


def _kept(response) -> list[str]:
    """The ids of the kept files the re-rendered form sends back."""
    import re

    return re.findall(r'name="pending" value="(\d+)"', response.get_data(as_text=True))


@pytest.mark.parametrize("refusal,message", [
    ({"body": "x" * 20_000}, "Het bericht is te lang"),
    ({"body": "Kijk", "groups": []}, "Kies minstens één groep."),
])
def test_a_refused_post_keeps_its_photos_for_the_corrected_one(client, school, media_dir,
                                                               refusal, message):
    from parro.models import PendingUpload

    sign_in(client, school["teacher"])
    group = school["group"]
    response = post_form(client, group, **refusal,
                         files=upload(("a.jpg", photo_bytes()), ("brief.pdf", pdf_bytes())))
    assert response.status_code == 422
    assert message in text_of(response) and "Al toegevoegd" in text_of(response)
    assert "kies ze opnieuw" not in text_of(response)
    kept = _kept(response)
    assert len(kept) == 2 and count(Post) == 0
    fresh()
    key = db.session.scalar(select(PendingUpload.key).where(PendingUpload.kind == "photo"))
    html = response.get_data(as_text=True)
    assert f"/media/bewaard/{key}/klein" in html and "brief.pdf" in html
    assert client.get(f"/media/bewaard/{key}/klein").status_code == 200
    stored = files_under(media_dir)
    assert stored and not [f for f in stored if f.endswith(".part")]

    # Corrected, with one more photo: all three are placed, no file is processed again.
    response = post_form(client, group, body="Kijk eens", pending=kept,
                         files=upload(("b.jpg", photo_bytes())))
    assert response.status_code == 303
    fresh()
    post = db.session.scalar(select(Post))
    assert [a.kind for a in post.attachments] == ["photo", "document", "photo"]
    assert post.attachments[0].key == key
    assert count(PendingUpload) == 0
    assert len(files_under(media_dir)) == len(stored) + 3  # b.jpg's three sizes
    assert client.get(f"/media/{key}/klein").status_code == 200


def test_a_consent_refusal_keeps_the_photos_and_a_removed_one_goes(client, school, media_dir):
    from parro.models import PendingUpload

    from .factories import give_consent

    group = school["group"]
    child = db.session.scalar(select(Student).where(Student.first_name == "Sem"))
    give_consent(child, given=False)
    db.session.commit()
    sign_in(client, school["teacher"])
    response = post_form(client, group, body="Het schoolplein", tagged=[str(child.id)],
                         files=upload(("a.jpg", photo_bytes()), ("b.jpg", photo_bytes())))
    assert response.status_code == 422
    assert "geen toestemming" in text_of(response)
    first, second = _kept(response)
    fresh()
    gone = db.session.get(PendingUpload, int(second)).key
    # Without the tag, and "verwijderen" ticked for the second photo.
    response = post_form(client, group, body="Het schoolplein", pending=[first, second],
                         **{"pending-remove": [second]})
    assert response.status_code == 303
    fresh()
    post = db.session.scalar(select(Post))
    assert len(post.photos) == 1 and count(PendingUpload) == 0
    assert not [f for f in files_under(media_dir) if gone in f]


def test_kept_photos_are_the_uploaders_alone(make_client, client, school, media_dir):
    from parro.models import PendingUpload

    sign_in(client, school["teacher"])
    response = post_form(client, school["group"], body="x" * 20_000,
                         files=upload(("a.jpg", photo_bytes())))
    [kept] = _kept(response)
    fresh()
    key = db.session.get(PendingUpload, int(kept)).key
    for someone in ("other_teacher", "guardian", "admin"):
        other = make_client(MEDIA_PATH=str(media_dir))
        sign_in(other, school[someone])
        for variant in ("klein", "groot", "groot.webp"):
            assert other.get(f"/media/bewaard/{key}/{variant}").status_code == 403
        assert other.get(f"/media/{key}/klein").status_code == 404
    # Another teacher sending its id in their own post gets nothing of it.
    other = make_client(MEDIA_PATH=str(media_dir))
    sign_in(other, school["other_teacher"])
    response = post_form(other, school["other"], body="Hallo", pending=[kept])
    assert response.status_code == 303
    fresh()
    assert db.session.scalar(select(Post)).attachments == [] and count(PendingUpload) == 1
    anonymous = make_client(MEDIA_PATH=str(media_dir))
    assert anonymous.get(f"/media/bewaard/{key}/klein").status_code == 302


def test_kept_photos_expire_and_the_retention_run_removes_them(app, client, school, media_dir):
    from datetime import timedelta

    from parro import clock
    from parro.models import PendingUpload
    from parro.retention import run

    sign_in(client, school["teacher"])
    response = post_form(client, school["group"], body="x" * 20_000,
                         files=upload(("a.jpg", photo_bytes())))
    [kept] = _kept(response)
    fresh()
    row = db.session.get(PendingUpload, int(kept))
    key, row.created_at = row.key, clock.now() - timedelta(hours=25)
    db.session.commit()
    assert client.get(f"/media/bewaard/{key}/klein").status_code == 403
    response = post_form(client, school["group"], body="Later", pending=[kept])
    assert response.status_code == 303
    fresh()
    assert db.session.scalar(select(Post)).attachments == []
    run(2)
    fresh()
    assert count(PendingUpload) == 0 and files_under(media_dir) == []
