"""Password rules (length, guessability, the user's own details) and argon2 hashing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from parro.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from parro.extensions import db
from parro.models import User

from .factories import PASSWORD, make_guardian
from .helpers import fetch

ME = ["fatima.jansen@example.org", "Fatima Jansen"]


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    "password,message",
    [
        ("", "minstens 10 tekens"),
        ("kort1234!", "minstens 10 tekens"),
        ("a" * 129, "hoogstens 128 tekens"),
        ("welkom12345", "te makkelijk te raden"),
        ("wachtwoord123", "te makkelijk te raden"),
        ("qwertyuiop", "te makkelijk te raden"),
        ("1234567890", "te makkelijk te raden"),
        ("fatima.jansen@example.org", "niet uw naam of e-mailadres"),
        ("Fatima.Jansen2027", "niet uw naam of e-mailadres"),
        ("FATIMA JANSEN rocks!", "niet uw naam of e-mailadres"),
        ("fatimafatima1", "te makkelijk te raden"),  # a single name only weakens it
    ],
)
def test_weak_passwords_are_refused_with_a_reason(ctx, password, message):
    problem = password_problem(password, ME)
    assert problem is not None and message in problem


@pytest.mark.parametrize(
    "password",
    [
        "correct paard batterij nietje",
        "fietsen langs de grachten in mei",
        "Fatima houdt van lange fietstochten",  # a first name in a real passphrase is fine
        "ß€ñ 🙂 Ünïcödé wörds à la carte",
        "x7#Lq9!vR2@m",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z" + " zebra" * 12,  # 128 chars
    ],
)
def test_long_and_unusual_passwords_are_accepted(ctx, password):
    assert len(password) <= 128
    assert password_problem(password, ME) is None


def test_exactly_128_characters_is_allowed_and_129_is_not(ctx):
    base = "een zin die lang genoeg is om boven de grens uit te komen "
    long = (base * 3)[:128]
    assert password_problem(long) is None
    assert "hoogstens 128" in password_problem(long + "x")


def test_hashes_are_argon2_and_verify(ctx):
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert hashed != hash_password(PASSWORD)  # salted
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "x")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)


def test_the_hash_is_renewed_at_login_when_the_parameters_change(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    (before,) = fetch(select(User))
    assert "t=1," in before.password_hash

    stronger = {"time_cost": 2, "memory_cost": 128, "parallelism": 1}
    client = make_client(PASSWORD_HASH=stronger)
    response = client.post("/login", data={"email": "ouder@example.org", "password": PASSWORD})
    assert response.status_code == 303
    (after,) = fetch(select(User))
    assert after.password_hash != before.password_hash
    assert "m=128,t=2," in after.password_hash
    with client.application.app_context():
        assert verify_password(after.password_hash, PASSWORD)
        assert not needs_rehash(after.password_hash)


def test_an_old_default_hash_still_logs_in_and_is_rehashed_with_the_lighter_parameters(
    app, make_client
):
    from argon2 import PasswordHasher

    from parro.config import Defaults

    guardian = make_guardian(email="ouder@example.org")
    # argon2-cffi's defaults, which parro used before: 64 MiB, 3 passes, 4 lanes.
    guardian.password_hash = PasswordHasher(memory_cost=65536, time_cost=3, parallelism=4).hash(
        PASSWORD
    )
    db.session.commit()

    client = make_client(PASSWORD_HASH=Defaults.PASSWORD_HASH)  # the production setting
    response = client.post("/login", data={"email": "ouder@example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert "/login" not in client.get("/").headers.get("Location", "")  # signed in
    (after,) = fetch(select(User))
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in after.password_hash
    with client.application.app_context():
        assert verify_password(after.password_hash, PASSWORD)
        assert not needs_rehash(after.password_hash)


def test_a_failed_login_does_not_touch_the_hash(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    (before,) = fetch(select(User))
    client = make_client(PASSWORD_HASH={"time_cost": 2, "memory_cost": 128, "parallelism": 1})
    client.post("/login", data={"email": "ouder@example.org", "password": "niet het wachtwoord"})
    (after,) = fetch(select(User))
    assert after.password_hash == before.password_hash
