"""The yearly rollover: a new school year, groups moved up or re-imported, the old year archived."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.admin.service import moved_up_name
from parro.extensions import db
from parro.models import Group, Membership, SchoolYear, TeacherAssignment

from .factories import (
    current_year,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
    make_year,
)
from .helpers import login_as, text_of

# The `browser` and `admin_client` fixtures.
pytest_plugins = ["tests.admin_helpers"]

# "early": the box that confirms moving on before the current year (to 31 July 2027) ends.
NEXT_YEAR = {"name": "2027-2028", "starts_on": "2027-08-01", "ends_on": "2028-07-31",
             "mode": "move", "make_current": "y", "early": "y"}


def school_with_groups():
    """Groep 3 (two teachers, two children), 3A, Groep 8 (leaving), Groep 5/6 (no grade)."""
    g3 = make_group("Groep 3", grade=3)
    sem = make_student(g3, "Sem", "Jansen")
    noor = make_student(g3, "Noor", "Bakker")
    make_teacher(g3, email="juf.anna@example.org")
    make_teacher(g3, email="meester.bram@example.org")
    a3 = make_group("3A", grade=3)
    make_student(a3)
    g8 = make_group("Groep 8", grade=8)
    daan = make_student(g8, "Daan", "Bos")
    combi = make_group("Groep 5/6", grade=None)
    fenna = make_student(combi, "Fenna", "Smit")
    db.session.commit()
    return {"g3": g3, "a3": a3, "g8": g8, "combi": combi, "sem": sem, "noor": noor,
            "daan": daan, "fenna": fenna}


def groups_of(year_name: str) -> dict[str, int | None]:
    db.session.expire_all()
    return {
        g.name: g.grade
        for g in db.session.scalars(
            select(Group).join(SchoolYear).where(SchoolYear.name == year_name))
    }


def membership_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Membership))


@pytest.mark.parametrize(
    "name, grade, expected",
    [("Groep 3", 3, "Groep 4"), ("3A", 3, "4A"), ("Groep 7b", 7, "Groep 8b"),
     ("Zonnebloem", 2, "Zonnebloem"), ("Groep 1/2", 1, "Groep 2/2"), ("Groep 13", 1, "Groep 13")],
)
def test_moved_up_name(name, grade, expected):
    assert moved_up_name(name, grade) == expected


def test_the_form_proposes_the_next_year(app, admin_client):
    current_year()
    html = admin_client.get("/beheer/overgang").get_data(as_text=True)
    assert 'value="2027-2028"' in html
    assert 'value="2027-08-01"' in html and 'value="2028-07-31"' in html
    assert "Het huidige schooljaar is 2026-2027" in text_of(admin_client.get("/beheer/overgang"))


def test_the_preview_shows_every_group_and_changes_nothing(app, admin_client):
    school_with_groups()
    years_before, members_before = db.session.scalar(select(func.count(SchoolYear.id))), \
        membership_count()
    response = admin_client.post("/beheer/overgang", data=NEXT_YEAR)
    assert response.status_code == 200
    text = text_of(response)
    assert "Van 2026-2027 naar 2027-2028" in text
    assert "Groep 3 Groep 4 (leerjaar 4) 2" in text
    assert "3A 4A (leerjaar 4) 1" in text
    assert "Groep 8 verlaten de school 1" in text
    assert "Groep 5/6 niet verplaatst (geen leerjaar) 1" in text
    assert "3 leerlingen gaan met hun groep een leerjaar omhoog" in text
    assert "1 leerlingen uit groep 8 verlaten de school" in text
    assert "Leerkrachten gaan niet mee" in text
    assert "2027-2028 wordt meteen het huidige schooljaar" in text
    assert db.session.scalar(select(func.count(SchoolYear.id))) == years_before
    assert membership_count() == members_before


def test_moving_groups_up(app, admin_client):
    w = school_with_groups()
    old_memberships = set(db.session.execute(
        select(Membership.student_id, Membership.group_id)).all())
    response = admin_client.post("/beheer/overgang/bevestigen", data=NEXT_YEAR)
    assert response.status_code == 303
    new_year = db.session.scalar(select(SchoolYear).where(SchoolYear.name == "2027-2028"))
    assert response.headers["Location"].endswith(f"/beheer/groepen?jaar={new_year.id}")
    page = text_of(admin_client.get(response.headers["Location"]))
    assert "Schooljaar 2027-2028 is begonnen" in page
    assert "geen leerkracht" in page

    assert (new_year.starts_on, new_year.ends_on, new_year.is_current) == (
        date(2027, 8, 1), date(2028, 7, 31), True)
    assert db.session.scalar(select(func.count()).where(SchoolYear.is_current)) == 1
    assert groups_of("2027-2028") == {"Groep 4": 4, "4A": 4}
    new_groups = {g.name: g for g in db.session.scalars(
        select(Group).where(Group.school_year_id == new_year.id))}
    members = {
        (m.student_id, m.group_id)
        for m in db.session.scalars(select(Membership).where(
            Membership.school_year_id == new_year.id))
    }
    assert members == {
        (w["sem"].id, new_groups["Groep 4"].id),
        (w["noor"].id, new_groups["Groep 4"].id),
        (w["a3"].memberships[0].student_id, new_groups["4A"].id),
    }
    # Last year's memberships are the archive, untouched.
    assert old_memberships <= set(db.session.execute(
        select(Membership.student_id, Membership.group_id)).all())
    # Teachers are not carried over.
    assert db.session.scalar(select(func.count()).select_from(TeacherAssignment).where(
        TeacherAssignment.group_id.in_([g.id for g in new_groups.values()]))) == 0


def test_after_the_rollover_guardians_and_teachers_see_only_the_new_year(app, admin_client,
                                                                        browser):
    w = school_with_groups()
    guardian = make_guardian(child=w["sem"])
    teacher = db.session.scalar(select(TeacherAssignment).where(
        TeacherAssignment.group_id == w["g3"].id)).user
    db.session.commit()
    parent, juf = browser(), browser()
    login_as(parent, guardian)
    login_as(juf, teacher)
    assert parent.get(f"/groepen/{w['g3'].id}").status_code == 200
    assert juf.get(f"/groepen/{w['g3'].id}").status_code == 200

    assert admin_client.post("/beheer/overgang/bevestigen", data=NEXT_YEAR).status_code == 303
    groep4 = db.session.scalar(select(Group).where(Group.name == "Groep 4"))

    overview = text_of(parent.get("/groepen/"))
    assert "Groep 4" in overview and "Groep 3" not in overview
    assert parent.get(f"/groepen/{groep4.id}").status_code == 200
    assert parent.get(f"/groepen/{w['g3'].id}").status_code == 403
    # A teacher assigned only to last year's group no longer sees it.
    assert juf.get(f"/groepen/{w['g3'].id}").status_code == 403
    assert juf.get(f"/groepen/{groep4.id}").status_code == 403
    assert "nog niet aan een groep gekoppeld" in text_of(juf.get("/groepen/"))
    # Once assigned to the new group, the teacher sees it again.
    admin_client.post(f"/beheer/groepen/{groep4.id}/leerkrachten",
                      data={"teacher": str(teacher.id)})
    assert juf.get(f"/groepen/{groep4.id}").status_code == 200


def test_a_leaving_student_keeps_the_archive_but_has_no_group(app, admin_client):
    w = school_with_groups()
    admin_client.post("/beheer/overgang/bevestigen", data=NEXT_YEAR)
    text = text_of(admin_client.get(f"/beheer/leerlingen/{w['daan'].id}"))
    assert "zit dit schooljaar in geen groep" in text
    assert "2026-2027: Groep 8" in text
    assert "Bos, Daan" in text_of(admin_client.get("/beheer/leerlingen?groep=geen"))
    assert "Smit, Fenna" in text_of(admin_client.get("/beheer/leerlingen?groep=geen"))


def test_preparing_the_year_without_making_it_current(app, admin_client, browser):
    w = school_with_groups()
    guardian = make_guardian(child=w["sem"])
    db.session.commit()
    parent = browser()
    login_as(parent, guardian)
    response = admin_client.post("/beheer/overgang/bevestigen",
                                 data={**NEXT_YEAR, "make_current": ""})
    assert response.status_code == 303
    assert "staat klaar met de nieuwe groepen" in text_of(
        admin_client.get(response.headers["Location"]))
    db.session.expire_all()
    assert current_year().name == "2026-2027"
    assert groups_of("2027-2028") == {"Groep 4": 4, "4A": 4}
    assert parent.get(f"/groepen/{w['g3'].id}").status_code == 200
    # Later the admin makes it current.
    new_year = db.session.scalar(select(SchoolYear).where(SchoolYear.name == "2027-2028"))
    admin_client.post(f"/beheer/jaren/{new_year.id}/huidig")
    assert parent.get(f"/groepen/{w['g3'].id}").status_code == 403


def test_starting_empty_and_importing_the_new_composition(app, admin_client, browser):
    w = school_with_groups()
    guardian = make_guardian(child=w["sem"], email="eva@example.org")
    db.session.commit()
    parent = browser()
    login_as(parent, guardian)

    preview = admin_client.post("/beheer/overgang", data={**NEXT_YEAR, "mode": "empty"})
    assert "Het nieuwe jaar begint zonder groepen" in text_of(preview)
    response = admin_client.post("/beheer/overgang/bevestigen",
                                 data={**NEXT_YEAR, "mode": "empty"})
    assert response.status_code == 303
    new_year = db.session.scalar(select(SchoolYear).where(SchoolYear.name == "2027-2028"))
    assert response.headers["Location"].endswith(f"/beheer/import?jaar={new_year.id}")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Importeer nu de nieuwe indeling" in page
    assert f'<option selected value="{new_year.id}">2027-2028</option>' in page
    assert groups_of("2027-2028") == {}
    assert current_year().name == "2026-2027"  # not current until the import is done

    number = w["sem"].student_number
    data = (
        "leerlingnummer;voornaam;achternaam;groep;ouder1_naam;ouder1_email\r\n"
        f"{number};Sem;Jansen;Groep 4;Eva;eva@example.org\r\n"
    ).encode()
    preview = admin_client.post("/beheer/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(data), "nieuw.csv"), "year": str(new_year.id)})
    fields = dict(re.findall(r'name="(content|year|digest)" type="hidden" value="([^"]*)"',
                             preview.get_data(as_text=True)))
    assert admin_client.post("/beheer/import/bevestigen", data=fields).status_code == 303
    assert parent.get(f"/groepen/{w['g3'].id}").status_code == 200

    admin_client.post(f"/beheer/jaren/{new_year.id}/huidig")
    groep4 = db.session.scalar(select(Group).where(Group.school_year_id == new_year.id))
    overview = text_of(parent.get("/groepen/"))
    assert "Groep 4" in overview and "Groep 3" not in overview
    assert parent.get(f"/groepen/{groep4.id}").status_code == 200
    assert parent.get(f"/groepen/{w['g3'].id}").status_code == 403


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "2026-2027", "starts_on": "2027-08-01", "ends_on": "2028-07-31"},
         "Er is al een schooljaar 2026-2027."),
        ({"starts_on": "2027-07-01"}, "overlappen met schooljaar 2026-2027"),
        ({"name": "2025-2026", "starts_on": "2025-08-01", "ends_on": "2026-07-31"},
         "Het nieuwe schooljaar moet na het huidige (2026-2027) beginnen."),
        ({"ends_on": "2027-07-31"}, "De laatste dag moet na de eerste dag liggen."),
        ({"name": "volgend jaar"}, "Schrijf het schooljaar als 2027-2028."),
        ({"mode": "shuffle"}, "Kies een van de mogelijkheden."),
    ],
)
@pytest.mark.parametrize("url", ["/beheer/overgang", "/beheer/overgang/bevestigen"])
def test_bad_input_is_refused_and_nothing_changes(app, admin_client, url, data, message):
    school_with_groups()
    before = (db.session.scalar(select(func.count(SchoolYear.id))), membership_count())
    response = admin_client.post(url, data={**NEXT_YEAR, **data})
    assert response.status_code == 422
    assert message in text_of(response)
    assert (db.session.scalar(select(func.count(SchoolYear.id))), membership_count()) == before


def test_groups_that_would_get_the_same_name_stop_the_rollover(app, admin_client):
    make_group("Groep 3", grade=3)
    make_group("Groep 4", grade=3)  # a typo in the grade: both would become "Groep 4"
    db.session.commit()
    preview = admin_client.post("/beheer/overgang", data=NEXT_YEAR)
    text = text_of(preview)
    assert "Twee groepen zouden na de overgang dezelfde naam krijgen: Groep 4." in text
    assert "/beheer/overgang/bevestigen" not in preview.get_data(as_text=True)
    response = admin_client.post("/beheer/overgang/bevestigen", data=NEXT_YEAR)
    assert response.status_code == 422
    assert "dezelfde naam" in text_of(response)
    assert db.session.scalar(select(func.count(SchoolYear.id))) == 1


def test_without_a_current_year_there_is_nothing_to_roll_over(app, admin_client):
    make_year("2026-2027")
    db.session.commit()
    assert "Er is geen huidig schooljaar" in text_of(admin_client.get("/beheer/overgang"))
    response = admin_client.post("/beheer/overgang/bevestigen", data=NEXT_YEAR)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(SchoolYear.id))) == 1


def at_day(admin_client, moment: datetime) -> None:
    """Move the clock, and log the office in again (a login ages with the clock)."""
    from parro.models import Role, User

    clock.set_now(moment)
    login_as(admin_client, db.session.scalar(select(User).where(User.role == Role.ADMIN)))


def test_before_the_year_ends_it_warns_and_asks_for_a_yes(app, admin_client):
    at_day(admin_client, datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
    school_with_groups()
    assert "Let op: schooljaar 2026-2027 loopt nog tot en met 31 juli 2027." in text_of(
        admin_client.get("/beheer/overgang"))
    data = {k: v for k, v in NEXT_YEAR.items() if k != "early"}
    preview = admin_client.post("/beheer/overgang", data=data)
    text = text_of(preview)
    assert ("Let op: schooljaar 2026-2027 is nog niet voorbij: het loopt tot en met "
            "31 juli 2027.") in text
    assert "Ik weet dat 2026-2027 nog niet voorbij is en wil nu overgaan naar 2027-2028" in text
    # Without the yes: refused, said at the box, nothing made.
    response = admin_client.post("/beheer/overgang/bevestigen", data=data)
    assert response.status_code == 422
    assert ("Schooljaar 2026-2027 loopt nog tot en met 31 juli 2027. Vink aan dat u toch nu "
            "wilt overgaan") in text_of(response)
    assert db.session.scalar(select(func.count(SchoolYear.id))) == 1
    # Preparing the year without making it current needs no yes.
    preview = admin_client.post("/beheer/overgang", data={**data, "make_current": ""})
    assert "Ik weet dat" not in text_of(preview)
    assert "Schooljaar 2026-2027 loopt nog tot en met 31 juli 2027 en blijft tot dan" in \
        text_of(preview)
    # With it: the new year begins.
    response = admin_client.post("/beheer/overgang/bevestigen", data=NEXT_YEAR)
    assert response.status_code == 303
    assert groups_of("2027-2028") == {"Groep 4": 4, "4A": 4}


def test_after_the_year_ended_no_yes_is_asked(app, admin_client):
    at_day(admin_client, datetime(2027, 8, 2, 9, 0, tzinfo=UTC))
    school_with_groups()
    data = {k: v for k, v in NEXT_YEAR.items() if k != "early"}
    assert "Let op" not in text_of(admin_client.get("/beheer/overgang"))
    preview = admin_client.post("/beheer/overgang", data=data)
    assert "Let op" not in text_of(preview) and "Ik weet dat" not in text_of(preview)
    assert admin_client.post("/beheer/overgang/bevestigen", data=data).status_code == 303


def test_the_preview_names_the_groups_created_and_left_empty(app, admin_client):
    g1 = make_group("Groep 1", grade=1)
    make_student(g1)
    make_group("Groep 2", grade=2)  # nobody in it: the new groep 3 stays empty
    g3 = make_group("Groep 3", grade=3)
    make_student(g3)
    make_group("Groep 5/6", grade=None)
    db.session.commit()
    text = text_of(admin_client.post("/beheer/overgang", data=NEXT_YEAR))
    assert "Groepen in 2027-2028" in text
    assert "Aangemaakt, met hun leerlingen: Groep 2, Groep 4." in text
    assert "Aangemaakt maar leeg (er zit nu niemand in de groep eronder): Groep 3." in text
    assert "Geen groep voor leerjaar 1: daar gaat niemand naartoe." in text
    assert "Niet aangemaakt (geen leerjaar): Groep 5/6." in text
    text = text_of(admin_client.post("/beheer/overgang", data={**NEXT_YEAR, "mode": "empty"}))
    assert ("Er worden geen groepen aangemaakt: 2027-2028 blijft leeg tot u de nieuwe indeling "
            "importeert.") in text
