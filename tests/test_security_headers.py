from __future__ import annotations

from parro.security import CSP


def assert_security_headers(response) -> None:
    h = response.headers
    assert h.get("Content-Security-Policy") == CSP, h.get("Content-Security-Policy")
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"):
        assert directive in CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("Referrer-Policy") == "same-origin"


def test_error_pages_and_fragments_carry_the_headers(client):
    assert_security_headers(client.get("/does-not-exist"))
    assert_security_headers(client.get("/does-not-exist", headers={"HX-Request": "true"}))


def test_hsts_and_host_prefixed_cookies_behind_https(make_app):
    from .helpers import login_as

    app = make_app(BASE_URL="https://school.example.org")
    client = app.test_client()
    response = client.get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["AUTH_COOKIE_NAME"] == "__Host-parro_auth"
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-parro"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    del login_as


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
