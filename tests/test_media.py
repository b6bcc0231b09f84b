"""The upload pipeline (parro/media/) and the media route that serves its files."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from parro import media
from parro.extensions import db

from .factories import (
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
    mp4_bytes,
    pdf_bytes,
    photo_bytes,
    require_ffmpeg,
)
from .feed_helpers import fresh, reader, sign_in
from .helpers import logout

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

GPS = 0x8825
ORIENTATION = 0x0112
BODY_SERIAL = 0xA431
MAKE = 0x010F


def camera_jpeg(width=400, height=300, orientation=1) -> bytes:
    """A JPEG as a phone makes it: EXIF with orientation, GPS, make and serial number."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    # A red band on the left edge, to see where it ends up after rotation.
    image.paste((255, 0, 0), (0, 0, width // 4, height))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PhoneMaker"
    exif[0x8769] = {BODY_SERIAL: "SERIAL-12345"}
    exif[GPS] = {1: "N", 2: (52.0, 5.0, 30.0), 3: "E", 4: (4.0, 53.0, 10.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


def process(*files, **config):
    """Run the pipeline like a request would; returns staged results or raises."""
    current_app.config.update(config)
    limits = media.Limits.from_config(current_app.config)
    uploads = [FileStorage(io.BytesIO(data), name) for name, data in files]
    checked, errors = media.check(uploads, limits)
    if errors:
        raise media.UploadErrors(errors)
    return media.process(checked, limits)


def refused(*files, **config) -> str:
    with pytest.raises(media.UploadErrors) as info:
        process(*files, **config)
    return " ".join(str(m) for m in info.value.messages)


def files_under(path) -> list[str]:
    return sorted(
        str(Path(d) / f) for d, _, names in os.walk(path) for f in names
    )


@pytest.fixture
def media_dir(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    return tmp_path / "media"


# -- the pipeline ---------------------------------------------------------------


def test_photo_is_turned_upright_and_loses_all_metadata(app, media_dir):
    [staged] = process(("IMG_0001.JPG", camera_jpeg(400, 300, orientation=6)))
    temp_display = staged.files[0][0]
    data = temp_display.read_bytes()
    image = Image.open(io.BytesIO(data))
    # Orientation 6: the camera was held upright; the stored photo is portrait,
    # and the band on the left of the sensor is now at the top.
    assert image.size == (300, 400)
    assert image.getpixel((150, 10))[0] > 200 and image.getpixel((150, 390))[2] > 200
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile", "photoshop"} & set(image.info)
    for secret in (b"SERIAL-12345", b"PhoneMaker", b"Exif"):
        assert secret not in data
    assert staged.filename == "IMG_0001.jpg" and staged.content_type == "image/jpeg"
    media.discard([staged])


def test_photo_gets_display_size_and_thumbnail_and_no_original(app, media_dir):
    [staged] = process(("groot.jpg", photo_bytes(4000, 3000)))
    sizes = {Path(t).name.split(".", 1)[1]: Image.open(t).size for t, _ in staged.files}
    assert sizes == {
        "jpg.part": (1600, 1200), "thumb.jpg.part": (480, 360),  # JPEG, for any browser
        "webp.part": (1600, 1200), "960.webp.part": (960, 720), "480.webp.part": (480, 360),
        "240.webp.part": (240, 180),
    }
    assert len(staged.digest) == 12
    assert not staged.has_original
    assert (staged.width, staged.height) == (1600, 1200)
    media.discard([staged])
    assert files_under(media_dir) == []


def test_original_is_kept_only_when_configured(app, media_dir):
    [staged] = process(("a.jpg", camera_jpeg()), MEDIA_KEEP_ORIGINALS=True)
    assert staged.has_original
    assert [f.name for _, f in staged.files][-1].endswith(".orig")
    media.commit([staged])
    assert media.path_for(staged.key, "original").read_bytes() == camera_jpeg()


def test_heic_png_and_webp_are_accepted(app, media_dir):
    heic = photo_bytes(64, 48, fmt="HEIF")
    transparent = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(transparent, "PNG")
    webp = photo_bytes(60, 40, fmt="WEBP")
    staged = process(("IMG_1234.HEIC", heic), ("scherm.png", transparent.getvalue()),
                     ("a.webp", webp))
    assert [s.kind for s in staged] == ["photo"] * 3
    assert [s.filename for s in staged] == ["IMG_1234.jpg", "scherm.jpg", "a.jpg"]
    png = Image.open(staged[1].files[0][0])
    assert png.mode == "RGB" and png.getpixel((10, 10)) == (255, 255, 255)  # on white
    media.discard(staged)


def test_video_and_pdf_are_recognised_by_their_content(app, media_dir):
    staged = process(("film.MP4", mp4_bytes()), ("brief.pdf", pdf_bytes()))
    assert [(s.kind, s.content_type, s.filename) for s in staged] == [
        ("video", "video/mp4", "film.mp4"),
        ("document", "application/pdf", "brief.pdf"),
    ]
    media.discard(staged)


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("vakantie.jpg", b"MZ\x90\x00" + b"\x00" * 500, "geen foto"),  # a renamed .exe
        ("kapot.jpg", photo_bytes(400, 300)[:600], "beschadigd"),
        ("leeg.jpg", b"", "leeg"),
        ("brief.pdf", b"Dit is gewoon tekst", "geen foto"),
        ("plaatje.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
         "geen foto"),
        ("pagina.jpg", b"<html><script>alert(1)</script></html>", "geen foto"),
        ("bewegend.gif", photo_bytes(fmt="GIF"), "niet ondersteund"),
    ],
)
def test_bad_files_are_refused_with_a_message_and_leave_nothing(app, media_dir, name, data,
                                                                message):
    text = refused(("goed.jpg", photo_bytes()), (name, data))
    assert message in text and name in text
    assert files_under(media_dir) == []


def test_a_file_that_only_looks_like_a_video_is_refused(app, media_dir):
    require_ffmpeg()  # without it every video gets "ffmpeg ontbreekt"
    fake = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000
    assert "film.mp4: dit is geen geldige MP4-video" in refused(("film.mp4", fake))
    assert files_under(media_dir) == []


def test_without_ffmpeg_videos_are_refused_with_a_message(app, media_dir, caplog):
    text = refused(("film.mp4", mp4_bytes()), MEDIA_FFMPEG="/nergens/ffmpeg")
    assert "film.mp4: video's kunnen nu niet worden verwerkt" in text and "ffmpeg" in text
    assert "ffmpeg is not installed" in caplog.text
    assert files_under(media_dir) == []


def test_broken_and_locked_pdfs_are_refused(app, media_dir):
    import pikepdf

    locked = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_bytes())) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="a", user="geheim"))
    text = refused(("kapot.pdf", b"%PDF-1.4\nniets\n"), ("slot.pdf", locked.getvalue()))
    assert "kapot.pdf: dit is geen geldig PDF-bestand" in text
    assert "slot.pdf: dit PDF-bestand is met een wachtwoord beveiligd" in text
    assert files_under(media_dir) == []


