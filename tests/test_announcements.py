"""School-wide announcements: by admins, for all or chosen groups, pinned until their end."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from parro import clock, media
from parro.extensions import db
from parro.models import Announcement, AnnouncementDismissal, Attachment

from .factories import (
    make_admin,
    make_group,
    make_guardian,
    make_school,
    make_student,
    make_teacher,
    pdf_bytes,
    photo_bytes,
)
from .feed_helpers import files_under, fresh, reader, sign_in, upload
from .helpers import text_of

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
def school(app):
    clock.set_now(NOW)
    g3, g5 = make_group("Groep 3"), make_group("Groep 5", grade=5)
    world = {
        "g3": g3,
        "g5": g5,
        "admin": make_admin(),
        "teacher": make_teacher(g3),
        "jansen": make_guardian(child=make_student(g3)),
        "dekker": make_guardian(child=make_student(g5)),
    }
    db.session.commit()
    return world


def announce(client, **data):
    data.setdefault("title", "Nieuwsbrief maart")
    data.setdefault("body", "Lees de nieuwsbrief van maart.")
    data.setdefault("ends_on", "2027-03-20")
    return client.post("/groepen/mededelingen/nieuw", data=data, content_type="multipart/form-data")


def pinned_titles(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<h2 id="mededeling-\d+-titel">([^<]*)</h2>', html)


def test_admin_announces_to_all_groups_with_the_newsletter(client, school, media_dir):
    sign_in(client, school["admin"])
    response = announce(client, all_groups="y",
                        newsletter=upload(("Nieuwsbrief maart.pdf", pdf_bytes()))[0])
    assert response.status_code == 303
    assert "De mededeling is geplaatst." in text_of(client.get(response.headers["Location"]))
    fresh()
    announcement = db.session.scalar(select(Announcement))
    [pdf] = announcement.attachments
    assert pdf.filename == "Nieuwsbrief maart.pdf" and len(files_under(media_dir)) == 1

    for guardian in ("jansen", "dekker"):
        sign_in(client, school[guardian])
        feed = client.get("/groepen/")
        assert pinned_titles(feed) == ["Nieuwsbrief maart"]
        assert f"/media/{pdf.key}/bestand" in feed.get_data(as_text=True)
        download = client.get(f"/media/{pdf.key}/bestand")
        assert download.status_code == 200
        assert download.data == media.path_for(pdf.key, "file").read_bytes()


def test_announcement_for_chosen_groups_only(client, school):
    sign_in(client, school["admin"])
    response = announce(client, groups=[str(school["g3"].id)], title="Luizencontrole",
                        newsletter=upload(("info.pdf", pdf_bytes()))[0])
    assert response.status_code == 303
    fresh()
    key = db.session.scalar(select(Attachment.key))
    sign_in(client, school["jansen"])
    assert pinned_titles(client.get("/groepen/")) == ["Luizencontrole"]
    sign_in(client, school["dekker"])
    assert pinned_titles(client.get("/groepen/")) == []
    assert client.get(f"/media/{key}/bestand").status_code == 403
    sign_in(client, school["teacher"])
    assert pinned_titles(client.get(f"/groepen/{school['g3'].id}")) == ["Luizencontrole"]


def test_pinned_until_the_end_date_then_gone(client, school):
    db.session.add(Announcement(school_id=make_school().id, title="Studiedag", body="",
                                all_groups=True,
                                starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 12)))
    db.session.commit()
    clock.set_now(datetime(2027, 3, 12, 22, 0, tzinfo=UTC))  # 23:00 on the 12th
    sign_in(client, school["jansen"])
    assert pinned_titles(client.get("/groepen/")) == ["Studiedag"]
    clock.set_now(datetime(2027, 3, 12, 23, 30, tzinfo=UTC))  # 00:30 on the 13th
    assert pinned_titles(client.get("/groepen/")) == []


def test_a_parent_dismisses_it_for_themselves(client, school):
    db.session.add(Announcement(school_id=make_school().id, title="Studiedag", body="",
                                all_groups=True,
                                starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 31)))
    db.session.commit()
    announcement_id = db.session.scalar(select(Announcement.id))
    url = f"/groepen/mededelingen/{announcement_id}/sluiten"
    sign_in(client, school["jansen"])
    response = client.post(url, data={"next": "/groepen/"})
    assert response.status_code == 303 and response.headers["Location"] == "/groepen/"
    assert pinned_titles(client.get("/groepen/")) == []
    assert client.post(url).status_code == 303  # twice is fine
    sign_in(client, school["dekker"])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    sign_in(client, school["teacher"])
    assert pinned_titles(client.get("/groepen/")) == ["Studiedag"]
    fresh()
    assert db.session.scalar(select(func.count()).select_from(AnnouncementDismissal)) == 2


def test_only_admins_announce_and_bad_input_is_refused(client, school, media_dir):
    sign_in(client, school["teacher"])
    assert client.get("/groepen/mededelingen/nieuw").status_code == 403
    assert announce(client, all_groups="y").status_code == 403
    sign_in(client, school["admin"])
    response = announce(client, all_groups="y", newsletter=upload(("foto.pdf", photo_bytes()))[0])
    assert response.status_code == 422 and "foto.pdf is geen PDF-bestand." in text_of(response)
    response = announce(client, title="")
    assert response.status_code == 422
    text = text_of(response)
    assert "Geef de mededeling een titel." in text
    assert "Kies de groepen, of vink 'Voor alle groepen' aan." in text
    response = announce(client, all_groups="y", ends_on="2027-03-09")
    assert response.status_code == 422 and "Deze datum is al voorbij." in text_of(response)
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
    assert files_under(media_dir) == []


def test_admin_lists_and_deletes_announcements_with_their_file(client, school, media_dir):
    sign_in(client, school["admin"])
    announce(client, all_groups="y", newsletter=upload(("brief.pdf", pdf_bytes()))[0])
    fresh()
    announcement_id = db.session.scalar(select(Announcement.id))
    page = client.get("/groepen/mededelingen")
    assert "Nieuwsbrief maart" in text_of(page) and "Alle groepen" in text_of(page)
    response = client.post(f"/groepen/mededelingen/{announcement_id}/verwijderen")
    assert response.status_code == 303
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
    assert files_under(media_dir) == []
