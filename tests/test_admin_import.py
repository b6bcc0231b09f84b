"""The CSV import through the admin pages: upload, dry-run preview, confirm, all or nothing."""

from __future__ import annotations

import base64
import io
import re

import pytest
from sqlalchemy import func, select

from parro.admin import service
from parro.extensions import db
from parro.models import (
    Group,
    Guardianship,
    Membership,
    OutboxMail,
    Role,
    Student,
    User,
)

from .factories import (
    current_year,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
    make_year,
)
from .helpers import count_queries, csrf_token, login_as, text_of

# The `browser` and `admin_client` fixtures.
pytest_plugins = ["tests.admin_helpers"]

HEADER = (
    "leerlingnummer;voornaam;achternaam;groep;ouder1_naam;ouder1_email;ouder2_naam;ouder2_email"
)


def csv(*lines: str, encoding="utf-8", newline="\r\n", header=HEADER) -> bytes:
    return newline.join([header, *lines]).encode(encoding) + newline.encode()


FAMILY = csv(
    "1001;Zoë;de Vries;Groep 3;Anna de Vries;Anna.deVries@example.org;"
    "Karim de Vries;karim@example.org",
    '1002;"Emre, Can";Öztürk;4B;Ayşe Öztürk;ayse@example.org;;',
    "1003;Lotte;Şahin;Groep 3;Ayşe Öztürk;AYSE@example.org;;",
    encoding="utf-8-sig",
)


def snapshot() -> dict:
    """Everything the import may touch, to show that nothing changed."""
    db.session.expire_all()

    def rows(*columns):
        return sorted(db.session.execute(select(*columns)).all())

    return {
        "students": rows(Student.id, Student.student_number, Student.first_name, Student.last_name),
        "groups": rows(Group.id, Group.name, Group.grade, Group.school_year_id),
        "memberships": rows(Membership.id, Membership.student_id, Membership.group_id,
                            Membership.school_year_id),
        "users": rows(User.id, User.email, User.name, User.role, User.active),
        "links": rows(Guardianship.user_id, Guardianship.student_id),
        "mail": rows(OutboxMail.id),
    }


def upload(client, data: bytes, year=None, filename="leerlingen.csv"):
    form = {"file": (io.BytesIO(data), filename)}
    if year is not None:
        form["year"] = str(year.id)
    else:
        form["year"] = str(current_year().id)
    return client.post("/beheer/import", data=form, content_type="multipart/form-data")


def confirm_form(response) -> dict:
    html = response.get_data(as_text=True)
    fields = dict(re.findall(
        r'<input id="(content|year|digest)" name="\1" type="hidden" value="([^"]*)"', html))
    assert set(fields) == {"content", "year", "digest"}, "no confirm form on the page"
    return fields


def import_file(client, data: bytes, year=None):
    preview = upload(client, data, year)
    assert preview.status_code == 200, text_of(preview)
    return client.post("/beheer/import/bevestigen", data=confirm_form(preview))


# -- preview ----------------------------------------------------------------------------


def test_the_upload_page_explains_the_file(app, admin_client):
    current_year()
    text = text_of(admin_client.get("/beheer/import"))
    assert "leerlingnummer;voornaam;achternaam;groep;ouder1_naam" in text
    assert "2026-2027 (huidig)" in text


def test_the_preview_shows_what_will_happen_and_writes_nothing(app, admin_client):
    make_group("Groep 3", grade=3)
    before = snapshot()
    response = upload(admin_client, FAMILY)
    assert response.status_code == 200
    text = text_of(response)
    assert "Nieuwe leerlingen 3" in text
    assert "Nieuwe groepen 1: 4B (leerjaar 4)" in text
    assert "Nieuwe ouderaccounts 3" in text
    assert "Ouders gekoppeld aan een kind 4" in text
    assert "Zoë de Vries 1001 nieuwe leerling Groep 3 nieuw ouderaccount" in text
    assert "Emre, Can Öztürk 1002 nieuwe leerling 4B (nieuwe groep)" in text
    assert "nieuw ouderaccount: Anna de Vries (anna.devries@example.org)" in text
    assert "ouder gekoppeld: ayse@example.org" in text  # line 4: the account line 3 creates
    assert "De import verstuurt geen uitnodigingen" in text
    assert snapshot() == before


