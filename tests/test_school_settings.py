"""Settings each school of a board sets for itself (issue 22): the sick-report cut-off.

A school without its own setting has the installation's (config ABSENCE_SICK_CUTOFF).
"""

from __future__ import annotations

import html
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.models import AbsenceReport, Guardianship, School

from .factories import (
    current_year,
    make_absence,
    make_group,
    make_guardian,
    make_other_school,
    make_school,
    make_student,
)
from .helpers import login_as, text_of

# The `browser` and `admin_client` fixtures.
pytest_plugins = ["tests.admin_helpers"]

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = date(2026, 9, 14)

SCHOOL = {
    "name": "Basisschool De Test",
    "phone": "010 123 45 67",
    "email": "administratie@example.org",
    "colour": "#1f6f8b",
    "leave_info": "",
    "code_of_conduct": "",
}


def at(hh: int, mm: int) -> None:
    clock.set_now(datetime.combine(MONDAY, time(hh, mm), tzinfo=AMS))


def seen(response) -> str:
    return html.unescape(text_of(response))


def school_a() -> School:
    db.session.expire_all()
    return db.session.scalar(select(School).order_by(School.id))


# -- the office sets it ---------------------------------------------------------------


def test_the_office_sets_the_schools_sick_cutoff_and_can_clear_it(app, admin_client):
    make_school()
    db.session.commit()
    page = seen(admin_client.get("/beheer/school"))
    assert "Ziekmelden vóór" in page
    assert "Leeg: 08:30, de standaard van deze installatie." in page

    response = admin_client.post("/beheer/school", data={**SCHOOL, "sick_cutoff": "09:15"})
    assert response.status_code == 303
    assert school_a().sick_cutoff == time(9, 15)
    assert 'value="09:15"' in admin_client.get("/beheer/school").get_data(as_text=True)

    assert admin_client.post("/beheer/school", data={**SCHOOL, "sick_cutoff": ""}).status_code \
        == 303
    assert school_a().sick_cutoff is None


@pytest.mark.parametrize("value, message", [
    ("25:00", "Ongeldige waarde voor tijd."),  # WTForms' own message, in Dutch
    ("half negen", "Ongeldige waarde voor tijd."),
    ("05:30", "Kies een tijd tussen 06:00 en 14:00, bijvoorbeeld 08:30."),
    ("15:00", "Kies een tijd tussen 06:00 en 14:00, bijvoorbeeld 08:30."),
])
def test_a_bad_cutoff_is_refused_in_dutch_and_nothing_changes(app, admin_client, value,
                                                              message):
    make_school().sick_cutoff = time(9, 0)
    db.session.commit()
    response = admin_client.post("/beheer/school",
                                 data={**SCHOOL, "name": "Andere naam", "sick_cutoff": value})
    assert response.status_code == 422
    text = seen(response)
    for english in ("Not a valid", "Invalid", "field"):
        assert english not in text, text
    assert message in text
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    school = school_a()
    assert school.sick_cutoff == time(9, 0) and school.name == "Basisschool De Test"


# -- each child its own school's -----------------------------------------------------


@pytest.fixture
def family(app):
    """Sem at school A (no cut-off of its own: 08:30), Lotte at school B (09:30)."""
    at(7, 30)
    other = make_other_school()
    other.sick_cutoff = time(9, 30)
    sem_group = make_group("Groep 3", grade=3)
    lotte_group = make_group("Groep 5", grade=5, year=current_year(other))
    sem = make_student(sem_group, first_name="Sem", last_name="Jansen")
    lotte = make_student(lotte_group, first_name="Lotte", last_name="Jansen")
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    db.session.add(Guardianship(user=eva, student=lotte))
    db.session.commit()
    return {"sem": sem, "lotte": lotte, "eva": eva, "other": other, "sem_group": sem_group,
            "lotte_group": lotte_group}


