"""In a real browser: a guardian reports sick, the teacher's open overview shows it.

The live server runs in this process, so the frozen clock holds for it too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from parro import clock
from parro.extensions import db

from ..factories import PASSWORD, make_group, make_guardian, make_reason, make_student, make_teacher

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
MONDAY_MORNING = datetime(2026, 9, 14, 7, 40, tzinfo=ZoneInfo("Europe/Amsterdam"))


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_guardian_reports_sick_and_the_teacher_sees_it(app, live_server, browser):
    clock.set_now(MONDAY_MORNING)
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    make_student(group, first_name="Mila", last_name="de Vries")
    make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    make_teacher(group, name="Anna de Boer", email="anna@example.org")
    for name in ("Huisarts", "Tandarts"):
        make_reason(name)
    group.year.school.leave_info = (
        "Verlof vraagt u aan bij de directie, met het formulier op de website."
    )
    db.session.commit()  # and no transaction of ours stays open while the server writes

    # The teacher opens her overview first; it will update by itself.
    teacher = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    t = teacher.new_page()
    t.clock.install()
    log_in(t, live_server, "anna@example.org")
    t.goto(f"{live_server}/")  # login lands on the groups; home is the overview
    overview = t.locator("#absence-today")
    assert "Niemand afwezig gemeld." in overview.inner_text()

    # The parent, on a phone.
    parent = browser.new_context(viewport={"width": 360, "height": 740}, locale="nl-NL",
                                         is_mobile=True, has_touch=True)
    p = parent.new_page()
    log_in(p, live_server, "eva@example.org")
    p.goto(f"{live_server}/absentie/")
    shot(p, "absence-guardian-form-360")
    p.get_by_label("Stuur mij een bevestiging per e-mail").first.check()
    p.get_by_role("button", name="Ziek melden voor vandaag").click()
    p.wait_for_url(f"{live_server}/absentie/")
    assert "Sem is ziek gemeld voor vandaag" in p.locator(".flashes").inner_text()
    assert "Intrekken" in p.locator("#meldingen + ul").inner_text()
    shot(p, "absence-guardian-confirmed-360")

    # A minute later the teacher's open page has it, without a reload.
    t.clock.fast_forward("01:01")
    t.locator("#absence-today", has_text="Sem Jansen").wait_for()
    text = t.locator("#absence-today").inner_text()
    assert "Sem Jansen" in text and "Ziek" in text and "Mila" not in text
    shot(t, "absence-teacher-home-1280")

    # The same overview on a phone, and the appointment form filled in wrongly.
    t.set_viewport_size({"width": 360, "height": 740})
    shot(t, "absence-teacher-home-360")
    p.goto(f"{live_server}/absentie/")
    p.get_by_label("Datum").fill("2026-09-14")
    p.get_by_label("Van", exact=True).fill("10:00")
    p.get_by_label("Tot", exact=True).fill("09:00")
    p.get_by_role("button", name="Afspraak doorgeven").click()
    errors = p.locator("#afspraak .error").all_inner_texts()
    assert errors == [
        (
            "Een afspraak geeft u uiterlijk de schooldag ervoor door. De eerste dag die nu nog "
            "kan is dinsdag 15 september. Is de afspraak eerder? Bel dan de school."
        ),
        "De eindtijd moet na de begintijd liggen.",
    ]
    shot(p, "absence-guardian-error-360")
    p.set_viewport_size({"width": 1280, "height": 900})
    shot(p, "absence-guardian-error-1280")
    teacher.close()
    parent.close()


def test_office_sees_all_absences_and_downloads_the_csv(app, live_server, browser):
    from datetime import date, time

    from ..factories import make_absence, make_admin, make_holiday

    clock.set_now(MONDAY_MORNING)
    g3, g5 = make_group("Groep 3", grade=3), make_group("Groep 5", grade=5)
    eva = make_guardian(name="Eva Jansen")
    zoe = make_student(g3, first_name='Zoë "Zo"', last_name="de Wit, jr.")
    elif_ = make_student(g5, first_name="Elif", last_name="Şahin")
    make_absence(zoe, day=date(2026, 9, 14), by=eva)
    make_absence(elif_, day=date(2026, 9, 14), by=eva, reason=make_reason("Orthodontist"),
                 starts_at=time(13), ends_at=time(14, 30), note="Beugel wordt vastgezet")
    make_holiday(date(2026, 10, 19), date(2026, 10, 23), name="Herfstvakantie")
    make_admin(email="office@example.org")
    db.session.commit()

    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          accept_downloads=True)
    page = context.new_page()
    log_in(page, live_server, "office@example.org")
    page.get_by_role("link", name="Absentie").click()
    page.wait_for_url(f"{live_server}/absentie/administratie")
    assert "Elif Şahin" in page.locator("table").inner_text()
    shot(page, "absence-office-1280")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download als CSV").click()
    body = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert '"Zoë ""Zo"" de Wit, jr."' in body and "Şahin" in body
    page.set_viewport_size({"width": 360, "height": 740})
    shot(page, "absence-office-360")
    page.goto(f"{live_server}/absentie/beheer")
    shot(page, "absence-settings-360")
    context.close()