def test_the_preview_shows_changes_to_existing_students(app, admin_client):
    g3, g4 = make_group("Groep 3", grade=3), make_group("Groep 4", grade=4)
    make_student(g3, "Sem", "Jansen", number="1")
    make_student(g3, "Noor", "Bakker", number="2")
    make_student(g4, "Daan", "Bos", number="3")
    make_student(None, "Fenna", "Smit", number="4")
    make_guardian(child=db.session.scalar(select(Student).where(Student.student_number == "3")),
                  email="ouder.bos@example.org")
    data = csv("1;Sem;Jansen;Groep 4;;;;", "2;Noor;Bakker-Visser;Groep 3;;;;",
               "3;Daan;Bos;4;Ouder Bos;ouder.bos@example.org;;", "4;Fenna;Smit;3;;;;")
    text = text_of(upload(admin_client, data))
    assert "Nieuwe leerlingen 0 Gewijzigd 3 Ongewijzigd 1" in text
    assert "groep: Groep 3 → Groep 4" in text
    assert "naam: Noor Bakker → Noor Bakker-Visser" in text
    assert "groep: geen groep → Groep 3" in text
    assert "Ongewijzigd (1) Regel 4: Daan Bos 3 · Groep 4" in text


def test_students_of_the_year_missing_from_the_file_are_left_alone(app, admin_client):
    g3 = make_group("Groep 3", grade=3)
    make_student(g3, number="1")
    make_student(g3, number="2")
    text = text_of(upload(admin_client, csv("1;Kind;Tester;Groep 3;;;;")))
    assert "1 leerlingen die in 2026-2027 in een groep zitten, staan niet in dit bestand" in text


# -- confirm ---------------------------------------------------------------------------


def test_confirm_imports_everything_in_one_go(app, admin_client):
    year = current_year()
    g3 = make_group("Groep 3", grade=3)
    response = import_file(admin_client, FAMILY)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/beheer/groepen?jaar={year.id}")
    text = text_of(admin_client.get(response.headers["Location"]))
    assert ("Import in 2026-2027 klaar: 3 nieuwe leerlingen, 0 gewijzigd, 0 ongewijzigd, "
            "1 nieuwe groepen, 3 nieuwe ouderaccounts, 4 ouders gekoppeld.") in text
    assert "Er zijn geen uitnodigingen verstuurd" in text
    assert "de knop ‘Uitnodigen: alle ouders zonder account’" in text

    db.session.expire_all()
    students = {s.student_number: s for s in db.session.scalars(select(Student))}
    assert students["1002"].first_name == "Emre, Can"
    assert students["1003"].last_name == "Şahin"
    b4 = db.session.scalar(select(Group).where(Group.name == "4B"))
    assert (b4.grade, b4.school_year_id) == (4, year.id)
    groups = {s.student_number: [m.group_id for m in s.memberships] for s in students.values()}
    assert groups == {"1001": [g3.id], "1002": [b4.id], "1003": [g3.id]}
    guardians = {u.email: u for u in db.session.scalars(select(User).where(
        User.role == Role.GUARDIAN))}
    assert set(guardians) == {"anna.devries@example.org", "karim@example.org", "ayse@example.org"}
    ayse = guardians["ayse@example.org"]
    assert (ayse.name, ayse.active, ayse.password_hash) == ("Ayşe Öztürk", False, None)
    assert {g.student.student_number for g in ayse.guardianships} == {"1002", "1003"}
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_importing_the_same_file_twice_changes_nothing_the_second_time(app, admin_client):
    current_year()
    assert import_file(admin_client, FAMILY).status_code == 303
    after_first = snapshot()
    preview = upload(admin_client, FAMILY)
    assert preview.status_code == 200
    text = text_of(preview)
    assert "Nieuwe leerlingen 0 Gewijzigd 0 Ongewijzigd 3" in text
    assert "Dit bestand verandert niets" in text
    assert "Importeren" not in re.sub(r"Leerlingen importeren|Voorbeeld van de import", "", text)
    # Even a confirm posted anyway changes nothing.
    fields = {"content": base64.b64encode(FAMILY).decode(), "year": str(current_year().id),
              "digest": service.import_plan(FAMILY, current_year()).digest()}
    response = admin_client.post("/beheer/import/bevestigen", data=fields)
    assert response.status_code == 303
    assert "0 nieuwe leerlingen, 0 gewijzigd, 3 ongewijzigd" in text_of(
        admin_client.get(response.headers["Location"]))
    assert snapshot() == after_first


