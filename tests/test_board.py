"""The board admin: the board's schools with their figures, new schools, their admins,
and the commands that set a board up (flask school add / list, flask board-admin)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from parro.clock import now
from parro.extensions import db
from parro.models import (
    AbsenceReason,
    AuditEvent,
    OutboxMail,
    PushMessage,
    PushSubscription,
    Role,
    School,
    SchoolStaff,
    SchoolYear,
    User,
    UserSession,
)
from parro.security import hash_token, new_token

from .factories import (
    also_works_at,
    current_year,
    make_admin,
    make_board_admin,
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
)
from .helpers import activation_path, login_as, mails_to, text_of


def _count(model, *where) -> int:
    db.session.expire_all()
    n = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.commit()
    return n


def _mail(recipient, sent=False, failed=False, days_ago=0):
    moment = now() - timedelta(days=days_ago)
    db.session.add(OutboxMail(recipient=recipient, subject="Nieuw bericht", body_text="tekst",
                              created_at=moment, next_attempt_at=moment,
                              sent_at=moment if sent else None,
                              failed_at=moment if failed else None))


def _push(user, sent=False, failed=False):
    login = UserSession(token_hash=hash_token(new_token()), user_id=user.id)
    db.session.add(login)
    db.session.flush()
    device = PushSubscription(user_id=user.id, session_id=login.id,
                              endpoint=f"https://push.example.org/{new_token()}",
                              p256dh="B" + "A" * 86, auth="A" * 22)
    db.session.add(device)
    db.session.flush()
    db.session.add(PushMessage(subscription_id=device.id, category="group_posts",
                               payload={"title": "Groep 3", "body": "Geheime inhoud"},
                               sent_at=now() if sent else None,
                               failed_at=now() if failed else None))


@pytest.fixture
def board():
    """Two schools: De Test (a family with Sem, a teacher, an admin) and De Ander (a family
    with Noor, a family with children at both, an admin)."""
    first = make_school()
    other = make_other_school()
    group = make_group("Groep 3")
    other_group = make_group("Groep 4", grade=4, year=current_year(other))
    sem = make_student(group, first_name="Sem", last_name="Geheim")
    noor = make_student(other_group, first_name="Noor", last_name="Verborgen")
    both_a = make_student(group, first_name="Lotte")
    both_b = make_student(other_group, first_name="Daan")
    parent = make_guardian(child=sem, email="ouder.test@example.org")
    other_parent = make_guardian(child=noor, email="ouder.ander@example.org")
    make_guardian(children=[both_a, both_b], email="ouder.beide@example.org")
    make_guardian(child=sem, email="nog.niet@example.org", active=False, password=None)
    teacher = make_teacher(group, email="juf@example.org")
    admin = make_admin(email="directie.test@example.org", name="Directie Test")
    other_admin = make_admin(email="directie.ander@example.org", name="Directie Ander",
                             school=other)
    board_admin = make_board_admin()
    db.session.commit()
    return dict(first=first, other=other, group=group, sem=sem, parent=parent,
                other_parent=other_parent, teacher=teacher, admin=admin,
                other_admin=other_admin, board_admin=board_admin)


def _row(page_text: str, school: str) -> str:
    """The text of a school's row on the board page, up to the next school's."""
    start = page_text.index(school, page_text.index("Beheerders"))
    return page_text[start:start + 300]


# -- the board page -----------------------------------------------------------------


def test_the_board_sees_each_schools_figures_and_no_content(app, client, board):
    b = board
    post = make_post(b["group"], author=b["teacher"], body="Geheime uitnodiging voor de musical")
    chat = make_kindgesprek(b["sem"])
    make_message(chat, b["parent"], "Vertrouwelijk: Sem is ziek")
    _mail(b["parent"].email, sent=True)
    _mail(b["parent"].email, sent=True)
    _mail(b["teacher"].email)  # waiting
    _mail(b["other_parent"].email, failed=True)
    _mail(b["other_parent"].email, sent=True, days_ago=8)  # too long ago
    _mail("onbekend@example.org", sent=True)  # no account: only in the total
    _push(b["parent"], sent=True)
    _push(b["other_admin"], failed=True)
    _push(b["board_admin"])  # the board's own phone: only in the total
    db.session.commit()
    assert post.id

    login_as(client, b["board_admin"])
    response = client.get("/bestuur/")
    assert response.status_code == 200
    page = text_of(response)
    first, other = _row(page, "Basisschool De Test"), _row(page, "Basisschool De Ander")
    # De Test: Sem's two guardians and the family at both schools; active: two parents,
    # the teacher and the admin (the one who has not activated does not count).
    assert first.startswith("Basisschool De Test Schooljaar 2026-2027 3 4 ")
    assert "2 verstuurd · 1 wachtend · 0 mislukt" in first
    assert "1 verstuurd · 0 wachtend · 0 mislukt" in first  # the push to Sem's parent
    assert "1 beheerder" in first
    # De Ander: Noor's guardian and the family at both; active: those two and the admin.
    assert other.startswith("Basisschool De Ander Schooljaar 2026-2027 2 3 ")
    assert "0 verstuurd · 0 wachtend · 1 mislukt" in other
    totals = page[page.index("Alle scholen samen"):]
    # The family at both schools counts once; every mail of the week, the unknown one too.
    assert totals.startswith("Alle scholen samen 4 6 3 verstuurd · 1 wachtend · 1 mislukt")
    elsewhere = page[page.index("Niet aan een school te koppelen"):]
    assert elsewhere.startswith("Niet aan een school te koppelen 1 verstuurd · 0 wachtend · "
                                "0 mislukt 0 verstuurd · 1 wachtend · 0 mislukt")
    for secret in ("Geheime uitnodiging", "Vertrouwelijk", "Sem", "Noor", "Geheim",
                   "Verborgen", "Lotte", "Daan", "ouder.test@example.org"):
        assert secret not in page


def test_the_board_page_is_a_few_queries_however_many_schools(app, client, board):
    from .helpers import count_queries

    login_as(client, board["board_admin"])
    assert client.get("/bestuur/").status_code == 200
    with count_queries(client.application) as two:
        client.get("/bestuur/")
    for n in range(3):
        school = make_other_school(f"Basisschool Nummer {n}")
        make_admin(school=school)
        make_guardian(child=make_student(make_group(year=current_year(school))))
    db.session.commit()
    client.get("/bestuur/")  # the number of schools is looked up again once
    with count_queries(client.application) as five:
        page = text_of(client.get("/bestuur/"))
    assert "Basisschool Nummer 2" in page
    assert five.count == two.count, five


def test_a_board_admins_home_and_menu_are_the_board(app, client, board):
    login_as(client, board["board_admin"])
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/bestuur/")
    page = client.get("/bestuur/").get_data(as_text=True)
    menu = re.search(r'<nav class="mainnav".*?</nav>', page, re.S).group(0)
    assert re.findall(r"<a href=\"([^\"]+)\"", menu) == ["/bestuur/"]  # nothing of a school
    assert "Andere school" not in page  # the board works in none of its schools
    assert client.get("/tellers").status_code == 204  # no counts to poll
    # No notifications come to the board's admin: their account offers none to choose.
    account = client.get("/account").get_data(as_text=True)
    assert "Tweestapsverificatie" in account and "Meldingen" not in account
    assert client.get("/account/meldingen").status_code == 403


def test_only_a_board_admin_opens_the_board_pages(app, make_client, board):
    for who in ("parent", "teacher", "admin", "other_admin"):
        client = make_client()
        login_as(client, board[who])
        assert client.get("/bestuur/").status_code == 403, who
        assert client.get("/bestuur/scholen/nieuw").status_code == 403, who
        assert client.post("/bestuur/scholen/nieuw", data={
            "name": "Stiekeme School", "year_name": "2026-2027", "starts_on": "2026-08-01",
            "ends_on": "2027-07-31"}).status_code == 403, who
        url = f"/bestuur/scholen/{board['other'].id}/beheerders"
        assert client.post(url, data={"email": "ik@example.org"}).status_code == 403, who
        assert "Bestuur" not in text_of(client.get("/account"))
    assert _count(School) == 2
    assert _count(User, User.email == "ik@example.org") == 0
    anonymous = make_client()
    assert anonymous.get("/bestuur/").status_code == 302


def test_a_board_admin_reads_no_posts_or_chats(app, client, board):
    b = board
    post = make_post(b["group"], author=b["teacher"], body="Alleen voor de groep")
    chat = make_kindgesprek(b["sem"])
    make_message(chat, b["parent"], "Alleen voor ons")
    group_chat = make_chat(b["teacher"], [b["parent"]])
    db.session.commit()
    login_as(client, b["board_admin"])
    for url in (f"/groepen/{b['group'].id}", f"/groepen/bericht/{post.id}",
                f"/gesprekken/{chat.id}", f"/gesprekken/{group_chat.id}",
                f"/leerlingen/{b['sem'].id}", "/beheer/", "/beheer/leerlingen",
                "/beheer/medewerkers", "/beheer/logboek"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert "Alleen voor" not in response.get_data(as_text=True), url


# -- a new school ----------------------------------------------------------------


def test_the_board_adds_a_school_with_its_year_and_absence_reasons(app, client, board):
    login_as(client, board["board_admin"])
    form = client.get("/bestuur/scholen/nieuw")
    assert form.status_code == 200
    name, starts, ends = (f"{date.today().year - (date.today().month < 8)}-"
                          f"{date.today().year + (date.today().month >= 8)}", None, None)
    assert name in form.get_data(as_text=True)  # the year containing today
    response = client.post("/bestuur/scholen/nieuw", data={
        "name": "  Basisschool  Het Anker ", "year_name": "2026-2027",
        "starts_on": "2026-08-01", "ends_on": "2027-07-31"})
    assert response.status_code == 303
    school = db.session.scalar(select(School).where(School.name == "Basisschool Het Anker"))
    assert response.headers["Location"].endswith(f"/bestuur/scholen/{school.id}/beheerders")
    year = db.session.scalar(select(SchoolYear).where(SchoolYear.school_id == school.id))
    assert (year.name, year.is_current, year.starts_on, year.ends_on) == (
        "2026-2027", True, date(2026, 8, 1), date(2027, 7, 31))
    assert _count(AbsenceReason, AbsenceReason.school_id == school.id) > 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.school_id == school.id))
    assert (event.action, event.actor_id, event.summary) == (
        "school", board["board_admin"].id,
        "School Basisschool Het Anker toegevoegd, met schooljaar 2026-2027")
    page = text_of(client.get(response.headers["Location"]))
    assert "Basisschool Het Anker is aangemaakt" in page
    assert "Deze school heeft nog geen beheerder" in page
    assert "Basisschool Het Anker" in text_of(client.get("/bestuur/"))
    del starts, ends


@pytest.mark.parametrize("data, message", [
    ({"name": ""}, "Vul de naam van de school in."),
    ({"name": "   "}, "Vul de naam van de school in."),
    ({"name": "basisschool de ander"}, "Er is al een school met de naam Basisschool De Ander."),
    ({"name": "Twee\nregels"}, "Dit veld is één regel"),
    ({"name": "x" * 121}, "Dit mag hoogstens 120 tekens lang zijn."),
    ({"year_name": "2026"}, "Schrijf het schooljaar als 2027-2028."),
    ({"year_name": "2026-2028"}, "Een schooljaar loopt over twee opeenvolgende jaren"),
    ({"ends_on": "2026-07-01"}, "De laatste dag moet na de eerste dag liggen."),
    ({"starts_on": "morgen"}, "Vul een datum in"),
])
def test_a_new_school_refuses_bad_input_and_adds_nothing(app, client, board, data, message):
    login_as(client, board["board_admin"])
    form = {"name": "Basisschool Het Anker", "year_name": "2026-2027",
            "starts_on": "2026-08-01", "ends_on": "2027-07-31", **data}
    response = client.post("/bestuur/scholen/nieuw", data=form)
    assert response.status_code == 422
    assert message in text_of(response)
    assert _count(School) == 2
    assert _count(SchoolYear) == 2


# -- a school's name is its own (the database's unique index on lower(name)) ---------


def _first_look_misses(monkeypatch, module) -> None:
    """`module`'s first look for a school of the same name finds none, as when another
    admin's school is committed just after it: the database has the last word."""
    from parro.admin.service import check_school_name, clean_school_name

    looks = []

    def look(name, school_id=None):
        looks.append(name)
        return clean_school_name(name) if len(looks) == 1 else check_school_name(name, school_id)

    monkeypatch.setattr(module, "check_school_name", look)


