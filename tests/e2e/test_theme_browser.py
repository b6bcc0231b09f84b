"""The school colour reaches the page through /theme.css; the help page reads well on a phone."""

from __future__ import annotations

import pytest

from parro.extensions import db
from parro.theme.colour import brand

from ..factories import PASSWORD, make_guardian, make_school, make_student

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [360, 1280])
def test_the_school_colour_and_the_help_page(app, live_server, new_page, artifacts, width):
    school = make_school("OBS De Marel")
    school.colour = "#f2a900"  # too light for white text: darkened
    guardian = make_guardian(child=make_student(), email="ouder@example.org")
    db.session.commit()
    page = new_page(viewport={"width": width, "height": 800})
    page.goto("/login")
    page.fill("#email", guardian.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.click("footer >> text=Help")
    page.wait_for_url("**/help")
    answer = page.get_by_text("Een ziekmelding geldt voor één dag", exact=False)
    assert not answer.is_visible()  # the questions are folded, the page stays short
    page.locator("summary", has_text="Hoe meld ik mijn kind ziek?").click()
    assert answer.is_visible()
    topbar = page.locator(".topbar").evaluate("el => getComputedStyle(el).backgroundColor")
    r, g, b = (int(brand("#f2a900")[i:i + 2], 16) for i in (1, 3, 5))
    assert topbar == f"rgb({r}, {g}, {b})"
    page.screenshot(path=str(artifacts / f"help-guardian-{width}.png"), full_page=True)
    assert not new_page.violations
