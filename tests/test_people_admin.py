"""The administration of staff and guardians: /beheer/medewerkers and /beheer/ouders."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import func, select

from parro.admin import people
from parro.auth import service
from parro.extensions import db
from parro.models import Invitation, Role, User, UserSession

from .factories import make_admin, make_group, make_guardian, make_student, make_teacher
from .helpers import activation_path, count_queries, login_as, mails_to, text_of
from .world import build_world


def post(client, url, data=None, **kw):
    db.session.commit()  # end the test's own read: SQLite's write lock
    return client.post(url, data=data or {}, **kw)


def reload(user_id) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def test_admin_index_links_to_the_people_pages(app, client):
    login_as(client, make_admin())
    html = client.get("/beheer/").get_data(as_text=True)
    assert 'href="/beheer/medewerkers"' in html
    assert 'href="/beheer/ouders"' in html


# -- staff ----------------------------------------------------------------------


def test_staff_list_shows_staff_with_groups_and_status(app, client):
    w = build_world()
    make_teacher(name="Nog Niet Actief", email="nieuw.juf@example.org", active=False,
                 password=None)
    db.session.commit()
    login_as(client, w.admin)
    page = client.get("/beheer/medewerkers")
    text = text_of(page)
    assert page.status_code == 200
    assert "teacher@example.org" in text and "Groep 3" in text
    assert "nieuw.juf@example.org" in text and "nog niet uitgenodigd" in text
    assert "guardian@example.org" not in text  # guardians are not staff


def test_admin_invites_a_teacher(app, client):
    w = build_world()
    login_as(client, w.admin)
    response = post(client, "/beheer/medewerkers", {
        "name": "Juf Ellen", "email": "Ellen@Example.org", "role": "teacher", "locale": "nl"})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "ellen@example.org"))
    assert user.role == Role.TEACHER and user.name == "Juf Ellen" and not user.active
    assert "De uitnodiging is verstuurd" in text_of(client.get("/beheer/medewerkers"))
    [mail] = mails_to("ellen@example.org")
    assert "leerkracht" in mail.body_text
    assert client.get(activation_path("ellen@example.org")).status_code == 200


def test_admin_invites_an_admin(app, client):
    w = build_world()
    login_as(client, w.admin)
    post(client, "/beheer/medewerkers", {"name": "Directeur", "email": "dir@example.org",
                                         "role": "admin", "locale": "en"})
    user = db.session.scalar(select(User).where(User.email == "dir@example.org"))
    assert user.role == Role.ADMIN and user.locale == "en"


def test_staff_invite_with_bad_input_changes_nothing(app, client):
    w = build_world()
    login_as(client, w.admin)
    before = db.session.scalar(select(func.count()).select_from(User))
    for data, message in (
        ({"name": "X", "email": "geen-adres", "role": "teacher"},
         "Dit is geen geldig e-mailadres."),
        ({"name": "", "email": "a@example.org", "role": "teacher"}, "Vul de naam in."),
        ({"name": "X", "email": "GUARDIAN@example.org", "role": "teacher"},
         "Dit e-mailadres hoort bij een ouder of verzorger."),
        ({"name": "X", "email": "Teacher@example.org", "role": "teacher"},
         "Er is al een account met dit e-mailadres."),
        ({"name": "X", "email": "b@example.org", "role": "guardian"}, "Ongeldige keuze."),
    ):
        response = post(client, "/beheer/medewerkers", {"locale": "nl", **data})
        assert response.status_code == 422, data
        assert message in text_of(response), data
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_admin_changes_a_role(app, client):
    w = build_world()
    login_as(client, w.admin)
    response = post(client, f"/beheer/accounts/{w.teacher.id}/rol", {"role": "admin"})
    assert response.status_code == 303
    assert reload(w.teacher.id).role == Role.ADMIN


def test_admin_cannot_change_their_own_role(app, client):
    w = build_world()
    login_as(client, w.admin)
    response = post(client, f"/beheer/accounts/{w.admin.id}/rol", {"role": "teacher"},
                    follow_redirects=True)
    assert "eigen rol" in text_of(response)
    assert reload(w.admin.id).role == Role.ADMIN


def test_a_guardian_cannot_be_made_staff(app, client):
    w = build_world()
    login_as(client, w.admin)
    post(client, f"/beheer/accounts/{w.guardian.id}/rol", {"role": "admin"})
    assert reload(w.guardian.id).role == Role.GUARDIAN


def test_disabling_ends_every_session_but_not_the_admins(app, client, make_client):
    w = build_world()
    teacher_browser = make_client()
    login_as(teacher_browser, w.teacher)
    login_as(client, w.admin)
    teacher_id = w.teacher.id
    assert teacher_browser.get("/groepen/").status_code == 200

    response = post(client, f"/beheer/accounts/{teacher_id}/uitschakelen")

    assert response.status_code == 303
    assert reload(teacher_id).disabled
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == teacher_id)) == 0
    db.session.commit()
    assert teacher_browser.get("/groepen/").status_code == 302  # back to the login page
    # The admin who did it is still logged in.
    assert current_app.config["AUTH_COOKIE_NAME"] not in response.headers.get("Set-Cookie", "")
    page = client.get("/beheer/medewerkers")
    assert page.status_code == 200 and "uitgeschakeld" in text_of(page)

    assert post(client, f"/beheer/accounts/{teacher_id}/inschakelen").status_code == 303
    assert not reload(teacher_id).disabled


def test_admin_cannot_disable_themselves(app, client):
    w = build_world()
    login_as(client, w.admin)
    response = post(client, f"/beheer/accounts/{w.admin.id}/uitschakelen", follow_redirects=True)
    assert response.status_code == 200
    assert "eigen account niet uitschakelen" in text_of(response)
    assert not reload(w.admin.id).disabled


def test_a_disabled_account_cannot_log_in(app, client):
    w = build_world()
    login_as(client, w.admin)
    post(client, f"/beheer/accounts/{w.guardian.id}/uitschakelen")
    from .factories import PASSWORD

    client.delete_cookie(current_app.config["AUTH_COOKIE_NAME"])
    response = post(client, "/login", {"email": "guardian@example.org", "password": PASSWORD})
    assert response.status_code == 422


def test_admin_resends_a_staff_invitation(app, client):
    w = build_world()
    login_as(client, w.admin)
    post(client, "/beheer/medewerkers", {"name": "Juf", "email": "juf@example.org",
                                         "role": "teacher", "locale": "nl"})
    first = activation_path("juf@example.org")
    user = db.session.scalar(select(User).where(User.email == "juf@example.org"))

    assert post(client, f"/beheer/accounts/{user.id}/uitnodiging").status_code == 303

    assert len(mails_to("juf@example.org")) == 2
    assert client.get(first).status_code == 410
    assert client.get(activation_path("juf@example.org")).status_code == 200


def test_resending_to_an_active_account_is_refused(app, client):
    w = build_world()
    login_as(client, w.admin)
    response = post(client, f"/beheer/accounts/{w.teacher.id}/uitnodiging", follow_redirects=True)
    assert "al geactiveerd" in text_of(response)
    assert mails_to("teacher@example.org") == []


def test_actions_on_unknown_accounts_are_not_found(app, client):
    login_as(client, make_admin())
    for action in ("uitschakelen", "inschakelen", "uitnodiging"):
        assert post(client, f"/beheer/accounts/999999/{action}").status_code == 404


# -- guardians --------------------------------------------------------------------


def test_guardian_list_shows_children_and_status(app, client):
    w = build_world()
    make_guardian(child=w.student, name="Imke Import", email="imke@example.org", active=False,
                  password=None)
    db.session.commit()
    login_as(client, w.admin)
    text = text_of(client.get("/beheer/ouders"))
    assert "guardian@example.org" in text and "Sem Jansen" in text and "actief" in text
    assert "Imke Import" in text and "nog niet uitgenodigd" in text
    assert "teacher@example.org" not in text


def test_guardian_search_by_name_email_and_child(app, client):
    w = build_world()
    make_guardian(child=w.other_student, name="Mark Dekker", email="mark@voorbeeld.nl")
    db.session.commit()
    login_as(client, w.admin)

    def found(q):
        return text_of(client.get("/beheer/ouders", query_string={"q": q}))

    assert "mark@voorbeeld.nl" in found("mark dek")
    assert "guardian@example.org" not in found("mark dek")
    assert "mark@voorbeeld.nl" in found("VOORBEELD")
    assert "mark@voorbeeld.nl" in found("Noah Dekker")  # the child's name
    assert "guardian@example.org" in found("sem")
    assert "Niemand gevonden" in found("100%_")  # wildcards are plain characters


def test_guardian_list_is_paginated_by_key(app, client, monkeypatch):
    monkeypatch.setattr(people, "PAGE_SIZE", 3)
    admin = make_admin()
    for i in range(8):
        make_guardian(name=f"Ouder {i}", email=f"ouder{i}@example.org")
    db.session.commit()
    login_as(client, admin)

    seen, url = [], "/beheer/ouders"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        seen += re.findall(r"(ouder\d)@example.org", html)
        match = re.search(r'href="(/beheer/ouders\?na=\d+)"', html)
        url = match.group(1) if match else None
    assert seen == [f"ouder{i}" for i in range(8)]


def test_invite_all_guardians_without_an_account(app, client):
    w = build_world()
    imported = [make_guardian(child=w.student, email=f"import{i}@example.org", active=False,
                              password=None) for i in range(3)]
    blocked = make_guardian(email="blocked@example.org", active=False, password=None)
    blocked.disabled = True
    db.session.commit()
    service.invite_guardian(w.student, "al.uitgenodigd@example.org", w.admin)
    login_as(client, w.admin)

    page = client.get("/beheer/ouders")
    assert "3 ouders hebben nog nooit een uitnodiging gekregen" in text_of(page)
    assert "Uitnodigen: alle ouders zonder account" in text_of(page)

    response = post(client, "/beheer/ouders/uitnodigen", follow_redirects=True)

    assert "Er zijn 3 uitnodigingen verstuurd." in text_of(response)
    for user in imported:
        assert len(mails_to(user.email)) == 1
        assert client.get(activation_path(user.email)).status_code == 200
    assert mails_to("blocked@example.org") == []
    assert len(mails_to("al.uitgenodigd@example.org")) == 1  # not invited twice
    assert mails_to("guardian@example.org") == []  # active already

    again = post(client, "/beheer/ouders/uitnodigen", follow_redirects=True)
    assert "Alle ouders hebben al een uitnodiging gekregen." in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 4


def test_guardian_page_shows_children_and_invitations(app, client):
    w = build_world()
    sister = make_student(make_group("Groep 6", grade=6), first_name="Lotte", last_name="Jansen")
    db.session.commit()
    service.invite_guardian(w.student, "nieuw@example.org", w.teacher)
    service.invite_guardian(sister, "nieuw@example.org", w.admin)
    user = db.session.scalar(select(User).where(User.email == "nieuw@example.org"))
    login_as(client, w.admin)

    page = client.get(f"/beheer/ouders/{user.id}")

    text = text_of(page)
    assert page.status_code == 200
    assert "Sem Jansen" in text and "Groep 3" in text
    assert "Lotte Jansen" in text and "Groep 6" in text
    assert "vervangen door een nieuwere" in text and "geldig tot" in text
    assert w.teacher.display_name in text
    assert "Opnieuw versturen" in text


def test_guardian_page_is_only_for_guardians(app, client):
    w = build_world()
    login_as(client, w.admin)
    assert client.get(f"/beheer/ouders/{w.teacher.id}").status_code == 404
    assert client.get("/beheer/ouders/999999").status_code == 404


def test_resend_and_disable_from_the_guardian_page(app, client):
    w = build_world()
    pending = make_guardian(child=w.student, email="pending@example.org", active=False,
                            password=None)
    db.session.commit()
    pending_id = pending.id
    login_as(client, w.admin)

    response = post(client, f"/beheer/accounts/{pending_id}/uitnodiging")
    assert response.headers["Location"] == f"/beheer/ouders/{pending_id}"
    assert len(mails_to("pending@example.org")) == 1
    page = text_of(client.get(response.headers["Location"]))
    assert "De uitnodiging is verstuurd naar pending@example.org." in page
    assert "Eerdere links" not in page

    post(client, f"/beheer/accounts/{pending_id}/uitschakelen")
    assert reload(pending_id).disabled
    db.session.commit()
    # A disabled account's link no longer works, and no new one can be sent.
    assert client.get(activation_path("pending@example.org")).status_code == 404
    response = post(client, f"/beheer/accounts/{pending_id}/uitnodiging", follow_redirects=True)
    assert "uitgeschakeld" in text_of(response)
    assert len(mails_to("pending@example.org")) == 1


def test_people_pages_are_for_admins_only(app, client):
    w = build_world()
    login_as(client, w.teacher)
    for url in ("/beheer/medewerkers", "/beheer/ouders", f"/beheer/ouders/{w.guardian.id}"):
        assert client.get(url).status_code == 403
    response = post(client, f"/beheer/accounts/{w.guardian.id}/uitschakelen")
    assert response.status_code == 403
    assert not reload(w.guardian.id).disabled


def test_guardian_list_costs_the_same_for_a_longer_page(app, client):
    admin = make_admin()
    group = make_group()
    db.session.commit()
    login_as(client, admin)

    def queries_for_page() -> int:
        with count_queries(client.application) as q:
            assert client.get("/beheer/ouders").status_code == 200
        return q.count

    def add_families(n):
        for _ in range(n):
            make_guardian(children=[make_student(group), make_student(group)], active=False,
                          password=None)
        db.session.commit()

    add_families(2)
    few = queries_for_page()
    add_families(10)
    assert queries_for_page() == few
