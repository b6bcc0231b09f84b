"""The school office (an admin) of one school of a board sees and changes only its own
school: its years, groups, children, staff, parents, log and reports. Another school's
ids are refused like missing ones, and nothing of that school changes (issue 22)."""

from __future__ import annotations

import base64
import io
import re
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from parro.extensions import db
from parro.models import (
    AuditEvent,
    Group,
    Guardianship,
    Membership,
    Report,
    Role,
    SchoolStaff,
    Student,
    TeacherAssignment,
    User,
)
from parro.moderation import service as moderation

from .factories import (
    also_works_at,
    current_year,
    make_admin,
    make_chat,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_other_school,
    make_post,
    make_school,
    make_student,
    make_teacher,
    make_year,
)
from .helpers import login_as, mails_to, text_of


@pytest.fixture
def board(app):
    """School A (the first) and school B, each with a group, a child, a teacher, a parent
    and an admin. B has an older year as well."""
    a = make_school("Basisschool De Akker")
    a_group = make_group("Groep 3 Akker", grade=3)
    b = make_other_school("Basisschool De Beuk")
    b_old = make_year("2025-2026", school=b)
    b_group = make_group("Groep 7 Beuk", grade=7, year=current_year(b))
    a_child = make_student(a_group, first_name="Sem", last_name="Akkerman", number="1001")
    b_child = make_student(b_group, first_name="Bram", last_name="Beukema", number="2002")
    world = SimpleNamespace(
        a=a, b=b, b_old=b_old, a_group=a_group, b_group=b_group, a_child=a_child,
        b_child=b_child,
        a_admin=make_admin(email="admin.a@example.org", name="Beheer Akker"),
        b_admin=make_admin(email="admin.b@example.org", name="Beheer Beuk", school=b),
        a_teacher=make_teacher(a_group, email="juf.a@example.org", name="Juf Anna"),
        b_teacher=make_teacher(b_group, email="meester.b@example.org", name="Meester Bob",
                               school=b),
        a_parent=make_guardian(child=a_child, email="ouder.a@example.org", name="Ouder Anja"),
        b_parent=make_guardian(child=b_child, email="ouder.b@example.org", name="Ouder Bert"),
    )
    db.session.commit()
    return world


def post(client, url, data=None, **kw):
    db.session.commit()  # end the test's own read: SQLite's write lock
    return client.post(url, data=data or {}, **kw)


def fresh():
    db.session.expire_all()


# -- 1. every list is the school's -------------------------------------------------------


def test_the_office_pages_list_only_the_schools_own(client, board):
    login_as(client, board.a_admin)
    pages = {url: text_of(client.get(url)) for url in (
        "/beheer/jaren", "/beheer/groepen", "/beheer/leerlingen", "/beheer/medewerkers",
        "/beheer/ouders", "/beheer/import", "/beheer/leerlingen/nieuw")}
    everything = " ".join(pages.values())
    assert "Groep 3 Akker" in pages["/beheer/groepen"]
    assert "Akkerman, Sem" in pages["/beheer/leerlingen"]
    assert "Juf Anna" in pages["/beheer/medewerkers"]
    assert "Ouder Anja" in pages["/beheer/ouders"]
    for theirs in ("2025-2026", "Groep 7 Beuk", "Bram", "Beukema", "Meester Bob",
                   "admin.b@example.org", "Ouder Bert", "ouder.b@example.org"):
        assert theirs not in everything, theirs
    # Searching by B's names finds nothing either.
    assert "Beukema" not in text_of(client.get("/beheer/leerlingen?q=Bram"))
    assert "Bert" not in text_of(client.get("/beheer/ouders?q=Bram"))
    assert "Bert" not in text_of(client.get("/beheer/ouders?q=ouder.b"))


def test_a_parent_of_both_schools_shows_only_this_schools_child(client, board):
    board.b_parent.guardianships.append(Guardianship(student=board.a_child))
    db.session.commit()
    login_as(client, board.a_admin)
    listed = text_of(client.get("/beheer/ouders?q=Bert"))
    page = text_of(client.get(f"/beheer/ouders/{board.b_parent.id}"))
    assert "Ouder Bert" in listed and "Sem Akkerman" in listed and "Bram" not in listed
    assert "Sem Akkerman" in page and "Bram" not in page and "Groep 7" not in page


def test_a_student_number_of_the_other_school_is_free_here(client, board):
    login_as(client, board.a_admin)
    response = post(client, "/beheer/leerlingen/nieuw", {
        "student_number": "2002", "first_name": "Nina", "last_name": "Nieuw", "group": ""})
    assert response.status_code == 303
    fresh()
    numbers = db.session.execute(select(Student.school_id, Student.first_name)
                                 .where(Student.student_number == "2002")).all()
    assert sorted(numbers) == sorted([(board.b.id, "Bram"), (board.a.id, "Nina")])
    # Within the school a number is still unique, and the message names only A's child.
    again = post(client, "/beheer/leerlingen/nieuw", {
        "student_number": "1001", "first_name": "X", "last_name": "Y", "group": ""})
    assert again.status_code == 422 and "Sem Akkerman" in text_of(again)


def test_the_new_year_form_checks_names_and_dates_against_this_school_only(client, board):
    login_as(client, board.a_admin)
    response = post(client, "/beheer/jaren/nieuw", {
        "name": "2025-2026", "starts_on": "2025-08-01", "ends_on": "2026-07-31"})
    assert response.status_code == 303  # B has a year with this name: A may have one too


# -- 2. another school's ids are refused, and nothing changes -----------------------------


