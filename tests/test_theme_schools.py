"""The school's look with several schools: the stylesheet's and manifest's URLs name the
school and what they show, and a school's logo becomes its home-screen icon."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from parro import media
from parro.assets import IMMUTABLE
from parro.extensions import db
from parro.theme.colour import brand

from .factories import (
    current_year,
    make_group,
    make_guardian,
    make_logo,
    make_other_school,
    make_school,
    make_student,
)
from .helpers import csrf_token, login_as

# The `browser` and `admin_client` fixtures.
pytest_plugins = ["tests.admin_helpers"]

RED = (200, 30, 30)


@pytest.fixture
def schools(app):
    """School A (a logo, a long name) and B (none), and a family with a child at each."""
    a = make_school()
    a.name, a.colour = "Openbare Basisschool De Regenboog Noord", "#1f6f8b"
    b = make_other_school()
    b.colour = "#8b1f4a"
    make_logo(a, colour=RED)
    family = make_guardian(children=[make_student(make_group()),
                                     make_student(make_group(year=current_year(b)))])
    db.session.commit()
    return {"a": a, "b": b, "family": family}


def linked(html: str, rel: str) -> str:
    match = re.search(rf'<link rel="{rel}" href="([^"]+)"', html)
    assert match, f"no {rel} link"
    return match.group(1).replace("&amp;", "&")


def switch(client, school, page: str) -> None:
    response = client.post("/scholen", data={"csrf_token": csrf_token(page),
                                             "school_id": school.id, "next": "/scholen"})
    assert response.status_code == 303


def png(response) -> Image.Image:
    assert response.status_code == 200 and response.mimetype == "image/png"
    return Image.open(io.BytesIO(response.data))


# -- the stylesheet and the manifest: keyed by school and content -------------------------


def test_switching_school_gives_the_stylesheet_and_manifest_new_urls(client, make_client,
                                                                     schools):
    a, b = schools["a"], schools["b"]
    login_as(client, schools["family"], school=a)
    page = client.get("/scholen").get_data(as_text=True)
    css_a = re.search(r'href="(/theme\.css\?v=[^"]+)"', page).group(1)
    manifest_a = linked(page, "manifest")
    assert css_a.startswith(f"/theme.css?v={a.id}-")
    assert manifest_a.startswith(f"/manifest.webmanifest?v={a.id}-")

    switch(client, b, page)
    page = client.get("/scholen").get_data(as_text=True)
    css_b = re.search(r'href="(/theme\.css\?v=[^"]+)"', page).group(1)
    manifest_b = linked(page, "manifest")
    assert css_b.startswith(f"/theme.css?v={b.id}-") and css_b != css_a
    assert manifest_b.startswith(f"/manifest.webmanifest?v={b.id}-")
    assert f'<meta name="theme-color" content="{brand("#8b1f4a")}">' in page

    # Each keyed URL serves the school it names, to anyone, kept a year by any cache:
    # what a browser kept of A's never shows in B.
    stranger = make_client()
    for url, colour in ((css_a, "#1f6f8b"), (css_b, "#8b1f4a")):
        for who in (client, stranger):
            response = who.get(url)
            assert response.status_code == 200
            assert f"--brand: {brand(colour)};" in response.get_data(as_text=True)
            assert response.headers["Cache-Control"] == IMMUTABLE
    manifest = stranger.get(manifest_b)
    assert manifest.headers["Cache-Control"] == IMMUTABLE
    assert json.loads(manifest.data)["name"] == b.name


def test_an_unkeyed_or_old_url_is_the_browsers_school_kept_by_that_browser_only(client,
                                                                              schools):
    a, b = schools["a"], schools["b"]
    login_as(client, schools["family"], school=b)
    for url in ("/theme.css", "/theme.css?v=", f"/theme.css?v={b.id}-0123456789ab",
                "/theme.css?v=x", "/theme.css?v=-", "/theme.css?v=99999999999999-1",
                "/theme.css?v=%C2%B2-1", "/theme.css?v=4294967296-1"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-cache", url
        assert brand("#8b1f4a") in response.get_data(as_text=True), url
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    # An old key of school A names A: A's look, asked again each time.
    old = client.get(f"/manifest.webmanifest?v={a.id}-0123456789ab")
    assert old.headers["Cache-Control"] == "private, no-cache"
    assert json.loads(old.data)["name"] == a.name


def test_the_login_page_of_a_one_school_installation_links_its_keyed_look(client):
    school = make_school()
    school.colour = "#ffff00"
    db.session.commit()
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    css = re.search(r'href="(/theme\.css\?v=[^"]+)"', html).group(1)
    assert css.startswith(f"/theme.css?v={school.id}-")
    response = client.get(css)
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert brand("#ffff00") in response.get_data(as_text=True)
    manifest = client.get(linked(html, "manifest"))
    assert manifest.headers["Cache-Control"] == IMMUTABLE
    assert linked(html, "apple-touch-icon").startswith("/static/img/apple-touch-icon.png?v=")


def test_an_installation_without_a_school_yet_has_parros_look(client):
    html = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/theme\.css\?v=[^"]+)"', html).group(1)
    assert css.startswith("/theme.css?v=0-")
    assert client.get(css).headers["Cache-Control"] == IMMUTABLE
    assert json.loads(client.get(linked(html, "manifest")).data)["name"] == "parro"


# -- the logo as the home-screen icon ------------------------------------------------------


def test_the_manifest_of_a_school_with_a_logo_has_icons_made_from_it(client, schools):
    a = schools["a"]
    page = client.get("/login").get_data(as_text=True)  # logged out: the first school's
    manifest = json.loads(client.get(linked(page, "manifest")).data)
    assert manifest["name"] == a.name
    icons = {icon["src"]: icon for icon in manifest["icons"]}
    assert {(i["sizes"], i["purpose"]) for i in icons.values()} == {
        ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    touch = linked(page, "apple-touch-icon")
    assert touch == f"/logo/{a.id}/apple-touch-icon.png?v={a.logo_digest}"
    for src, side, maskable in [*((src, int(i["sizes"][:3]), i["purpose"] == "maskable")
                                  for src, i in icons.items()), (touch, 180, False)]:
        assert src.startswith(f"/logo/{a.id}/") and src.endswith(f"?v={a.logo_digest}")
        response = client.get(src)
        assert response.headers["Cache-Control"] == IMMUTABLE
        icon = png(response)
        assert icon.size == (side, side)
        assert set(icon.info) <= {"dpi", "gamma"}  # no text, EXIF or profile
        # The logo (red, 2:1) in the middle on white; a maskable one inside the safe circle.
        assert icon.getpixel((side // 2, side // 2))[0] > 150
        assert icon.getpixel((0, 0)) == icon.getpixel((side - 1, side - 1)) == (255, 255, 255)
        left, top, right, bottom = Image.eval(icon.convert("L"), lambda v: 255 - v) \
            .point(lambda v: 255 if v > 40 else 0).getbbox()
        width, height = right - left, bottom - top
        assert width == pytest.approx(2 * height, rel=0.05)
        if maskable:
            assert (width ** 2 + height ** 2) ** 0.5 <= 0.8 * side
        else:
            assert width == pytest.approx(0.84 * side, abs=2)
        # Made once, kept beside the logo under its key.
        assert media.path_for(a.logo_key, src.rsplit("/", 1)[1].split(".")[0]).is_file()


def test_the_manifest_and_touch_icon_follow_the_current_school(client, schools):
    a, b = schools["a"], schools["b"]
    login_as(client, schools["family"], school=a)
    page = client.get("/scholen").get_data(as_text=True)
    icons = json.loads(client.get(linked(page, "manifest")).data)["icons"]
    assert all(icon["src"].startswith(f"/logo/{a.id}/") for icon in icons)
    switch(client, b, page)
    page = client.get("/scholen").get_data(as_text=True)
    manifest = json.loads(client.get(linked(page, "manifest")).data)
    assert manifest["name"] == b.name
    assert all(icon["src"].startswith("/static/img/icon") for icon in manifest["icons"])
    assert linked(page, "apple-touch-icon").startswith("/static/img/apple-touch-icon.png")
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_a_new_logo_is_a_new_icon_and_the_old_ones_go(app, admin_client):
    from .test_school_settings import SCHOOL, school_a

    make_school()
    db.session.commit()
    keys = []
    for colour in (RED, (0, 90, 200)):
        picture = io.BytesIO()
        Image.new("RGB", (300, 300), colour).save(picture, "PNG")
        response = admin_client.post("/beheer/school", data={
            **SCHOOL, "logo": (io.BytesIO(picture.getvalue()), "logo.png")},
            content_type="multipart/form-data")
        assert response.status_code == 303
        school = school_a()
        keys.append(school.logo_key)
        url = f"/logo/{school.id}/icon-192.png?v={school.logo_digest}"
        assert png(admin_client.get(url)).getpixel((96, 96)) == pytest.approx(colour, abs=12)
        assert media.path_for(school.logo_key, "icon-192").is_file()
    assert not media.path_for(keys[0], "icon-192").exists()
    assert admin_client.post("/beheer/school", data={**SCHOOL, "remove_logo": "y"}) \
        .status_code == 303
    assert not media.path_for(keys[1], "icon-192").exists()
    assert admin_client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/logo/{b}/icon-192.png", "/logo/{a}/icon-64.png",
                                 "/logo/{a}/icon-192.jpg", "/logo/999999/icon-192.png",
                                 "/logo/{a}/../{a}.jpg", "/logo/99999999999999/icon-192.png"])
def test_an_icon_of_no_logo_is_not_found(client, schools, url):
    url = url.format(a=schools["a"].id, b=schools["b"].id)
    assert client.get(url).status_code == 404


def test_a_logo_whose_file_is_broken_has_no_icon_and_no_error(client, schools):
    a = schools["a"]
    media.path_for(a.logo_key, "display").write_bytes(b"\xff\xd8\xff\xd9")
    response = client.get(f"/logo/{a.id}/icon-512.png?v={a.logo_digest}")
    assert response.status_code == 404
