"""The account page: name and language, password change, logged-in devices."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from parro import clock
from parro.auth.devices import describe
from parro.auth.passwords import verify_password
from parro.extensions import db
from parro.models import User, UserSession

from .factories import PASSWORD, make_guardian
from .helpers import fetch, text_of

NEW = "fietsen langs de grachten in mei"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def browser(make_client, email, user_agent=ANDROID, remember=False):
    """A client logged in through the login form, as a real browser would be."""
    client = make_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    data = {"email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 303
    return client


def sessions_of(email) -> list[UserSession]:
    return fetch(select(UserSession).join(User).where(User.email == email))


def change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/account/wachtwoord",
        data={"current": current, "password": new, "confirm": confirm or new},
    )


# -- name and language ----------------------------------------------------------


def test_name_and_language_are_saved(app, make_client):
    make_guardian(email="ouder@example.org", name="Oud")
    db.session.commit()
    client = browser(make_client, "ouder@example.org")
    response = client.post("/account", data={"name": "  Fatima  ", "locale": "en"})
    assert response.status_code == 303
    (user,) = fetch(select(User))
    assert (user.name, user.locale) == ("Fatima", "en")


def test_an_empty_name_is_explained_and_nothing_changes(app, make_client):
    make_guardian(email="ouder@example.org", name="Fatima")
    db.session.commit()
    client = browser(make_client, "ouder@example.org")
    response = client.post("/account", data={"name": "", "locale": "en"})
    assert response.status_code == 422
    assert "Vul uw naam in." in text_of(response)
    (user,) = fetch(select(User))
    assert (user.name, user.locale) == ("Fatima", "nl")


# -- password change ----------------------------------------------------------


def test_changing_the_password_logs_out_other_devices_but_not_this_one(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    phone = browser(make_client, "ouder@example.org", remember=True)
    laptop = browser(make_client, "ouder@example.org", WINDOWS_FIREFOX)
    old_cookie = phone.get_cookie("parro_auth").value

    response = change(phone)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    page = phone.get("/account")
    assert page.status_code == 200
    assert "Uw wachtwoord is gewijzigd" in text_of(page)
    assert laptop.get("/account").status_code == 302

    # This browser got a fresh session: the old cookie is dead, "remember me" is kept.
    new_cookie = phone.get_cookie("parro_auth").value
    assert new_cookie != old_cookie
    (row,) = sessions_of("ouder@example.org")
    assert row.remember is True
    thief = make_client()
    thief.set_cookie("parro_auth", old_cookie)
    assert thief.get("/account").status_code == 302

    (user,) = fetch(select(User))
    assert verify_password(user.password_hash, NEW)
    assert user.password_changed_at is not None


def test_a_wrong_current_password_changes_nothing(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    phone = browser(make_client, "ouder@example.org")
    laptop = browser(make_client, "ouder@example.org", WINDOWS_FIREFOX)
    response = change(phone, current="niet mijn wachtwoord")
    assert response.status_code == 422
    assert "Dit is niet uw huidige wachtwoord." in text_of(response)
    (user,) = fetch(select(User))
    assert verify_password(user.password_hash, PASSWORD)
    assert laptop.get("/account").status_code == 200


def test_a_weak_or_mistyped_new_password_is_explained(app, make_client):
    make_guardian(email="fatima.jansen@example.org", name="Fatima Jansen")
    db.session.commit()
    phone = browser(make_client, "fatima.jansen@example.org")
    for new, message in [
        ("kort", "minstens 10 tekens"),
        ("a" * 129, "hoogstens 128 tekens"),
        ("welkom12345", "te makkelijk te raden"),
        ("FatimaJansen2027", "niet uw naam of e-mailadres"),
    ]:
        response = change(phone, new=new)
        assert response.status_code == 422, new
        assert message in text_of(response), new
    response = change(phone, confirm=NEW + "!")
    assert response.status_code == 422
    assert "De twee wachtwoorden zijn niet gelijk." in text_of(response)
    (user,) = fetch(select(User))
    assert verify_password(user.password_hash, PASSWORD)


def test_guessing_the_current_password_is_rate_limited(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(RATELIMIT_LOGIN_ACCOUNT="2 per 15 minutes")
    client.post("/login", data={"email": "ouder@example.org", "password": PASSWORD})
    for _ in range(2):
        assert change(client, current="geraden wachtwoord").status_code == 422
    assert change(client).status_code == 429


def test_the_password_page_asks_for_the_current_password(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    page = browser(make_client, "ouder@example.org").get("/account/wachtwoord")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'autocomplete="current-password"' in html
    assert html.count('autocomplete="new-password"') == 2


# -- devices ------------------------------------------------------------------


def test_the_account_page_lists_the_logged_in_devices(app, make_client):
    make_guardian(email="ouder@example.org")
    other = make_guardian(email="buurvrouw@example.org")
    db.session.commit()
    clock.set_now(datetime(2027, 3, 1, 7, 5, tzinfo=UTC))
    browser(make_client, "ouder@example.org", WINDOWS_FIREFOX, remember=True)
    browser(make_client, "ouder@example.org", IPHONE)  # not remembered: idles out
    browser(make_client, "buurvrouw@example.org", IPHONE, remember=True)
    clock.set_now(datetime(2027, 3, 2, 18, 30, tzinfo=UTC))
    phone = browser(make_client, "ouder@example.org", ANDROID)
    page = text_of(phone.get("/account"))
    assert "Chrome op Android dit apparaat" in page
    assert "Firefox op Windows" in page
    assert "Laatst gebruikt: 01-03-2027, 08:05" in page
    assert "iPhone" not in page  # idled out, or someone else's
    assert "Overal anders uitloggen" in page
    del other


def test_logging_out_another_device(app, make_client):
    make_guardian(email="ouder@example.org", name="Eva Jansen")
    db.session.commit()
    laptop = browser(make_client, "ouder@example.org", WINDOWS_FIREFOX)
    phone = browser(make_client, "ouder@example.org", ANDROID)
    laptop_row = next(r for r in sessions_of("ouder@example.org") if "Firefox" in r.user_agent)
    response = phone.post(f"/account/apparaten/{laptop_row.id}/uitloggen")
    assert response.status_code == 303
    assert "Dat apparaat is uitgelogd." in text_of(phone.get("/account"))
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 200


def test_logging_out_this_device_from_the_list_is_logging_out(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    phone = browser(make_client, "ouder@example.org")
    (row,) = sessions_of("ouder@example.org")
    response = phone.post(f"/account/apparaten/{row.id}/uitloggen")
    assert response.headers["Location"] == "/login"
    assert phone.get("/account").status_code == 302


def test_nobody_can_log_out_someone_elses_device(app, make_client):
    make_guardian(email="ouder@example.org")
    make_guardian(email="buurvrouw@example.org")
    db.session.commit()
    neighbour = browser(make_client, "buurvrouw@example.org", IPHONE)
    phone = browser(make_client, "ouder@example.org")
    (row,) = sessions_of("buurvrouw@example.org")
    assert phone.post(f"/account/apparaten/{row.id}/uitloggen").status_code == 403
    assert neighbour.get("/account").status_code == 200
    assert phone.post("/account/apparaten/999999/uitloggen").status_code == 404


def test_logging_out_everywhere_else(app, make_client):
    make_guardian(email="ouder@example.org")
    make_guardian(email="buurvrouw@example.org")
    db.session.commit()
    laptop = browser(make_client, "ouder@example.org", WINDOWS_FIREFOX)
    tablet = browser(make_client, "ouder@example.org", IPHONE)
    neighbour = browser(make_client, "buurvrouw@example.org", IPHONE)
    phone = browser(make_client, "ouder@example.org")
    response = phone.post("/account/apparaten/andere-uitloggen")
    assert response.status_code == 303
    assert "U bent op alle andere apparaten uitgelogd." in text_of(phone.get("/account"))
    assert laptop.get("/account").status_code == 302
    assert tablet.get("/account").status_code == 302
    assert phone.get("/account").status_code == 200
    assert neighbour.get("/account").status_code == 200
    assert len(sessions_of("ouder@example.org")) == 1


def test_devices_get_readable_names(app):
    with app.test_request_context():
        assert describe(ANDROID) == "Chrome op Android"
        assert describe(WINDOWS_FIREFOX) == "Firefox op Windows"
        assert describe(IPHONE) == "Safari op iPhone"
        edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36 Edg/126.0"
        assert describe(edge) == "Edge op Windows"
        assert describe("") == "Onbekend apparaat"
        assert describe("curl/8.5.0") == "Onbekend apparaat"


def test_fields_carry_only_meaningful_aria_attributes(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = browser(make_client, "ouder@example.org")
    html = client.get("/account/wachtwoord").get_data(as_text=True)
    assert '="None"' not in html
    assert 'aria-describedby="password-hint"' in html
    html = change(client, new="kort").get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="password-hint password-error"' in html


def test_logging_out_devices_is_in_the_audit_log(app, make_client):
    from parro.models import AuditEvent

    make_guardian(email="ouder@example.org", name="Eva Jansen")
    db.session.commit()
    laptop = browser(make_client, "ouder@example.org", WINDOWS_FIREFOX)
    browser(make_client, "ouder@example.org", IPHONE)
    phone = browser(make_client, "ouder@example.org")
    laptop_row = next(r for r in sessions_of("ouder@example.org") if "Firefox" in r.user_agent)
    phone.post(f"/account/apparaten/{laptop_row.id}/uitloggen")
    phone.post("/account/apparaten/andere-uitloggen")
    events = fetch(select(AuditEvent).where(AuditEvent.action == "security")
                   .order_by(AuditEvent.id))
    assert [(e.summary, e.details) for e in events] == [
        ("Eva Jansen (ouder@example.org) logde een ander apparaat uit",
         {"device": "Firefox op Windows"}),
        ("Eva Jansen (ouder@example.org) logde alle andere apparaten uit", {}),
    ]
    assert laptop.get("/account").status_code == 302
