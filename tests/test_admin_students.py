"""Administration of students: find, add, edit, move to another group, take out of the year."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from parro.extensions import db
from parro.models import Membership, Student

from .factories import current_year, make_group, make_student, make_year
from .helpers import count_queries, text_of

# The `browser` and `admin_client` fixtures.
pytest_plugins = ["tests.admin_helpers"]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def names(response) -> list[str]:
    """The students listed in the results table, 'Achternaam, Voornaam'."""
    html = response.get_data(as_text=True)
    return re.findall(r'/beheer/leerlingen/\d+">([^<]+)</a>', html)


# -- finding students ----------------------------------------------------------------


def test_students_of_one_group(app, admin_client):
    g3, g4 = make_group("Groep 3", grade=3), make_group("Groep 4", grade=4)
    make_student(g3, "Sem", "Jansen")
    make_student(g3, "Zoë", "de Vries")
    make_student(g4, "Noor", "Bakker")
    db.session.commit()
    response = admin_client.get(f"/beheer/leerlingen?groep={g3.id}")
    assert response.status_code == 200
    # (The order of "de Vries" and "Jansen" depends on the database's collation.)
    assert sorted(names(response)) == ["Jansen, Sem", "de Vries, Zoë"]
    assert "Bakker" not in text_of(response)


def test_search_by_name_number_and_both_names(app, admin_client):
    g3 = make_group("Groep 3", grade=3)
    make_student(g3, "Sem", "Jansen", number="10001")
    make_student(g3, "Zoë", "Öztürk", number="10002")
    make_student(g3, "Lotte", "Janssen", number="20003")
    db.session.commit()
    assert names(admin_client.get("/beheer/leerlingen?q=jans")) == ["Jansen, Sem", "Janssen, Lotte"]
    assert names(admin_client.get("/beheer/leerlingen?q=20003")) == ["Janssen, Lotte"]
    assert names(admin_client.get("/beheer/leerlingen?q=sem+jansen")) == ["Jansen, Sem"]
    assert names(admin_client.get("/beheer/leerlingen?q=Öztürk")) == ["Öztürk, Zoë"]
    # LIKE wildcards typed by the user are plain characters.
    assert names(admin_client.get("/beheer/leerlingen?q=%25")) == []
    assert names(admin_client.get("/beheer/leerlingen?q=_")) == []
    empty = admin_client.get("/beheer/leerlingen?q=xyz")
    assert "Geen leerlingen gevonden voor ‘xyz’." in text_of(empty)


def test_students_without_a_group_this_year(app, admin_client):
    old = make_year("2025-2026")
    make_student(make_group("Groep 8", grade=8, year=old), "Daan", "Bos")
    make_student(make_group("Groep 3", grade=3), "Sem", "Jansen")
    db.session.commit()
    response = admin_client.get("/beheer/leerlingen?groep=geen")
    assert names(response) == ["Bos, Daan"]
    assert "geen groep" in text_of(response)


def test_the_list_pages_by_key_and_each_page_costs_the_same(app, admin_client):
    group = make_group("Groep 3", grade=3)
    for n in range(120):
        make_student(group, f"Kind{n:03d}", f"Achternaam{n % 7}")
    db.session.commit()

    def page(url):
        with admin_client.application.app_context(), count_queries() as q:
            response = admin_client.get(url)
        return response, q.count

    first, first_queries = page("/beheer/leerlingen")
    assert len(names(first)) == 50
    more = re.search(r'href="(/beheer/leerlingen\?na=\d+)"', first.get_data(as_text=True))
    second, second_queries = page(more.group(1))
    third_url = re.search(r'href="(/beheer/leerlingen\?na=\d+)"', second.get_data(as_text=True))
    third, _ = page(third_url.group(1))
    seen = names(first) + names(second) + names(third)
    assert len(seen) == 120 and len(set(seen)) == 120
    assert seen == sorted(seen, key=lambda n: (n.split(", ")[0], n.split(", ")[1]))
    assert "Volgende leerlingen" not in text_of(third)
    # Page 2 costs one query more than page 1 (the key's row), not more per page.
    assert second_queries <= first_queries + 1


def test_student_list_links_to_the_student_page(app, admin_client):
    student = make_student(make_group("Groep 3", grade=3), "Sem", "Jansen")
    db.session.commit()
    html = admin_client.get("/beheer/leerlingen").get_data(as_text=True)
    assert f'href="/leerlingen/{student.id}"' in html
    html = admin_client.get(f"/beheer/leerlingen/{student.id}").get_data(as_text=True)
    assert f'href="/leerlingen/{student.id}"' in html


# -- adding and editing ---------------------------------------------------------------


def test_admin_adds_a_student_to_a_group(app, admin_client):
    group = make_group("Groep 3", grade=3)
    db.session.commit()
    assert f'<option selected value="{group.id}">' in admin_client.get(
        f"/beheer/leerlingen/nieuw?groep={group.id}").get_data(as_text=True)
    response = admin_client.post("/beheer/leerlingen/nieuw", data={
        "student_number": " 12345 ", "first_name": "Zoë", "last_name": " de  Vries",
        "group": str(group.id)})
    assert response.status_code == 303
    student = db.session.scalar(select(Student))
    assert (student.student_number, student.first_name, student.last_name) == (
        "12345", "Zoë", "de Vries")
    assert response.headers["Location"].endswith(f"/beheer/leerlingen/{student.id}")
    assert [m.group_id for m in student.memberships] == [group.id]
    assert "Zoë de Vries is toegevoegd." in text_of(admin_client.get(response.headers["Location"]))


def test_a_student_can_be_added_without_a_group(app, admin_client):
    current_year()
    db.session.commit()
    response = admin_client.post("/beheer/leerlingen/nieuw", data={
        "student_number": "1", "first_name": "Sem", "last_name": "Jansen", "group": ""})
    assert response.status_code == 303
    assert count(Membership) == 0


def test_a_duplicate_student_number_is_refused(app, admin_client):
    make_student(make_group("Groep 3", grade=3), "Sem", "Jansen", number="12345")
    db.session.commit()
    response = admin_client.post("/beheer/leerlingen/nieuw", data={
        "student_number": "12345", "first_name": "Zoë", "last_name": "de Vries", "group": ""})
    assert response.status_code == 422
    assert "Leerlingnummer 12345 hoort al bij Sem Jansen." in text_of(response)
    assert count(Student) == 1


def test_missing_names_and_unknown_groups_are_refused(app, admin_client):
    other_year_group = make_group("Groep 3", grade=3, year=make_year("2027-2028"))
    current_year()
    db.session.commit()
    response = admin_client.post("/beheer/leerlingen/nieuw", data={
        "student_number": "", "first_name": " ", "last_name": "", "group": ""})
    assert response.status_code == 422
    text = text_of(response)
    for message in ("Vul het leerlingnummer in.", "Vul de voornaam in.", "Vul de achternaam in."):
        assert message in text
    response = admin_client.post("/beheer/leerlingen/nieuw", data={
        "student_number": "1", "first_name": "Sem", "last_name": "Jansen",
        "group": str(other_year_group.id)})
    assert response.status_code == 422
    assert "Kies een van de mogelijkheden." in text_of(response)
    assert count(Student) == 0


def test_admin_corrects_a_student(app, admin_client):
    student = make_student(make_group("Groep 3", grade=3), "Sem", "Jansen", number="1")
    make_student(number="2")
    db.session.commit()
    url = f"/beheer/leerlingen/{student.id}"
    response = admin_client.post(url, data={
        "student_number": "1a", "first_name": "Semmy", "last_name": "Jansen"})
    assert response.status_code == 303
    clash = admin_client.post(url, data={
        "student_number": "2", "first_name": "Sem", "last_name": "Jansen"})
    assert clash.status_code == 422
    assert "Leerlingnummer 2 hoort al bij" in text_of(clash)
    db.session.expire_all()
    student = db.session.get(Student, student.id)
    assert (student.student_number, student.first_name) == ("1a", "Semmy")


# -- groups of a student ----------------------------------------------------------------


def test_moving_a_student_changes_their_membership_of_this_year(app, admin_client):
    old_year = make_year("2025-2026")
    old_group = make_group("Groep 2", grade=2, year=old_year)
    g3, g4 = make_group("Groep 3", grade=3), make_group("Groep 4", grade=4)
    student = make_student(g3, "Sem", "Jansen")
    this_year = student.memberships[0]
    last_year = Membership(student=student, group=old_group, year=old_year)
    db.session.add(last_year)
    db.session.commit()
    ids = (this_year.id, last_year.id)
    response = admin_client.post(f"/beheer/leerlingen/{student.id}/groep",
                                 data={"group": str(g4.id)})
    assert response.status_code == 303
    page = text_of(admin_client.get(response.headers["Location"]))
    assert "Sem Jansen zit nu in Groep 4." in page
    db.session.expire_all()
    rows = db.session.execute(select(Membership.id, Membership.group_id)
                              .where(Membership.student_id == student.id)).all()
    # The same row for this year, now pointing at Groep 4; last year's row untouched.
    assert dict(rows) == {ids[0]: g4.id, ids[1]: old_group.id}
    page = text_of(admin_client.get(f"/beheer/leerlingen/{student.id}"))
    assert "2026-2027: Groep 4" in page and "2025-2026: Groep 2" in page


def test_a_student_without_a_group_is_placed(app, admin_client):
    g3 = make_group("Groep 3", grade=3)
    student = make_student(None, "Sem", "Jansen")
    db.session.commit()
    assert "zit dit schooljaar in geen groep" in text_of(
        admin_client.get(f"/beheer/leerlingen/{student.id}"))
    admin_client.post(f"/beheer/leerlingen/{student.id}/groep", data={"group": str(g3.id)})
    db.session.expire_all()
    assert [m.group_id for m in db.session.get(Student, student.id).memberships] == [g3.id]


def test_a_student_cannot_be_moved_to_a_group_of_another_year(app, admin_client):
    g3 = make_group("Groep 3", grade=3)
    other = make_group("Groep 4", grade=4, year=make_year("2027-2028"))
    student = make_student(g3)
    db.session.commit()
    for value in (str(other.id), "", "999999"):
        response = admin_client.post(f"/beheer/leerlingen/{student.id}/groep",
                                     data={"group": value})
        assert response.status_code == 422
    db.session.expire_all()
    assert [m.group_id for m in db.session.get(Student, student.id).memberships] == [g3.id]


def test_taking_a_student_out_of_this_year_keeps_the_archive(app, admin_client, browser):
    from .factories import make_guardian
    from .helpers import login_as

    old_year = make_year("2025-2026")
    old_group = make_group("Groep 2", grade=2, year=old_year)
    g3 = make_group("Groep 3", grade=3)
    student = make_student(g3, "Sem", "Jansen")
    db.session.add(Membership(student=student, group=old_group, year=old_year))
    guardian = make_guardian(child=student)
    db.session.commit()
    parent = browser()
    login_as(parent, guardian)
    assert parent.get(f"/groepen/{g3.id}").status_code == 200

    response = admin_client.post(f"/beheer/leerlingen/{student.id}/uitschrijven")
    assert response.status_code == 303
    assert "niet meer in een groep" in text_of(admin_client.get(response.headers["Location"]))
    db.session.expire_all()
    assert [m.group_id for m in db.session.get(Student, student.id).memberships] == [old_group.id]
    assert parent.get(f"/groepen/{g3.id}").status_code == 403
