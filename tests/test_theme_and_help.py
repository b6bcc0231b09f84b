"""The school's colour, the web app manifest, the help page per role and the error pages."""

from __future__ import annotations

import json

import pytest
from flask import abort

from parro.extensions import db
from parro.theme.colour import brand, brand_dark, contrast, darken

from .factories import (
    make_admin,
    make_group,
    make_guardian,
    make_school,
    make_student,
    make_teacher,
)
from .helpers import login_as, text_of

WHITE = "#ffffff"


# -- the colour ---------------------------------------------------------------

@pytest.mark.parametrize("colour", ["#1f6f8b", "#0b3d91", "#000000"])
def test_a_dark_enough_colour_is_kept(colour):
    assert brand(colour) == colour


@pytest.mark.parametrize("colour", ["#ffff00", "#ffffff", "#f2a900", "#88ccee", "#FFC0CB"])
def test_a_light_colour_is_darkened_until_white_text_reads_well(colour):
    result = brand(colour)
    assert result != colour.lower()
    assert contrast(result, WHITE) >= 4.5
    # ... but no darker than needed: one step lighter would fail.
    assert contrast(darken(result, 1 / 0.95), WHITE) < 4.5 + 0.3


def test_the_dark_shade_is_darker_and_readable():
    for colour in ("#1f6f8b", "#ffff00", "#e91e63"):
        assert contrast(brand_dark(colour), WHITE) > contrast(brand(colour), WHITE)


def test_a_missing_or_broken_colour_falls_back_to_the_default():
    assert brand(None) == brand("") == brand("rood") == brand("#12345") == "#1f6f8b"


def test_contrast_matches_wcag():
    assert contrast("#000000", WHITE) == pytest.approx(21)
    assert contrast("#767676", WHITE) == pytest.approx(4.54, abs=0.01)