def _other_school_requests(w):
    b_year, b_group, b_child = w.b_group.school_year_id, w.b_group.id, w.b_child.id
    teacher, parent = w.b_teacher.id, w.b_parent.id
    return [
        ("GET", f"/beheer/jaren/{b_year}", None),
        ("POST", f"/beheer/jaren/{w.b_old.id}",
         {"name": "Gestolen", "starts_on": "2020-08-01", "ends_on": "2021-07-31"}),
        ("POST", f"/beheer/jaren/{w.b_old.id}/huidig", {}),
        ("GET", f"/beheer/jaren/{b_year}/groepen/nieuw", None),
        ("POST", f"/beheer/jaren/{b_year}/groepen/nieuw", {"name": "Indringer", "grade": "4"}),
        ("GET", f"/beheer/groepen/{b_group}", None),
        ("POST", f"/beheer/groepen/{b_group}", {"name": "Gestolen", "grade": "7"}),
        ("POST", f"/beheer/groepen/{b_group}/leerkrachten", {"teacher": str(w.a_teacher.id)}),
        ("POST", f"/beheer/groepen/{b_group}/leerkrachten/{teacher}/ontkoppelen", {}),
        ("POST", f"/beheer/groepen/{b_group}/verwijderen", {}),
        ("GET", f"/beheer/leerlingen/{b_child}", None),
        ("POST", f"/beheer/leerlingen/{b_child}",
         {"student_number": "9", "first_name": "X", "last_name": "Y"}),
        ("POST", f"/beheer/leerlingen/{b_child}/groep", {"group": str(w.a_group.id)}),
        ("POST", f"/beheer/leerlingen/{b_child}/uitschrijven", {}),
        ("POST", f"/beheer/accounts/{teacher}/rol", {"role": "admin"}),
        ("POST", f"/beheer/accounts/{teacher}/uitschakelen", {}),
        ("POST", f"/beheer/accounts/{w.b_admin.id}/uitschakelen", {}),
        ("POST", f"/beheer/accounts/{parent}/uitschakelen", {}),
        ("POST", f"/beheer/accounts/{parent}/inschakelen", {}),
        ("POST", f"/beheer/accounts/{parent}/uitnodiging", {}),
        ("POST", f"/beheer/medewerkers/{teacher}/tweestapsverificatie-uitzetten", {}),
        ("POST", f"/beheer/medewerkers/{teacher}/schoolaccount-ontkoppelen", {}),
        ("GET", f"/beheer/ouders/{parent}", None),
        ("POST", f"/beheer/ouders/{parent}/gegevens-downloaden", {}),
        ("GET", f"/beheer/gezin-verwijderen?leerling={b_child}", None),
        ("GET", f"/beheer/gezin-verwijderen?ouder={parent}", None),
        ("POST", f"/beheer/gezin-verwijderen?leerling={b_child}", {"kies": "1",
                                                                    "kind": str(b_child)}),
        ("POST", f"/beheer/gezin-verwijderen?ouder={parent}", {"kies": "1", "kind": str(b_child)}),
        ("POST", f"/beheer/gezin-gegevens?leerling={b_child}", {}),
        ("POST", f"/beheer/gezin-gegevens?ouder={parent}", {}),
    ]


def _state_of_b(w):
    fresh()
    return {
        "years": db.session.execute(
            select(func.count()).where(Group.school_year_id == w.b_group.school_year_id)
        ).all(),
        "group": (w.b_group.name, w.b_group.grade),
        "child": (w.b_child.student_number, w.b_child.first_name, w.b_child.last_name),
        "memberships": db.session.execute(
            select(Membership.student_id, Membership.group_id).order_by(Membership.id)).all(),
        "assignments": db.session.execute(
            select(TeacherAssignment.user_id, TeacherAssignment.group_id)
            .order_by(TeacherAssignment.id)).all(),
        "people": db.session.execute(
            select(User.id, User.role, User.disabled).order_by(User.id)).all(),
        "current": (w.b_old.is_current, w.b_old.name),
        "students": db.session.scalar(select(func.count()).select_from(Student)),
        "staff": db.session.execute(select(SchoolStaff.user_id, SchoolStaff.school_id)
                                    .order_by(SchoolStaff.id)).all(),
        "mail": len(mails_to("ouder.b@example.org")),
    }


def test_ids_of_the_other_school_are_refused_like_missing_ones(client, board):
    before = _state_of_b(board)
    login_as(client, board.a_admin)
    for method, url, data in _other_school_requests(board):
        db.session.commit()
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
    assert _state_of_b(board) == before


def test_the_import_refuses_a_year_of_the_other_school(client, board):
    login_as(client, board.a_admin)
    data = b"leerlingnummer;voornaam;achternaam;groep\r\n3003;Ida;Indringer;Groep 7 Beuk\r\n"
    response = post(client, "/beheer/import", {
        "file": (io.BytesIO(data), "l.csv"), "year": str(board.b_group.school_year_id)},
        content_type="multipart/form-data")
    assert response.status_code == 422
    confirm = post(client, "/beheer/import/bevestigen", {
        "content": base64.b64encode(data).decode(), "year": str(board.b_group.school_year_id),
        "digest": "x"})
    assert confirm.status_code == 422
    fresh()
    assert db.session.scalar(select(Student).where(Student.student_number == "3003")) is None


def test_the_other_schools_staff_cannot_be_assigned_to_a_group(client, board):
    login_as(client, board.a_admin)
    page = text_of(client.get(f"/beheer/groepen/{board.a_group.id}"))
    assert "Meester Bob" not in page
    response = post(client, f"/beheer/groepen/{board.a_group.id}/leerkrachten",
                    {"teacher": str(board.b_teacher.id)})
    assert response.status_code == 422
    fresh()
    assert db.session.scalar(select(TeacherAssignment).where(
        TeacherAssignment.user_id == board.b_teacher.id,
        TeacherAssignment.group_id == board.a_group.id)) is None


