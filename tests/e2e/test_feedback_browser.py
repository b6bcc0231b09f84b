"""Every htmx action shows that it is busy and then says what happened."""

from __future__ import annotations

import pytest

from .demo_school import load_demo, log_in

pytestmark = pytest.mark.e2e


def test_like_is_busy_then_confirmed_in_the_status_region(app, new_page):
    load_demo()
    page = new_page(viewport={"width": 360, "height": 740}, locale="nl-NL")
    log_in(page, "ouder.jansen@example.org")
    page.goto("/groepen/")

    held = []  # the request waits here while we look at the page

    def hold(route):  # a function of our own: playwright cannot wrap list.append
        held.append(route)

    page.route("**/vind-ik-leuk", hold)
    form = page.locator("form.like-form").first
    button = form.get_by_role("button", name="Vind ik leuk")
    button.click()
    while not held:
        page.wait_for_timeout(50)
    assert form.get_attribute("aria-busy") == "true"
    assert button.is_disabled()  # a second tap cannot like it twice
    held[0].continue_()
    status = page.get_by_role("status").filter(has_text="U vindt dit bericht leuk.")
    status.wait_for()
    assert page.locator("form.like-form").first.get_attribute("aria-busy") is None
    assert not new_page.violations


def test_sent_chat_message_is_confirmed(app, new_page):
    demo = load_demo()
    page = new_page(viewport={"width": 360, "height": 740}, locale="nl-NL")
    log_in(page, "ouder.jansen@example.org")
    page.goto(f"/gesprekken/{demo.sem_chat_id}")
    page.get_by_label("Bericht", exact=True).fill("Sem neemt morgen zijn zwemspullen mee.")
    page.get_by_role("button", name="Versturen").click()
    page.locator("#flashes").get_by_text("Uw bericht is verstuurd.").wait_for()
    page.locator("#messages").get_by_text("Sem neemt morgen zijn zwemspullen mee.").wait_for()
    assert not new_page.violations