def test_limits_are_configurable(app, media_dir):
    padded = photo_bytes() + b"\0" * (1024 * 1024 + 1)  # JPEG decoders ignore trailing bytes
    assert "te groot" in refused(("groot.jpg", padded), MEDIA_MAX_PHOTO_MB=1)
    assert "maximaal 3 bestanden" in refused(*[(f"{i}.jpg", photo_bytes()) for i in range(4)],
                                             MEDIA_MAX_FILES=3)
    assert "te veel pixels" in refused(("a.jpg", photo_bytes(200, 200)), MEDIA_MAX_PIXELS=1000)
    big_video = mp4_bytes() + b"\0" * (1024 * 1024)
    assert "te groot" in refused(("film.mp4", big_video), MEDIA_MAX_VIDEO_MB=1)
    assert files_under(media_dir) == []


def test_clean_filename():
    assert media.clean_filename("../../etc/passwd", "pdf") == "passwd.pdf"
    assert media.clean_filename('C:\\Users\\x\\a"b;c.pdf', "pdf") == "abc.pdf"
    assert media.clean_filename("\x00\r\n.", "jpg") == "bestand.jpg"
    assert media.clean_filename("Nieuwsbrief maart.PDF", "pdf") == "Nieuwsbrief maart.pdf"
    assert media.clean_filename("é" * 300, "jpg") == "é" * 100 + ".jpg"


# -- serving ------------------------------------------------------------------------


@pytest.fixture
def client(make_client, media_dir):
    """A browser on an app that stores its media where this test's files are."""
    return make_client(MEDIA_PATH=str(media_dir))


@pytest.fixture
def school(app, media_dir):
    group = make_group("Groep 3")
    other = make_group("Groep 5")
    child = make_student(group)
    teacher = make_teacher(group)
    post = make_post(
        group, author=teacher, photos=1,
        files=[("film.mp4", mp4_bytes()), ('Nieuws"brief.pdf', pdf_bytes())],
    )
    world = {
        "post": post,
        "teacher": teacher,
        "guardian": make_guardian(child=child),
        "stranger": make_guardian(child=make_student(other)),
        "other_teacher": make_teacher(other),
    }
    db.session.commit()
    return world


def url(attachment, variant, v=None):
    return f"/media/{attachment.key}/{variant}" + (f"?v={v}" if v else "")


