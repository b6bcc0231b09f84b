"""In a real browser: the header on a phone is one line (issue 19, point 6).

At 360 px the header holds the school, Menu and the account in at most 56 px, for
every role; a school name too long for that wraps and makes it taller, never cut
off, with or without the school's logo. Menu opens the navigation below it (without
JavaScript too: a checkbox and its label), with a dot while something is new. At
1280 px the navigation is in the header itself. Logging out is under Mijn account.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from parro.extensions import db

from ..factories import (
    PASSWORD,
    make_admin,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_school,
    make_student,
    make_teacher,
)

pytestmark = pytest.mark.e2e

HEADER = 56  # px: one line


@pytest.fixture
def school(app):
    make_school().name = "Openbare Basisschool De Regenboog van Zuid-Oost"
    group = make_group("Groep 3")
    teacher = make_teacher(group, email="anna@example.org")
    child = make_student(group, first_name="Sem")
    guardian = make_guardian(child=child, email="eva@example.org")
    make_admin(email="office@example.org")
    make_message(make_kindgesprek(child), teacher, "Sem was vandaag jarig!")  # news for Eva
    db.session.commit()
    return guardian


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def header_height(page) -> float:
    """The header's height; one line (HEADER) unless the school's name needs more: a long
    name wraps instead of being cut off, and only the name may make the header taller."""
    height = page.locator(".topbar").bounding_box()["height"]
    name = page.locator(".topbar .brand").bounding_box()["height"]
    return HEADER if height <= max(HEADER, name) + 0.5 else height


@pytest.mark.parametrize("email", ["eva@example.org", "anna@example.org", "office@example.org"])
def test_the_phone_header_is_one_line_with_the_menu_behind_a_button(new_page, school, email):
    page = new_page(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    log_in(page, email)
    for path in ("/", "/account", "/help"):
        page.goto(path)
        assert header_height(page) <= HEADER, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        nav = page.get_by_role("navigation", name="Hoofdmenu")
        expect(nav).to_be_hidden()
    # No logging out in the header: it is under Mijn account.
    expect(page.get_by_role("banner").get_by_role("button", name="Uitloggen")).to_have_count(0)

    page.get_by_text("Menu", exact=True).click()
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    expect(nav).to_be_visible()
    assert header_height(page) <= HEADER  # the menu opens below it, over the page
    for link in nav.get_by_role("link").all():
        box = link.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44  # a main action: 44 px
    nav.get_by_role("link").first.click()
    page.wait_for_load_state()
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_hidden()

    page.get_by_role("link", name="Mijn account").click()
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(lambda url: "/login" in url)
    assert new_page.violations == []


def test_something_new_shows_a_dot_on_the_menu_button(new_page, school):
    page = new_page(viewport={"width": 360, "height": 740})
    log_in(page, "eva@example.org")
    dot = page.locator(".menu-button").evaluate(
        "el => { const s = getComputedStyle(el, '::after'); return [s.content, s.width]; }")
    assert dot[0] == '""' and dot[1] != "0px"  # the dot is there: a chat message waits
    page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("navigation", name="Hoofdmenu").locator(".nav-count")).to_have_text(
        "1")


def test_the_header_without_javascript(new_page, school):
    page = new_page(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    log_in(page, "eva@example.org")
    assert header_height(page) <= HEADER
    page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()


def test_on_a_desktop_the_navigation_is_in_the_header(new_page, school):
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, "office@example.org")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    assert header_height(page) <= HEADER


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("logo", [True, False], ids=["logo", "no-logo"])
def test_a_long_school_name_beside_its_logo_is_read_in_full(new_page, app, artifacts, width,
                                                            logo):
    from ..factories import make_logo

    school = make_school()
    school.name = "Openbare Basisschool De Regenboog Noord"
    if logo:
        make_logo(school, size=(200, 200))
    guardian = make_guardian(child=make_student(make_group("Groep 3")), email="eva@example.org")
    db.session.commit()
    page = new_page(viewport={"width": width, "height": 740}, has_touch=width < 760,
                    is_mobile=width < 760)
    log_in(page, guardian.email)
    page.goto("/account")
    brand = page.locator(".topbar .brand")
    expect(brand).to_have_text(school.name)
    page.locator(".topbar").screenshot(
        path=str(artifacts / f"header-{'logo' if logo else 'no-logo'}-{width}.png"))
    # Nothing of the name is cut off or hidden: its box holds all of it.
    cut = brand.evaluate(
        "el => [el.scrollWidth - el.clientWidth, el.scrollHeight - el.clientHeight]")
    assert cut == [0, 0]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert header_height(page) <= HEADER
