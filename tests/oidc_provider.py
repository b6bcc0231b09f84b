"""A real OpenID provider on loopback: the npm package oidc-provider (tests/oidc/).

`oidc_provider` starts it once per test session (Node.js; `npm ci` in tests/oidc/ when
its packages are missing) with a client for parro and the test people below. Without
node or npm the tests that need it are skipped, and fail in CI.

The provider's own login page is a small form (tests/oidc/provider.mjs): a test signs in
as one of ACCOUNTS by its login, over plain HTTP with its own cookies, the way a browser
would. Each account says whether the provider did multi-factor login (`amr`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "parro"
CLIENT_SECRET = "parro-test-client-secret-of-at-least-32-characters"
BASE_URL = "http://parro.test"  # the tests' BASE_URL (tests/conftest.py)
TIMEOUT = 10  # seconds for every request to the provider

# The provider's people, by login (= their subject, `sub`).
ACCOUNTS = {
    # a teacher whose provider login is a password only
    "anna": {"sub": "anna", "email": "anna@school.example", "email_verified": True,
             "name": "Anna de Boer", "amr": ["pwd"]},
    # a teacher who passed the provider's multi-factor login
    "bram": {"sub": "bram", "email": "bram@school.example", "email_verified": True,
             "name": "Bram Visser", "amr": ["pwd", "mfa"]},
    # a teacher whose provider says "multi-factor" with acr (the PAPE policy) instead of amr
    "erik": {"sub": "erik", "email": "erik@school.example", "email_verified": True,
             "name": "Erik Bos", "amr": ["pwd"],
             "acr": "http://schemas.openid.net/pape/policies/2007/06/multi-factor"},
    # someone at the school the office never invited
    "nieuw": {"sub": "nieuw", "email": "nieuw@school.example", "email_verified": True,
              "name": "Nieuwe Collega", "amr": ["pwd", "mfa"]},
    # a guardian's address at the provider
    "ouder": {"sub": "ouder", "email": "ouder@school.example", "email_verified": True,
              "name": "Een Ouder", "amr": ["pwd"]},
    # a teacher's address the provider has not verified
    "onbevestigd": {"sub": "onbevestigd", "email": "carla@school.example",
                    "email_verified": False, "name": "Carla Smit", "amr": ["pwd"]},
    # a provider that sends no email_verified at all (as Microsoft Entra ID does)
    "entra": {"sub": "entra", "email": "dirk@school.example", "name": "Dirk Jansen",
              "amr": ["pwd", "mfa"]},
    # an address outside the school's domain
    "extern": {"sub": "extern", "email": "anna@elders.example", "email_verified": True,
               "name": "Anna Elders", "amr": ["pwd"]},
}


@dataclass
class OpenIDProvider:
    issuer: str

    def config(self, **overrides) -> dict:
        """parro's settings for this provider and its client `parro`."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": CLIENT_SECRET, **overrides}

    def register_client(self, base_url: str) -> dict:
        """A client for a parro at `base_url` (dynamic registration); its parro settings."""
        response = requests.post(
            f"{self.issuer}/reg",
            json=_client_metadata(base_url),
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        client = response.json()
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": client["client_id"],
                "OIDC_CLIENT_SECRET": client["client_secret"]}

    @contextlib.contextmanager
    def tampered(self, mode: str):
        """The next token response's ID token is changed after signing ("payload", "none")."""
        self._tamper(mode)
        try:
            yield
        finally:
            self._tamper("")

    def _tamper(self, mode: str) -> None:
        requests.post(f"{self.issuer}/__test__/tamper", data={"mode": mode},
                      timeout=TIMEOUT).raise_for_status()

    def log_in(self, authorize_url: str, login: str) -> str:
        """Open parro's authorization request and sign in as `login`; returns where the
        provider sends the browser back (parro's callback with code and state)."""
        assert authorize_url.startswith(self.issuer + "/"), authorize_url
        with requests.Session() as browser:
            page = browser.get(authorize_url, timeout=TIMEOUT)
            assert page.status_code == 200 and "Test provider" in page.text, page.text[:500]
            action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
            response = browser.post(urljoin(page.url, action), data={"login": login},
                                    allow_redirects=False, timeout=TIMEOUT)
            for _ in range(10):
                assert response.is_redirect, (response.status_code, response.text[:500])
                location = urljoin(response.url, response.headers["Location"])
                if not location.startswith(self.issuer + "/"):
                    return location
                response = browser.get(location, allow_redirects=False, timeout=TIMEOUT)
        raise AssertionError("the provider kept redirecting to itself")


def _client_metadata(base_url: str) -> dict:
    return {
        "redirect_uris": [f"{base_url}/login/schoolaccount/terug"],
        "post_logout_redirect_uris": [f"{base_url}/login"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    }


def local_path(url: str) -> str:
    """The path and query of a URL at parro, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in(client, provider: OpenIDProvider, login: str, *, next_path=None,
            edit_authorize=None):
    """The whole code flow without a browser; returns parro's answer to the callback.

    parro's test client follows the button's link; the provider's login page is driven over
    HTTP; the provider's answer goes back to parro's test client. `edit_authorize`
    may change the authorization request on its way to the provider.
    """
    start = client.get("/login/schoolaccount" + (f"?next={next_path}" if next_path else ""))
    assert start.status_code == 303, start.get_data(as_text=True)[:500]
    authorize_url = start.headers["Location"]
    if edit_authorize:
        authorize_url = edit_authorize(authorize_url)
    callback = provider.log_in(authorize_url, login)
    assert callback.startswith(BASE_URL + "/login/schoolaccount/terug?"), callback
    return client.get(local_path(callback))


def _start(log: Path) -> tuple[subprocess.Popen, str]:
    node = shutil.which("node")
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                **_client_metadata(BASE_URL)}]
    process = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.mjs")], cwd=OIDC_DIR, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=log.open("wb"),
    )
    process.stdin.write(json.dumps({"clients": clients, "accounts": ACCOUNTS}).encode())
    process.stdin.close()
    # Wait for its "ready <issuer>" line, without a fixed sleep.
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if selector.select(timeout=deadline - time.monotonic()):
                line = process.stdout.readline().decode().strip()
                if line.startswith("ready "):
                    return process, line.split(" ", 1)[1]
                if not line and process.poll() is not None:
                    break
    process.kill()
    raise RuntimeError(f"the OpenID provider did not start:\n{log.read_text()[-3000:]}")


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI needs it for the school-account tests (see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def oidc_provider():
    """The OpenID provider on loopback, for the whole test session."""
    if not shutil.which("node") or not shutil.which("npm"):
        _missing("node and npm are not installed (apt-get install nodejs npm)")
    # One installer at a time: under pytest-xdist every worker gets here.
    with (OIDC_DIR / ".npm-ci.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            installed = subprocess.run(
                [shutil.which("npm"), "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR,
                capture_output=True, text=True, timeout=300, check=False,
            )
            if installed.returncode != 0:
                _missing(f"`npm ci` in tests/oidc failed: {installed.stderr[-500:]}")
    log = Path(tempfile.mkdtemp(prefix="parro-oidc-")) / "provider.log"
    process, issuer = _start(log)
    try:
        yield OpenIDProvider(issuer)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
