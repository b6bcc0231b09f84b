"""A table wider than the screen says that it scrolls sideways (static/js/app.js)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from parro.extensions import db

from ..factories import PASSWORD, make_consent_topic, make_group, make_student, make_teacher

pytestmark = pytest.mark.e2e

HINT = "De tabel is breder dan het scherm: schuif opzij om alles te zien."


def test_a_wide_table_gets_a_hint_on_a_phone_only(app, live_server, new_page):
    group = make_group("Groep 3")
    for n in range(3):
        make_student(group, first_name=f"Kind{n}", last_name="Met Een Lange Achternaam")
    make_consent_topic("Foto's in de app")
    make_consent_topic("Foto's op de website", app_photos=False)
    make_teacher(group, email="juf@example.org")
    group_id = group.id
    db.session.commit()

    for width, shown in ((360, 1), (1280, 0)):
        page = new_page(viewport={"width": width, "height": 740})
        page.goto("/login")
        page.get_by_label("E-mailadres").fill("juf@example.org")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.goto(f"/privacy/groep/{group_id}")
        expect(page.locator(".consent-table")).to_be_visible()
        wrap = page.locator(".table-wrap")
        assert wrap.evaluate("(el) => el.scrollWidth > el.clientWidth") == bool(shown)
        expect(page.get_by_text(HINT)).to_have_count(shown)
        if shown:  # right above the table it is about
            hint = page.locator(".table-hint")
            assert hint.evaluate("(el) => el.nextElementSibling.classList.contains('table-wrap')")
