"""No hidden data in any file we serve (issue 20, point 2).

A teacher uploads a photo of each kind (JPEG, PNG, HEIC), a video and a PDF,
each carrying a GPS position, a camera serial number and a comment in every
place its format has for them; a parent then downloads everything the app
serves of them and finds none of it.
"""

from __future__ import annotations

import io
import json
import subprocess

import pikepdf
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from parro import media
from parro.extensions import db
from parro.models import Attachment

from .factories import make_group, make_guardian, make_student, make_teacher, mp4_bytes, pdf_bytes
from .feed_helpers import fresh, reader, sign_in, upload

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

GPS_TEXT = "52.0800"  # 52°04'48"N, as text in XMP, ISO 6709 and document information
SERIAL = "SERIAL-4711"
COMMENT = "GEHEIM-COMMENTAAR"
SECRETS = (GPS_TEXT.encode(), SERIAL.encode(), COMMENT.encode())
XMP = f"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" exif:GPSLatitude="{GPS_TEXT}N"
 aux:SerialNumber="{SERIAL}"><dc:description>{COMMENT}</dc:description></rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def camera_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x9286] = COMMENT  # UserComment
    exif.get_ifd(0x8769)[0xA431] = SERIAL  # BodySerialNumber
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 4.0, 48.0), 3: "E", 4: (4.0, 18.0, 36.0)})
    return exif.tobytes()


def iptc_segment() -> bytes:
    """An APP13 segment as Photoshop writes it: IPTC caption and keywords."""
    record = b"".join(b"\x1c\x02" + bytes([tag]) + len(text).to_bytes(2, "big") + text
                      for tag, text in ((120, COMMENT.encode()), (25, SERIAL.encode())))
    block = b"8BIM\x04\x04\x00\x00" + len(record).to_bytes(4, "big") + record
    body = b"Photoshop 3.0\x00" + block
    return b"\xff\xed" + (len(body) + 2).to_bytes(2, "big") + body


def phone_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(
        out, "JPEG", exif=camera_exif(), comment=COMMENT, xmp=XMP.encode(), extra=iptc_segment())
    data = out.getvalue()
    for secret in SECRETS:
        assert secret in data  # the test file does carry what must not come out
    return data


def screenshot_png() -> bytes:
    info = PngInfo()
    info.add_text("Comment", COMMENT)
    info.add_itxt("XML:com.adobe.xmp", XMP)
    out = io.BytesIO()
    Image.new("RGB", (500, 400), (200, 60, 40)).save(out, "PNG", pnginfo=info,
                                                      exif=camera_exif())
    return out.getvalue()


def iphone_heic() -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()  # as parro does before its first photo
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (60, 160, 90)).save(out, "HEIF", quality=60,
                                                      exif=camera_exif(), xmp=XMP.encode())
    return out.getvalue()


def phone_mp4(metadata_boxes: str) -> bytes:
    """A video with what phones write: in QuickTime's udta box (©xyz, ©mak, ©mod, comment)
    or in a meta box with keys (Apple's location key, 3GPP's loci), and a handler name."""
    where = {"udta": (), "meta": ("-movflags", "use_metadata_tags")}[metadata_boxes]
    data = mp4_bytes(
        "-f", "mov", "-brand", "mp42", *where,
        "-metadata", f"location=+{GPS_TEXT}+004.3100/",
        "-metadata", f"com.apple.quicktime.location.ISO6709=+{GPS_TEXT}+004.3100/",
        "-metadata", "make=PhoneMaker", "-metadata", f"model={SERIAL}",
        "-metadata", f"comment={COMMENT}", "-metadata", "creation_time=2026-10-01T12:00:00Z",
        "-metadata:s:v", f"handler_name={SERIAL}")
    assert metadata_boxes.encode() in data and all(secret in data for secret in SECRETS)
    if metadata_boxes == "udta":
        assert b"\xa9xyz" in data
    return data


def scanned_pdf() -> bytes:
    """Document information, and XMP on the document and on its page, as scanners write it."""
    data = pdf_bytes(Author="Juf Anna", Creator=SERIAL, Keywords=f"GPS {GPS_TEXT}N",
                     Subject=COMMENT)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for owner in (pdf.Root, pdf.pages[0].obj):
            owner.Metadata = pdf.make_stream(XMP.encode(), Type=pikepdf.Name.Metadata,
                                             Subtype=pikepdf.Name.XML)
        out = io.BytesIO()
        pdf.save(out, compress_streams=False)
    return out.getvalue()


