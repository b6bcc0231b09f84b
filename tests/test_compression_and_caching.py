"""What a phone downloads: compressed text, static files kept for a year under hashed URLs,
pages never kept, nothing kept after logging out, and no redirect before the first page."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from parro.extensions import db

from .factories import (
    PASSWORD,
    make_group,
    make_guardian,
    make_post,
    make_school,
    make_student,
    make_teacher,
)
from .helpers import csrf_token, login_as

STATIC = Path(__file__).resolve().parent.parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def linked(html: str, part: str) -> str:
    """The URL of the first link or script on the page whose URL contains `part`."""
    match = re.search(rf'(?:href|src)="([^"]*{re.escape(part)}[^"]*)"', html)
    assert match, f"no link to {part}"
    return match.group(1).replace("&amp;", "&")


def family_with_a_post():
    make_school()
    group = make_group()
    guardian = make_guardian(child=make_student(group, first_name="Sem"))
    make_post(group=group, body="Morgen gaan we naar de kinderboerderij.")
    db.session.commit()
    return guardian


# -- compression ------------------------------------------------------------------


def test_pages_come_compressed_with_brotli_or_gzip(app, client):
    login_as(client, family_with_a_post())
    plain = client.get("/groepen/")
    assert "Content-Encoding" not in plain.headers  # asked for nothing: nothing
    html = plain.data

    br = client.get("/groepen/", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data).count(b"kinderboerderij") == html.count(b"kinderboerderij")
    assert len(br.data) < len(html) / 2

    gz = client.get("/groepen/", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert b"kinderboerderij" in gzip.decompress(gz.data)
    assert gz.headers["Cache-Control"] == "no-store"  # compressed pages are not kept either


def test_static_files_and_htmx_fragments_come_compressed(app, client):
    make_school()
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    script = client.get(linked(page, "vendor/htmx.min.js"), headers={"Accept-Encoding": "br"})
    assert script.headers["Content-Encoding"] == "br"
    assert brotli.decompress(script.data) == (STATIC / "vendor/htmx.min.js").read_bytes()
    css = client.get(linked(page, "css/app.css"), headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(css.data) == (STATIC / "css/app.css").read_bytes()


# -- static files under hashed URLs -------------------------------------------------


def test_static_files_are_linked_by_their_content_hash_and_kept_for_a_year(app, client):
    make_school()
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    for name in ("css/app.css", "js/app.js", "vendor/htmx.min.js", "img/icon.svg"):
        url = linked(page, name)
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
        assert url == f"/static/{name}?v={digest}"
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE


def test_an_old_or_missing_hash_is_not_kept(app, client):
    """A page from before a release may ask for the old version: it gets today's file,
    which the browser must ask about again next time."""
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        response = client.get(url)
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
        assert "no-cache" in response.headers["Cache-Control"]
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_the_school_colour_and_manifest_are_kept_until_they_change(app, client):
    school = make_school()
    school.colour = "#1f6f8b"
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    css_url, manifest_url = linked(page, "/theme.css?v="), linked(page, "/manifest.webmanifest?v=")
    assert "#1f6f8b" in client.get(css_url).get_data(as_text=True)
    assert client.get(css_url).headers["Cache-Control"] == IMMUTABLE
    assert client.get(manifest_url).headers["Cache-Control"] == IMMUTABLE

    school.colour = "#8b1f1f"
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    assert linked(page, "/theme.css?v=") != css_url
    assert linked(page, "/manifest.webmanifest?v=") != manifest_url
    assert "#8b1f1f" in client.get(linked(page, "/theme.css?v=")).get_data(as_text=True)
    # The old URL now serves the new colour, which the browser must ask about again.
    old = client.get(css_url)
    assert "#8b1f1f" in old.get_data(as_text=True)
    assert old.headers["Cache-Control"] == "private, no-cache"


def test_pages_are_never_kept(app, client):
    login_as(client, family_with_a_post())
    for url in ("/", "/groepen/", "/account"):
        assert client.get(url).headers["Cache-Control"] == "no-store"


def test_logging_out_empties_the_browsers_cache(app, client):
    login_as(client, family_with_a_post())
    form = client.get("/account").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(form)})
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache"'


# -- the start URL ------------------------------------------------------------------


def test_the_start_url_shows_the_feed_without_a_redirect(app, client):
    login_as(client, family_with_a_post())
    response = client.get("/")
    assert response.status_code == 200
    assert "Morgen gaan we naar de kinderboerderij." in response.get_data(as_text=True)


def test_the_start_url_shows_a_teacher_the_morning_overview(app, client):
    make_school()
    group = make_group()
    make_student(group)
    teacher = make_teacher(group=group)
    db.session.commit()
    login_as(client, teacher)
    response = client.get("/")
    assert response.status_code == 200
    assert "Vandaag afwezig" in response.get_data(as_text=True)


def test_the_start_url_shows_the_login_form_to_a_visitor_and_logs_in_from_there(app, client):
    make_school()
    guardian = make_guardian(child=make_student())
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/login"' in html
    logged_in = client.post("/login", data={"email": guardian.email, "password": PASSWORD})
    assert logged_in.status_code == 303 and logged_in.location == "/"
    assert client.get("/").status_code == 200
