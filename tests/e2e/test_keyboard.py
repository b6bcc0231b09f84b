"""With only a keyboard: a parent logs in and reports a child sick; focus stays visible."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .demo_school import PASSWORD, load_demo

pytestmark = pytest.mark.e2e

ACTIVE = "() => { const e = document.activeElement; return e.outerHTML.slice(0, 120); }"


def tab_to(page, test: str, limit: int = 60) -> None:
    """Press Tab until the focused element passes the JS predicate `test` (given `e`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(e => {test})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached {test}; focus is on {page.evaluate(ACTIVE)}")


def test_a_parent_reports_sick_with_only_the_keyboard(app, new_page):
    load_demo()
    page = new_page(viewport={"width": 360, "height": 740}, locale="nl-NL")
    page.goto("/login")

    tab_to(page, "e.name === 'email'")
    page.keyboard.type("ouder.jansen@example.org")
    tab_to(page, "e.name === 'password'")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/"))  # the start page: the feed

    # On a phone the navigation is behind Menu: Space opens it, its links come next.
    tab_to(page, "e.id === 'menu-open'")
    outline = page.evaluate(
        "() => getComputedStyle(document.querySelector('.menu-button')).outlineStyle")
    assert outline != "none", "no visible focus on Menu"
    page.keyboard.press("Space")
    tab_to(page, "e.tagName === 'A' && e.textContent.trim().startsWith('Absentie')")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; }")
    assert outline[0] != "none" and outline[1] != "0px", f"no visible focus: {outline}"
    page.keyboard.press("Enter")
    page.wait_for_url("**/absentie/")

    tab_to(page, "e.id === 'sick-student'")
    page.keyboard.type("Sem")  # type-ahead picks the child in the list (Lotte comes first)
    tab_to(page, "e.id === 'sick-email_receipt'")
    page.keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked")
    tab_to(page, "e.type === 'submit' && e.form.action.endsWith('/absentie/ziek')")
    page.keyboard.press("Enter")

    # The form posts to /absentie/ziek and comes back to /absentie/, the URL it was on:
    # wait for the answer itself, not for the URL.
    expect(page.locator(".flashes")).to_contain_text("Sem is ziek gemeld voor vandaag")
    expect(page.locator("#ziek")).to_contain_text("Sem is vandaag al ziek gemeld.")