# -- the audit log -------------------------------------------------------------------------


def test_each_office_reads_its_own_log(client, board):
    login_as(client, board.a_admin)
    post(client, f"/beheer/groepen/{board.a_group.id}", {"name": "Groep 3A Akker", "grade": "3"})
    post(client, f"/beheer/leerlingen/{board.a_child.id}/uitschrijven", {})
    login_as(client, board.b_admin)
    post(client, f"/beheer/leerlingen/{board.b_child.id}/uitschrijven", {})
    fresh()
    schools = dict(db.session.execute(
        select(AuditEvent.summary, AuditEvent.school_id)
        .where(AuditEvent.action == "group_change")).all())
    assert schools == {"Sem Akkerman uit Groep 3A Akker gehaald (2026-2027)": board.a.id,
                       "Bram Beukema uit Groep 7 Beuk gehaald (2026-2027)": board.b.id}

    login_as(client, board.a_admin)
    client.get("/beheer/")  # the messages shown after the actions above
    log = text_of(client.get("/beheer/logboek"))
    assert "Sem Akkerman" in log and "Bram" not in log
    login_as(client, board.b_admin)
    log = text_of(client.get("/beheer/logboek?wie=Akkerman"))
    assert "Akkerman" not in log.replace("wie=Akkerman", "")


def test_a_login_is_logged_at_the_school_of_the_account(client, board):
    from .factories import PASSWORD

    post(client, "/login", {"email": "meester.b@example.org", "password": "fout"})
    post(client, "/login", {"email": "meester.b@example.org", "password": PASSWORD})
    fresh()
    assert db.session.scalars(select(AuditEvent.school_id).where(
        AuditEvent.action.in_(["login", "login_failed"]))).all() == [board.b.id, board.b.id]


# -- moderation ------------------------------------------------------------------------------


def test_each_office_handles_the_reports_about_its_own_school(client, board):
    b_post = make_post(board.b_group, author=board.b_teacher, title="Uitje Beuk",
                       body="Bericht van de Beuk")
    a_chat = make_kindgesprek(board.a_child)
    a_message = make_message(a_chat, board.a_parent, "Bericht van de Akker")
    db.session.commit()
    b_report = moderation.report_item(board.b_parent, b_post, "Niet netjes")
    a_report = moderation.report_item(board.a_teacher, a_message, "Ook niet netjes")
    b_id, a_id = b_report.id, a_report.id

    login_as(client, board.a_admin)
    queue = text_of(client.get("/beheer/meldingen"))
    assert "Bericht van de Akker" in queue and "Uitje Beuk" not in queue
    for url in (f"/beheer/meldingen/{b_id}", f"/beheer/meldingen/{b_id}/weer-tonen"):
        response = post(client, url, {"decision": "hide", "answer": "Weg", "author_answer": "Weg"})
        assert response.status_code == 404, url
    fresh()
    assert db.session.get(Report, b_id).is_open

    login_as(client, board.b_admin)
    queue = text_of(client.get("/beheer/meldingen"))
    assert "Uitje Beuk" in queue and "Bericht van de Akker" not in queue
    assert post(client, f"/beheer/meldingen/{a_id}",
                {"decision": "dismiss", "answer": "Prima"}).status_code == 404
    assert post(client, f"/beheer/meldingen/{b_id}", {
        "decision": "hide", "answer": "Verborgen", "author_answer": "Niet netjes"},
    ).status_code == 303
    fresh()
    assert not db.session.get(Report, b_id).is_open and db.session.get(Report, a_id).is_open
    assert "Basisschool De Beuk" in mails_to("ouder.b@example.org")[-1].body_text


def test_the_overview_counts_only_the_schools_open_reports(client, board):
    b_post = make_post(board.b_group, author=board.b_teacher, title="Uitje Beuk")
    db.session.commit()
    moderation.report_item(board.b_parent, b_post, "Niet netjes")
    count = re.compile(r'Gemelde berichten</a> <span class="nav-count">1</span>')
    login_as(client, board.a_admin)
    assert not count.search(client.get("/beheer/").text)
    login_as(client, board.b_admin)
    assert count.search(client.get("/beheer/").text)


# -- 3. staff of several schools --------------------------------------------------------------


def _staff_schools(user_id) -> set[int]:
    fresh()
    return set(db.session.scalars(select(SchoolStaff.school_id)
                                  .where(SchoolStaff.user_id == user_id)))


def test_inviting_a_colleague_of_the_other_school_adds_them_here(client, board):
    login_as(client, board.a_admin)
    response = post(client, "/beheer/medewerkers", {
        "name": "Bob", "email": "Meester.B@Example.org", "role": "teacher", "locale": "nl"})
    assert response.status_code == 303
    page = text_of(client.get("/beheer/medewerkers"))
    assert "Meester Bob werkt nu ook bij deze school" in page and "Meester Bob" in page
    assert _staff_schools(board.b_teacher.id) == {board.a.id, board.b.id}
    assert mails_to("meester.b@example.org") == []  # one account, no second invitation
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email == "meester.b@example.org")) == 1
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.target_id == board.b_teacher.id, AuditEvent.action == "role_change")).one()
    assert event.school_id == board.a.id and "werkt nu ook bij" in event.summary
    # A's office may now assign him to its groups.
    assert "Meester Bob" in text_of(client.get(f"/beheer/groepen/{board.a_group.id}"))
    # Inviting him again is the old "account exists".
    again = post(client, "/beheer/medewerkers", {
        "name": "Bob", "email": "meester.b@example.org", "role": "teacher", "locale": "nl"})
    assert again.status_code == 422 and "Er is al een account" in text_of(again)