def test_an_existing_guardian_account_is_linked_not_duplicated(app, admin_client):
    current_year()
    eva = make_guardian(email="eva@example.org", name="Eva Jansen")
    import_file(admin_client, csv("1;Sem;Jansen;Groep 3;E. Jansen;Eva@Example.org;;"))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 2  # admin + Eva
    eva = db.session.get(User, eva.id)
    assert eva.name == "Eva Jansen"  # the guardian's own name is not overwritten
    assert [g.student.student_number for g in eva.guardianships] == ["1"]


def test_import_moves_and_renames_existing_students(app, admin_client):
    g3, g4 = make_group("Groep 3", grade=3), make_group("Groep 4", grade=4)
    sem = make_student(g3, "Sem", "Jansen", number="1")
    noor = make_student(None, "Noor", "Bakker", number="2")
    membership_id = sem.memberships[0].id
    import_file(admin_client, csv("1;Sem;Jansen-Smit;Groep 4;;;;", "2;Noor;Bakker;3;;;;"))
    db.session.expire_all()
    sem, noor = db.session.get(Student, sem.id), db.session.get(Student, noor.id)
    assert sem.last_name == "Jansen-Smit"
    assert [(m.id, m.group_id) for m in sem.memberships] == [(membership_id, g4.id)]
    assert [m.group_id for m in noor.memberships] == [g3.id]


def test_import_into_a_chosen_year_leaves_the_current_year_alone(app, admin_client):
    g3 = make_group("Groep 3", grade=3)
    make_student(g3, "Sem", "Jansen", number="1")
    nxt = make_year("2027-2028")
    before = snapshot()["memberships"]
    preview = upload(admin_client, csv("1;Sem;Jansen;Groep 4;;;;"), year=nxt)
    assert "groep: geen groep → Groep 4" in text_of(preview)
    response = admin_client.post("/beheer/import/bevestigen", data=confirm_form(preview))
    assert response.status_code == 303
    text = text_of(admin_client.get(response.headers["Location"]))
    assert "2027-2028 is nog niet het huidige schooljaar" in text
    after = snapshot()
    assert set(before) < set(after["memberships"])
    new_group = db.session.scalar(select(Group).where(Group.school_year_id == nxt.id))
    assert (new_group.name, new_group.grade) == ("Groep 4", 4)


def test_the_year_field_defaults_to_the_chosen_year(app, admin_client):
    current_year()
    nxt = make_year("2027-2028")
    html = admin_client.get(f"/beheer/import?jaar={nxt.id}").get_data(as_text=True)
    assert f'<option selected value="{nxt.id}">2027-2028</option>' in html


def test_past_years_cannot_be_imported_into(app, admin_client):
    old = make_year("2025-2026")
    current_year()
    response = upload(admin_client, csv("1;Sem;Jansen;3;;;;"), year=old)
    assert response.status_code == 422
    assert "Kies een van de mogelijkheden." in text_of(response)


# -- bad input ---------------------------------------------------------------------------