def no_secrets_in(data: bytes, what: str) -> None:
    for secret in SECRETS:
        assert secret not in data, f"{secret!r} found in {what}"


def photo_is_pixels_only(data: bytes, what: str) -> None:
    no_secrets_in(data, what)
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif(), what
        assert not {"exif", "xmp", "comment", "photoshop", "icc_profile"} & set(image.info), what
        if image.format == "JPEG":
            # Only the JFIF header: no APP1 (EXIF, XMP), APP13 (IPTC) or other application data.
            assert [marker for marker, _ in image.applist] == ["APP0"], what


def video_has_no_metadata(data: bytes, tmp_path) -> None:
    no_secrets_in(data, "the video")
    # No GPS box, no keys, no encoder. (ffmpeg's MP4 writer always adds an empty
    # udta/meta/ilst box: an iTunes metadata list without entries.)
    for box in (b"\xa9xyz", b"loci", b"keys", b"mdta", b"\xa9mak", b"\xa9mod", b"Lavf"):
        assert box not in data, f"{box!r} found in the video"
    path = tmp_path / "served.mp4"
    path.write_bytes(data)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:format_tags:stream_tags",
         "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout)
    assert set(probe["format"].get("tags", {})) <= {"major_brand", "minor_version",
                                                    "compatible_brands"}
    for stream in probe["streams"]:
        assert set(stream.get("tags", {})) <= {"language", "vendor_id"}
    assert float(probe["format"]["duration"]) > 0.9  # the film itself is all there


def pdf_has_no_metadata(data: bytes) -> None:
    no_secrets_in(data, "the PDF")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert len(pdf.pages) == 1
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                assert "/Metadata" not in obj and "/PieceInfo" not in obj
            if isinstance(obj, pikepdf.Stream):
                no_secrets_in(obj.read_bytes(), "a stream of the PDF")


@pytest.fixture
def media_dir(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    return tmp_path / "media"


def test_nothing_hidden_survives_in_any_file_served(make_client, media_dir, app, tmp_path):
    group = make_group("Groep 3")
    teacher = make_teacher(group)
    parent = make_guardian(child=make_student(group))
    db.session.commit()
    client = make_client(MEDIA_PATH=str(media_dir), MEDIA_KEEP_ORIGINALS=True)
    sign_in(client, teacher)
    response = client.post(f"/groepen/{group.id}/nieuw", content_type="multipart/form-data",
                           data={"groups": [str(group.id)], "body": "Van alles", "files": upload(
                               ("IMG_0001.JPG", phone_jpeg()), ("scherm.png", screenshot_png()),
                               ("IMG_0002.HEIC", iphone_heic()),
                               ("film.mp4", phone_mp4("udta")), ("IMG_0003.MP4", phone_mp4("meta")),
                               ("brief.pdf", scanned_pdf()))})
    assert response.status_code == 303, response.get_data(as_text=True)
    fresh()
    attachments = db.session.scalars(select(Attachment).order_by(Attachment.position)).all()
    assert [a.kind for a in attachments] == ["photo"] * 3 + ["video"] * 2 + ["document"]

    sign_in(client, parent)
    served = 0
    for attachment in attachments:
        variants = ("bestand",)
        if attachment.kind == media.PHOTO:  # the JPEGs, and the WebP sizes it is large enough for
            variants = ("klein", "groot", "groot.webp",
                        *[v for v in ("960.webp", "480.webp", "240.webp")
                          if int(v.split(".")[0]) < max(attachment.width, attachment.height)])
        for variant in variants:
            response = client.get(f"/media/{attachment.key}/{variant}?v={attachment.digest}")
            assert response.status_code == 200, variant
            what = f"{attachment.filename} ({variant})"
            if attachment.kind == media.PHOTO:
                photo_is_pixels_only(response.data, what)
            elif attachment.kind == media.VIDEO:
                video_has_no_metadata(response.data, tmp_path)
            else:
                pdf_has_no_metadata(response.data)
            served += 1
        # The originals are kept on the server (MEDIA_KEEP_ORIGINALS) and never served.
        assert client.get(f"/media/{attachment.key}/original").status_code == 404
    # JPEG 640 x 480: 3 + 2 WebP sizes; PNG 500 x 400: 3 + 2; HEIC 320 x 240: 3 + 1.
    assert served == 5 + 5 + 4 + 3
