"""Login and password-reset requests are rate-limited per account and per IP.

Flask-Limiter keeps its counts in memory by default and in Redis when
RATELIMIT_STORAGE_URI says so; the Redis tests use database 15 of a local
server (PARRO_TEST_REDIS_URL overrides) and are skipped when none answers. Each
test process keeps its keys under a prefix of its own, so test runs and pytest-xdist
workers side by side never count, or empty, each other's.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import func, select

from parro.extensions import db, limiter
from parro.models import OutboxMail

from .factories import PASSWORD, make_guardian
from .helpers import text_of
from .test_security_headers import assert_security_headers

REDIS_URL = os.environ.get("PARRO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOO_MANY = "Te veel pogingen"
# The storage's own key prefix (limits' RedisStorage, "LIMITS" by default): limiter.reset()
# deletes every key that starts with it, so no prefix may start with another's.
KEY_PREFIX = f"parro-test-limits-{uuid.uuid4().hex[:12]}"
REDIS_STORAGE = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": "parro-test",
                 "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": KEY_PREFIX}}


def redis_or_skip():
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return conn


STORAGES = ["memory", "redis"]


@pytest.fixture(params=STORAGES)
def storage(request):
    """Config for one storage; Redis keys of the limiter are removed afterwards."""
    if request.param == "memory":
        yield {"RATELIMIT_STORAGE_URI": "memory://"}
        return
    conn = redis_or_skip()
    yield REDIS_STORAGE
    limiter.reset()
    for key in conn.scan_iter(f"{KEY_PREFIX}*"):
        conn.delete(key)


def log_in(client, email, password=PASSWORD, ip="127.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_failed_logins_for_one_account_are_limited(app, make_client, storage):
    make_guardian(email="ouder@example.org")
    make_guardian(email="buurman@example.org")
    db.session.commit()
    client = make_client(RATELIMIT_LOGIN_ACCOUNT="3 per 15 minutes", **storage)

    for _ in range(3):
        assert log_in(client, "ouder@example.org", "geraden wachtwoord").status_code == 422
    # From another address, and with the right password: the account waits.
    blocked = log_in(client, "Ouder@Example.org", ip="10.0.0.9")
    assert blocked.status_code == 429
    assert TOO_MANY in text_of(blocked)
    assert "Wacht een kwartier" in text_of(blocked)
    assert_security_headers(blocked)
    assert client.get("/account").status_code == 302
    # Other accounts are not affected.
    assert log_in(client, "buurman@example.org").status_code == 303


def test_successful_logins_do_not_count(app, make_client, storage):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(RATELIMIT_LOGIN_ACCOUNT="2 per 15 minutes", **storage)
    for _ in range(4):
        assert log_in(client, "ouder@example.org").status_code == 303
        client.post("/logout")


def test_failed_logins_from_one_ip_are_limited(app, make_client, storage):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(RATELIMIT_LOGIN_IP="3 per 15 minutes", **storage)
    for n in range(3):
        assert log_in(client, f"poging{n}@example.org", "geraden", ip="10.0.0.1").status_code == 422
    assert log_in(client, "ouder@example.org", ip="10.0.0.1").status_code == 429
    # Another IP is not affected.
    assert log_in(client, "ouder@example.org", ip="10.0.0.2").status_code == 303


def test_the_redis_storage_really_holds_the_counts(app, make_client):
    conn = redis_or_skip()
    client = make_client(**REDIS_STORAGE, RATELIMIT_LOGIN_ACCOUNT="3 per 15 minutes")
    try:
        log_in(client, "ouder@example.org", "geraden")
        keys = [k.decode() for k in conn.scan_iter(f"{KEY_PREFIX}*")]
        assert any("login:ouder@example.org" in k for k in keys), keys
    finally:
        limiter.reset()
        for key in conn.scan_iter(f"{KEY_PREFIX}*"):
            conn.delete(key)


def mails() -> int:
    count = db.session.scalar(select(func.count()).select_from(OutboxMail))
    db.session.rollback()
    return count


def test_reset_requests_for_one_email_are_limited(app, make_client, storage):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(RATELIMIT_RESET_EMAIL="2 per 15 minutes", **storage)
    for _ in range(2):
        response = client.post("/wachtwoord-vergeten", data={"email": "ouder@example.org"})
        assert response.status_code == 303
    blocked = client.post(
        "/wachtwoord-vergeten",
        data={"email": "OUDER@example.org"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert blocked.status_code == 429
    assert TOO_MANY in text_of(blocked)
    assert mails() == 2
    # An unknown address is limited the same way: the limit tells nothing.
    for _ in range(2):
        client.post("/wachtwoord-vergeten", data={"email": "niemand@example.org"})
    response = client.post("/wachtwoord-vergeten", data={"email": "niemand@example.org"})
    assert response.status_code == 429


def test_reset_requests_from_one_ip_are_limited(app, make_client, storage):
    client = make_client(RATELIMIT_RESET_IP="3 per 15 minutes", **storage)
    for n in range(3):
        response = client.post("/wachtwoord-vergeten", data={"email": f"iemand{n}@example.org"})
        assert response.status_code == 303
    response = client.post("/wachtwoord-vergeten", data={"email": "nog.iemand@example.org"})
    assert response.status_code == 429
    response = client.post(
        "/wachtwoord-vergeten",
        data={"email": "nog.iemand@example.org"},
        environ_base={"REMOTE_ADDR": "10.0.0.8"},
    )
    assert response.status_code == 303


def test_pages_are_not_limited(app, make_client):
    client = make_client(
        RATELIMIT_LOGIN_IP="1 per 15 minutes", RATELIMIT_RESET_IP="1 per 15 minutes"
    )
    for _ in range(5):
        assert client.get("/login").status_code == 200
        assert client.get("/wachtwoord-vergeten").status_code == 200


def test_an_unreachable_redis_does_not_lock_everyone_out(app, make_app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    try:
        assert log_in(client, "ouder@example.org", "geraden").status_code == 422
        assert log_in(client, "ouder@example.org").status_code == 303
    finally:
        make_app()  # the limiter is shared: give it a storage that answers for the teardown
