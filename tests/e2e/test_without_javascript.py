"""With JavaScript switched off, everything still works through plain forms and redirects:
a teacher posts, a parent likes it, writes in the kindgesprek, books a conference slot
and reports a child sick."""

from __future__ import annotations

import pytest

from .demo_school import load_demo, log_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


def test_posting_liking_chatting_booking_and_reporting_sick_without_javascript(app, new_page):
    demo = load_demo()

    # The teacher posts a text message to groep 3.
    teacher = new_page(viewport=PHONE, locale="nl-NL", java_script_enabled=False)
    log_in(teacher, "juf.anna@example.org")
    teacher.goto(f"/groepen/{demo.group3_id}")
    teacher.get_by_role("link", name="Nieuw bericht").click()
    teacher.get_by_label("Titel (mag leeg blijven)").fill("Gymles verplaatst")
    teacher.get_by_label("Bericht", exact=True).fill("Morgen is de gymles om 10:00 uur.")
    teacher.get_by_role("button", name="Plaatsen").click()
    teacher.get_by_text("Uw bericht is geplaatst.").wait_for()
    assert "Morgen is de gymles om 10:00 uur." in teacher.locator("main").inner_text()

    # Sem's mother likes it in her feed.
    parent = new_page(viewport=PHONE, locale="nl-NL", java_script_enabled=False)
    log_in(parent, "ouder.jansen@example.org")
    parent.goto("/groepen/")
    post = parent.locator("article.post", has_text="Gymles verplaatst")
    like = post.get_by_role("button", name="Vind ik leuk")
    assert like.get_attribute("aria-pressed") == "false"
    with parent.expect_navigation(url="**/groepen/**"):  # a full page load, no htmx swap
        like.click()
    post = parent.locator("article.post", has_text="Gymles verplaatst")
    assert post.locator("button.like").get_attribute("aria-pressed") == "true"
    assert post.locator(".like-count").inner_text() == "1"

    # She writes in Sem's kindgesprek; after the redirect her message is there.
    parent.goto(f"/gesprekken/{demo.sem_chat_id}")
    parent.locator("textarea[name=body]").fill("Sem neemt morgen zijn gymschoenen mee.")
    with parent.expect_navigation(url=f"**/gesprekken/{demo.sem_chat_id}**"):
        parent.get_by_role("button", name="Versturen").click()
    assert "Sem neemt morgen zijn gymschoenen mee." in parent.locator("#messages").inner_text()
    assert parent.locator("textarea[name=body]").input_value() == ""

    # She books a conference for Lotte (groep 6).
    parent.goto(f"/activiteiten/{demo.conference6_id}")
    lotte = parent.locator(f"#kind-{demo.lotte_id}")
    first_slot = lotte.locator("button.slot").first
    time = first_slot.locator(".slot-time").inner_text()
    with parent.expect_navigation(url=f"**/activiteiten/{demo.conference6_id}**"):
        first_slot.click()
    lotte = parent.locator(f"#kind-{demo.lotte_id}")
    assert time in lotte.locator(".booked").inner_text()

    # And reports Sem sick.
    parent.goto("/absentie/")
    parent.get_by_label("Kind").first.select_option(label="Sem Jansen")
    with parent.expect_navigation(url="**/absentie/"):
        parent.get_by_role("button", name="Ziek melden voor vandaag").click()
    assert "Sem is ziek gemeld voor vandaag" in parent.locator(".flashes").inner_text()
    assert "Sem is vandaag al ziek gemeld." in parent.locator("#ziek").inner_text()
