"""Forgot password: a mail with a single-use link that works for an hour."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from parro import clock
from parro.auth.passwords import verify_password
from parro.extensions import db
from parro.models import OutboxMail, PasswordReset, User, UserSession
from parro.security import hash_token

from .factories import PASSWORD, make_guardian
from .helpers import fetch, login_as, text_of

T0 = datetime(2027, 3, 1, 12, 35, tzinfo=UTC)  # 13:35 in Amsterdam
NEW = "fietsen langs de grachten in mei"
SAME_ANSWER = "ontvangt u binnen enkele minuten een e-mail"


def ask(client, email):
    return client.post("/wachtwoord-vergeten", data={"email": email})


def outbox() -> list[OutboxMail]:
    return fetch(select(OutboxMail).order_by(OutboxMail.id))


def link_in(mail: OutboxMail) -> str:
    match = re.search(r"http://parro\.test(/wachtwoord-herstellen/\S+)", mail.body_text)
    assert match, mail.body_text
    return match.group(1)


def user_named(email) -> User:
    (user,) = fetch(select(User).where(User.email == email))
    return user


def choose(client, link, password=NEW, confirm=None):
    return client.post(link, data={"password": password, "confirm": confirm or password})


def test_known_and_unknown_addresses_get_the_same_answer(app, client):
    make_guardian(email="ouder@example.org", name="Fatima Ouder")
    db.session.commit()
    known = ask(client, "ouder@example.org")
    unknown = ask(client, "niemand@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    page = text_of(client.get("/login"))
    assert SAME_ANSWER in page and "niemand@example.org" in page
    (mail,) = outbox()
    assert mail.recipient == "ouder@example.org"


def test_the_mail_holds_a_single_use_link_whose_hash_only_is_stored(app, client):
    make_guardian(email="ouder@example.org", name="Fatima Ouder")
    db.session.commit()
    clock.set_now(T0)
    ask(client, "Ouder@Example.org ")
    (mail,) = outbox()
    assert mail.subject == "Een nieuw wachtwoord kiezen"
    assert "Beste Fatima Ouder," in mail.body_text
    assert "60 minuten geldig (tot 01-03-2027, 14:35)" in mail.body_text
    token = link_in(mail).rsplit("/", 1)[1]
    (reset,) = fetch(select(PasswordReset))
    assert reset.token_hash == hash_token(token)
    assert token not in reset.token_hash
    assert reset.expires_at == T0 + timedelta(minutes=60)


def test_a_new_password_via_the_link(app, client, make_client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    elsewhere = make_client()
    login_as(elsewhere, user)
    assert elsewhere.get("/account").status_code == 200

    ask(client, "ouder@example.org")
    link = link_in(outbox()[0])
    page = client.get(link)
    assert page.status_code == 200
    assert "Nieuw wachtwoord kiezen" in text_of(page)

    response = choose(client, link)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "Uw nieuwe wachtwoord is opgeslagen" in text_of(client.get("/login"))
    user = user_named("ouder@example.org")
    assert verify_password(user.password_hash, NEW)
    assert not verify_password(user.password_hash, PASSWORD)
    assert user.password_changed_at is not None
    (reset,) = fetch(select(PasswordReset))
    assert reset.used_at is not None
    # Every session of the user has ended.
    assert fetch(select(UserSession)) == []
    assert elsewhere.get("/account").status_code == 302
    # The new password works, the old one does not.
    for password, status in ((PASSWORD, 422), (NEW, 303)):
        response = client.post("/login", data={"email": "ouder@example.org", "password": password})
        assert response.status_code == status


def test_a_used_link_does_not_work_again(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    ask(client, "ouder@example.org")
    link = link_in(outbox()[0])
    assert choose(client, link).status_code == 303
    again = client.get(link)
    assert again.status_code == 410
    assert "Deze link is al gebruikt" in text_of(again)
    response = choose(client, link, "weer een ander lang wachtwoord")
    assert response.status_code == 410
    assert verify_password(user_named("ouder@example.org").password_hash, NEW)


def test_an_expired_link_does_not_work(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    clock.set_now(T0)
    ask(client, "ouder@example.org")
    link = link_in(outbox()[0])
    clock.set_now(T0 + timedelta(minutes=59))
    assert client.get(link).status_code == 200
    clock.set_now(T0 + timedelta(minutes=61))
    response = client.get(link)
    assert response.status_code == 410
    assert "Deze link is verlopen" in text_of(response)
    assert choose(client, link).status_code == 410
    assert verify_password(user_named("ouder@example.org").password_hash, PASSWORD)


def test_an_unknown_link_gets_a_clear_page(app, client):
    response = client.get("/wachtwoord-herstellen/iets-wat-niet-bestaat")
    assert response.status_code == 404
    assert "Deze link kennen wij niet" in text_of(response)
    assert "Vraag een nieuwe link aan" in text_of(response)
    assert client.get("/wachtwoord-herstellen/" + "x" * 500).status_code == 404


def test_only_the_newest_link_works(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    ask(client, "ouder@example.org")
    ask(client, "ouder@example.org")
    first, second = (link_in(m) for m in outbox())
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_a_weak_or_mistyped_password_changes_nothing(app, client):
    make_guardian(email="ouder.jansen@example.org", name="Fatima Jansen")
    db.session.commit()
    ask(client, "ouder.jansen@example.org")
    link = link_in(outbox()[0])
    cases = [
        ("kort", "minstens 10 tekens"),
        ("wachtwoord123", "te makkelijk te raden"),
        ("ouder.jansen@example.org!", "niet uw naam of e-mailadres"),
    ]
    for password, message in cases:
        response = choose(client, link, password)
        assert response.status_code == 422
        assert message in text_of(response)
    response = choose(client, link, NEW, confirm=NEW + "x")
    assert response.status_code == 422
    assert "De twee wachtwoorden zijn niet gelijk." in text_of(response)
    assert verify_password(user_named("ouder.jansen@example.org").password_hash, PASSWORD)
    (reset,) = fetch(select(PasswordReset))
    assert reset.used_at is None
    assert choose(client, link).status_code == 303


def test_no_mail_for_disabled_or_not_yet_activated_accounts(app, client):
    disabled = make_guardian(email="weg@example.org")
    disabled.disabled = True
    make_guardian(email="nieuw@example.org", active=False, password=None)
    db.session.commit()
    for email in ("weg@example.org", "nieuw@example.org"):
        response = ask(client, email)
        assert response.status_code == 303
    assert outbox() == []


def test_a_link_stops_working_when_the_account_is_disabled(app, client):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    ask(client, "ouder@example.org")
    link = link_in(outbox()[0])
    user.disabled = True
    db.session.commit()
    assert client.get(link).status_code == 410


def test_an_invalid_address_is_explained(app, client):
    response = ask(client, "geen adres")
    assert response.status_code == 422
    assert "Dit is geen geldig e-mailadres." in text_of(response)
    assert outbox() == []


def test_the_mail_is_written_in_the_users_language(app, client):
    make_guardian(email="parent@example.org", locale="en", name="Pat Parent")
    make_guardian(email="ouder@example.org", locale="nl")
    db.session.commit()
    clock.set_now(T0)
    ask(client, "parent@example.org")
    ask(client, "ouder@example.org")
    english, dutch = outbox()
    # Dates and times follow the language (and the school's time zone).
    assert "2:35\u202fPM" in english.body_text
    assert "14:35" in dutch.body_text
    # A time written the English way (the link's random token may spell "PM" too).
    twelve_hour = re.compile(r"\d[\s\u202f]?[AP]M\b")
    assert twelve_hour.search(english.body_text) and not twelve_hour.search(dutch.body_text)
