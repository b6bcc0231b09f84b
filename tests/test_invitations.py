"""Inviting guardians from a student's page, and what the invitation mail holds."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from parro import clock
from parro.auth import service
from parro.extensions import db
from parro.models import Guardianship, Invitation, OutboxMail, Role, User

from .factories import make_admin, make_group, make_guardian, make_student, make_teacher
from .helpers import activation_path, login_as, mails_to, text_of
from .world import build_world


def counts() -> tuple[int, int, int, int]:
    """Users, guardianships, invitations and queued mails: what an invitation writes."""
    db.session.expire_all()
    result = tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Guardianship, Invitation, OutboxMail)
    )
    db.session.commit()  # end the read, so that the test may write again on SQLite
    return result


def post(client, url, data=None, **kw):
    """POST as the browser. The test's own reads hold SQLite's write lock until they end."""
    db.session.commit()
    return client.post(url, data=data or {}, **kw)


def invite(client, student, email, locale="nl"):
    return post(client, f"/leerlingen/{student.id}/uitnodigen",
                {"email": email, "locale": locale})


def user_by_email(email) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_admin_invites_a_new_guardian(app, client):
    w = build_world()
    login_as(client, w.admin)
    moment = clock.now().replace(microsecond=0)
    clock.set_now(moment)

    response = invite(client, w.student, "  Nieuwe.Ouder@Example.org ")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/leerlingen/{w.student.id}"
    user = user_by_email("nieuwe.ouder@example.org")
    assert user.role == Role.GUARDIAN
    assert not user.active and user.password_hash is None
    assert [gs.student_id for gs in user.guardianships] == [w.student.id]
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    assert invitation.expires_at == moment + timedelta(days=7)
    assert invitation.invited_by_id == w.admin.id and invitation.student_id == w.student.id

    [mail] = mails_to("nieuwe.ouder@example.org")
    assert "Basisschool De Test" in mail.subject
    assert "Sem" in mail.body_text  # the child the invitation is about
    path = activation_path("nieuwe.ouder@example.org")
    assert f"http://parro.test{path}" in mail.body_text
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 40
    # Only the hash is stored: the database alone cannot produce a working link.
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash

    page = client.get(response.headers["Location"])
    assert "De uitnodiging is verstuurd naar nieuwe.ouder@example.org" in text_of(page)
    assert "Openstaande uitnodigingen" in text_of(page)


def test_teacher_of_the_group_invites(app, client):
    w = build_world()
    login_as(client, w.teacher)
    assert invite(client, w.student, "ouder2@example.org").status_code == 303
    assert user_by_email("ouder2@example.org") is not None
    assert len(mails_to("ouder2@example.org")) == 1


def test_teacher_cannot_invite_for_a_child_outside_their_groups(app, client):
    w = build_world()
    before = counts()
    login_as(client, w.teacher_other)

    response = invite(client, w.student, "ouder2@example.org")

    assert response.status_code == 403
    assert "Geen toegang" in text_of(response)
    assert counts() == before
    assert user_by_email("ouder2@example.org") is None


def test_guardian_sees_the_childs_page_without_form_or_other_emails(app, client):
    w = build_world()
    second = make_guardian(child=w.student, name="Tweede Ouder", email="tweede@example.org")
    db.session.commit()
    login_as(client, w.guardian)

    page = client.get(f"/leerlingen/{w.student.id}")

    assert page.status_code == 200
    assert "Tweede Ouder" in text_of(page)
    assert "tweede@example.org" not in page.get_data(as_text=True)
    assert "uitnodigen" not in page.get_data(as_text=True)
    assert invite(client, w.student, "x@example.org").status_code == 403
    del second


def test_staff_sees_the_invite_form(app, client):
    w = build_world()
    login_as(client, w.teacher)
    page = client.get(f"/leerlingen/{w.student.id}")
    assert f'action="/leerlingen/{w.student.id}/uitnodigen"' in page.get_data(as_text=True)
    assert "guardian@example.org" in text_of(page)


def test_invalid_email_changes_nothing(app, client):
    w = build_world()
    before = counts()
    login_as(client, w.admin)

    response = invite(client, w.student, "geen-adres")

    assert response.status_code == 422
    assert "Dit is geen geldig e-mailadres." in text_of(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert counts() == before


def test_empty_email_changes_nothing(app, client):
    w = build_world()
    before = counts()
    login_as(client, w.admin)
    response = invite(client, w.student, "")
    assert response.status_code == 422
    assert "Vul een e-mailadres in." in text_of(response)
    assert counts() == before


def test_inviting_again_revokes_the_earlier_link(app, client):
    w = build_world()
    login_as(client, w.admin)
    invite(client, w.student, "ouder2@example.org")
    first = activation_path("ouder2@example.org")

    assert invite(client, w.student, "OUDER2@example.org").status_code == 303
    second = activation_path("ouder2@example.org")

    assert first != second
    assert len(mails_to("ouder2@example.org")) == 2
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email == "ouder2@example.org")) == 1
    old = client.get(first)
    assert old.status_code == 410
    assert "nieuwere uitnodiging" in text_of(old)
    assert client.get(second).status_code == 200


def test_inviting_an_active_guardian_adds_the_child(app, client):
    w = build_world()
    sister = make_student(w.group, first_name="Lotte", last_name="Jansen")
    db.session.commit()
    before = counts()
    login_as(client, w.teacher)

    response = invite(client, sister, "GUARDIAN@Example.org")

    assert response.status_code == 303
    after = counts()
    assert after[0] == before[0]  # no second account
    assert after[1] == before[1] + 1  # the child is linked
    assert after[2] == before[2]  # no invitation: they already have an account
    guardian = user_by_email("guardian@example.org")
    assert sorted(gs.student.first_name for gs in guardian.guardianships) == ["Lotte", "Sem"]
    [mail] = mails_to("guardian@example.org")
    assert "Lotte" in mail.subject and "Lotte" in mail.body_text
    assert "/activeren/" not in mail.body_text
    assert "had al een account" in text_of(client.get(f"/leerlingen/{sister.id}"))


def test_inviting_an_already_linked_active_guardian_changes_nothing(app, client):
    w = build_world()
    before = counts()
    login_as(client, w.admin)
    response = invite(client, w.student, "guardian@example.org")
    assert response.status_code == 303
    assert counts() == before
    assert "al gekoppeld" in text_of(client.get(response.headers["Location"]))


def test_a_staff_email_cannot_become_a_guardian(app, client):
    w = build_world()
    before = counts()
    login_as(client, w.admin)

    response = invite(client, w.student, "Teacher@example.org")

    assert response.status_code == 422
    assert "hoort bij een medewerker van de school" in text_of(response)
    assert counts() == before
    assert user_by_email("teacher@example.org").role == Role.TEACHER


def test_a_disabled_account_is_not_invited(app, client):
    w = build_world()
    blocked = make_guardian(email="blocked@example.org")
    blocked.disabled = True
    db.session.commit()
    before = counts()
    login_as(client, w.admin)
    response = invite(client, w.student, "blocked@example.org")
    assert response.status_code == 422
    assert "uitgeschakeld" in text_of(response)
    assert counts() == before


def test_an_imported_account_is_invited_with_a_link(app, client):
    """The CSV import makes inactive accounts with a name; inviting them sends the link."""
    w = build_world()
    imported = make_guardian(child=w.student, email="import@example.org", name="Ilse Import",
                             active=False, password=None)
    db.session.commit()
    login_as(client, w.teacher)

    page = client.get(f"/leerlingen/{w.student.id}")
    assert "nog niet uitgenodigd" in text_of(page)

    response = post(client, f"/leerlingen/{w.student.id}/uitnodigen/{imported.id}/opnieuw")
    assert response.status_code == 303
    assert len(mails_to("import@example.org")) == 1
    assert "Beste Ilse Import" in mails_to("import@example.org")[0].body_text
    # The first invitation: no word about earlier links, there are none.
    page = text_of(client.get(response.headers["Location"]))
    assert "De uitnodiging is verstuurd naar import@example.org." in page
    assert "Eerdere links" not in page
    response = post(client, f"/leerlingen/{w.student.id}/uitnodigen/{imported.id}/opnieuw")
    assert "Eerdere links werken niet meer." in text_of(client.get(response.headers["Location"]))


def test_resend_from_the_student_page_revokes_the_old_link(app, client):
    w = build_world()
    login_as(client, w.teacher)
    invite(client, w.student, "ouder2@example.org")
    first = activation_path("ouder2@example.org")
    user = user_by_email("ouder2@example.org")
    db.session.commit()

    page = client.get(f"/leerlingen/{w.student.id}")
    assert "Opnieuw versturen" in text_of(page)
    response = post(client, f"/leerlingen/{w.student.id}/uitnodigen/{user.id}/opnieuw")

    assert response.status_code == 303
    assert "nieuwe uitnodiging" in text_of(client.get(response.headers["Location"]))
    assert client.get(first).status_code == 410
    assert client.get(activation_path("ouder2@example.org")).status_code == 200


def test_resend_for_someone_elses_guardian_is_not_found(app, client):
    w = build_world()
    stranger = make_guardian(child=w.other_student, active=False, password=None)
    db.session.commit()
    login_as(client, w.teacher)
    response = post(client, f"/leerlingen/{w.student.id}/uitnodigen/{stranger.id}/opnieuw")
    assert response.status_code == 404
    assert mails_to(stranger.email) == []


def test_resend_outside_the_teachers_groups_is_forbidden(app, client):
    w = build_world()
    pending = make_guardian(child=w.student, active=False, password=None)
    db.session.commit()
    login_as(client, w.teacher_other)
    response = post(client, f"/leerlingen/{w.student.id}/uitnodigen/{pending.id}/opnieuw")
    assert response.status_code == 403
    assert mails_to(pending.email) == []


def test_resend_for_an_active_account_is_refused(app, client):
    w = build_world()
    login_as(client, w.admin)
    response = post(client, f"/leerlingen/{w.student.id}/uitnodigen/{w.guardian.id}/opnieuw",
                           follow_redirects=True)
    assert "al geactiveerd" in text_of(response)
    assert mails_to("guardian@example.org") == []


def test_the_invitation_lifetime_is_configurable(app, make_client):
    client = make_client(INVITATION_DAYS=2)
    group = make_group()
    student = make_student(group)
    admin = make_admin()
    db.session.commit()
    moment = clock.now().replace(microsecond=0)
    clock.set_now(moment)
    login_as(client, admin)
    invite(client, student, "kort@example.org")
    invitation = db.session.scalar(select(Invitation))
    assert invitation.expires_at == moment + timedelta(days=2)


def test_the_invitation_remembers_its_language(app, client):
    w = build_world()
    login_as(client, w.admin)
    invite(client, w.student, "english@example.org", locale="en")
    assert user_by_email("english@example.org").locale == "en"
    db.session.commit()
    page = client.get(activation_path("english@example.org"))
    assert '<html lang="en" ' in page.get_data(as_text=True)


def test_invite_needs_a_csrf_token(app, make_client):
    client = make_client(WTF_CSRF_ENABLED=True)
    w = build_world()
    before = counts()
    login_as(client, w.admin)
    response = invite(client, w.student, "ouder2@example.org")
    assert response.status_code == 400
    assert counts() == before


def test_two_teachers_of_one_group_both_see_pending_invitations(app, client):
    group = make_group()
    student = make_student(group)
    anna = make_teacher(group)
    bram = make_teacher(group)
    db.session.commit()
    login_as(client, anna)
    invite(client, student, "ouder2@example.org")
    login_as(client, bram)
    assert "ouder2@example.org" in text_of(client.get(f"/leerlingen/{student.id}"))


def test_a_guardian_does_not_see_an_invited_co_parents_address(app, client):
    """An invited account has no name yet; its email must not stand in for one."""
    w = build_world()
    service.invite_guardian(w.student, "papa.geheim@example.org", w.admin)
    login_as(client, w.guardian)
    page = client.get(f"/leerlingen/{w.student.id}")
    assert "papa.geheim" not in page.get_data(as_text=True)
    assert "naam nog niet bekend" in text_of(page)
