"""In a real browser, on a phone: activating an account asks the privacy questions per
child and topic, with nothing ticked beforehand, before the feed (issue 19, point 4)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from parro.auth import service
from parro.demo import CODE_OF_CONDUCT
from parro.extensions import db
from parro.models import Consent, Guardianship, User

from ..factories import (
    current_year,
    make_admin,
    make_consent_topic,
    make_group,
    make_school,
    make_student,
)
from ..helpers import mails_to

pytestmark = pytest.mark.e2e

PARENT_PASSWORD = "fietsen langs de zonnige dijk"


def test_activation_asks_the_privacy_questions(app, live_server, new_page, artifacts):
    school = make_school("Basisschool De Regenboog")
    school.code_of_conduct = CODE_OF_CONDUCT
    sem = make_student(make_group("Groep 3"), first_name="Sem", last_name="Jansen")
    lotte = make_student(make_group("Groep 6", grade=6), first_name="Lotte", last_name="Jansen")
    make_consent_topic("Foto's in de app", position=1)
    make_consent_topic("Foto's op de website", app_photos=False, position=2,
                       description="Foto's van activiteiten op onze openbare website.")
    admin = make_admin(email="admin@example.org")
    db.session.commit()
    service.invite_guardian(sem, "eva.jansen@example.org", admin, "nl")
    eva = db.session.scalar(select(User).where(User.email == "eva.jansen@example.org"))
    db.session.add(Guardianship(user=eva, student=lotte))
    ids = {"sem": sem.id, "lotte": lotte.id, "year": current_year().id}
    db.session.commit()
    [mail] = mails_to("eva.jansen@example.org")
    link = re.search(r"/activeren/\S+", mail.body_text).group(0)  # queued by the test's app

    parent = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    parent.goto(link)
    parent.get_by_label("Ik houd me aan deze afspraken").check()
    parent.get_by_label("Uw naam").fill("Eva Jansen")
    parent.get_by_label("Kies een wachtwoord").fill(PARENT_PASSWORD)
    parent.get_by_label("Herhaal het wachtwoord").fill(PARENT_PASSWORD)
    parent.get_by_role("button", name="Account activeren").click()

    # The next step: every child, every question, nothing chosen.
    expect(parent).to_have_url(f"{live_server}/privacy/keuzes?welkom=1")
    expect(parent.locator(".flash-success")).to_contain_text("Welkom, Eva Jansen")
    expect(parent.get_by_role("heading", level=1)).to_contain_text("Privacyvoorkeuren")
    for name in ("Lotte Jansen", "Sem Jansen"):
        expect(parent.get_by_role("heading", level=2, name=re.compile(name))).to_be_visible()
    radios = parent.locator('input[type="radio"]')
    expect(radios).to_have_count(8)
    assert parent.locator('input[type="radio"]:checked').count() == 0
    parent.screenshot(path=artifacts / "consent-step-360.png", full_page=True)

    # Saving with a question open: each open question says so, nothing is stored.
    sem_card = parent.locator(".consent-child").filter(has_text="Sem Jansen")
    lotte_card = parent.locator(".consent-child").filter(has_text="Lotte Jansen")
    sem_card.get_by_role("group", name="Foto's in de app").get_by_label(
        "Ja, ik geef toestemming").check()
    parent.get_by_role("button", name="Keuzes opslaan").click()
    expect(parent.locator(".alert-error")).to_contain_text("Controleer de velden")
    expect(parent.get_by_text("Kies ja of nee.")).to_have_count(3)
    expect(sem_card.get_by_role("group", name="Foto's in de app").get_by_label(
        "Ja, ik geef toestemming")).to_be_checked()
    with app.app_context():
        assert db.session.scalar(select(Consent.id).limit(1)) is None

    sem_card = parent.locator(".consent-child").filter(has_text="Sem Jansen")
    lotte_card = parent.locator(".consent-child").filter(has_text="Lotte Jansen")
    sem_card.get_by_role("group", name="Foto's op de website").get_by_label(
        "Nee, geen toestemming").check()
    lotte_card.get_by_role("group", name="Foto's in de app").get_by_label(
        "Ja, ik geef toestemming").check()
    lotte_card.get_by_role("group", name="Foto's op de website").get_by_label(
        "Ja, ik geef toestemming").check()
    parent.get_by_role("button", name="Keuzes opslaan").click()

    expect(parent).to_have_url(f"{live_server}/groepen/")
    expect(parent.locator(".flash-success")).to_contain_text("Uw keuzes zijn opgeslagen")
    expect(parent.get_by_text("Privacyvoorkeuren: graag uw antwoord")).to_have_count(0)
    parent.screenshot(path=artifacts / "consent-saved-360.png", full_page=True)
    with app.app_context():
        rows = db.session.execute(select(Consent.student_id, Consent.given,
                                         Consent.school_year_id)).all()
    assert sorted(rows) == sorted([
        (ids["sem"], True, ids["year"]), (ids["sem"], False, ids["year"]),
        (ids["lotte"], True, ids["year"]), (ids["lotte"], True, ids["year"]),
    ])

    # Reachable from Mijn account, with the answers filled in.
    parent.goto("/account")
    parent.get_by_role("link", name="Privacyvoorkeuren").click()
    expect(parent).to_have_url(f"{live_server}/privacy/keuzes")
    expect(parent.locator('input[type="radio"]:checked')).to_have_count(4)