def test_a_parents_address_is_refused_as_staff_with_a_clear_message(client, board):
    login_as(client, board.a_admin)
    for email in ("ouder.b@example.org", "Ouder.A@example.org"):
        response = post(client, "/beheer/medewerkers", {
            "name": "X", "email": email, "role": "teacher", "locale": "nl"})
        assert response.status_code == 422
        assert "Dit e-mailadres hoort bij een ouder of verzorger" in text_of(response)
    assert _staff_schools(board.b_parent.id) == set()


def test_removing_a_colleague_of_two_schools_takes_them_off_this_school_only(client, board):
    teacher = board.b_teacher
    also_works_at(board.a, teacher, groups=[board.a_group])
    chat = make_chat(teacher, [board.a_parent], title="Schoolreis Akker")  # at A
    db.session.commit()
    chat_id = chat.id
    login_as(client, teacher, school=board.a)
    login_as(client, board.a_admin)
    staff = client.get("/beheer/medewerkers").text
    assert "Weghalen bij deze school" in staff

    response = post(client, f"/beheer/accounts/{teacher.id}/uitschakelen")

    assert response.status_code == 303
    page = text_of(client.get("/beheer/medewerkers"))
    assert "Meester Bob werkt niet meer bij deze school" in page
    assert "meester.b@example.org" not in page.split("werkt niet meer")[1]
    assert _staff_schools(teacher.id) == {board.b.id}
    user = db.session.get(User, teacher.id)
    assert not user.disabled
    assert {a.group_id for a in user.teacher_assignments} == {board.b_group.id}
    # B's office still has him, with his group.
    login_as(client, board.b_admin)
    assert "Groep 7 Beuk" in text_of(client.get("/beheer/medewerkers"))
    # He works at B as before, and A's chats are no longer his; A's parent keeps the chat.
    login_as(client, teacher)
    assert "Groep 7 Beuk" in text_of(client.get("/groepen/"))
    assert "Akker" not in text_of(client.get("/gesprekken/"))
    assert client.get(f"/gesprekken/{chat_id}").status_code == 403
    login_as(client, board.a_parent)
    assert client.get(f"/gesprekken/{chat_id}").status_code == 200


def test_removing_a_teacher_of_one_school_disables_the_account_as_before(client, board):
    login_as(client, board.a_admin)
    assert "Weghalen bij deze school" not in client.get("/beheer/medewerkers").text
    response = post(client, f"/beheer/accounts/{board.a_teacher.id}/uitschakelen")
    assert response.status_code == 303
    fresh()
    assert db.session.get(User, board.a_teacher.id).disabled
    assert _staff_schools(board.a_teacher.id) == {board.a.id}  # still listed, to enable again
    assert post(client, f"/beheer/accounts/{board.a_teacher.id}/inschakelen").status_code == 303


def test_a_role_change_says_it_applies_at_every_school(client, board):
    also_works_at(board.a, board.b_teacher)
    db.session.commit()
    login_as(client, board.a_admin)
    post(client, f"/beheer/accounts/{board.b_teacher.id}/rol", {"role": "admin"})
    page = text_of(client.get("/beheer/medewerkers"))
    assert ("Meester Bob hoort ook bij Basisschool De Beuk. Dit geldt voor het hele account, "
            "dus ook daar.") in page
    fresh()
    assert db.session.get(User, board.b_teacher.id).role == Role.ADMIN


# -- 3b. someone of two schools: each office decides about its own tie only ------------------


def _parent_of_both(w):
    """Ouder Bert, B's parent, also has Lieke at A: at each school a post, a kindgesprek; at
    A also a chat a teacher started with him and his letter to the office."""
    from parro.chat.service import write_to_office

    lieke = make_student(w.a_group, first_name="Lieke", last_name="Beukema", number="1002")
    w.b_parent.guardianships.append(Guardianship(student=lieke))
    make_post(w.a_group, author=w.a_teacher, body="Nieuws van De Akker")
    make_post(w.b_group, author=w.b_teacher, body="Nieuws van De Beuk")
    make_message(make_kindgesprek(lieke), w.a_teacher, "Lieke deed goed mee")
    make_message(make_kindgesprek(w.b_child), w.b_teacher, "Bram deed goed mee")
    chat = make_chat(w.a_teacher, [w.b_parent], title="Schoolreis Akker")
    make_message(chat, w.a_teacher, "Wie rijdt er mee?")
    db.session.commit()
    office = write_to_office(w.b_parent, None, "Vraag aan De Akker")
    assert office.school_id == w.a.id
    return SimpleNamespace(lieke=lieke.id, chat=chat.id, office=office.id)


A_THINGS = ("Akker", "Lieke", "Wie rijdt er mee")