def test_bad_rows_are_listed_by_line_and_nothing_is_imported(app, admin_client):
    make_group("Groep 3", grade=3)
    make_teacher(email="juf.anna@example.org")
    before = snapshot()
    data = csv(
        "1001;Zoë;de Vries;Groep 3;Anna;anna@example.org;;",
        "1002;Sem;;Groep 3;;;;",
        "1001;Noor;Bakker;Groep 3;;;;",
        "1004;Daan;Bos;Groep 11;;;;",
        "1005;Fenna;Smit;3;Juf Anna;juf.anna@example.org;;",
        "1006;Teun;Maas;3;Ouder;teun.maas(at)example.org;;",
    )
    response = upload(admin_client, data)
    assert response.status_code == 422
    text = text_of(response)
    assert "Er is niets geïmporteerd." in text
    assert "Regel 3: De achternaam ontbreekt." in text
    assert "Regel 4: Leerlingnummer 1001 staat ook op regel 2." in text
    assert "Regel 5: Onbekende groep ‘Groep 11’" in text
    assert ("Regel 6: Het e-mailadres van ouder 1 (juf.anna@example.org) hoort bij een "
            "medewerker") in text
    assert "Regel 7: Het e-mailadres van ouder 1 (teun.maas(at)example.org) is ongeldig." in text
    assert "Regel 2" not in text
    assert snapshot() == before


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "Het bestand is leeg."),
        (b"\r\n\r\n", "Het bestand is leeg."),
        (HEADER.encode() + b"\r\n", "alleen een kopregel"),
        (b"naam;klas\r\nSem;3\r\n", "Onbekende kolom ‘naam’"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "Is het misschien een Excel-bestand?"),
        (b"x" * 1_000_001, "Het bestand is te groot (meer dan 1 MB)."),
    ],
)
def test_unreadable_files_get_a_clear_message(app, admin_client, data, message):
    current_year()
    before = snapshot()
    response = upload(admin_client, data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert snapshot() == before


def test_no_file_chosen(app, admin_client):
    year = current_year()
    response = admin_client.post("/beheer/import", data={"year": str(year.id)})
    assert response.status_code == 422
    assert "Kies een CSV-bestand." in text_of(response)


def test_a_windows_1252_file_from_excel(app, admin_client):
    current_year()
    data = csv("1;Zoë;Öztürk;Groep 3;Renée Öztürk;renee@example.org;;", encoding="cp1252")
    import_file(admin_client, data)
    db.session.expire_all()
    student = db.session.scalar(select(Student))
    assert (student.first_name, student.last_name) == ("Zoë", "Öztürk")
    assert db.session.scalar(select(User.name).where(User.email == "renee@example.org")) == (
        "Renée Öztürk")


def test_a_comma_separated_file_with_unix_line_endings(app, admin_client):
    current_year()
    data = csv('1,"Jansen, Sem",x,3,,,,', header=HEADER.replace(";", ","), newline="\n")
    import_file(admin_client, data)
    assert db.session.scalar(select(Student.first_name)) == "Jansen, Sem"


def test_a_changed_database_between_preview_and_confirm_stops_the_import(app, admin_client):
    g3, g4 = make_group("Groep 3", grade=3), make_group("Groep 4", grade=4)
    sem = make_student(g3, "Sem", "Jansen", number="1")
    data = csv("1;Sem;Jansen;Groep 4;;;;", "2;Noor;Bakker;Groep 4;;;;")
    preview = upload(admin_client, data)
    fields = confirm_form(preview)
    # Meanwhile someone else moves Sem to Groep 4 already.
    sem.memberships[0].group = g4
    db.session.commit()
    before = snapshot()
    response = admin_client.post("/beheer/import/bevestigen", data=fields)
    assert response.status_code == 422
    text = text_of(response)
    assert "Er is intussen iets veranderd" in text
    assert "Ongewijzigd 1" in text
    assert snapshot() == before
    # The new preview carries the new plan: confirming it works.
    assert admin_client.post("/beheer/import/bevestigen",
                             data=confirm_form(response)).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Student)) == 2


def test_a_tampered_confirm_is_refused(app, admin_client):
    year = current_year()
    old = make_year("2025-2026")
    content = base64.b64encode(FAMILY).decode()
    digest = service.import_plan(FAMILY, year).digest()
    before = snapshot()
    for fields in (
        {"content": "not base64!", "year": str(year.id), "digest": digest},
        {"content": content, "year": str(old.id), "digest": digest},
        {"content": content, "year": str(year.id)},
        {"content": content, "year": str(year.id), "digest": "0" * 64},
    ):
        response = admin_client.post("/beheer/import/bevestigen", data=fields)
        assert response.status_code == 422
    assert snapshot() == before


