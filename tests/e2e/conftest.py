"""Browser tests: the app served on a loopback port, driven by Debian's chromium.

`browser` is one chromium per test process (tests/conftest.py). `live_server`
serves a fresh app (demo mode, no mail server: mail stays in the outbox) on the
test's own database; `new_page()` opens a page in a fresh browser context (its own
cookies) and records every Content-Security-Policy violation in `new_page.violations`.

The test's own session must not hold a transaction while the browser works:
on SQLite it would keep the write lock. Commit after using the factories and
read what you need before that commit.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ..conftest import TIMEOUT_MS

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

# Runs before any page script: report CSP violations to the test.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const text = `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || document.location.href}:${e.lineNumber}`;
  (window.__cspViolations = window.__cspViolations || []).push(text);
  window.__parroCspViolation(text);
});
"""


@pytest.fixture
def browser(chromium_browser):
    return chromium_browser


@pytest.fixture
def live_server_config() -> dict:
    """Config for the served app; a test module overrides this fixture to change it."""
    return {}


@pytest.fixture
def live_server(make_app, app, live_server_config):
    """The app on http://127.0.0.1:<free port>; returns its base URL."""
    server_app = make_app(**{"DEMO": True, "MAIL_SERVER": None, **live_server_config})
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    server_app.config["BASE_URL"] = base_url  # links in mails point here
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a new browser context; CSP violations land in new_page.violations."""
    contexts = []
    violations: list[str] = []

    def record_console(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    def factory(**context_options):
        context = browser.new_context(base_url=live_server, **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.expose_binding("__parroCspViolation", lambda source, text: violations.append(text))
        page.add_init_script(CSP_LISTENER)
        page.on("console", record_console)
        return page

    factory.violations = violations
    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    """tests/artifacts/ (git-ignored): screenshots to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