def test_theme_css_carries_the_school_colour_and_can_be_cached(app, client):
    make_school().colour = "#ffff00"
    db.session.commit()
    response = client.get("/theme.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    assert f"--brand: {brand('#ffff00')};" in css
    assert f"--brand-dark: {brand_dark('#ffff00')};" in css
    # Without its key the URL serves the browser's school: kept by that browser only.
    assert response.headers["Cache-Control"] == "private, no-cache"
    etag = response.headers["ETag"]
    again = client.get("/theme.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_a_new_colour_gets_a_new_etag(app, client):
    school = make_school()
    db.session.commit()
    first = client.get("/theme.css").headers["ETag"]
    school.colour = "#8b1f1f"
    db.session.commit()
    response = client.get("/theme.css", headers={"If-None-Match": first})
    assert response.status_code == 200
    assert "#8b1f1f" in response.get_data(as_text=True)


def test_every_page_links_the_theme_manifest_and_icons(app, client):
    make_school().colour = "#ffff00"
    db.session.commit()
    html = client.get("/login").get_data(as_text=True)
    school_id = make_school().id
    assert html.index("css/app.css") < html.index(f'href="/theme.css?v={school_id}-')
    assert f'<link rel="manifest" href="/manifest.webmanifest?v={school_id}-' in html
    assert '<link rel="apple-touch-icon" href="/static/img/apple-touch-icon.png?v=' in html
    assert f'<meta name="theme-color" content="{brand("#ffff00")}">' in html
    assert client.get("/static/img/apple-touch-icon.png").status_code == 200


# -- the manifest -------------------------------------------------------------

def test_the_manifest_makes_the_school_installable(app, client):
    school = make_school("OBS De Marel")
    school.colour = "#1f6f8b"
    db.session.commit()
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == "OBS De Marel"
    assert manifest["short_name"] == "OBS De Marel"
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#1f6f8b"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
        width = int.from_bytes(image.data[16:20], "big")  # the PNG header
        assert f"{width}x{width}" == icon["sizes"]


def test_a_long_school_name_gets_a_short_name_that_fits_under_an_icon(app, client):
    make_school("Willemsparkschool Den Haag").colour = "#ffff00"
    db.session.commit()
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    assert manifest["name"] == "Willemsparkschool Den Haag"
    assert len(manifest["short_name"]) <= 12
    assert manifest["theme_color"] == brand("#ffff00")


# -- help ---------------------------------------------------------------------

GUARDIAN_QUESTIONS = ["Hoe meld ik mijn kind ziek?",
                      "Waarom zie ik de groep van vorig jaar niet meer?",
                      "Mijn activatielink is verlopen",
                      "Waarom zegt de chat dat de leerkracht niet beschikbaar is?",
                      "Ik zie maar één van mijn kinderen", "Wie ziet de foto's van mijn kind?"]


@pytest.fixture
def people(app):
    group = make_group("Groep 3")
    people = {
        "guardian": make_guardian(child=make_student(group)),
        "teacher": make_teacher(group),
        "admin": make_admin(),
    }
    db.session.commit()
    return people


def test_anonymous_visitors_get_the_parents_help_about_logging_in(client, people):
    response = client.get("/help")
    assert response.status_code == 200
    page = text_of(response)
    assert "Hoe kom ik in de app?" in page and "Wachtwoord vergeten?" in page
    for question in GUARDIAN_QUESTIONS:
        assert question in page
    assert "7 dagen" in page


def test_a_guardian_gets_the_parents_help(client, people):
    login_as(client, people["guardian"])
    page = text_of(client.get("/help"))
    for question in GUARDIAN_QUESTIONS:
        assert question in page
    assert "Naar Absentie" in page
    assert "Hoe nodig ik ouders uit?" not in page and "Wachtwoord vergeten?" not in page


def test_a_teacher_gets_the_teachers_help(client, people):
    login_as(client, people["teacher"])
    page = text_of(client.get("/help"))
    assert "Hoe nodig ik ouders uit?" in page and "Mag dit kind op de foto?" in page
    assert "Hoe meld ik mijn kind ziek?" not in page
    assert "Hoe begin ik een nieuw schooljaar?" not in page


def test_the_admin_gets_the_office_help(client, people):
    login_as(client, people["admin"])
    page = text_of(client.get("/help"))
    assert "Hoe begin ik een nieuw schooljaar?" in page
    assert "Hoe nodig ik ouders uit?" not in page


def test_help_points_to_the_school_and_is_linked_from_every_page(app, client, people):
    make_school()  # the existing school: phone 010 000 00 00
    db.session.commit()
    page = text_of(client.get("/help"))
    assert "010 000 00 00" in page
    assert 'href="/help"' in client.get("/login").get_data(as_text=True)


# -- error pages --------------------------------------------------------------

def _error_app(make_app, **config):
    """An app with two routes that fail the way real requests can (before its first request)."""
    app = make_app(**config)

    @app.get("/_test/druk")
    def busy():
        abort(429)

    @app.get("/_test/kapot")
    def broken():
        raise RuntimeError("boom")

    return app


def _trigger(code, client, people):
    if code == 403:
        login_as(client, people["guardian"])
        return client.get("/beheer/")
    if code == 404:
        return client.get("/bestaat-niet")
    if code == 413:
        return client.post("/login", data={"email": "x" * 5000, "password": "y"})
    if code == 429:
        return client.get("/_test/druk")
    return client.get("/_test/kapot")


TITLES = {403: ("Geen toegang", "No access"), 404: ("Pagina niet gevonden", "Page not found"),
          413: ("Te groot", "Too large"), 429: ("Te veel pogingen", "Too many attempts"),
          500: ("Er ging iets mis", "Something went wrong")}


@pytest.mark.parametrize("code", sorted(TITLES))
@pytest.mark.parametrize("language", ["nl", "en"])
def test_error_pages_are_in_the_layout_and_the_users_language(make_app, app, people, code,
                                                              language):
    client = _error_app(make_app, MAX_CONTENT_LENGTH=1000).test_client()
    client.set_cookie("parro_lang", language)
    if language == "en":
        people["guardian"].locale = "en"
        db.session.commit()
    response = _trigger(code, client, people)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    title = TITLES[code][0 if language == "nl" else 1]
    assert f'<html lang="{language}" ' in html
    assert f"<h1>{title}</h1>" in html
    assert 'class="topbar"' in html and 'id="main"' in html and 'href="/help"' in html
    assert "boom" not in html


def test_favicon_ico_is_served_to_browsers_that_ask_for_it(app, client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert response.headers["Cache-Control"] == "public, max-age=86400"