def test_confirm_needs_the_csrf_token(app, browser):
    from .factories import make_admin

    current_year()
    client = browser(WTF_CSRF_ENABLED=True)
    login_as(client, make_admin())
    page = client.get("/beheer/import")
    token = csrf_token(page.get_data(as_text=True))
    preview = client.post("/beheer/import", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(FAMILY), "x.csv"),
        "year": str(current_year().id)})
    assert preview.status_code == 200
    fields = confirm_form(preview)
    assert client.post("/beheer/import/bevestigen", data=fields).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Student)) == 0
    fields["csrf_token"] = csrf_token(preview.get_data(as_text=True))
    assert client.post("/beheer/import/bevestigen", data=fields).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Student)) == 3


# -- size ------------------------------------------------------------------------------------


def big_file(rows: int, start: int = 50000) -> bytes:
    return csv(*[
        f"{start + i};Kind{i};Achternaam {i % 97};Groep {1 + i % 8};Ouder {i};"
        f"ouder{start + i // 2}@example.org;Tweede ouder {i};tweede{start + i}@example.org"
        for i in range(rows)
    ])


def test_a_5000_row_file_takes_a_bounded_number_of_queries(app):
    year = current_year()
    db.session.commit()
    small, big = big_file(20), big_file(5000, start=70000)

    def queries(data):
        with count_queries() as q:
            plan = service.import_plan(data, year)
            plan = service.apply_import(data, year, plan.digest())
        assert plan.ok
        return q

    few = queries(small)
    many = queries(big)
    # Inserts go in batches: a few more statements for 250 times the rows, never one per row.
    assert many.count <= few.count + 30, many
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Student)) == 5020
    assert db.session.scalar(select(func.count()).select_from(Guardianship)) == 5020 * 2
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 5020

    # The second time: five queries to load, nothing to write.
    with count_queries() as again:
        plan = service.import_plan(big, year)
        service.apply_import(big, year, plan.digest())
    assert plan.count("unchanged") == 5000
    assert again.count <= 12, again


def test_a_5000_row_file_through_the_pages(app, admin_client):
    current_year()
    data = big_file(5000)
    preview = upload(admin_client, data)
    assert preview.status_code == 200
    assert "Nieuwe leerlingen 5000" in text_of(preview)
    response = admin_client.post("/beheer/import/bevestigen", data=confirm_form(preview))
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Student)) == 5000


def test_a_student_created_by_someone_else_during_the_import_stops_it(app, monkeypatch):
    """The database refuses the duplicate; a fresh preview follows, nothing is half-written."""
    year = current_year()
    school = year.school
    db.session.commit()
    data = csv("1;Sem;Jansen;Groep 3;Eva;eva@example.org;;", "2;Noor;Bakker;Groep 3;;;;")
    digest = service.import_plan(data, year).digest()
    real = service._write_plan

    def racing(plan, existing, year, school_):
        # What a concurrent request commits just before our inserts.
        db.session.add(Student(school=school, student_number="2", first_name="N",
                               last_name="B"))
        db.session.flush()
        real(plan, existing, year, school_)

    monkeypatch.setattr(service, "_write_plan", racing)
    with pytest.raises(service.StalePlan) as stale:
        service.apply_import(data, year, digest)
    assert stale.value.plan.count("new") == 2
    assert snapshot()["students"] == [] and snapshot()["users"] == []


def test_a_file_just_under_the_size_limit_survives_the_round_trip(app, admin_client):
    """The confirm carries the file back in a form field; it must fit the form size limit."""
    current_year()
    rows, size = [], len(HEADER) + 2
    n = 0
    while True:
        line = (f"{80000 + n};{'Voornaam' * 9};{'Achternaam' * 11};Groep {1 + n % 8};"
                f"{'Ouder' * 22};ouder{n}@example.org;{'Ouder' * 22};tweede{n}@example.org")
        if size + len(line) + 2 > 1_000_000:
            break
        rows.append(line)
        size += len(line) + 2
        n += 1
    data = csv(*rows)
    assert 990_000 < len(data) <= 1_000_000
    response = import_file(admin_client, data)
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Student)) == len(rows)