def reports():
    db.session.expire_all()
    return list(db.session.scalars(select(AbsenceReport).order_by(AbsenceReport.id)))


def sick(client, student):
    return client.post("/absentie/ziek", data={"sick-student": student.id},
                       follow_redirects=True)


def test_a_family_reads_each_childs_own_cutoff(client, family):
    login_as(client, family["eva"])
    at(8, 0)
    page = seen(client.get("/absentie/"))
    assert "Meld Sem vóór 08:30 uur ziek" in page
    assert "Meld Lotte vóór 09:30 uur ziek" in page
    at(9, 0)
    page = seen(client.get("/absentie/"))
    assert "Voor Sem is het al na 08:30 uur." in page
    assert "Meld Lotte vóór 09:30 uur ziek" in page
    assert "Voor Lotte" not in page


def test_a_sick_report_is_late_by_the_childs_own_schools_cutoff(client, family):
    login_as(client, family["eva"])
    at(9, 0)
    late = seen(sick(client, family["sem"]))
    assert "Let op: het is na 08:30." in late
    on_time = seen(sick(client, family["lotte"]))
    assert "Lotte is ziek gemeld voor vandaag" in on_time
    assert "Let op: het is na 09:30" not in on_time
    sem_report, lotte_report = reports()
    assert sem_report.after_cutoff is True
    assert lotte_report.after_cutoff is False


def test_withdrawing_freely_lasts_until_the_childs_own_schools_cutoff(client, family):
    make_absence(family["sem"], day=MONDAY, by=family["eva"])
    make_absence(family["lotte"], day=MONDAY, by=family["eva"])
    db.session.commit()
    sem_report, lotte_report = reports()
    login_as(client, family["eva"])
    at(9, 0)
    # Lotte's school's cut-off (09:30) has not passed: withdrawn without a note.
    client.post(f"/absentie/{lotte_report.id}/intrekken")
    # Sem's (08:30) has: a note is needed.
    refused = seen(client.post(f"/absentie/{sem_report.id}/intrekken", data={"note": ""},
                               follow_redirects=True))
    assert "Schrijf de leerkracht kort waarom u de melding intrekt" in refused
    sem_report, lotte_report = reports()
    assert lotte_report.withdrawn_at is not None
    assert sem_report.withdrawn_at is None


def test_one_school_with_its_own_cutoff_shows_one_line(client, family):
    school_a().sick_cutoff = time(9, 30)
    db.session.commit()
    login_as(client, family["eva"])
    at(9, 0)
    page = seen(client.get("/absentie/"))
    assert "Meld uw kind vóór 09:30 uur ziek" in page
    assert "Meld Sem" not in page and "Meld Lotte" not in page


# -- staff's default chat hours -------------------------------------------------------------


def test_the_office_sets_staffs_default_chat_hours_and_can_clear_them(app, admin_client):
    make_school()
    db.session.commit()
    page = seen(admin_client.get("/beheer/school"))
    assert "Werktijden voor de chat" in page
    assert "Leeg laten: maandag t/m vrijdag, 08:00–16:30, de standaard van deze installatie." \
        in page

    response = admin_client.post("/beheer/school", data={
        **SCHOOL, "chat_weekdays": ["1", "2", "4"], "chat_starts_at": "08:30",
        "chat_ends_at": "15:00"})
    assert response.status_code == 303
    school = school_a()
    assert (school.chat_weekdays, school.chat_starts_at, school.chat_ends_at) == \
        ("124", time(8, 30), time(15, 0))
    form = admin_client.get("/beheer/school").get_data(as_text=True)
    assert 'value="08:30"' in form and 'value="15:00"' in form

    # Nothing ticked, the times emptied (as a browser sends them).
    assert admin_client.post("/beheer/school", data={
        **SCHOOL, "chat_starts_at": "", "chat_ends_at": ""}).status_code == 303
    school = school_a()
    assert (school.chat_weekdays, school.chat_starts_at, school.chat_ends_at) == \
        (None, None, None)


