"""In a real browser: a teacher signs in with the school account and signs out of both.

The provider is the real oidc-provider on loopback (tests/oidc_provider.py), with a
client registered for this parro's port; chromium follows every redirect itself.
"""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from parro.extensions import db

from ..factories import make_school, make_teacher
from .conftest import CSP_LISTENER

pytestmark = pytest.mark.e2e


@pytest.fixture
def sso_server(make_app, app, oidc_provider):
    """parro on a free loopback port, with a client of its own at the provider."""
    served = {}

    def dispatch(environ, start_response):
        return served["app"](environ, start_response)

    # The port comes first: the provider must know the address it sends browsers back to.
    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    served["app"] = make_app(BASE_URL=base_url, **oidc_provider.register_client(base_url))
    thread = threading.Thread(target=server.serve_forever, name="sso-server", daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(timeout=10)


def test_the_button_signs_a_teacher_in_and_out(browser, sso_server, oidc_provider, artifacts):
    make_school("Basisschool De Regenboog")
    make_teacher(email="anna@school.example", name="Anna de Boer")
    db.session.commit()
    violations: list[str] = []
    pages = []
    for width, height in ((360, 740), (1280, 900)):
        context = browser.new_context(base_url=sso_server,
                                      viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.expose_binding("__parroCspViolation", lambda source, text: violations.append(text))
        page.add_init_script(CSP_LISTENER)
        page.goto("/login")
        expect(page.get_by_role("heading", name="Medewerker van de school?")).to_be_visible()
        page.screenshot(path=artifacts / f"login-schoolaccount-{width}.png", full_page=True)
        pages.append(page)
    page = pages[0]  # on the phone

    # Someone the office never invited gets a clear page, on the laptop.
    laptop = pages[1]
    laptop.get_by_role("link", name="Inloggen met de schoolaccount").click()
    laptop.get_by_label("Login").fill("nieuw")
    laptop.get_by_role("button", name="Sign in").click()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("U heeft nog geen account")
    expect(laptop.get_by_role("alert")).to_contain_text("Vraag de administratie")
    laptop.screenshot(path=artifacts / "schoolaccount-unknown-1280.png", full_page=True)

    page.get_by_role("link", name="Inloggen met de schoolaccount").click()
    expect(page.get_by_role("heading", name="Test provider")).to_be_visible()
    assert page.url.startswith(oidc_provider.issuer + "/interaction/")
    page.get_by_label("Login").fill("anna")
    page.get_by_role("button", name="Sign in").click()

    # Back at parro, signed in: the teacher's start page.
    expect(page).to_have_url(f"{sso_server}/")
    page.goto("/account")
    expect(page.get_by_label("Naam")).to_have_value("Anna de Boer")

    # Signing out offers the provider's logout, which brings her back to parro's login.
    page.get_by_role("button", name="Uitloggen").click()  # under Mijn account
    expect(page).to_have_url(f"{sso_server}/login?schoolaccount=uitgelogd")
    page.screenshot(path=artifacts / "logout-schoolaccount-360.png", full_page=True)
    page.get_by_role("link", name="Ook uitloggen bij de schoolaccount").click()
    assert page.url.startswith(oidc_provider.issuer + "/session/end")
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(re.escape(f"{sso_server}/login") + r"(\?state=\w+)?$"))
    expect(page.get_by_role("link", name="Ook uitloggen bij de schoolaccount")).to_have_count(0)
    assert violations == []