def test_taking_a_parent_of_two_schools_off_one_leaves_them_at_the_other(client, make_client,
                                                                          board):
    """A's office takes Bert off A: he keeps his account and everything of B, and nothing
    of A is his any more, even in a browser that was working in A."""
    at_a = _parent_of_both(board)
    parent = board.b_parent.id
    phone = make_client()
    login_as(phone, board.b_parent, school=board.a)
    assert "Nieuws van De Akker" in text_of(phone.get("/groepen/"))
    login_as(client, board.a_admin)
    page = text_of(client.get(f"/beheer/ouders/{parent}"))
    assert "Ouder Bert heeft ook kinderen op Basisschool De Beuk, met hetzelfde account" in page
    assert "Weghalen bij deze school" in page and "Uitschakelen" not in page

    response = post(client, f"/beheer/accounts/{parent}/uitschakelen")

    assert response.status_code == 303 and response.location.endswith("/beheer/ouders")
    listed = text_of(client.get("/beheer/ouders"))
    assert ("Ouder Bert is weggehaald bij deze school: niet meer gekoppeld aan de kinderen "
            "hier, niet meer in de gesprekken van deze school. Het account blijft voor "
            "Basisschool De Beuk.") in listed
    assert "ouder.b@example.org" not in listed
    assert client.get(f"/beheer/ouders/{parent}").status_code == 404
    assert "ouder.b@example.org" not in text_of(client.get(f"/beheer/leerlingen/{at_a.lieke}"))
    fresh()
    assert not db.session.get(User, parent).disabled
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.target_id == parent,
                                                        AuditEvent.action == "role_change")).one()
    assert event.school_id == board.a.id and "Lieke Beukema" in event.summary

    # Bert, in the browser that worked in A: B's child, feed and chats; nothing of A.
    pages = {url: text_of(phone.get(url)) for url in (
        "/groepen/", "/gesprekken/", "/activiteiten/", "/kalender/", "/absentie/",
        "/privacy/keuzes", "/account")}
    assert "Nieuws van De Beuk" in pages["/groepen/"]
    assert "Bram" in pages["/gesprekken/"]
    for url, text in pages.items():
        assert "Basisschool De Beuk" in text, url
        for theirs in A_THINGS:
            assert theirs not in text, (url, theirs)
    for conversation in (at_a.chat, at_a.office):
        assert phone.get(f"/gesprekken/{conversation}").status_code == 403
    # A's office still has his letter; B's office still has him, active.
    assert "Vraag aan De Akker" in text_of(client.get(f"/gesprekken/{at_a.office}"))
    login_as(client, board.b_admin)
    page = text_of(client.get(f"/beheer/ouders/{parent}"))
    assert "actief" in page and "Bram Beukema" in page and "uitgeschakeld" not in page
    assert "andere school" not in page and "Akker" not in page


