"""An upload blocks no one and stays within its memory (issue 20, point 1).

The photos of an upload are processed before the transaction that stores the
post begins: meanwhile nobody waits for the database (SQLite has one write
lock). Decoding is bounded: per photo, per request, and in memory per worker.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from parro import media
from parro.extensions import db
from parro.models import Attachment, Message, MessageAttachment

from .factories import (
    make_admin,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_student,
    make_teacher,
    pdf_bytes,
    photo_bytes,
)
from .feed_helpers import files_under, fresh, reader, sign_in, upload

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def media_dir(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def school(app):
    group = make_group("Groep 3")
    child = make_student(group, first_name="Sem")
    world = {
        "group": group,
        "teacher": make_teacher(group),
        "admin": make_admin(),
        "parent": make_guardian(child=child),
        "conversation": make_kindgesprek(child),
    }
    db.session.commit()
    return world


def new_post(school):
    group = school["group"]
    return f"/groepen/{group.id}/nieuw", {
        "groups": [str(group.id)], "body": "De schoolreis!",
        "files": upload(*[(f"IMG_{i}.jpg", photo_bytes(800, 600)) for i in range(3)])}


def new_announcement(school):
    return "/groepen/mededelingen/nieuw", {
        "title": "Nieuwsbrief", "body": "Lees hem!", "ends_on": "2099-01-01", "all_groups": "y",
        "newsletter": upload(("nieuwsbrief.pdf", pdf_bytes()))[0]}


def chat_photo(school):
    return f"/gesprekken/{school['conversation'].id}", {
        "body": "Kijk!", "files": upload(("IMG_1.jpg", photo_bytes(800, 600)))}


def multipart(data: dict) -> tuple[str, bytes]:
    """A form as the browser encodes it: (boundary, body)."""
    fields = MultiDict()
    for name, values in data.items():
        for value in values if isinstance(values, list) else [values]:
            fields.add(name, FileStorage(*value) if isinstance(value, tuple) else value)
    return encode_multipart(fields)


class SlowBody(io.BytesIO):
    """A request body still arriving: `arriving` runs when the server first reads it."""

    def __init__(self, data: bytes, arriving):
        super().__init__(data)
        self.arriving = arriving

    def _arrive(self):
        if self.arriving:
            self.arriving, arriving = None, self.arriving
            arriving()

    def read(self, *args):
        self._arrive()
        return super().read(*args)

    def readinto(self, buffer):
        self._arrive()
        return super().readinto(buffer)


@pytest.mark.parametrize("uploader,form", [
    ("teacher", new_post), ("admin", new_announcement), ("teacher", chat_photo)])
def test_a_parent_sends_a_chat_message_while_an_upload_arrives_and_is_processed(
        make_client, media_dir, school, monkeypatch, uploader, form):
    """On SQLite a message written meanwhile would wait for the upload's write lock (and
    fail after the busy timeout): it goes through at once, twice."""
    staff = make_client(MEDIA_PATH=str(media_dir))
    parent = make_client(MEDIA_PATH=str(media_dir))
    sign_in(staff, school[uploader])
    sign_in(parent, school["parent"])
    conversation_id = school["conversation"].id
    answers = []

    def a_parent_chats():
        # In a thread of its own, as another worker would serve it; awaited here.
        def send():
            answers.append(parent.post(f"/gesprekken/{conversation_id}",
                                       data={"body": "Is er morgen gym?"}).status_code)
        chat = threading.Thread(target=send)
        chat.start()
        chat.join()

    process = media.process

    def process_while_a_parent_chats(checked, limits):
        if checked:  # the staff's upload, not the parent's text
            a_parent_chats()
        return process(checked, limits)

    monkeypatch.setattr(media, "process", process_while_a_parent_chats)
    path, data = form(school)
    boundary, body = multipart(data)
    response = staff.post(path, input_stream=SlowBody(body, a_parent_chats),
                          content_length=len(body),
                          content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303
    assert answers == [303, 303]
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Message).where(
        Message.body == "Is er morgen gym?")) == 2
    stored = db.session.scalar(select(func.count()).select_from(Attachment)) + \
        db.session.scalar(select(func.count()).select_from(MessageAttachment))
    assert stored == (3 if form is new_post else 1)


def test_a_request_with_too_many_pixels_together_is_refused_before_decoding(
        make_client, media_dir, school):
    """Each photo is allowed, all together are too much work for one request."""
    client = make_client(MEDIA_PATH=str(media_dir), MEDIA_MAX_REQUEST_PIXELS=1_000_000)
    sign_in(client, school["teacher"])
    path, data = new_post(school)  # 3 photos of 0.48 MP
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "samen te veel pixels" in text and "(1 megapixel; maximaal 1)" in text
    assert files_under(media_dir) == []
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_jpeg_counts_the_pixels_it_is_decoded_at(app, media_dir):
    """A 12 MP phone photo is decoded at half its size (3 MP) for a 1600 px display size."""
    app.config["MEDIA_MAX_REQUEST_PIXELS"] = 4_000_000
    limits = media.Limits.from_config(app.config)
    uploads = [FileStorage(io.BytesIO(photo_bytes(4000, 3000)), "IMG_0001.jpg")]
    checked, errors = media.check(uploads, limits)
    [staged] = media.process(checked, limits)
    assert (staged.width, staged.height) == (1600, 1200)
    media.discard([staged])
    uploads = [FileStorage(io.BytesIO(photo_bytes(4000, 3000, fmt="PNG")), "scherm.png")]
    checked, errors = media.check(uploads, limits)
    with pytest.raises(media.UploadErrors) as refused:
        media.process(checked, limits)  # a PNG is decoded in full: 12 MP
    assert "samen te veel pixels" in str(refused.value.messages[0])


PEAK_SCRIPT = """
import json, resource, sys
from werkzeug.datastructures import FileStorage
from parro import create_app, media

app = create_app({"DATABASE_URL": "sqlite://", "MEDIA_PATH": sys.argv[2],
                  "MEDIA_WORKERS": 4, "MEDIA_MAX_PIXELS": 30_000_000})
with app.test_request_context():
    limits = media.Limits.from_config(app.config)
    uploads = [FileStorage(open(sys.argv[1], "rb"), f"{i}.png") for i in range(4)]
    checked, errors = media.check(uploads, limits)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    staged = media.process(checked, limits)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    media.discard(staged)
print(json.dumps({"before_kb": before, "after_kb": after}))
"""


def test_four_large_photos_in_four_threads_take_the_memory_of_one(tmp_path):
    """Four PNGs of 25 MP (100 MB each when decoded) with four decoding threads: the
    worker's peak memory grows by less than two decoded photos, not four."""
    width = height = 5000
    noise = Image.effect_noise((width // 50, height // 50), 40).resize(
        (width, height), Image.Resampling.NEAREST)
    png = tmp_path / "groot.png"
    Image.merge("RGB", (noise, noise, noise)).save(png, "PNG", compress_level=1)
    del noise
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(png), str(tmp_path / "media")],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    peak = json.loads(out.strip().splitlines()[-1])
    grown_mb = (peak["after_kb"] - peak["before_kb"]) / 1024
    decoded_mb = width * height * 4 / 1024 / 1024  # Pillow keeps RGB in 4 bytes a pixel
    assert grown_mb < 2 * decoded_mb, f"grew {grown_mb:.0f} MB for {decoded_mb:.0f} MB photos"
