"""Administration of the school's details, school years, groups and their teachers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from parro.extensions import db
from parro.models import Group, School, SchoolYear, TeacherAssignment

from .factories import (
    make_group,
    make_guardian,
    make_school,
    make_student,
    make_teacher,
    make_year,
)
from .helpers import count_queries, login_as, text_of

# The `browser` and `admin_client` fixtures.
pytest_plugins = ["tests.admin_helpers"]


def assert_dutch(response) -> None:
    """No English default message of WTForms slipped through."""
    text = text_of(response)
    for english in ("Field", "field", "Invalid", "Not a valid", "required", "must be"):
        assert english not in text, text


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# -- school settings ----------------------------------------------------------------


SCHOOL = {
    "name": "Basisschool De Regenboog",
    "phone": "010 123 45 67",
    "email": "Administratie@Example.org",
    "colour": "#AA3300",
    "leave_info": "Verlof vraagt u aan bij de directie: https://school.example.org/verlof",
    "code_of_conduct": "Wij gaan positief met elkaar om.",
}


def test_admin_changes_the_school_details(app, admin_client):
    make_school()
    db.session.commit()
    page = admin_client.get("/beheer/school")
    assert page.status_code == 200
    assert "Basisschool De Test" in text_of(page)

    response = admin_client.post("/beheer/school", data=SCHOOL)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/beheer/school")
    assert "opgeslagen" in text_of(admin_client.get("/beheer/school"))
    db.session.expire_all()
    school = db.session.scalar(select(School))
    assert school.name == "Basisschool De Regenboog"
    assert school.email == "administratie@example.org"
    assert school.colour == "#aa3300"
    assert school.leave_info.endswith("/verlof")
    assert school.code_of_conduct == "Wij gaan positief met elkaar om."


def test_the_first_save_creates_the_school(app, admin_client):
    assert admin_client.post("/beheer/school", data=SCHOOL).status_code == 303
    assert count(School) == 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("colour", "red", "Schrijf de kleur als #rrggbb"),
        ("colour", "#12345", "Schrijf de kleur als #rrggbb"),
        ("colour", "#12345g", "Schrijf de kleur als #rrggbb"),
        ("name", "  ", "Vul de naam van de school in."),
        ("email", "administratie@", "Dit is geen geldig e-mailadres."),
        ("phone", "0" * 41, "Dit mag hoogstens 40 tekens lang zijn."),
        ("leave_info", "x" * 2001, "Dit mag hoogstens 2000 tekens lang zijn."),
    ],
)
def test_bad_school_details_are_refused_and_nothing_changes(app, admin_client, field, value,
                                                            message):
    make_school()
    db.session.commit()
    response = admin_client.post("/beheer/school", data={**SCHOOL, field: value})
    assert response.status_code == 422
    assert message in text_of(response)
    assert_dutch(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(School)).name == "Basisschool De Test"


# -- school years -----------------------------------------------------------------------


def test_years_are_listed_with_the_current_one_marked(app, admin_client):
    make_year("2025-2026")
    make_year("2026-2027", current=True)
    db.session.commit()
    text = text_of(admin_client.get("/beheer/jaren"))
    assert "2025-2026" in text and "2026-2027 huidig" in text
    assert "Maak 2025-2026 huidig" in text
    assert "Maak 2026-2027 huidig" not in text


def test_the_new_year_form_proposes_the_next_year(app, admin_client):
    make_year("2026-2027", current=True)
    db.session.commit()
    html = admin_client.get("/beheer/jaren/nieuw").get_data(as_text=True)
    assert 'value="2027-2028"' in html
    assert 'value="2027-08-01"' in html and 'value="2028-07-31"' in html


def test_admin_creates_a_school_year(app, admin_client):
    make_year("2026-2027", current=True)
    db.session.commit()
    response = admin_client.post(
        "/beheer/jaren/nieuw",
        data={"name": " 2027-2028 ", "starts_on": "2027-08-01", "ends_on": "31-07-2028"},
    )
    assert response.status_code == 303
    year = db.session.scalar(select(SchoolYear).where(SchoolYear.name == "2027-2028"))
    assert (year.starts_on, year.ends_on, year.is_current) == (
        date(2027, 8, 1), date(2028, 7, 31), False)
    assert "Schooljaar 2027-2028 is aangemaakt." in text_of(admin_client.get("/beheer/jaren"))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "2027/2028"}, "Schrijf het schooljaar als 2027-2028."),
        ({"name": "2027-2029"}, "twee opeenvolgende jaren"),
        ({"name": ""}, "Vul de naam van het schooljaar in."),
        ({"name": "2026-2027"}, "Er is al een schooljaar 2026-2027."),
        ({"ends_on": "2027-08-01"}, "De laatste dag moet na de eerste dag liggen."),
        ({"ends_on": "2027-07-01"}, "De laatste dag moet na de eerste dag liggen."),
        ({"starts_on": "2027-07-01"}, "overlappen met schooljaar 2026-2027"),
        ({"starts_on": "31-02-2027"}, "Vul een datum in, bijvoorbeeld 1-8-2027."),
        ({"starts_on": ""}, "Vul een datum in."),
    ],
)
def test_bad_years_are_refused_with_a_clear_message(app, admin_client, data, message):
    make_year("2026-2027", current=True)
    db.session.commit()
    form = {"name": "2027-2028", "starts_on": "2027-08-01", "ends_on": "2028-07-31", **data}
    response = admin_client.post("/beheer/jaren/nieuw", data=form)
    assert response.status_code == 422
    assert message in text_of(response)
    assert_dutch(response)
    assert count(SchoolYear) == 1


def test_admin_corrects_a_year_and_its_own_dates_do_not_count_as_overlap(app, admin_client):
    year = make_year("2026-2027", current=True)
    db.session.commit()
    response = admin_client.post(f"/beheer/jaren/{year.id}", data={
        "name": "2026-2027", "starts_on": "2026-08-24", "ends_on": "2027-07-09"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(SchoolYear, year.id).starts_on == date(2026, 8, 24)


def test_making_a_year_current_switches_exactly_one(app, admin_client):
    old = make_year("2026-2027", current=True)
    new = make_year("2027-2028")
    db.session.commit()
    response = admin_client.post(f"/beheer/jaren/{new.id}/huidig")
    assert response.status_code == 303
    db.session.expire_all()
    current = db.session.scalars(select(SchoolYear.name).where(SchoolYear.is_current)).all()
    assert current == ["2027-2028"]
    assert db.session.get(SchoolYear, old.id).is_current is False
    # Again: still exactly one.
    admin_client.post(f"/beheer/jaren/{new.id}/huidig")
    assert db.session.scalar(select(func.count()).where(SchoolYear.is_current)) == 1


def test_making_a_year_current_changes_what_a_guardian_sees(app, admin_client, browser):
    old = make_year("2026-2027", current=True)
    new = make_year("2027-2028")
    child = make_student(make_group("Groep 3", grade=3, year=old), first_name="Sem")
    db.session.add(child.memberships[0].__class__(student=child, group=make_group(
        "Groep 4", grade=4, year=new), year=new))
    guardian = make_guardian(child=child)
    db.session.commit()
    parent = browser()
    login_as(parent, guardian)
    assert "Groep 3" in text_of(parent.get("/groepen/"))
    admin_client.post(f"/beheer/jaren/{new.id}/huidig")
    text = text_of(parent.get("/groepen/"))
    assert "Groep 4" in text and "Groep 3" not in text


# -- groups -------------------------------------------------------------------------------


def test_groups_page_lists_teachers_and_numbers_of_students(app, admin_client):
    g3 = make_group("Groep 3", grade=3)
    make_group("Groep 5/6", grade=None)
    for _ in range(3):
        make_student(g3)
    make_teacher(g3, name="Anna de Boer")
    make_teacher(g3, name="Bram Visser")
    db.session.commit()
    text = text_of(admin_client.get("/beheer/groepen"))
    assert "Groep 3 3 Anna de Boer, Bram Visser 3" in text
    assert "Groep 5/6 – geen leerkracht 0" in text


def test_groups_page_costs_the_same_for_few_and_many_groups(app, admin_client):
    def queries() -> int:
        with admin_client.application.app_context(), count_queries() as q:
            assert admin_client.get("/beheer/groepen").status_code == 200
        return q.count

    for grade in (1, 2):
        make_teacher(make_group(f"Groep {grade}", grade=grade))
    db.session.commit()
    few = queries()
    for grade in range(3, 9):
        g = make_group(f"Groep {grade}", grade=grade)
        make_teacher(g)
        make_teacher(g)
        make_student(g)
    db.session.commit()
    assert few > 3
    assert queries() == few


def test_groups_of_another_year_are_shown_with_a_way_to_make_it_current(app, admin_client):
    make_group("Groep 3", grade=3)
    nxt = make_year("2027-2028")
    make_group("Groep 4", grade=4, year=nxt)
    db.session.commit()
    text = text_of(admin_client.get(f"/beheer/groepen?jaar={nxt.id}"))
    assert "Groep 4" in text and "Groep 3" not in text
    assert "2027-2028 is niet het huidige schooljaar" in text
    assert "Groep 3" in text_of(admin_client.get("/beheer/groepen"))


def test_admin_creates_a_group(app, admin_client):
    year = make_year("2026-2027", current=True)
    db.session.commit()
    response = admin_client.post(f"/beheer/jaren/{year.id}/groepen/nieuw",
                                 data={"name": " Groep  3B ", "grade": "3"})
    assert response.status_code == 303
    group = db.session.scalar(select(Group))
    assert (group.name, group.grade, group.school_year_id) == ("Groep 3B", 3, year.id)
    assert response.headers["Location"].endswith(f"/beheer/groepen/{group.id}")


def test_a_group_without_grade(app, admin_client):
    year = make_year("2026-2027", current=True)
    db.session.commit()
    admin_client.post(f"/beheer/jaren/{year.id}/groepen/nieuw",
                      data={"name": "Groep 5/6", "grade": ""})
    assert db.session.scalar(select(Group)).grade is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "groep 3"}, "Er is in 2026-2027 al een groep met de naam groep 3."),
        ({"name": ""}, "Vul de naam van de groep in."),
        ({"name": "x" * 61}, "Dit mag hoogstens 60 tekens lang zijn."),
        ({"grade": "9"}, "Kies een van de mogelijkheden."),
        ({"grade": "drie"}, "Kies een van de mogelijkheden."),
    ],
)
def test_bad_groups_are_refused(app, admin_client, data, message):
    group = make_group("Groep 3", grade=3)
    db.session.commit()
    response = admin_client.post(f"/beheer/jaren/{group.school_year_id}/groepen/nieuw",
                                 data={"name": "Groep 4", "grade": "4", **data})
    assert response.status_code == 422
    assert message in text_of(response)
    assert_dutch(response)
    assert count(Group) == 1


def test_the_same_group_name_in_another_year_is_fine(app, admin_client):
    make_group("Groep 3", grade=3)
    nxt = make_year("2027-2028")
    db.session.commit()
    response = admin_client.post(f"/beheer/jaren/{nxt.id}/groepen/nieuw",
                                 data={"name": "Groep 3", "grade": "3"})
    assert response.status_code == 303


def test_admin_renames_a_group(app, admin_client):
    group = make_group("Groep 3", grade=3)
    make_group("Groep 4", grade=4)
    db.session.commit()
    response = admin_client.post(f"/beheer/groepen/{group.id}",
                                 data={"name": "Groep 3 Zon", "grade": "3"})
    assert response.status_code == 303
    clash = admin_client.post(f"/beheer/groepen/{group.id}", data={"name": "Groep 4", "grade": "3"})
    assert clash.status_code == 422
    assert "al een groep met de naam Groep 4" in text_of(clash)
    db.session.expire_all()
    assert db.session.get(Group, group.id).name == "Groep 3 Zon"


def test_a_group_has_two_teachers_and_loses_one(app, admin_client):
    group = make_group("Groep 3", grade=3)
    anna = make_teacher(name="Anna de Boer")
    bram = make_teacher(name="Bram Visser")
    db.session.commit()
    assert "Anna de Boer" in text_of(admin_client.get(f"/beheer/groepen/{group.id}"))
    for teacher in (anna, bram):
        response = admin_client.post(f"/beheer/groepen/{group.id}/leerkrachten",
                                     data={"teacher": str(teacher.id)})
        assert response.status_code == 303
    page = text_of(admin_client.get(f"/beheer/groepen/{group.id}"))
    assert "Bram Visser is gekoppeld aan Groep 3." in page
    assigned = set(db.session.scalars(
        select(TeacherAssignment.user_id).where(TeacherAssignment.group_id == group.id)))
    assert assigned == {anna.id, bram.id}

    response = admin_client.post(f"/beheer/groepen/{group.id}/leerkrachten/{anna.id}/ontkoppelen")
    assert response.status_code == 303
    db.session.expire_all()
    assert set(db.session.scalars(select(TeacherAssignment.user_id))) == {bram.id}


def test_a_guardian_or_nobody_cannot_be_assigned_as_teacher(app, admin_client):
    group = make_group("Groep 3", grade=3)
    guardian = make_guardian()
    db.session.commit()
    for value in (str(guardian.id), "", "abc"):
        response = admin_client.post(f"/beheer/groepen/{group.id}/leerkrachten",
                                     data={"teacher": value})
        assert response.status_code == 422
        assert "Kies een leerkracht." in text_of(response)
        assert_dutch(response)
    assert count(TeacherAssignment) == 0


def test_an_assigned_teacher_sees_the_group(app, admin_client, browser):
    group = make_group("Groep 3", grade=3)
    teacher = make_teacher()
    db.session.commit()
    teacher_client = browser()
    login_as(teacher_client, teacher)
    assert teacher_client.get(f"/groepen/{group.id}").status_code == 403
    admin_client.post(f"/beheer/groepen/{group.id}/leerkrachten", data={"teacher": str(teacher.id)})
    assert teacher_client.get(f"/groepen/{group.id}").status_code == 200


def test_an_empty_group_can_be_deleted_but_not_one_with_students(app, admin_client):
    empty = make_group("Groep 3 typo", grade=3)
    make_teacher(empty)
    full = make_group("Groep 4", grade=4)
    make_student(full)
    db.session.commit()
    response = admin_client.post(f"/beheer/groepen/{full.id}/verwijderen")
    assert response.status_code == 303
    assert "Er zitten leerlingen in deze groep" in text_of(admin_client.get(
        response.headers["Location"]))
    assert admin_client.post(f"/beheer/groepen/{empty.id}/verwijderen").status_code == 303
    db.session.expire_all()
    assert [g.name for g in db.session.scalars(select(Group))] == ["Groep 4"]
    assert count(TeacherAssignment) == 0


def test_admin_pages_are_linked_from_the_admin_index(app, admin_client):
    html = admin_client.get("/beheer/").get_data(as_text=True)
    for path in ("/beheer/school", "/beheer/jaren", "/beheer/groepen", "/beheer/leerlingen",
                 "/beheer/import", "/beheer/overgang"):
        assert f'href="{path}"' in html
