"""Photos and PDFs in messages: through the feed's upload pipeline (parro.media), members only."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from parro import media
from parro.extensions import db
from parro.models import Message, MessageAttachment

from ..factories import pdf_bytes, photo_bytes
from ..helpers import login_as, text_of
from .chat_helpers import fresh, fresh_all, kindgesprek


def photo_with_gps(width=40, height=20) -> bytes:
    img = Image.new("RGB", (width, height), "red")
    exif = Image.Exif()
    exif[0x010F] = "GeheimeCamera"  # Make
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to show
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 5.0, 30.0), 3: "E", 4: (4.0, 28.0, 10.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


PDF = pdf_bytes()


def media_files(app) -> list[Path]:
    """Every file under MEDIA_PATH, temporary ones included."""
    root = Path(app.config["MEDIA_PATH"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post_files(client, conversation, files, body=""):
    return client.post(
        f"/gesprekken/{conversation.id}",
        data={"body": body, "files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def test_a_photo_is_decoded_turned_and_stripped_of_exif(s, client, app):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    before = set(media_files(app))
    response = post_files(client, conversation, [("IMG_0001.jpg", photo_with_gps())])
    assert response.status_code == 303  # a photo without text is a message too
    item = fresh(select(MessageAttachment))
    assert item.kind == media.PHOTO and item.content_type == "image/jpeg"
    assert item.filename == "IMG_0001.jpg"
    assert (item.width, item.height) == (20, 40)
    # Stored by the pipeline under the server's key: a display size and a thumbnail.
    stored = set(media_files(app)) - before
    assert stored == {media.path_for(item.key, "display"), media.path_for(item.key, "thumb")}
    for path in stored:
        data = path.read_bytes()
        assert b"GeheimeCamera" not in data and b"Exif" not in data
        with Image.open(path) as img:
            assert not img.getexif() and "icc_profile" not in img.info
            assert img.size == (20, 40)  # turned by its orientation


def test_a_large_photo_gets_the_feeds_display_size_and_thumbnail(s, make_client, app):
    conversation = kindgesprek(s)
    client = make_client(MEDIA_DISPLAY_SIZE=300, MEDIA_THUMB_SIZE=100)
    login_as(client, s.eva)
    response = post_files(client, conversation, [("groot.png", photo_bytes(900, 600, fmt="PNG"))])
    assert response.status_code == 303
    item = fresh(select(MessageAttachment))
    assert item.filename == "groot.jpg" and (item.width, item.height) == (300, 200)
    with Image.open(media.path_for(item.key, "display")) as img:
        assert img.format == "JPEG" and img.size == (300, 200)
    with Image.open(media.path_for(item.key, "thumb")) as img:
        assert img.size == (100, 67)


def test_a_heic_photo_from_an_iphone_is_accepted(s, client, app):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    heic = photo_bytes(64, 48, fmt="HEIF")
    response = post_files(client, conversation, [("IMG_1234.HEIC", heic)])
    assert response.status_code == 303
    item = fresh(select(MessageAttachment))
    assert item.kind == media.PHOTO and item.filename == "IMG_1234.jpg"
    with Image.open(media.path_for(item.key, "display")) as img:
        assert img.format == "JPEG" and img.size == (64, 48)


def test_attachments_are_served_to_members_only_and_never_cached(s, client):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    post_files(client, conversation, [("foto.jpg", photo_with_gps()), ("brief.pdf", PDF)],
               body="Zie bijlagen")
    photo, pdf = fresh_all(select(MessageAttachment).order_by(MessageAttachment.id))
    page = client.get(f"/gesprekken/{conversation.id}").get_data(as_text=True)
    # A thumbnail that opens the photo at full size, as in the feed.
    assert (f'<a href="/gesprekken/bijlagen/{photo.key}/groot"><img '
            f'src="/gesprekken/bijlagen/{photo.key}/klein"') in page
    assert f'href="/gesprekken/bijlagen/{pdf.key}/bestand" download>brief.pdf</a>' in page

    login_as(client, s.bram)
    for variant in ("klein", "groot"):
        response = client.get(f"/gesprekken/bijlagen/{photo.key}/{variant}")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/gesprekken/bijlagen/{photo.key}/bestand").status_code == 404
    assert client.get(f"/gesprekken/bijlagen/{pdf.key}/klein").status_code == 404
    response = client.get(f"/gesprekken/bijlagen/{pdf.key}/bestand")
    assert response.status_code == 200
    assert response.data == media.path_for(pdf.key, "file").read_bytes()
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=brief.pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    # Chat keys are not feed keys: the feed's media route does not know them.
    assert client.get(f"/media/{photo.key}/klein").status_code == 404

    login_as(client, s.mark)
    assert client.get(f"/gesprekken/bijlagen/{photo.key}/klein").status_code == 403
    client.delete_cookie("parro_auth")
    response = client.get(f"/gesprekken/bijlagen/{photo.key}/klein")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_pdf_is_offered_under_a_cleaned_name(s, client):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    post_files(client, conversation, [("../../map/Rapport juni*?.exe", PDF)])
    item = fresh(select(MessageAttachment))
    assert item.kind == media.DOCUMENT and item.filename == "Rapport juni.pdf"
    response = client.get(f"/gesprekken/bijlagen/{item.key}/bestand")
    assert response.headers["Content-Disposition"] == 'attachment; filename="Rapport juni.pdf"'


def test_a_file_that_is_not_a_photo_or_pdf_is_refused_and_nothing_is_kept(s, client, app):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    before = set(media_files(app))
    response = post_files(
        client, conversation,
        [("goed.jpg", photo_with_gps()), ("virus.jpg", b"MZ\x90\x00 not an image")],
        body="Kijk",
    )
    assert response.status_code == 422
    assert "virus.jpg: dit is geen foto" in text_of(response)
    assert fresh(select(Message.id)) is None
    assert set(media_files(app)) == before


def test_oversized_files_too_many_files_and_videos_are_refused(s, make_client, app):
    conversation = kindgesprek(s)
    client = make_client(CHAT_MAX_FILE_MB=0.01, CHAT_MAX_FILES=2)
    login_as(client, s.eva)
    before = set(media_files(app))
    noise = io.BytesIO()
    Image.frombytes("RGB", (100, 100), os.urandom(30_000)).save(noise, "PNG")  # about 30 kB
    response = post_files(client, conversation, [("groot.png", noise.getvalue())])
    assert response.status_code == 422
    assert "groot.png is te groot" in text_of(response)
    response = post_files(client, conversation, [("a.pdf", PDF)] * 3)
    assert response.status_code == 422
    assert "U kunt maximaal 2 bestanden tegelijk toevoegen." in text_of(response)
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
    response = post_files(client, conversation, [("film.mp4", video)])
    assert response.status_code == 422
    assert "film.mp4 kan hier niet worden toegevoegd." in text_of(response)
    assert fresh(select(Message.id)) is None
    assert set(media_files(app)) == before


def test_a_failed_transaction_leaves_no_files(s, client, app, monkeypatch):
    from parro.chat import attachments

    conversation = kindgesprek(s)
    login_as(client, s.eva)
    before = set(media_files(app))

    def broken(message, staged):
        raise RuntimeError("database went away")

    monkeypatch.setattr(attachments, "attach", broken)
    response = post_files(client, conversation, [("foto.jpg", photo_with_gps())])
    assert response.status_code == 500
    assert set(media_files(app)) == before
    assert fresh(select(Message.id)) is None


def test_deleting_a_message_removes_its_files(s, client, app):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    before = set(media_files(app))
    post_files(client, conversation, [("foto.jpg", photo_with_gps())])
    item = fresh(select(MessageAttachment))
    assert len(set(media_files(app)) - before) == 2  # display size and thumbnail
    response = client.post(f"/gesprekken/{conversation.id}/berichten/{item.message_id}/verwijderen")
    assert response.status_code == 303
    assert set(media_files(app)) == before
    assert fresh(select(MessageAttachment.id)) is None
    assert client.get(f"/gesprekken/bijlagen/{item.key}/klein").status_code == 404
    db.session.commit()