@pytest.mark.parametrize("hours, message", [
    ({"chat_starts_at": "15:00", "chat_ends_at": "09:00"},
     "De eindtijd (09:00) moet na de begintijd (15:00) liggen."),
    # Only a start: the installation's end (16:30) comes before it.
    ({"chat_starts_at": "17:00"}, "De eindtijd (16:30) moet na de begintijd (17:00) liggen."),
    ({"chat_starts_at": "acht uur"}, "Ongeldige waarde voor tijd."),
    ({"chat_weekdays": ["9"]}, ""),
    ({"chat_weekdays": ["maandag"]}, ""),
])
def test_bad_chat_hours_are_refused_in_dutch_and_nothing_changes(app, admin_client, hours,
                                                                 message):
    school = make_school()
    school.chat_weekdays, school.chat_starts_at = "12345", time(8, 15)
    db.session.commit()
    response = admin_client.post("/beheer/school",
                                 data={**SCHOOL, "name": "Andere naam", **hours})
    assert response.status_code == 422
    text = seen(response)
    for english in ("Not a valid", "Invalid", "field", "choice"):
        assert english not in text, text
    assert message in text
    assert 'aria-invalid="true"' in response.get_data(as_text=True) or "has-error" in \
        response.get_data(as_text=True)
    school = school_a()
    assert (school.name, school.chat_weekdays, school.chat_starts_at) == \
        ("Basisschool De Test", "12345", time(8, 15))


@pytest.fixture
def chats(app, family):
    """Sem's teacher Anna at school A (the installation's hours), Lotte's teacher Bas at
    school B, whose staff read chats on Wednesday and Friday, 09:00–12:00."""
    from .factories import make_kindgesprek, make_teacher

    other = family["other"]
    other.chat_weekdays, other.chat_starts_at, other.chat_ends_at = "35", time(9), time(12)
    anna = make_teacher(family["sem_group"], name="Anna de Boer")
    bas = make_teacher(family["lotte_group"], name="Bas Smit", school=other)
    sem_chat, lotte_chat = make_kindgesprek(family["sem"]), make_kindgesprek(family["lotte"])
    db.session.commit()
    clock.set_now(datetime(2026, 11, 17, 10, 0, tzinfo=AMS))  # a Tuesday
    return {**family, "anna": anna, "bas": bas, "sem_chat": sem_chat, "lotte_chat": lotte_chat}


def test_a_family_reads_each_schools_default_hours_for_its_teachers(client, chats):
    login_as(client, chats["eva"])
    sem_page = seen(client.get(f"/gesprekken/{chats['sem_chat'].id}"))
    assert "Anna de Boer" in sem_page and "niet beschikbaar" not in sem_page
    lotte_page = seen(client.get(f"/gesprekken/{chats['lotte_chat'].id}"))
    assert "Bas Smit is nu niet beschikbaar." in lotte_page
    assert "Het wordt gelezen vanaf morgen om 09:00." in lotte_page


def test_a_teacher_without_hours_of_their_own_starts_from_their_schools(client, chats):
    login_as(client, chats["bas"])
    form = client.get("/gesprekken/beschikbaarheid").get_data(as_text=True)
    assert 'value="09:00"' in form and 'value="12:00"' in form
    login_as(client, chats["anna"])
    form = client.get("/gesprekken/beschikbaarheid").get_data(as_text=True)
    assert 'value="08:00"' in form and 'value="16:30"' in form


def test_push_and_mail_keep_to_the_schools_default_hours_of_a_teacher(chats):
    """Outside a request (the worker): the school the teacher works at."""
    from parro.notifications import quiet_until

    # Tuesday 10:00: Anna works (no quiet hours); Bas reads again on Wednesday at 09:00.
    assert quiet_until(chats["anna"]) is None
    assert quiet_until(chats["bas"]) == datetime(2026, 11, 18, 9, 0, tzinfo=AMS)