def _school_rows() -> tuple[int, ...]:
    return (_count(School), _count(SchoolYear), _count(AbsenceReason), _count(AuditEvent))


def test_two_board_admins_adding_the_same_name_at_once_get_the_message(
        app, client, board, monkeypatch):
    """The second of two at once: its check saw no such school yet, its INSERT is refused
    by the unique index. It reads the same Dutch message as ever, not a server error, and
    nothing of its school (year, absence reasons, audit line) is stored."""
    from parro.board import service

    before = _school_rows()
    _first_look_misses(monkeypatch, service)
    login_as(client, board["board_admin"])
    response = client.post("/bestuur/scholen/nieuw", data={
        "name": "BASISSCHOOL DE ANDER", "year_name": "2026-2027",
        "starts_on": "2026-08-01", "ends_on": "2027-07-31"})
    assert response.status_code == 422
    assert "Er is al een school met de naam Basisschool De Ander." in text_of(response)
    assert _school_rows() == before


@pytest.mark.parametrize("race", [False, True])
def test_a_school_cannot_be_renamed_to_another_schools_name(
        app, client, board, monkeypatch, race):
    """Schoolgegevens: another school's name (in other capitals too) is refused with the
    message and nothing of the form is stored; also when the other school took the name
    at the same moment (race). The school's own name in other capitals is fine."""
    from parro.admin import service

    if race:
        _first_look_misses(monkeypatch, service)
    login_as(client, board["admin"], school=board["first"])
    form = {"name": " basisschool  de ander ", "colour": "#1f6f8b", "phone": "030 123 45 67"}
    response = client.post("/beheer/school", data=form)
    assert response.status_code == 422
    assert "Er is al een school met de naam Basisschool De Ander." in text_of(response)
    db.session.expire_all()
    first = db.session.get(School, board["first"].id)
    assert (first.name, first.phone) == ("Basisschool De Test", "010 000 00 00")
    assert _count(AuditEvent) == 0
    response = client.post("/beheer/school", data={**form, "name": "BASISSCHOOL DE TEST"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(School, board["first"].id).name == "BASISSCHOOL DE TEST"


def test_the_database_refuses_a_second_school_of_the_same_name(app, board):
    """Whatever writes a school, the index holds: the same name in other capitals."""
    from sqlalchemy.exc import IntegrityError

    db.session.add(School(name="basisschool DE ANDER"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _count(School) == 2


# -- a school's admins ------------------------------------------------------------


def test_a_new_address_becomes_the_schools_admin_by_invitation(app, client, board):
    other = board["other"]
    login_as(client, board["board_admin"])
    url = f"/bestuur/scholen/{other.id}/beheerders"
    response = client.post(url, data={"email": " Nieuwe.Directeur@Example.org ",
                                      "name": "Anna de Wit", "locale": "nl"})
    assert response.status_code == 303
    page = text_of(client.get(url))
    assert "nieuwe.directeur@example.org is uitgenodigd als beheerder van Basisschool De Ander" \
        in page
    assert "Anna de Wit" in page and "uitgenodigd" in page
    user = db.session.scalar(select(User).where(User.email == "nieuwe.directeur@example.org"))
    assert user.role == Role.ADMIN and not user.active
    assert [s for s, in db.session.execute(
        select(SchoolStaff.school_id).where(SchoolStaff.user_id == user.id))] == [other.id]
    # In De Ander's own audit log: the invitation and the appointment, by the board.
    logged = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id).where(
        AuditEvent.school_id == other.id, AuditEvent.target_id == user.id)).all()
    assert sorted(logged) == [("invitation", board["board_admin"].id),
                              ("role_change", board["board_admin"].id)]
    mail = mails_to("nieuwe.directeur@example.org")[-1]
    assert "Basisschool De Ander" in mail.subject  # the school they are admin of
    assert "beheerder in parro van Basisschool De Ander" in mail.body_text
    db.session.commit()

    # They activate and work at De Ander: its admin, not De Test's.
    client.delete_cookie(app.config["AUTH_COOKIE_NAME"])
    from .factories import PASSWORD

    activated = client.post(activation_path("nieuwe.directeur@example.org"), data={
        "accept": "y", "name": "Anna de Wit", "locale": "nl",
        "password": PASSWORD, "password_again": PASSWORD})
    assert activated.status_code == 303
    assert "Basisschool De Ander" in text_of(client.get("/beheer/"))


def test_an_admin_of_another_school_becomes_admin_here_too(app, make_client, board):
    b = board
    client = make_client()
    login_as(client, b["board_admin"])
    url = f"/bestuur/scholen/{b['other'].id}/beheerders"
    response = client.post(url, data={"email": "DIRECTIE.TEST@example.org", "locale": "nl"})
    assert response.status_code == 303
    page = text_of(client.get(url))
    assert "Directie Test had al een account als beheerder en is nu ook beheerder van " \
        "Basisschool De Ander" in page
    assert "directie.test@example.org" in page and "directie.ander@example.org" in page
    assert _count(User, User.email == "directie.test@example.org") == 1
    assert not mails_to("directie.test@example.org")
    # The admin now switches between the two schools.
    admin = make_client()
    login_as(admin, b["admin"])
    schools = text_of(admin.get("/scholen"))
    assert "Basisschool De Test" in schools and "Basisschool De Ander" in schools

    again = client.post(url, data={"email": "directie.test@example.org", "locale": "nl"})
    assert again.status_code == 422
    assert "Directie Test is al beheerder van Basisschool De Ander." in text_of(again)
    assert _count(SchoolStaff, SchoolStaff.user_id == b["admin"].id) == 2


@pytest.mark.parametrize("email, message", [
    ("", "Vul een e-mailadres in."),
    ("geen-adres", "Dit is geen geldig e-mailadres."),
    ("ouder.ander@example.org", "Dit e-mailadres hoort bij een ouder of verzorger."),
    ("juf@example.org", "Dit e-mailadres hoort bij een leerkracht."),
    ("bestuur@example.org", "Dit e-mailadres hoort bij een beheerder van het schoolbestuur."),
])
def test_appointing_refuses_what_cannot_be_an_admin_and_changes_nothing(
        app, client, board, email, message):
    login_as(client, board["board_admin"])
    staff_rows, users = _count(SchoolStaff), _count(User)
    response = client.post(f"/bestuur/scholen/{board['other'].id}/beheerders",
                           data={"email": email, "locale": "nl"})
    assert response.status_code == 422
    assert message in text_of(response)
    assert (_count(SchoolStaff), _count(User)) == (staff_rows, users)
    assert _count(OutboxMail) == 0


def test_the_board_removes_an_admin_from_a_school(app, make_client, board):
    b = board
    also_works_at(b["other"], b["admin"])
    db.session.commit()
    client = make_client()
    login_as(client, b["board_admin"])
    url = f"/bestuur/scholen/{b['other'].id}/verwijderen"
    url = f"/bestuur/scholen/{b['other'].id}/beheerders/{b['admin'].id}/verwijderen"
    response = client.post(url)
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert "Directie Test is geen beheerder meer van Basisschool De Ander." in page
    assert "geen enkele school" not in page  # still De Test's
    assert _count(SchoolStaff, SchoolStaff.user_id == b["admin"].id) == 1

    # The other school's only admin: the account stays, at no school.
    last = client.post(f"/bestuur/scholen/{b['other'].id}/beheerders/"
                       f"{b['other_admin'].id}/verwijderen")
    page = text_of(client.get(last.headers["Location"]))
    assert "Het account hoort nu bij geen enkele school meer" in page
    assert "Deze school heeft nog geen beheerder" in page
    assert _count(User, User.id == b["other_admin"].id) == 1
    # Logged in there, they are logged out with a message.
    gone = make_client()
    login_as(gone, b["other_admin"], school=b["other"])
    assert gone.get("/beheer/").status_code == 302

    # Not a school's admin: nothing to remove; a teacher is not removed here.
    assert client.post(url).status_code == 303
    assert "was geen beheerder van" in text_of(client.get(f"/bestuur/scholen/{b['other'].id}/"
                                                          "beheerders"))
    teacher = client.post(f"/bestuur/scholen/{b['first'].id}/beheerders/"
                          f"{b['teacher'].id}/verwijderen")
    assert teacher.status_code == 404
    assert _count(SchoolStaff, SchoolStaff.user_id == b["teacher"].id) == 1
    assert client.get("/bestuur/scholen/999999/beheerders").status_code == 404


# -- the commands ------------------------------------------------------------------


def test_school_add_makes_a_school_and_invites_its_first_admin(app):
    make_school()
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["school", "add", "Basisschool Het Anker",
                                 "--admin", "Directie@Anker.nl"])
    assert result.exit_code == 0, result.output
    assert "School 'Basisschool Het Anker' added" in result.output
    assert "http://parro.test/activeren/" in result.output
    db.session.expire_all()
    school = db.session.scalar(select(School).where(School.name == "Basisschool Het Anker"))
    year = db.session.scalar(select(SchoolYear).where(SchoolYear.school_id == school.id))
    name, starts, ends = (year.name, year.starts_on, year.ends_on)
    assert year.is_current and starts <= date.today() <= ends and name.startswith(
        str(starts.year))
    assert _count(AbsenceReason, AbsenceReason.school_id == school.id) > 0
    admin = db.session.scalar(select(User).where(User.email == "directie@anker.nl"))
    assert admin.is_admin and not admin.active
    assert db.session.scalar(select(SchoolStaff.school_id).where(
        SchoolStaff.user_id == admin.id)) == school.id
    assert "Basisschool Het Anker" in mails_to("directie@anker.nl")[-1].subject

    listed = runner.invoke(args=["school", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()  # by name
    assert [line.split("\t")[:2] for line in lines] == [
        ["1", "Basisschool De Test"], ["2", "Basisschool Het Anker"]]
    assert "1 admin(s)" in lines[1] and "0 admin(s)" in lines[0]


def test_school_add_with_an_existing_admin_appoints_them(app):
    admin = make_admin(email="directie@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["school", "add", "Tweede School", "--admin",
                                                "directie@example.org"])
    assert result.exit_code == 0, result.output
    assert "now an admin of Tweede School too" in result.output
    assert "activeren" not in result.output
    assert _count(SchoolStaff, SchoolStaff.user_id == admin.id) == 2


@pytest.mark.parametrize("args, message", [
    (["school", "add", ""], "Vul de naam van de school in."),
    (["school", "add", "basisschool de test"], "Er is al een school met de naam"),
    (["school", "add", "Nieuw", "--admin", "geen-adres"], "'geen-adres' is not an e-mail address"),
    (["school", "add", "Nieuw", "--admin", "ouder@example.org"],
     "Dit e-mailadres hoort bij een ouder of verzorger."),
    (["school", "add", "Nieuw", "--admin", "juf@example.org"],
     "Dit e-mailadres hoort bij een leerkracht."),
    (["board-admin", "geen-adres"], "'geen-adres' is not an e-mail address"),
    (["board-admin", "juf@example.org"], "Een beheerder van het schoolbestuur heeft een eigen"),
])
def test_the_commands_refuse_bad_input_and_change_nothing(app, args, message):
    group = make_group()
    make_guardian(child=make_student(group), email="ouder@example.org")
    make_teacher(group, email="juf@example.org")
    db.session.commit()
    before = (_count(School), _count(User), _count(SchoolStaff), _count(OutboxMail))
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert (_count(School), _count(User), _count(SchoolStaff), _count(OutboxMail)) == before


def test_board_admin_invites_a_board_admin_who_then_runs_the_board(app, client):
    make_school()
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["board-admin", "Bestuur@Stichting.nl", "--name", "Karin"])
    assert result.exit_code == 0, result.output
    assert "http://parro.test/activeren/" in result.output
    user = db.session.scalar(select(User).where(User.email == "bestuur@stichting.nl"))
    assert user.role == Role.BOARD and user.name == "Karin" and not user.active
    mail = mails_to("bestuur@stichting.nl")[-1]
    assert "beheerder van het schoolbestuur" in mail.body_text
    db.session.commit()

    # Not activated yet: asked again, a fresh link; the first one stops working.
    first_link = activation_path("bestuur@stichting.nl")
    again = runner.invoke(args=["board-admin", "bestuur@stichting.nl"])
    assert again.exit_code == 0, again.output
    second_link = activation_path("bestuur@stichting.nl")
    assert second_link != first_link
    from .factories import PASSWORD

    activated = client.post(second_link, data={"accept": "y", "name": "Karin", "locale": "nl",
                                               "password": PASSWORD, "password_again": PASSWORD})
    assert activated.status_code == 303
    # The board's pages wait for two-factor login (always, for a board admin).
    assert client.get("/").headers["Location"] == "/account/tweestapsverificatie"
    from .test_two_factor import enable

    enable(client)
    assert client.get("/").headers["Location"].endswith("/bestuur/")
    assert "Basisschool De Test" in text_of(client.get("/bestuur/"))

    done = runner.invoke(args=["board-admin", "bestuur@stichting.nl"])
    assert done.exit_code != 0 and "al een beheerder van het schoolbestuur" in done.output


def test_the_board_pages_are_valid_html(app, make_client, board, tmp_path):
    from .helpers import csrf_token
    from .test_valid_html import describe, vnu_errors

    make_admin(email="nog.een@example.org", active=False, password=None, school=board["other"])
    db.session.commit()
    client = make_client(WTF_CSRF_ENABLED=True)
    login_as(client, board["board_admin"])
    admins = f"/bestuur/scholen/{board['other'].id}/beheerders"
    pages = {"index": client.get("/bestuur/"), "new": client.get("/bestuur/scholen/nieuw"),
             "admins": client.get(admins)}
    pages["new-refused"] = client.post("/bestuur/scholen/nieuw", data={
        "csrf_token": csrf_token(pages["new"].get_data(as_text=True)), "name": "",
        "year_name": "2026", "starts_on": "2026-08-01", "ends_on": ""})
    pages["admins-refused"] = client.post(admins, data={
        "csrf_token": csrf_token(pages["admins"].get_data(as_text=True)),
        "email": "juf@example.org"})
    assert [r.status_code for r in pages.values()] == [200, 200, 200, 422, 422]
    for name, response in pages.items():
        (tmp_path / f"board-{name}.html").write_bytes(response.data)
    errors = vnu_errors(tmp_path)
    assert not errors, "\n".join(describe(m, tmp_path) for m in errors)
