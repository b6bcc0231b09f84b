"""parro behind a real HTTPS proxy: Caddy with the production recipe (deploy/parro.caddy)
in front of gunicorn, everything checked through HTTPS as a phone would see it."""

from __future__ import annotations

import gzip
import os
import re

import brotli
import pytest

from parro.extensions import db

from .caddy import CADDY, Caddy
from .factories import (
    PASSWORD,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_student,
    make_teacher,
    photo_bytes,
)
from .servers import ROOT, Client, Server, _multipart, auth_token, free_port

UPLOAD_MB = 2  # PARRO_MEDIA_MAX_REQUEST_MB here; Caddy's limit is a little higher


@pytest.fixture
def caddy_installed():
    if not CADDY:
        reason = "Caddy is not installed (apt-get install caddy)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI needs it for the HTTPS proxy test")
        pytest.skip(reason)


def test_parro_behind_caddy_over_https(app, tmp_path, caddy_installed):
    group = make_group("Groep 3")
    sem = make_student(group, first_name="Sem")
    eva = make_guardian(child=sem, email="eva@example.org")
    anna = make_teacher(group, email="anna@example.org")
    chat = make_kindgesprek(sem)
    tokens = {"eva": auth_token(eva), "anna": auth_token(anna)}
    db.session.commit()
    group_id, chat_id = group.id, chat.id

    port = free_port()
    gunicorn = Server(
        tmp_path / "instance", BASE_URL=f"https://127.0.0.1:{port}", PROXY_FIX=1,
        RATELIMIT_LOGIN_IP="2 per 15 minutes", MEDIA_MAX_REQUEST_MB=UPLOAD_MB,
        MEDIA_PATH=tmp_path / "media")
    caddy = Caddy(tmp_path / "caddy", gunicorn.port, f"{UPLOAD_MB + 1}MiB", port=port)
    try:
        gunicorn.wait_ready()
        caddy.wait_ready()

        # Logging in through HTTPS: the login cookie is __Host-, Secure, for this host only.
        browser = Client(caddy).fetch_csrf("/login")
        login = browser.post("/login", {"email": "eva@example.org", "password": PASSWORD})
        assert login.status == 303, login.text[:500]
        [cookie] = [c for c in login.headers.get_all("Set-Cookie") if "parro_auth" in c]
        assert cookie.startswith("__Host-parro_auth=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
        page = browser.get("/", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert page.status == 200
        assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert page.headers["Cache-Control"] == "no-store"
        # parro's brotli passes through Caddy untouched.
        assert page.headers["Content-Encoding"] == "br"
        html = brotli.decompress(page.body).decode()
        assert "Groep 3" in html

        # Static files come from Caddy itself, compressed and kept for a year.
        css_url = re.search(r'href="(/static/css/app\.css\?v=\w+)"', html).group(1)
        css = browser.get(css_url, headers={"Accept-Encoding": "gzip"})
        assert css.status == 200
        assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert css.headers["Content-Encoding"] == "gzip"
        assert "Server" in css.headers and "gunicorn" not in css.headers["Server"]
        assert css.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert gzip.decompress(css.body) == (ROOT / "static/css/app.css").read_bytes()
        assert browser.get("/static/css/app.css").headers["Cache-Control"] == "no-cache"

        # The rate limiter sees each phone's own address (X-Forwarded-For from Caddy,
        # PARRO_PROXY_FIX=1), not Caddy's, and not what a client claims to be.
        wrong = {"email": "anna@example.org", "password": "geraden"}

        def failed_login(source, **headers):
            phone = Client(caddy, source=source).fetch_csrf("/login")
            return phone.post("/login", wrong, headers=headers).status

        assert [failed_login("127.0.0.2") for _ in range(3)] == [422, 422, 429]
        assert failed_login("127.0.0.2", **{"X-Forwarded-For": "127.0.0.9"}) == 429
        assert failed_login("127.0.0.3") == 422

        # An upload at the size limit goes through; one byte more gets parro's own page.
        # (Under gunicorn, which terminates the input stream, Werkzeug reads the limit as
        # a maximum it must not reach: a body of exactly the limit is refused too.)
        teacher = Client(caddy).login(tokens["anna"]).fetch_csrf(f"/groepen/{group_id}/nieuw")
        fields = {"groups": [str(group_id)], "title": "Kinderboerderij", "body": "Leuke dag",
                  "csrf_token": teacher.csrf}

        def upload(size: int):
            photo = photo_bytes()
            body, _ = _multipart(fields, [("files", "geit.jpg", photo, "image/jpeg")])
            padding = b"\0" * (size - len(body))  # after the JPEG's end: Pillow ignores it
            files = [("files", "geit.jpg", photo + padding, "image/jpeg")]
            return teacher.post(f"/groepen/{group_id}/nieuw", fields, files=files)

        limit = UPLOAD_MB * 1024 * 1024
        too_large = upload(limit + 1)
        assert too_large.status == 413  # parro's own page, in the user's language
        assert "te groot" in too_large.text
        posted = upload(limit - 1)
        assert posted.status == 303, posted.text[:500]
        parent = Client(caddy).login(tokens["eva"])
        assert "Kinderboerderij" in parent.get(f"/groepen/{group_id}").text

        # The chat's poll: nothing new (204), then the teacher's message.
        conversation = parent.get(f"/gesprekken/{chat_id}").text
        poll_url = re.search(r'data-hx-get="(/gesprekken/\d+/nieuw[^"]*)"', conversation).group(1)
        poll_url = poll_url.replace("&amp;", "&")
        assert parent.get(poll_url, headers={"HX-Request": "true"}).status == 204
        teacher.fetch_csrf(f"/gesprekken/{chat_id}")
        message = "Sem mag morgen zijn knuffel meenemen"
        sent = teacher.post(f"/gesprekken/{chat_id}", {"body": message})
        assert sent.status == 303, sent.text[:500]
        news = parent.get(poll_url, headers={"HX-Request": "true"})
        assert news.status == 200
        assert message in news.text
    except Exception:
        print("--- gunicorn\n" + gunicorn.output() + "\n--- caddy\n" + caddy.output())
        raise
    finally:
        caddy.stop()
        gunicorn.stop()
