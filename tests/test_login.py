"""Logging in and out, server-side sessions, their cookies and idle expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.models import LoginEvent, UserSession
from parro.security import hash_token, live_sessions

from .factories import PASSWORD, make_admin, make_guardian, make_teacher
from .helpers import fetch, text_of

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
WRONG = "Dit e-mailadres en wachtwoord horen niet bij elkaar"


def log_in(client, email, password=PASSWORD, remember=False, next_url=None, **kw):
    url = "/login" + (f"?next={next_url}" if next_url is not None else "")
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post(url, data=data, **kw)


def auth_cookie(response, name="parro_auth") -> str | None:
    """The Set-Cookie header for the login cookie, if the response set one."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    return None


def sessions_of(user) -> list[UserSession]:
    return fetch(select(UserSession).where(UserSession.user_id == user.id))


# -- logging in ---------------------------------------------------------------


def test_login_with_the_right_password_starts_a_session(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    response = log_in(client, "ouder@example.org")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert len(sessions_of(user)) == 1
    assert client.get("/account").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    wrong = log_in(client, "ouder@example.org", "een verkeerd wachtwoord")
    unknown = log_in(client, "niemand@example.org", "een verkeerd wachtwoord")
    assert wrong.status_code == unknown.status_code == 422
    assert WRONG in text_of(wrong)
    # Apart from the address typed back into the field, the pages are the same.
    same = text_of(unknown).replace("niemand@example.org", "ouder@example.org")
    assert text_of(wrong) == same
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("state", ["disabled", "not activated"])
def test_disabled_and_not_yet_activated_accounts_cannot_log_in(app, client, state):
    if state == "disabled":
        user = make_guardian(email="ouder@example.org")
        user.disabled = True
    else:  # invited, and somehow a password: still not active until activation
        user = make_guardian(email="ouder@example.org", active=False)
    db.session.commit()
    response = log_in(client, "ouder@example.org")
    assert response.status_code == 422
    assert WRONG in text_of(response)
    assert sessions_of(user) == []
    assert client.get("/account").status_code == 302


def test_a_session_of_an_account_that_is_disabled_later_stops_working(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    log_in(client, "ouder@example.org")
    assert client.get("/account").status_code == 200
    user.disabled = True
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_email_is_case_insensitive_at_login(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    response = log_in(client, "  Ouder@EXAMPLE.org ")
    assert response.status_code == 303
    assert len(sessions_of(user)) == 1


def test_an_empty_form_says_what_is_missing(app, client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "Vul uw e-mailadres in." in text_of(response)
    assert "Vul uw wachtwoord in." in text_of(response)


@pytest.mark.parametrize(
    "next_url,target",
    [
        ("/account", "/account"),
        ("/groepen/3?x=1", "/groepen/3?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("///evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/%09/evil.example/", "/%09/evil.example/"),  # a path on our own site
        ("javascript:alert(1)", "/"),
        ("account", "/"),
    ],
)
def test_next_only_leads_to_our_own_pages(app, client, next_url, target):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": "ouder@example.org", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == target


def test_next_with_control_characters_is_refused(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    response = client.post(
        "/login",
        query_string={"next": "/\t/evil.example/"},
        data={"email": "ouder@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_a_protected_page_sends_to_login_and_back(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount"
    response = client.post(
        response.headers["Location"], data={"email": "ouder@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/account"


def test_every_attempt_is_logged(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    log_in(client, "Ouder@example.org", "niet het wachtwoord")
    log_in(client, "niemand@example.org", "niet het wachtwoord")
    log_in(client, "ouder@example.org")
    events = list(db.session.scalars(select(LoginEvent).order_by(LoginEvent.id)))
    assert [(e.email, e.user_id, e.success) for e in events] == [
        ("ouder@example.org", user.id, False),
        ("niemand@example.org", None, False),
        ("ouder@example.org", user.id, True),
    ]
    assert all(e.ip == "127.0.0.1" for e in events)


def test_login_page_for_a_logged_in_user_goes_on(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    log_in(client, "ouder@example.org")
    response = client.get("/login?next=/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"


# -- logging out --------------------------------------------------------------


def test_a_cookie_replayed_after_logout_is_refused(app, make_client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client()
    log_in(client, "ouder@example.org")
    stolen = client.get_cookie("parro_auth").value

    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "Max-Age=0" in auth_cookie(response) or "Expires=Thu, 01 Jan 1970" in auth_cookie(
        response
    )
    assert sessions_of(user) == []

    thief = make_client()
    thief.set_cookie("parro_auth", stolen)
    response = thief.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_logging_out_says_so(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    log_in(client, "ouder@example.org")
    response = client.post("/logout", follow_redirects=True)
    assert "U bent uitgelogd." in text_of(response)


# -- idle expiry and "remember me" -------------------------------------------


def test_a_guardian_session_expires_after_the_idle_time(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    clock.set_now(T0)
    response = log_in(client, "ouder@example.org")
    assert "Max-Age" not in auth_cookie(response)  # a browser-session cookie
    assert "Expires" not in auth_cookie(response)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])

    clock.set_now(T0 + idle - timedelta(minutes=1))
    assert client.get("/account").status_code == 200
    # Using it moved the idle window along.
    clock.set_now(T0 + 2 * idle - timedelta(minutes=3))
    assert client.get("/account").status_code == 200
    clock.set_now(T0 + 3 * idle)
    response = client.get("/account")
    assert response.status_code == 302
    assert auth_cookie(response) is not None  # the dead cookie is deleted


def test_remember_me_keeps_a_guardian_in_for_months_with_a_persistent_cookie(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    clock.set_now(T0)
    response = log_in(client, "ouder@example.org", remember=True)
    days = app.config["SESSION_REMEMBER_DAYS"]
    assert f"Max-Age={days * 24 * 3600}" in auth_cookie(response)

    clock.set_now(T0 + timedelta(days=days - 1))
    assert client.get("/account").status_code == 200
    clock.set_now(T0 + timedelta(days=2 * days))
    assert client.get("/account").status_code == 302


def test_remember_me_ends_a_year_after_the_login_however_often_it_is_used(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    clock.set_now(T0)
    log_in(client, "ouder@example.org", remember=True)
    assert app.config["SESSION_MAX_DAYS"] == 365
    moment = T0
    while moment + timedelta(days=60) < T0 + timedelta(days=365):
        moment += timedelta(days=60)  # well within the idle limit of 90 days
        clock.set_now(moment)
        assert client.get("/account").status_code == 200
    clock.set_now(T0 + timedelta(days=365, minutes=1))
    response = client.get("/account")
    assert response.status_code == 302
    assert auth_cookie(response) is not None  # the dead cookie is deleted
    assert sessions_of(user)[0] not in live_sessions(user)  # nor listed as a device


def test_the_absolute_lifetime_is_configurable(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(SESSION_MAX_DAYS=10)
    clock.set_now(T0)
    log_in(client, "ouder@example.org", remember=True)
    clock.set_now(T0 + timedelta(days=9))
    assert client.get("/account").status_code == 200
    clock.set_now(T0 + timedelta(days=10, seconds=1))
    assert client.get("/account").status_code == 302


def test_admins_get_a_short_idle_time_even_with_remember_me(app, client):
    make_admin(email="admin@example.org")
    db.session.commit()
    clock.set_now(T0)
    response = log_in(client, "admin@example.org", remember=True)
    assert "Max-Age" not in auth_cookie(response)
    minutes = app.config["SESSION_ADMIN_IDLE_MINUTES"]

    clock.set_now(T0 + timedelta(minutes=minutes - 1))
    assert client.get("/account").status_code == 200
    clock.set_now(T0 + timedelta(minutes=2 * minutes))
    assert client.get("/account").status_code == 302


def test_teachers_follow_the_guardian_idle_time(app, client):
    make_teacher(email="juf@example.org")
    db.session.commit()
    clock.set_now(T0)
    log_in(client, "juf@example.org")
    clock.set_now(T0 + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    assert client.get("/account").status_code == 302


def test_last_use_is_written_at_most_every_few_minutes(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    clock.set_now(T0)
    log_in(client, "ouder@example.org")
    touch = app.config["SESSION_TOUCH_SECONDS"]

    clock.set_now(T0 + timedelta(seconds=touch - 10))
    client.get("/account")
    assert sessions_of(user)[0].last_seen_at == T0

    later = T0 + timedelta(seconds=touch + 10)
    clock.set_now(later)
    client.get("/account")
    assert sessions_of(user)[0].last_seen_at == later

    clock.set_now(later + timedelta(seconds=touch - 10))
    client.get("/account")
    assert sessions_of(user)[0].last_seen_at == later


def test_logging_in_tidies_sessions_that_idled_out(app, make_client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    clock.set_now(T0)
    log_in(make_client(), "ouder@example.org")
    clock.set_now(T0 + timedelta(days=2))
    log_in(make_client(), "ouder@example.org")
    assert len(sessions_of(user)) == 1


# -- cookies ------------------------------------------------------------------


def test_cookies_are_httponly_and_samesite_lax_over_http(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    page = client.get("/login")
    session_cookie = next(
        h for h in page.headers.getlist("Set-Cookie") if h.startswith("parro=")
    )
    login_cookie = auth_cookie(log_in(client, "ouder@example.org"))
    for header in (session_cookie, login_cookie):
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Path=/" in header
        assert "Secure" not in header
        assert "Domain" not in header


def test_cookies_are_secure_and_host_prefixed_over_https(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(BASE_URL="https://school.example.org")
    https = {"base_url": "https://school.example.org"}
    page = client.get("/login", **https)
    session_cookie = next(
        h for h in page.headers.getlist("Set-Cookie") if h.startswith("__Host-parro=")
    )
    response = log_in(client, "ouder@example.org", **https)
    login_cookie = auth_cookie(response, "__Host-parro_auth")
    for header in (session_cookie, login_cookie):
        assert "Secure" in header
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Path=/" in header
        assert "Domain" not in header  # __Host- cookies are host-only
    assert client.get("/account", **https).status_code == 200
    assert auth_cookie(client.post("/logout", **https), "__Host-parro_auth") is not None
    assert client.get("/account", **https).status_code == 302


def test_the_cookie_holds_a_token_whose_hash_only_is_stored(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    log_in(client, "ouder@example.org")
    token = client.get_cookie("parro_auth").value
    (row,) = sessions_of(user)
    assert row.token_hash == hash_token(token)
    assert token not in row.token_hash


def test_a_session_records_the_device(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    log_in(client, "ouder@example.org", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14)"})
    (row,) = sessions_of(user)
    assert row.user_agent == "Mozilla/5.0 (Linux; Android 14)"
    assert row.ip == "127.0.0.1"


def test_the_flask_session_is_renewed_at_login(app, client):
    """A CSRF token planted before login does not survive it (session fixation)."""
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client.get("/login")
    before = client.get_cookie("parro").value
    log_in(client, "ouder@example.org")
    cookie = client.get_cookie("parro")
    assert cookie is None or cookie.value != before


def test_pages_that_change_nothing_set_no_cookies(app, client):
    """Neither the login cookie nor Flask's session cookie is written again on every
    request (Flask-Login's session protection marked the session "not fresh" each time)."""
    make_guardian(email="ouder@example.org")
    db.session.commit()
    log_in(client, "ouder@example.org")
    client.get("/account")  # the first page after login may still settle the session
    for path in ("/account", "/groepen/", "/tellers"):
        response = client.get(path)
        assert response.status_code in (200, 204)
        assert response.headers.getlist("Set-Cookie") == [], path


def test_an_htmx_request_after_the_session_ended_sends_the_whole_page_to_login(app, client):
    response = client.get(
        "/account",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/groepen/3"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Fgroepen%2F3"
    plain = client.get("/account")
    assert plain.status_code == 302
    assert plain.headers["Location"] == "/login?next=%2Faccount"