def test_both_offices_taking_a_parent_off_at_once_leave_no_account_linked_nowhere(
        make_client, board):
    """A's and B's offices take Bert off at the same moment: one of them was his last
    school, so the account ends disabled, never working but tied to no school."""
    _parent_of_both(board)
    parent = board.b_parent.id
    offices = []
    for admin in (board.a_admin, board.b_admin):
        office = make_client()
        login_as(office, admin)
        offices.append(office)
    db.session.commit()
    barrier = threading.Barrier(2)
    statuses = [None, None]

    def take_off(i):
        barrier.wait()
        statuses[i] = offices[i].post(f"/beheer/accounts/{parent}/uitschakelen").status_code

    threads = [threading.Thread(target=take_off, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303, 303]
    fresh()
    assert db.session.get(User, parent).disabled
    assert db.session.scalar(select(func.count()).select_from(Guardianship)
                             .where(Guardianship.user_id == parent)) == 1


def test_a_parent_of_this_school_alone_is_disabled_as_before(client, make_client, board):
    phone = make_client()
    login_as(phone, board.a_parent)
    login_as(client, board.a_admin)
    assert "Uitschakelen" in text_of(client.get(f"/beheer/ouders/{board.a_parent.id}"))
    post(client, f"/beheer/accounts/{board.a_parent.id}/uitschakelen")
    page = text_of(client.get(f"/beheer/ouders/{board.a_parent.id}"))
    assert "Het account van Ouder Anja is uitgeschakeld en overal uitgelogd." in page
    assert "uitgeschakeld" in page and "Inschakelen" in page
    assert phone.get("/groepen/").status_code == 302  # logged out


def test_changes_to_a_shared_account_count_at_both_schools_and_say_so(client, board):
    """The account's own things (a fresh invitation, enabling it) are one account's: A's
    office may change them, in A's log, and is told that they count at B too."""
    board.b_parent.guardianships.append(Guardianship(student=board.a_child))
    board.b_parent.active = False
    db.session.commit()
    login_as(client, board.a_admin)
    told = ("Ouder Bert hoort ook bij Basisschool De Beuk. Dit geldt voor het hele account, "
            "dus ook daar.")

    post(client, f"/beheer/accounts/{board.b_parent.id}/uitnodiging")
    assert told in text_of(client.get(f"/beheer/ouders/{board.b_parent.id}"))
    assert len(mails_to("ouder.b@example.org")) == 1

    # An account disabled before it was shared (say, before this rule): either office may
    # enable it, and it then works at both.
    board.b_parent.disabled = True
    db.session.commit()
    post(client, f"/beheer/accounts/{board.b_parent.id}/inschakelen")
    page = text_of(client.get(f"/beheer/ouders/{board.b_parent.id}"))
    assert "Het account van Ouder Bert is weer ingeschakeld." in page and told in page
    fresh()
    assert not db.session.get(User, board.b_parent.id).disabled
    logged = db.session.scalars(select(AuditEvent.school_id).where(
        AuditEvent.target_id == board.b_parent.id)).all()
    assert logged and set(logged) == {board.a.id}


# -- 4. the CSV import and the rollover, per school ------------------------------------------

HEADER = ("leerlingnummer;voornaam;achternaam;groep;ouder1_naam;ouder1_email;ouder2_naam;"
          "ouder2_email")


def _import(client, year_id, *lines):
    data = "\r\n".join([HEADER, *lines, ""]).encode()
    preview = post(client, "/beheer/import", {"file": (io.BytesIO(data), "l.csv"),
                                              "year": str(year_id)},
                   content_type="multipart/form-data")
    assert preview.status_code == 200, text_of(preview)
    fields = dict(re.findall(r'<input id="(content|year|digest)" name="\1" type="hidden" '
                             r'value="([^"]*)"', preview.get_data(as_text=True)))
    return preview, post(client, "/beheer/import/bevestigen", fields)


def test_a_csv_naming_the_other_schools_student_number_makes_this_schools_child(client, board):
    login_as(client, board.a_admin)
    preview, done = _import(client, current_year(board.a).id,
                            "2002;Ida;Akkerman;Groep 3 Akker;Ouder Bert;Ouder.B@Example.org;;",
                            "1001;Sem;Akkerman-Jansen;Groep 3 Akker;;;;")
    assert "Bram" not in text_of(preview) and "Beukema" not in text_of(preview)
    assert done.status_code == 303
    fresh()
    ida = db.session.scalars(select(Student).where(Student.first_name == "Ida")).one()
    bram = db.session.get(Student, board.b_child.id)
    assert (ida.school_id, ida.student_number) == (board.a.id, "2002")
    assert (bram.first_name, bram.last_name, bram.school_id) == ("Bram", "Beukema", board.b.id)
    assert [m.group_id for m in bram.memberships] == [board.b_group.id]
    assert db.session.get(Student, board.a_child.id).last_name == "Akkerman-Jansen"
    # B's parent, written with capitals, is linked to Ida: one account for both children.
    assert db.session.scalar(select(func.count()).select_from(User).where(
        func.lower(User.email) == "ouder.b@example.org")) == 1
    assert {gs.student_id for gs in db.session.get(User, board.b_parent.id).guardianships} \
        == {board.b_child.id, ida.id}


def test_the_rollover_moves_only_this_schools_groups(client, board):
    login_as(client, board.a_admin)
    response = post(client, "/beheer/overgang/bevestigen", {
        "name": "2027-2028", "starts_on": "2027-08-01", "ends_on": "2028-07-31",
        "mode": "move", "make_current": "y", "early": "y"})
    assert response.status_code == 303
    fresh()
    from parro.models import SchoolYear

    years = db.session.execute(select(SchoolYear.school_id, SchoolYear.name, SchoolYear.is_current)
                               .order_by(SchoolYear.school_id, SchoolYear.name)).all()
    assert years == [(board.a.id, "2026-2027", False), (board.a.id, "2027-2028", True),
                     (board.b.id, "2025-2026", False), (board.b.id, "2026-2027", True)]
    b_groups = db.session.scalars(select(Group.name).join(SchoolYear).where(
        SchoolYear.school_id == board.b.id)).all()
    assert b_groups == ["Groep 7 Beuk"]
    # B's office still works in its own current year.
    login_as(client, board.b_admin)
    assert "Bram" in text_of(client.get("/beheer/leerlingen"))


# -- 5. deleting a family, per school --------------------------------------------------------


def test_deleting_a_family_at_one_school_keeps_the_parent_and_the_child_of_the_other(
        client, board):
    lieke = make_student(board.a_group, first_name="Lieke", last_name="Beukema")
    board.b_parent.guardianships.append(Guardianship(student=lieke))
    b_chat = make_kindgesprek(board.b_child)
    make_message(b_chat, board.b_parent, "Bram is morgen ziek")
    a_chat = make_kindgesprek(lieke)
    make_message(a_chat, board.b_parent, "Lieke gaat verhuizen")
    trip = make_chat(board.a_teacher, [board.b_parent], title="Schoolreis Akker")
    db.session.commit()
    from parro.chat.service import write_to_office

    office = write_to_office(board.b_parent, None, "Wij verhuizen")
    lieke_id, b_chat_id, a_chat_id, trip_id = lieke.id, b_chat.id, a_chat.id, trip.id
    login_as(client, board.a_admin)

    plan = text_of(client.get(
        f"/beheer/gezin-verwijderen?ouder={board.b_parent.id}&kies=1&kind={lieke_id}"))
    assert "Lieke" in plan and "Bram" not in plan
    assert "een kind op een andere school van het bestuur" in plan
    response = post(client, f"/beheer/gezin-verwijderen?ouder={board.b_parent.id}",
                    {"kies": "1", "kind": [str(lieke_id), str(board.b_child.id)]})
    assert response.status_code == 303

    fresh()
    from parro.models import Conversation

    assert db.session.get(Student, lieke_id) is None
    assert db.session.get(Conversation, a_chat_id) is None
    parent = db.session.get(User, board.b_parent.id)
    assert parent is not None and not parent.disabled
    assert [gs.student_id for gs in parent.guardianships] == [board.b_child.id]
    assert db.session.get(Student, board.b_child.id) is not None
    assert db.session.get(Conversation, b_chat_id) is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "deletion")).one()
    assert event.school_id == board.a.id
    # Nothing of A is his any more: not a chat a teacher there started with him, nor his
    # letter to its office (which A's office keeps).
    office_id = office.id
    login_as(client, board.b_parent)
    assert "Akker" not in text_of(client.get("/gesprekken/"))
    assert client.get(f"/gesprekken/{trip_id}").status_code == 403
    assert client.get(f"/gesprekken/{office_id}").status_code == 403
    assert "Bram" in text_of(client.get(f"/gesprekken/{b_chat_id}"))


# -- exports ---------------------------------------------------------------------------------


def _zip_documents(response) -> dict:
    import json
    import zipfile

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    return {name.rsplit("/", 1)[-1]: json.loads(archive.read(name))
            for name in archive.namelist() if name.endswith(".json")}


