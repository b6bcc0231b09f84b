"""In a real browser: an admin invites a parent, who activates the account and logs in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from parro.demo import CODE_OF_CONDUCT
from parro.extensions import db

from ..factories import PASSWORD, make_admin, make_group, make_school, make_student
from ..helpers import mails_to

pytestmark = pytest.mark.e2e

PARENT_PASSWORD = "fietsen langs de zonnige dijk"


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def test_invite_activate_and_log_in(app, live_server, new_page, artifacts):
    school = make_school("Basisschool De Regenboog")
    school.code_of_conduct = CODE_OF_CONDUCT
    student = make_student(make_group("Groep 3"), first_name="Sem", last_name="Jansen")
    make_admin(email="admin@example.org", name="Administratie")
    student_id = student.id
    db.session.commit()

    # The office invites Sem's mother from Sem's page.
    office = new_page()
    log_in(office, "admin@example.org", PASSWORD)
    expect(office).to_have_url(f"{live_server}/")
    office.goto(f"/leerlingen/{student_id}")
    office.get_by_label("E-mailadres van de ouder of verzorger").fill("eva.jansen@example.org")
    office.get_by_role("button", name="Uitnodiging versturen").click()
    expect(office.locator(".flash-success")).to_contain_text("eva.jansen@example.org")
    expect(office.get_by_role("table")).to_contain_text("eva.jansen@example.org")
    office.screenshot(path=artifacts / "invite-student-page.png", full_page=True)

    office.goto("/beheer/ouders")
    expect(office.get_by_role("table")).to_contain_text("uitgenodigd")
    office.screenshot(path=artifacts / "admin-guardians.png", full_page=True)
    office.goto("/beheer/medewerkers")
    office.screenshot(path=artifacts / "admin-staff.png", full_page=True)

    [mail] = mails_to("eva.jansen@example.org")
    link = re.search(r"http://\S+/activeren/\S+", mail.body_text).group(0)
    assert link.startswith(live_server)

    # She opens the link on her phone.
    parent = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    parent.goto(link)
    expect(parent.get_by_role("heading", level=1)).to_contain_text("Basisschool De Regenboog")
    expect(parent.locator(".code-of-conduct")).to_contain_text("niets op sociale media")
    parent.get_by_label("Ik houd me aan deze afspraken").check()
    parent.get_by_label("Uw naam").fill("Eva Jansen")
    parent.get_by_label("Taal", exact=True).select_option("nl")
    parent.get_by_label("Kies een wachtwoord").fill(PARENT_PASSWORD)
    parent.get_by_label("Herhaal het wachtwoord").fill(PARENT_PASSWORD)
    parent.screenshot(path=artifacts / "activation.png", full_page=True)
    parent.get_by_role("button", name="Account activeren").click()

    expect(parent).to_have_url(f"{live_server}/groepen/")
    expect(parent.locator(".flash-success")).to_contain_text("Welkom, Eva Jansen")
    # The feed of the child's group, and the child.
    expect(parent.get_by_role("heading", name="Groep 3")).to_be_visible()
    expect(parent.get_by_role("link", name="Sem", exact=True)).to_be_visible()
    parent.screenshot(path=artifacts / "activated-groups.png", full_page=True)

    # Log out (under Mijn account) and back in with the new password.
    parent.get_by_role("link", name="Mijn account").click()
    parent.get_by_role("button", name="Uitloggen").click()
    expect(parent).to_have_url(f"{live_server}/login")
    log_in(parent, "eva.jansen@example.org", PARENT_PASSWORD)
    expect(parent).to_have_url(f"{live_server}/")
    expect(parent.get_by_role("link", name="Sem", exact=True)).to_be_visible()

    # The used link now only says so.
    parent.goto(link)
    expect(parent.get_by_role("heading", level=1)).to_have_text("Deze link is al gebruikt")

    assert new_page.violations == []


def test_the_csp_recorder_notices_a_violation(app, live_server, new_page):
    """The check above could not fail if the recorder saw nothing: prove that it sees."""
    page = new_page()
    page.goto("/login")
    page.evaluate(
        "() => { const s = document.createElement('style');"
        " s.textContent = 'body { color: red }'; document.head.appendChild(s); }"
    )
    page.wait_for_function("() => (window.__cspViolations || []).length > 0")
    page.evaluate("() => 1")  # one more round trip: the binding's call has arrived
    assert any("style-src" in v for v in new_page.violations), new_page.violations
