"""CSRF on every POST, htmx as vendored and configured for the strict CSP."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from flask import url_for
from sqlalchemy import select

from parro.config import ROOT
from parro.extensions import db
from parro.models import User, UserSession

from .factories import PASSWORD, make_guardian
from .helpers import csrf_token, fetch, login_as, text_of
from .test_authorization import ROUTES
from .world import build_world

EXPIRED = "Formulier verlopen"


# RFC 8058's one-click unsubscribe is posted by the mail client, which has no CSRF
# token; its URL carries a token of its own (tests/test_authorization.py: "#one-click").
NO_CSRF = {"auth.unsubscribe"}


def post_endpoints(app) -> list[str]:
    return sorted(
        {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods} - NO_CSRF
    )


def hx_token(html: str) -> str:
    match = re.search(r"""<body data-hx-headers='\{"X-CSRFToken": "([^"]+)"\}'>""", html)
    assert match, "no CSRF header for htmx on <body>"
    return match.group(1)


# -- CSRF -----------------------------------------------------------------------


def test_every_post_route_refuses_a_request_without_a_token(app, make_client):
    world = build_world()
    client = make_client(WTF_CSRF_ENABLED=True)
    login_as(client, world.admin)
    endpoints = post_endpoints(app)
    assert "auth.login" in endpoints and "auth.logout" in endpoints
    for endpoint in endpoints:
        _method, url_args, _expected, data = ROUTES[endpoint]
        with app.test_request_context():
            url = url_for(endpoint, **url_args(world))
        if callable(data):
            data = data(world)
        db.session.commit()  # what the arguments made is there for the request, no lock held
        response = client.post(url, data=data or {"email": "x@example.org", "name": "X"})
        assert response.status_code == 400, endpoint
        assert EXPIRED in text_of(response), endpoint
        assert "Er is niets opgeslagen" in text_of(response)


def test_a_post_without_token_changes_nothing(app, make_client):
    user = make_guardian(email="ouder@example.org", name="Fatima")
    db.session.commit()
    client = make_client(WTF_CSRF_ENABLED=True)
    login_as(client, user)
    response = client.post("/account", data={"name": "Aanvaller", "locale": "en"})
    assert response.status_code == 400
    new = "een ander lang wachtwoord"
    response = client.post(
        "/account/wachtwoord", data={"current": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 400
    response = client.post("/logout")
    assert response.status_code == 400
    (user,) = fetch(select(User))
    assert (user.name, user.locale) == ("Fatima", "nl")
    assert len(fetch(select(UserSession))) == 1
    assert client.get("/account").status_code == 200


def test_login_without_token_logs_nobody_in(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(WTF_CSRF_ENABLED=True)
    response = client.post("/login", data={"email": "ouder@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert fetch(select(UserSession)) == []


def test_the_forms_hidden_token_is_accepted(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(WTF_CSRF_ENABLED=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "ouder@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def test_the_token_as_htmx_sends_it_in_a_header_is_accepted(app, make_client):
    user = make_guardian(email="ouder@example.org", name="Fatima")
    db.session.commit()
    client = make_client(WTF_CSRF_ENABLED=True)
    login_as(client, user)
    token = hx_token(client.get("/account").get_data(as_text=True))
    response = client.post(
        "/account",
        data={"name": "Fatima Jansen", "locale": "nl"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 303
    (user,) = fetch(select(User))
    assert user.name == "Fatima Jansen"


def test_a_token_from_another_browser_is_refused(app, make_client):
    user = make_guardian(email="ouder@example.org", name="Fatima")
    db.session.commit()
    attacker = make_client(WTF_CSRF_ENABLED=True)
    token = hx_token(attacker.get("/login").get_data(as_text=True))
    victim = make_client(WTF_CSRF_ENABLED=True)
    login_as(victim, user)
    victim.get("/account")
    response = victim.post(
        "/account", data={"name": "Aanvaller", "locale": "nl"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
    (user,) = fetch(select(User))
    assert user.name == "Fatima"


# -- htmx -----------------------------------------------------------------------

def test_htmx_gets_a_fragment_and_a_boosted_navigation_the_whole_page(app, make_client):
    guardian = make_guardian()
    db.session.commit()
    client = make_client()
    login_as(client, guardian)
    for headers, whole in (({}, True), ({"HX-Request": "true"}, False),
                           ({"HX-Request": "true", "HX-Boosted": "true"}, True)):
        html = client.get("/groepen/", headers=headers).get_data(as_text=True)
        assert ("<!doctype html>" in html.lower()) is whole, headers


VENDOR = ROOT / "static" / "vendor"


def test_htmx_is_the_recorded_release():
    record = json.loads((VENDOR / "VENDOR.json").read_text())["htmx.min.js"]
    data = (VENDOR / "htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == record["sha256"]
    assert record["version"] == "2.0.11"
    assert b'version:"2.0.11"' in data
    assert (VENDOR / "htmx.LICENSE").read_text().startswith("Zero-Clause BSD")


def test_htmx_is_configured_for_the_strict_csp(app, client):
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r"""<meta name="htmx-config" content='([^']+)'>""", html)
    assert match, "no htmx-config meta"
    config = json.loads(match.group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["historyCacheSize"] == 0
    assert '<script src="/static/vendor/htmx.min.js?v=' in html


# Mail templates are not served under the CSP: mail clients need their styles inline.
TEMPLATES = sorted(
    path for path in (ROOT / "templates").rglob("*.html") if path.parent.name != "email"
)
FORBIDDEN = {
    "an hx-on attribute": re.compile(r"\bhx-on", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "an inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_hold_nothing_the_csp_would_block(path):
    source = path.read_text()
    for what, pattern in FORBIDDEN.items():
        assert not pattern.search(source), f"{path.name} has {what}"
    for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", source, re.S | re.I):
        assert "src=" in attrs, f"{path.name} has an inline script"
        assert body.strip() == "", f"{path.name} has a script with a body"


def test_the_template_scan_finds_what_it_looks_for():
    bad = '<p style="color:red" onclick="x()"><script>alert(1)</script><div hx-on:click="y">'
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(bad)]
    assert found == ["an hx-on attribute", "a style attribute", "an inline event handler"]
    assert re.findall(r"<script\b([^>]*)>(.*?)</script>", bad) == [("", "alert(1)")]