def test_the_offices_download_of_a_parent_of_two_schools_holds_only_its_own(client, board):
    lieke = make_student(board.a_group, first_name="Lieke", last_name="Beukema")
    board.b_parent.guardianships.append(Guardianship(student=lieke))
    make_message(make_kindgesprek(board.b_child), board.b_parent, "Bram is morgen ziek")
    make_message(make_kindgesprek(lieke), board.b_parent, "Lieke gaat verhuizen")
    db.session.commit()
    login_as(client, board.a_admin)

    documents = _zip_documents(
        post(client, f"/beheer/ouders/{board.b_parent.id}/gegevens-downloaden"))
    assert [c["voornaam"] for c in documents["kinderen.json"]] == ["Lieke"]
    assert [m["tekst"] for m in documents["berichten.json"]["verstuurd"]] \
        == ["Lieke gaat verhuizen"]
    family = _zip_documents(post(client, f"/beheer/gezin-gegevens?ouder={board.b_parent.id}"))
    assert [c["voornaam"] for c in family["kinderen.json"]] == ["Lieke"]

    # The parent's own download holds both children.
    login_as(client, board.b_parent)
    own = _zip_documents(post(client, "/account/gegevens-downloaden"))
    assert sorted(c["voornaam"] for c in own["kinderen.json"]) == ["Bram", "Lieke"]
    assert sorted(m["tekst"] for m in own["berichten.json"]["verstuurd"]) \
        == ["Bram is morgen ziek", "Lieke gaat verhuizen"]


# -- retention, per school ------------------------------------------------------------------


def test_retention_goes_by_each_schools_own_years(app, board):
    from datetime import UTC, datetime

    from parro import audit, clock
    from parro.models import AbsenceReport, Message, Post

    from .factories import make_absence

    old = datetime(2024, 3, 10, 10, 0, tzinfo=UTC)
    make_year("2025-2026")  # A keeps the last three years; B has two years only
    make_year("2024-2025")
    a_old_group = make_group("Groep 2 Akker (oud)", grade=2, year=make_year("2023-2024"))
    clock.set_now(old)
    try:
        make_post(a_old_group, author=board.a_teacher, title="Oud Akker")
        make_post(board.b_group, author=board.b_teacher, title="Oud Beuk")
        make_message(make_kindgesprek(board.a_child), board.a_parent, "oud bericht Akker")
        make_message(make_kindgesprek(board.b_child), board.b_parent, "oud bericht Beuk")
        make_absence(board.a_child, day=old.date(), by=board.a_parent)
        make_absence(board.b_child, day=old.date(), by=board.b_parent)
        audit.record(audit.LOGIN, summary="oud Akker", school_id=board.a.id)
        audit.record(audit.LOGIN, summary="oud Beuk", school_id=board.b.id)
        db.session.commit()
    finally:
        clock.set_now(datetime(2027, 1, 15, 10, 0, tzinfo=UTC))

    result = app.test_cli_runner().invoke(args=["retention", "--years", "3"])

    assert result.exit_code == 0, result.output
    assert "Basisschool De Akker: keeping 2024-2025, 2025-2026, 2026-2027" in result.output
    assert "Basisschool De Beuk: fewer than 3 school year(s)" in result.output
    fresh()
    assert db.session.scalars(select(Post.title)).all() == ["Oud Beuk"]
    assert db.session.scalars(select(Message.body)).all() == ["oud bericht Beuk"]
    assert db.session.scalars(select(AbsenceReport.student_id)).all() == [board.b_child.id]
    assert "oud Beuk" in db.session.scalars(select(AuditEvent.summary)).all()
    assert "oud Akker" not in db.session.scalars(select(AuditEvent.summary)).all()


def test_inviting_every_parent_without_an_account_invites_this_schools_only(client, board):
    from parro.models import Invitation

    for parent in (board.a_parent, board.b_parent):
        parent.active, parent.password_hash = False, None
    db.session.commit()
    login_as(client, board.a_admin)
    assert "1 ouder heeft nog nooit een uitnodiging gekregen" in text_of(
        client.get("/beheer/ouders"))
    assert post(client, "/beheer/ouders/uitnodigen").status_code == 303
    fresh()
    invited = db.session.scalars(select(Invitation.user_id)).all()
    assert invited == [board.a_parent.id]
    assert len(mails_to("ouder.a@example.org")) == 1 and mails_to("ouder.b@example.org") == []


def test_an_invitation_to_a_school_names_that_school_and_is_in_its_log(app, board):
    from parro.auth import service

    service.invite_staff("nieuw.b@example.org", "Nieuwe Beheerder", Role.ADMIN, None,
                         school=board.b)
    [mail] = mails_to("nieuw.b@example.org")
    assert "Basisschool De Beuk" in mail.subject
    fresh()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "invitation")).one()
    assert event.school_id == board.b.id


def test_taking_someone_off_a_group_they_are_not_in_is_not_found(client, board):
    login_as(client, board.a_admin)
    response = post(client, f"/beheer/groepen/{board.a_group.id}/leerkrachten/"
                            f"{board.b_teacher.id}/ontkoppelen")
    assert response.status_code == 404
    assert "Meester Bob" not in text_of(client.get(f"/beheer/groepen/{board.a_group.id}"))
    assert post(client, f"/beheer/groepen/{board.a_group.id}/leerkrachten/"
                        f"{board.a_teacher.id}/ontkoppelen").status_code == 303


# -- a teacher taken off a school keeps nothing of it (not even what they wrote there) ----


def _kept_photo(user) -> str:
    """A photo kept for `user` from a post the server refused (media.pending)."""
    from parro import media
    from parro.models import PendingUpload

    key = media.new_key()
    path = media.path_for(key, "thumb")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xd9")
    db.session.add(PendingUpload(uploader_id=user.id, key=key, kind=media.PHOTO,
                                 filename="foto.jpg", content_type="image/jpeg", size=4))
    return key


def _own_urls(post) -> list[str]:
    """What the author of `post` opens of it: the post (with who read and liked it), its
    photo in the viewer, saved, and every stored size of it, and the edit form."""
    photo = post.photos[0]
    return [f"/groepen/bericht/{post.id}", f"/groepen/bericht/{post.id}/foto/{photo.id}",
            f"/groepen/bericht/{post.id}/foto/{photo.id}/opslaan",
            f"/groepen/bericht/{post.id}/bewerken",
            *(f"/media/{photo.key}/{variant}" for variant in ("klein", "groot", "groot.webp"))]


