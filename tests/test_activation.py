"""Accepting an invitation: /activeren/<token>."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from parro import clock
from parro.auth import service
from parro.auth.passwords import verify_password
from parro.demo import CODE_OF_CONDUCT
from parro.extensions import db
from parro.models import Invitation, User, UserSession

from .factories import PASSWORD, make_admin, make_group, make_guardian, make_school, make_student
from .helpers import activation_path, login_as, text_of


def setup_invitation(email="nieuw@example.org", locale="nl", code=CODE_OF_CONDUCT):
    """A school with a code of conduct, a child in groep 3 and an invitation for a parent."""
    school = make_school()
    school.code_of_conduct = code
    group = make_group("Groep 3")
    student = make_student(group, first_name="Sem")
    admin = make_admin()
    db.session.commit()
    service.invite_guardian(student, email, admin, locale)
    return activation_path(email)


def form(**overrides):
    data = {"accept": "y", "name": "Eva Jansen", "locale": "nl",
            "password": PASSWORD, "password_again": PASSWORD}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, url, data):
    db.session.commit()  # end the test's own read: SQLite's write lock
    return client.post(url, data=data)


def account(email="nieuw@example.org") -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def assert_not_activated(email="nieuw@example.org"):
    user = account(email)
    assert not user.active and user.password_hash is None
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    assert invitation.used_at is None
    db.session.commit()


def test_the_page_shows_the_code_of_conduct_and_the_form(app, client):
    path = setup_invitation()
    page = client.get(path)
    assert page.status_code == 200
    text = text_of(page)
    assert "filmpjes uit parro deelt u niet met anderen" in text
    assert "positief en respectvol" in text
    assert "Ik houd me aan deze afspraken" in text
    assert "nieuw@example.org" in text
    html = page.get_data(as_text=True)
    for name in ("accept", "name", "locale", "password", "password_again"):
        assert f'name="{name}"' in html


def test_activation_opens_the_account_and_logs_in(app, client):
    path = setup_invitation()
    clock.set_now(clock.now())

    response = post(client, path, form(locale="en"))

    assert response.status_code == 303
    # A guardian goes on to the privacy questions; the school asks none here.
    assert response.headers["Location"] == "/privacy/keuzes?welkom=1"
    assert current_app.config["AUTH_COOKIE_NAME"] in response.headers.get("Set-Cookie", "")
    user = account()
    assert user.active and user.name == "Eva Jansen" and user.locale == "en"
    assert user.activated_at == clock.now() and user.password_changed_at == clock.now()
    assert verify_password(user.password_hash, PASSWORD)
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    assert invitation.used_at == clock.now()
    db.session.commit()
    assert client.get("/privacy/keuzes?welkom=1").headers["Location"] == "/groepen/"

    groups = client.get("/groepen/")
    assert groups.status_code == 200
    assert "Welcome, Eva Jansen" in text_of(groups)  # in the language just chosen
    assert "Groep 3" in text_of(groups)


def test_the_code_of_conduct_must_be_accepted(app, client):
    path = setup_invitation()
    response = post(client, path, form(accept=None))
    assert response.status_code == 422
    assert "als u de afspraken accepteert" in text_of(response)
    assert_not_activated()


def test_the_passwords_must_match(app, client):
    path = setup_invitation()
    response = post(client, path, form(password_again="iets heel anders dan dat"))
    assert response.status_code == 422
    assert "De twee wachtwoorden zijn niet gelijk." in text_of(response)
    assert_not_activated()


def test_a_weak_password_is_refused(app, client):
    path = setup_invitation()
    response = post(client, path, form(password="wachtwoord1", password_again="wachtwoord1"))
    assert response.status_code == 422
    assert "te makkelijk te raden" in text_of(response)
    assert_not_activated()


def test_a_short_password_is_refused(app, client):
    path = setup_invitation()
    response = post(client, path, form(password="kort", password_again="kort"))
    assert response.status_code == 422
    assert "minstens 10 tekens" in text_of(response)
    assert_not_activated()


def test_the_name_is_required(app, client):
    path = setup_invitation()
    response = post(client, path, form(name="  "))
    assert response.status_code == 422
    assert "Vul uw naam in." in text_of(response)
    assert_not_activated()


def test_a_used_link_does_not_work_again(app, client):
    path = setup_invitation()
    assert post(client, path, form()).status_code == 303
    client.delete_cookie(current_app.config["AUTH_COOKIE_NAME"])

    again = client.get(path)
    assert again.status_code == 410
    assert "Deze link is al gebruikt" in text_of(again)
    assert 'href="/login"' in again.get_data(as_text=True)

    second = post(client, path, form(password="een ander lang wachtwoord voor later",
                                     password_again="een ander lang wachtwoord voor later"))
    assert second.status_code == 410
    assert verify_password(account().password_hash, PASSWORD)


def test_an_expired_link_asks_for_a_new_invitation(app, client):
    start = clock.now()
    clock.set_now(start)
    path = setup_invitation()

    clock.set_now(start + timedelta(days=7, seconds=-1))
    assert client.get(path).status_code == 200

    clock.set_now(start + timedelta(days=7))
    page = client.get(path)
    assert page.status_code == 410
    assert "Deze link is verlopen" in text_of(page)
    assert "nieuwe uitnodiging" in text_of(page)
    assert "Uitloggen" not in text_of(page)  # a page in the layout, nobody logged in
    assert post(client, path, form()).status_code == 410
    assert_not_activated()


def test_a_revoked_link_points_to_the_newest_mail(app, client):
    path = setup_invitation()
    user = account()
    service.resend_invitation(user, make_admin())
    newest = activation_path("nieuw@example.org")

    page = client.get(path)
    assert page.status_code == 410
    assert "alleen de link in de nieuwste e-mail werkt" in text_of(page)
    assert post(client, path, form()).status_code == 410
    assert_not_activated()
    assert post(client, newest, form()).status_code == 303


def test_an_unknown_token_gets_a_friendly_page(app, client):
    make_school()
    db.session.commit()
    for token in ("onzin", "x" * 300):
        page = client.get(f"/activeren/{token}")
        assert page.status_code == 404
        assert "Deze link werkt niet" in text_of(page)
        assert "nieuwe uitnodiging" in text_of(page)


def test_a_disabled_accounts_link_does_not_work(app, client):
    path = setup_invitation()
    user = account()
    user.disabled = True
    db.session.commit()
    assert client.get(path).status_code == 404
    assert post(client, path, form()).status_code == 404
    assert_not_activated()


def test_someone_else_logged_in_is_warned_and_then_logged_out(app, client):
    path = setup_invitation()
    other = make_guardian(name="Andere Ouder")
    db.session.commit()
    login_as(client, other)
    other_id = other.id

    page = client.get(path)
    assert page.status_code == 200
    assert "ingelogd als Andere Ouder" in text_of(page)

    response = post(client, path, form())
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == other_id)
    ) == 0
    db.session.commit()
    groups = client.get("/groepen/")
    assert "Groep 3" in text_of(groups)  # now the new parent
    assert "Andere Ouder" not in groups.get_data(as_text=True)


def test_the_page_speaks_the_invitations_language_until_the_user_chooses(app, client):
    path = setup_invitation(locale="en")
    assert '<html lang="en" ' in client.get(path).get_data(as_text=True)
    assert '<html lang="nl" ' in client.get(path + "?taal=nl").get_data(as_text=True)
    assert '<html lang="en" ' in client.get(path + "?taal=xx").get_data(as_text=True)
    # After a failed post the page keeps the language picked in the form.
    response = post(client, path, form(locale="nl", accept=None))
    assert '<html lang="nl" ' in response.get_data(as_text=True)


def test_without_a_code_of_conduct_no_checkbox_is_needed(app, client):
    path = setup_invitation(code="")
    page = client.get(path)
    assert 'name="accept"' not in page.get_data(as_text=True)
    assert post(client, path, form(accept=None)).status_code == 303


def test_only_one_of_two_simultaneous_activations_wins(app):
    setup_invitation()
    invitation = db.session.scalar(select(Invitation))
    assert service.activate(invitation, "Eva", "nl", PASSWORD) is True
    db.session.commit()
    # A second request that found the link usable before the first committed:
    # the database decides, not what the request read earlier.
    assert service.activate(invitation, "Iemand", "nl", PASSWORD) is False
    assert account().name == "Eva"


def test_activation_needs_a_csrf_token(app, make_client):
    client = make_client(WTF_CSRF_ENABLED=True)
    path = setup_invitation()
    response = post(client, path, form())
    assert response.status_code == 400
    assert_not_activated()
