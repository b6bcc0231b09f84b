"""Photos and PDFs in messages: decoded, stripped of EXIF, stored under server names, members only."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from parro.extensions import db
from parro.models import Message, MessageAttachment

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


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def media_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_PATH"]) / "chat"
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
    assert item.kind == "photo" and item.content_type == "image/jpeg"
    assert item.filename == "IMG_0001.jpg"
    assert "IMG_0001" not in item.path  # the server names the file
    [stored] = set(media_files(app)) - before
    data = stored.read_bytes()
    assert b"GeheimeCamera" not in data and b"Exif" not in data
    with Image.open(stored) as img:
        assert not img.getexif()
        assert img.size == (20, 40)  # turned by its orientation


def test_attachments_are_served_to_members_only_and_never_cached(s, client):
    conversation = kindgesprek(s)
    login_as(client, s.eva)
    post_files(client, conversation, [("foto.jpg", photo_with_gps()), ("brief.pdf", PDF)],
               body="Zie bijlagen")
    photo, pdf = fresh_all(select(MessageAttachment).order_by(MessageAttachment.id))
    page = client.get(f"/gesprekken/{conversation.id}").get_data(as_text=True)
    assert f'src="/gesprekken/bijlagen/{photo.id}"' in page and "brief.pdf" in page

    login_as(client, s.bram)
    response = client.get(f"/gesprekken/bijlagen/{photo.id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, no-store"
    response = client.get(f"/gesprekken/bijlagen/{pdf.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "private, no-store"

    login_as(client, s.mark)
    assert client.get(f"/gesprekken/bijlagen/{photo.id}").status_code == 403
    client.delete_cookie("parro_auth")
    response = client.get(f"/gesprekken/bijlagen/{photo.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


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
    assert "Dit bestand kunnen we niet openen" in text_of(response)
    assert fresh(select(Message.id)) is None
    assert set(media_files(app)) == before


def test_oversized_files_and_too_many_files_are_refused(s, make_client, app):
    conversation = kindgesprek(s)
    client = make_client(CHAT_MAX_FILE_MB=0.001, CHAT_MAX_FILES=2)
    login_as(client, s.eva)
    response = post_files(client, conversation, [("groot.jpg", photo_with_gps(400, 400))])
    assert response.status_code == 422
    assert "groot.jpg is te groot: maximaal 0.001 MB per bestand." in text_of(response)
    response = post_files(client, conversation, [("a.pdf", PDF)] * 3)
    assert response.status_code == 422
    assert "U kunt maximaal 2 bestanden tegelijk sturen." in text_of(response)
    assert fresh(select(Message.id)) is None


def test_a_failed_transaction_leaves_no_files(s, client, app, monkeypatch):
    from parro.chat import attachments

    conversation = kindgesprek(s)
    login_as(client, s.eva)
    before = set(media_files(app))

    def broken(message, stored):
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
    assert len(set(media_files(app)) - before) == 1
    response = client.post(f"/gesprekken/{conversation.id}/berichten/{item.message_id}/verwijderen")
    assert response.status_code == 303
    assert set(media_files(app)) == before
    assert fresh(select(MessageAttachment.id)) is None
    assert client.get(f"/gesprekken/bijlagen/{item.id}").status_code == 404
    db.session.commit()