def test_a_teacher_taken_off_a_school_is_refused_what_they_wrote_there(client, board):
    """Meester Bob works at A and B; A's office takes him off A. Logged in (now in B), his
    post at A with a photo of a child there, its photo's every size, the read list, the
    edit form and an edit, its deletion, his kept photo and his message in a chat at A are
    all refused and nothing changes; his post at B works as before."""
    from parro.models import Message, Post

    teacher = board.b_teacher
    db.session.add(SchoolStaff(user_id=teacher.id, school_id=board.a.id))
    db.session.add(TeacherAssignment(user_id=teacher.id, group_id=board.a_group.id))
    board.a.photo_download = board.b.photo_download = True
    db.session.flush()
    at_a = make_post(board.a_group, author=teacher, photos=1, title="Uitje Akker")
    at_b = make_post(board.b_group, author=teacher, photos=1, title="Uitje Beuk")
    kept = _kept_photo(teacher)
    chat = make_chat(teacher, [board.a_parent], title="Schoolreis Akker")  # at A
    message = make_message(chat, teacher, "Tot morgen")
    db.session.commit()
    a_urls, b_urls = _own_urls(at_a), _own_urls(at_b)
    edit_message = f"/gesprekken/{chat.id}/berichten/{message.id}/bewerken"
    login_as(client, teacher, school=board.a)  # working in A
    for url in [*a_urls, f"/media/bewaard/{kept}/klein", edit_message]:
        assert client.get(url).status_code == 200, url
    login_as(client, board.a_admin)
    assert post(client, f"/beheer/accounts/{teacher.id}/uitschakelen").status_code == 303

    login_as(client, teacher, school=board.b)
    for url in [*a_urls, f"/media/bewaard/{kept}/klein", edit_message]:
        assert client.get(url).status_code in (403, 404), url
    refused = [
        post(client, f"/groepen/bericht/{at_a.id}/bewerken",
             {"title": "Nieuw", "body": "Veranderd.", "groups": [str(board.b_group.id)],
              "groepen-getoond": "1"}),
        post(client, f"/groepen/bericht/{at_a.id}/verwijderen"),
        post(client, edit_message, {"body": "Veranderd"}),
        post(client, f"/gesprekken/{chat.id}/berichten/{message.id}/verwijderen"),
    ]
    assert [r.status_code in (403, 404) for r in refused] == [True] * 4, refused
    fresh()
    kept_post = db.session.get(Post, at_a.id)
    assert (kept_post.title, kept_post.body, kept_post.edited_at) == (
        "Uitje Akker", "Vandaag in de klas.", None)
    assert {g.id for g in kept_post.group_list} == {board.a_group.id}
    assert db.session.get(Message, message.id).body == "Tot morgen"
    # At B, his own post works as before: read list, photos, the edit form and an edit.
    for url in b_urls:
        assert client.get(url).status_code == 200, url
    text = text_of(client.get(f"/groepen/bericht/{at_b.id}"))
    assert "Uitje Beuk" in text and "Uitje Akker" not in text
    edited = post(client, f"/groepen/bericht/{at_b.id}/bewerken",
                  {"title": "Uitje Beuk", "body": "Aangepast.", "groups": [
                      str(board.b_group.id)], "groepen-getoond": "1"})
    assert edited.status_code == 303, text_of(edited)
    fresh()
    assert db.session.get(Post, at_b.id).body == "Aangepast."


def test_a_teacher_of_two_schools_edits_their_posts_in_the_school_they_work_in(client, board):
    """Still at both schools: working in B, their post at A is A's to open (as the groups
    of A are); switched to A, it is theirs again."""
    teacher = board.b_teacher
    db.session.add(SchoolStaff(user_id=teacher.id, school_id=board.a.id))
    db.session.add(TeacherAssignment(user_id=teacher.id, group_id=board.a_group.id))
    board.a.photo_download = True
    db.session.flush()
    at_a = make_post(board.a_group, author=teacher, photos=1)
    db.session.commit()
    login_as(client, teacher, school=board.b)
    assert client.get(f"/groepen/bericht/{at_a.id}/bewerken").status_code in (403, 404)
    assert post(client, "/scholen", {"school_id": str(board.a.id)}).status_code == 303
    for url in _own_urls(at_a):
        assert client.get(url).status_code == 200, url


def test_a_disabled_teacher_is_logged_out_and_refused_everything(client, make_client, board):
    """At their last school the account is disabled: every session of theirs ends (a
    logged-in phone too), and a session cannot come back."""
    from parro.models import UserSession

    teacher = board.a_teacher
    at_a = make_post(board.a_group, author=teacher, photos=1)
    db.session.commit()
    phone = make_client()
    login_as(phone, teacher)
    login_as(client, teacher)
    assert client.get(f"/groepen/bericht/{at_a.id}").status_code == 200
    login_as(client, board.a_admin)
    response = post(client, f"/beheer/accounts/{teacher.id}/uitschakelen")
    assert response.status_code == 303
    assert "overal uitgelogd" in text_of(client.get(response.headers["Location"]))
    assert db.session.scalar(select(func.count(UserSession.id)).where(
        UserSession.user_id == teacher.id)) == 0
    for url in _own_urls(at_a):
        assert phone.get(url).status_code in (302, 401), url
    login_as(phone, teacher)  # a session row made anyway: the loader refuses it
    assert phone.get(f"/groepen/bericht/{at_a.id}").status_code == 302