def test_photos_are_served_privately_to_those_who_may_see_the_post(client, school):
    photo = school["post"].photos[0]
    sign_in(client, school["guardian"])
    response = client.get(url(photo, "klein"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"] == "inline; filename=foto1.jpg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(response.data)).size == (64, 48)
    response = client.get(url(photo, "groot.webp"))
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/webp"
    assert response.headers["Content-Disposition"] == "inline; filename=foto1.webp"
    assert Image.open(io.BytesIO(response.data)).format == "WEBP"

    for other in ("stranger", "other_teacher"):
        logout(client)
        sign_in(client, school[other])
        for variant in ("klein", "groot", "groot.webp"):
            assert client.get(url(photo, variant)).status_code == 403
            assert client.get(url(photo, variant, v=photo.digest)).status_code == 403
    logout(client)
    response = client.get(url(photo, "groot", v=photo.digest))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_photos_under_their_digest_are_kept_by_the_browser(client, school):
    """The URLs pages show carry the digest: kept for a year in the browser's own cache
    (never a shared one); asked without it, or with an old one, the browser must ask again."""
    photo = school["post"].photos[0]
    sign_in(client, school["guardian"])
    page = client.get("/groepen/").get_data(as_text=True)
    assert f"/media/{photo.key}/groot.webp?v={photo.digest}" in page
    for variant in ("klein", "groot", "groot.webp"):
        response = client.get(url(photo, variant, v=photo.digest))
        assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        assert client.get(url(photo, variant)).headers["Cache-Control"] == "private, no-cache"
        old = client.get(url(photo, variant, v="000000000000"))
        assert old.status_code == 200 and old.headers["Cache-Control"] == "private, no-cache"
    # Asking again costs a 304 without the photo.
    first = client.get(url(photo, "klein"))
    again = client.get(url(photo, "klein"), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_documents_are_downloads_with_a_clean_name(client, school):
    pdf = school["post"].files[1]
    sign_in(client, school["guardian"])
    response = client.get(url(pdf, "bestand"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=Nieuwsbrief.pdf"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_video_supports_range_requests(client, school):
    video = school["post"].files[0]
    sign_in(client, school["guardian"])
    response = client.get(url(video, "bestand"), headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Range"].startswith("bytes 0-9/")
    assert response.data == media.path_for(video.key, "file").read_bytes()[:10]
    assert response.headers["Cache-Control"] == "private, no-store"


def test_unknown_keys_and_variants_are_not_found(client, school):
    post = school["post"]
    sign_in(client, school["teacher"])
    assert client.get(f"/media/{'A' * 32}/klein").status_code == 404
    assert client.get(url(post.photos[0], "original")).status_code == 404
    assert client.get(url(post.files[1], "klein")).status_code == 404  # a PDF has no thumbnail
    assert client.get("/media/..%2F..%2Fsecret_key/klein").status_code == 404
    assert client.get("/media/" + "A" * 31 + "/klein").status_code == 404


# -- photos stored before their WebP sizes --------------------------------------------


def test_the_variants_command_gives_older_photos_their_webp_sizes(client, school, app):
    """Photos stored before parro made WebP sizes have only their JPEGs and no digest:
    shown as before, until `flask media variants` makes their sizes, once. The pages
    that were kept in the render cache show them at once (the rows' versions rise)."""
    from parro.chat import attachments
    from parro.models import MessageAttachment

    from .factories import make_kindgesprek, make_message, stage_files

    conversation = make_kindgesprek(school["guardian"].guardianships[0].student)
    staged = stage_files(("IMG_1.jpg", photo_bytes()))
    attachments.attach(make_message(conversation, school["teacher"], "Kijk"), staged)
    db.session.commit()
    media.commit(staged)
    photo, chat_photo = school["post"].photos[0], db.session.scalar(select(MessageAttachment))
    pages = {photo: ("/groepen/", "/media"),
             chat_photo: (f"/gesprekken/{conversation.id}", "/gesprekken/bijlagen")}
    for older in pages:
        for variant in ("webp", "webp960", "webp480", "webp240"):
            media.path_for(older.key, variant).unlink(missing_ok=True)
        older.digest = None
    db.session.commit()
    sign_in(client, school["guardian"])
    for older, (page, prefix) in pages.items():
        html = client.get(page).get_data(as_text=True)
        key = older.key
        opens = (f"{prefix}/{key}/groot" if older is chat_photo  # the feed: the photo viewer
                 else f"/groepen/bericht/{older.post_id}/foto/{older.id}?terug=/groepen/")
        assert f'<a href="{opens}"><picture><img src="{prefix}/{key}/klein"' in html
        assert client.get(f"{prefix}/{key}/groot.webp").status_code == 404

    result = app.test_cli_runner().invoke(args=["media", "variants"])
    assert result.exit_code == 0 and "WebP sizes made for 2 photos" in result.output
    fresh()
    for older, (page, prefix) in pages.items():
        key, digest = older.key, older.digest
        assert digest and len(digest) == 12 and media.path_for(key, "webp").is_file()
        html = client.get(page).get_data(as_text=True)
        assert f'<picture><source type="image/webp" srcset="{prefix}/{key}/' in html
        if older is chat_photo:
            assert f'<a href="{prefix}/{key}/groot.webp?v={digest}"><picture><source' in html
        response = client.get(f"{prefix}/{key}/groot.webp?v={digest}")
        assert response.status_code == 200 and response.mimetype == "image/webp"
        assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"

    again = app.test_cli_runner().invoke(args=["media", "variants"])
    assert "WebP sizes made for 0 photos" in again.output
