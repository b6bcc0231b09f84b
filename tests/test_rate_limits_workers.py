"""Rate limits are exact across gunicorn workers when they count in Redis (the production
recipe), and the app warns when several workers count in memory, each on its own.

Real gunicorn with two workers; requests go two at a time, so that both workers serve
them (a sync worker busy with one request does not accept the next). Redis database 14
of a local server (PARRO_TEST_REDIS_WORKERS_URL overrides); the servers count under a key
prefix of the test's own, whose keys are removed afterwards (other test runs may use
the same database at the same time).
"""

from __future__ import annotations

import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pyotp
import pytest

from parro import clock
from parro.extensions import db

from .factories import PASSWORD, make_guardian, make_school, make_teacher
from .servers import Client, Server

REDIS_URL = os.environ.get("PARRO_TEST_REDIS_WORKERS_URL", "redis://127.0.0.1:6379/14")
WRONG = "geraden wachtwoord"
# As the factories hash (tests/conftest.py): a right password is not rehashed at 19 MiB.
CHEAP_HASH = json.dumps({"time_cost": 1, "memory_cost": 64, "parallelism": 1})


@pytest.fixture
def redis_prefix():
    """A RATELIMIT_KEY_PREFIX of this test's own in REDIS_URL's database."""
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"no Redis at {REDIS_URL}; CI needs it for the rate-limit test")
        pytest.skip(f"no Redis at {REDIS_URL} (apt-get install redis-server)")
    prefix = f"parro-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in conn.scan_iter(f"*{prefix}*"):
        conn.delete(key)


def two_at_a_time(attempt, n: int) -> list[int]:
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(attempt, range(n)))


def wrong_password(server, email):
    def attempt(_=None) -> int:
        phone = Client(server).fetch_csrf("/login")
        return phone.post("/login", {"email": email, "password": WRONG}).status
    return attempt


def test_two_workers_on_redis_count_exactly(app, tmp_path, redis_prefix):
    make_school()
    make_guardian(email="eva@example.org")
    teacher = make_teacher(email="juf@example.org")
    secret = pyotp.random_base32()
    teacher.totp_secret, teacher.totp_enabled_at = secret, clock.now()
    db.session.commit()

    server = Server(tmp_path / "instance", workers=2, RATELIMIT_STORAGE_URI=REDIS_URL,
                    RATELIMIT_KEY_PREFIX=redis_prefix, PASSWORD_HASH=CHEAP_HASH)
    try:
        server.wait_ready()
        # The limit is 10 failed logins per account (15 minutes): the 11th is refused,
        # even with the right password.
        guess = wrong_password(server, "eva@example.org")
        assert two_at_a_time(guess, 10) == [422] * 10
        assert guess() == 429
        phone = Client(server).fetch_csrf("/login")
        right = phone.post("/login", {"email": "eva@example.org", "password": PASSWORD})
        assert right.status == 429

        # Two-factor codes: 10 wrong ones, each after a right password; the 11th is refused.
        def wrong_code(_=None, code="000000") -> int:
            phone = Client(server).fetch_csrf("/login")
            step = phone.post("/login", {"email": "juf@example.org", "password": PASSWORD})
            assert step.status == 303 and step.location.endswith("/login/code"), step.status
            return phone.fetch_csrf("/login/code").post("/login/code", {"code": code}).status

        assert two_at_a_time(wrong_code, 10) == [422] * 10
        assert wrong_code(code=pyotp.TOTP(secret).now()) == 429

        # Password-reset mails: 3 per address.
        def reset(_=None) -> int:
            phone = Client(server).fetch_csrf("/wachtwoord-vergeten")
            return phone.post("/wachtwoord-vergeten", {"email": "eva@example.org"}).status

        assert two_at_a_time(reset, 3) == [303] * 3
        assert reset() == 429
        assert "rate limits:" not in server.output()
    finally:
        server.stop()


def test_two_workers_in_memory_each_count_alone_and_the_app_says_so(app, tmp_path):
    """Why the production recipe counts in Redis (and the proof that the requests above
    reach both workers): in memory, each worker counts alone, so the 11th wrong password
    still gets through at the other worker."""
    make_guardian(email="eva@example.org")
    db.session.commit()
    server = Server(tmp_path / "instance", workers=2, RATELIMIT_STORAGE_URI="memory://",
                    PASSWORD_HASH=CHEAP_HASH)
    try:
        server.wait_ready()
        # One worker is kept busy with a guess whose form has not arrived yet (it waits
        # for the body), so the other answers every request until the body is sent: no
        # luck in which worker takes what, and no waiting for the second to load (a
        # request waits in the socket's queue until it is ready).
        held_phone = Client(server).fetch_csrf("/login")
        body = urlencode({"email": "eva@example.org", "password": WRONG,
                          "csrf_token": held_phone.csrf}).encode()
        held = server.connection()
        held.putrequest("POST", "/login")
        for name, value in (("Content-Type", "application/x-www-form-urlencoded"),
                            ("Content-Length", str(len(body))),
                            ("Referer", f"{server.url}/login"),
                            ("Cookie", "; ".join(f"{k}={v}"
                                                 for k, v in held_phone.cookies.items()))):
            held.putheader(name, value)
        held.endheaders()
        guess = wrong_password(server, "eva@example.org")
        assert [guess() for _ in range(10)] == [422] * 10
        assert guess() == 429  # the other worker's own limit
        held.send(body)  # the busy worker has counted nothing: its guess gets through
        assert held.getresponse().status == 422
        held.close()
        assert "rate limits: 2 gunicorn workers count failed logins" in server.output()
    finally:
        server.stop()
