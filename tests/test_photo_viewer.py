"""The photo viewer (issue 19, point 5): a post's photos one by one inside the layout,
through the policy, and saving a photo only where the school allows it."""

from __future__ import annotations

import re

import pytest

from parro.extensions import db
from parro.models import School

from .factories import (
    give_consent,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
)
from .feed_helpers import fresh, page_text, reader, sign_in
from .helpers import csrf_token

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
def world(app, media_dir):
    group = make_group("Groep 3")
    sem = make_student(group, first_name="Sem")
    noor = make_student(group, first_name="Noor")  # no consent for photos in the app
    give_consent(sem)
    give_consent(noor, given=False)
    teacher = make_teacher(group, name="Anna de Boer")
    post = make_post(group, author=teacher, title="Uitje naar het bos", photos=3)
    first, second, third = post.photos
    second.description = "Sem bij de grote eik"
    third.tags = []
    from parro.models import PhotoTag

    db.session.add(PhotoTag(attachment_id=third.id, student_id=noor.id))
    w = {
        "group": group, "teacher": teacher, "post": post, "photos": [first, second, third],
        "guardian": make_guardian(child=sem), "noor_guardian": make_guardian(child=noor),
        "other_post": make_post(make_group("Groep 7"), photos=1),
    }
    db.session.commit()
    return w


def viewer_url(post, photo, **args) -> str:
    query = "".join(f"&{k}={v}" for k, v in args.items()).lstrip("&")
    return f"/groepen/bericht/{post.id}/foto/{photo.id}" + (f"?{query}" if query else "")


def test_a_photo_in_the_feed_opens_the_viewer_which_closes_to_the_same_place(client, world):
    post, (first, second, _third) = world["post"], world["photos"]
    sign_in(client, world["guardian"])
    back = f"/groepen/{world['group'].id}"
    feed = client.get(back).get_data(as_text=True)
    assert f'href="/groepen/bericht/{post.id}/foto/{first.id}?terug={back}"' in feed

    page = client.get(viewer_url(post, second, terug=back))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'alt="Sem bij de grote eik"' in html  # the description is the alt text
    assert f'href="{back}#post-{post.id}"' in html  # close: back to the post in the feed
    assert "Foto 2 van 2" in page_text(page)  # Noor's photo is not this parent's to see
    assert f'rel="prev" href="/groepen/bericht/{post.id}/foto/{first.id}?terug={back}"' in html
    assert 'rel="next"' not in html
    assert "Opslaan" not in page_text(page)  # the school has not allowed saving

    first_page = client.get(viewer_url(post, first)).get_data(as_text=True)
    assert 'alt="Foto 1 van 2 bij bericht ‘Uitje naar het bos’"' in first_page
    assert 'rel="prev"' not in first_page
    # Opened without a way back: it closes to the post's own page.
    assert f'href="/groepen/bericht/{post.id}#post-{post.id}"' in first_page


def test_a_photo_not_in_the_post_or_not_for_this_viewer_is_not_found(client, world):
    post, third = world["post"], world["photos"][2]
    sign_in(client, world["guardian"])
    for url in (viewer_url(post, third), viewer_url(post, world["other_post"].photos[0]),
                f"/groepen/bericht/{post.id}/foto/999999",
                f"/groepen/bericht/{post.id}/foto/{third.id}/opslaan"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "Deze foto hoort niet bij dit bericht" in page_text(page)
    # A post one may not see at all: refused, as the post's page is.
    assert client.get(viewer_url(world["other_post"], world["other_post"].photos[0])
                      ).status_code == 403


def test_staff_see_every_photo_and_the_childs_own_parent_too(client, world):
    post, third = world["post"], world["photos"][2]
    sign_in(client, world["teacher"])
    assert "Foto 3 van 3" in page_text(client.get(viewer_url(post, third)))
    sign_in(client, world["noor_guardian"])
    assert "Foto 3 van 3" in page_text(client.get(viewer_url(post, third)))


def test_saving_is_refused_until_the_school_allows_it(client, world):
    post, first = world["post"], world["photos"][0]
    sign_in(client, world["guardian"])
    refused = client.get(viewer_url(post, first) + "/opslaan")
    assert refused.status_code == 403
    assert "alleen in parro te bekijken" in page_text(refused)
    assert "Content-Disposition" not in refused.headers

    school = db.session.query(School).one()
    school.photo_download = True
    fresh()
    page = client.get(viewer_url(post, first))
    assert re.search(rf'href="/groepen/bericht/{post.id}/foto/{first.id}/opslaan" download>'
                     r'Opslaan<', page.get_data(as_text=True))
    saved = client.get(viewer_url(post, first) + "/opslaan")
    assert saved.status_code == 200
    assert saved.headers["Content-Type"] == "image/jpeg"
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    assert saved.headers["Cache-Control"] == "private, no-store"
    assert saved.data[:3] == b"\xff\xd8\xff"
    # What one may not see cannot be saved either.
    assert client.get(viewer_url(post, world["photos"][2]) + "/opslaan").status_code == 404


def test_the_school_turns_saving_on_in_its_settings(client, world):
    from parro.models import Role

    from .factories import make_admin

    admin = make_admin()
    db.session.commit()
    assert admin.role == Role.ADMIN
    sign_in(client, admin)
    form = client.get("/beheer/school").get_data(as_text=True)
    assert 'name="photo_download"' in form
    assert 'checked' not in re.search(r'<input[^>]*name="photo_download"[^>]*>', form).group(0)
    token = csrf_token(form)
    answer = client.post("/beheer/school", data={
        "csrf_token": token, "name": "De Test", "colour": "#1f6f8b", "photo_download": "y"})
    assert answer.status_code == 303
    fresh()
    assert db.session.query(School).one().photo_download is True


def test_the_post_page_names_its_tagged_children_to_staff_only(client, world):
    post = world["post"]
    sign_in(client, world["teacher"])
    assert "Aangevinkt op de foto's: Noor Tester" in page_text(
        client.get(f"/groepen/bericht/{post.id}"))
    sign_in(client, world["noor_guardian"])
    page = page_text(client.get(f"/groepen/bericht/{post.id}"))
    assert "Aangevinkt" not in page and "Noor Tester" not in page
