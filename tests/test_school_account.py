"""Staff sign in with the school's own account (OpenID Connect), against a real provider.

The provider is the npm package oidc-provider on loopback (tests/oidc_provider.py), the
whole authorization code flow runs without a browser: parro's test client presses the
button, the provider's login page is driven over HTTP, and the provider's answer goes
back to parro, which exchanges the code with the provider over HTTP as in production.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
from sqlalchemy import func, select

from parro import audit, clock
from parro.auth.sso import LEEWAY
from parro.extensions import db
from parro.models import AuditEvent, Invitation, LoginEvent, Role, School, User, UserSession

from .factories import PASSWORD, make_admin, make_guardian, make_school, make_teacher
from .helpers import fetch, login_as, mails_to, text_of
from .oidc_provider import local_path, sign_in
from .servers import free_port

ANNA = "anna@school.example"  # at the provider: password only
BRAM = "bram@school.example"  # at the provider: multi-factor login


@pytest.fixture
def provider(oidc_provider, app):
    make_school()
    db.session.commit()
    return oidc_provider


@pytest.fixture
def browser(make_client, provider):
    """A browser for a parro set up with the provider."""
    return make_client(**provider.config())


def user(email) -> User:
    (found,) = fetch(select(User).where(User.email == email))
    return found


def session_rows() -> list[UserSession]:
    return fetch(select(UserSession).order_by(UserSession.id))


def events(action) -> list[AuditEvent]:
    return fetch(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))


def refusals() -> list[str]:
    return [e.details["reason"] for e in events(audit.LOGIN_FAILED)]


def assert_refused(response, status, text):
    assert response.status_code == status, text_of(response)[:500]
    assert text in text_of(response)
    assert session_rows() == []


# -- the login page -------------------------------------------------------------------


def test_the_login_page_shows_the_button_only_when_set_up(app, make_client, browser):
    assert "Inloggen met de schoolaccount" not in text_of(make_client().get("/login"))
    page = browser.get("/login?next=/gesprekken")
    assert "Inloggen met de schoolaccount" in text_of(page)
    assert 'href="/login/schoolaccount?next=/gesprekken"' in page.get_data(as_text=True)
    # Without the setting the route does not exist.
    assert make_client().get("/login/schoolaccount").status_code == 404
    assert make_client().get("/login/schoolaccount/terug?code=x&state=y").status_code == 404


def test_the_button_sends_an_authorization_request_with_pkce_state_and_nonce(browser,
                                                                             provider):
    start = browser.get("/login/schoolaccount")
    assert start.status_code == 303
    url = urlsplit(start.headers["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == provider.issuer + "/auth"
    assert query["response_type"] == ["code"] and query["client_id"] == ["parro"]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://parro.test/login/schoolaccount/terug"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    # A second press starts a new attempt with new values.
    again = parse_qs(urlsplit(browser.get("/login/schoolaccount").headers["Location"]).query)
    assert again["state"] != query["state"] and again["nonce"] != query["nonce"]


# -- linking and signing in -----------------------------------------------------------


def test_an_invited_teacher_is_linked_by_verified_email_then_by_subject(app, browser,
                                                                        provider):
    admin = make_admin(email="office@school.example")
    from parro.auth.service import invite_staff

    invite_staff(ANNA, "Anna de Boer", Role.TEACHER, admin)  # not activated yet
    db.session.commit()

    response = sign_in(browser, provider, "anna", next_path="/account")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "Anna de Boer" in browser.get("/account").get_data(as_text=True)
    anna = user(ANNA)
    assert (anna.oidc_issuer, anna.oidc_subject) == (provider.issuer, "anna")
    assert anna.active and anna.activated_at is not None and anna.password_hash is None
    # Her activation link is spent: the school account is her way in now.
    assert fetch(select(Invitation).where(Invitation.revoked_at.is_(None),
                                          Invitation.used_at.is_(None))) == []
    (row,) = session_rows()
    assert (row.user_id, row.method, row.multi_factor, row.remember) == (
        anna.id, "schoolaccount", False, False)
    (link,) = events(audit.SCHOOL_ACCOUNT)
    assert link.summary == "Anna de Boer (anna@school.example) gekoppeld aan de schoolaccount " \
                           "(account geactiveerd)"
    assert link.details["subject"] == "anna" and link.actor_id == anna.id
    (login,) = events(audit.LOGIN)
    assert login.details == {"method": "schoolaccount", "multi_factor": False, "linked": True}
    assert fetch(select(LoginEvent))[0].success

    # The office changes her address in parro: the provider's subject still finds her.
    browser.post("/logout")
    db.session.get(User, anna.id).email = "a.deboer@school.example"
    db.session.commit()
    response = sign_in(browser, provider, "anna")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Anna de Boer" in browser.get("/account").get_data(as_text=True)
    assert len(events(audit.SCHOOL_ACCOUNT)) == 1  # no second link
    assert events(audit.LOGIN)[-1].details["linked"] is False


def test_an_unknown_person_gets_no_account(browser, provider):
    before = db.session.scalar(select(func.count()).select_from(User))
    response = sign_in(browser, provider, "nieuw")
    assert_refused(response, 403, "U heeft nog geen account in parro. Vraag de administratie")
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    (refusal,) = events(audit.LOGIN_FAILED)
    assert refusal.summary == "nieuw@school.example"
    assert refusal.details["reason"] == "unknown" and refusal.details["method"] == "schoolaccount"


# Each refused with a clear page, and the account with that address is not linked.
REFUSED_BEFORE_LINKING = {
    # a guardian's address: parents never sign in this way
    "guardian": (make_guardian, "ouder@school.example", "ouder", {},
                 "Ouders loggen in met hun e-mailadres en wachtwoord"),
    # the provider says it has not verified the address
    "unverified": (make_teacher, "carla@school.example", "onbevestigd", {},
                   "geeft geen bevestigd e-mailadres door"),
    # an address outside the school's own domains
    "domain": (make_teacher, "anna@elders.example", "extern",
               {"OIDC_ALLOWED_DOMAINS": ["school.example"]}, "het hoort niet bij de school"),
}


@pytest.mark.parametrize("reason", sorted(REFUSED_BEFORE_LINKING))
def test_refused_before_linking(make_client, provider, reason):
    make, email, login, config, text = REFUSED_BEFORE_LINKING[reason]
    make(email=email)
    db.session.commit()
    response = sign_in(make_client(**provider.config(**config)), provider, login)
    assert_refused(response, 403, text)
    assert user(email).oidc_subject is None
    assert refusals() == [reason]


def test_a_disabled_account_cannot_come_back_through_the_school_account(browser, provider):
    admin = make_admin()
    make_teacher(email=ANNA, name="Anna de Boer")
    db.session.commit()
    assert sign_in(browser, provider, "anna").status_code == 303  # linked and in
    from parro.auth.service import set_disabled

    set_disabled(db.session.get(User, user(ANNA).id), True, admin)  # ends her sessions
    assert browser.get("/account").status_code == 302  # logged out
    response = sign_in(browser, provider, "anna")
    assert_refused(response, 403, "Uw account in parro is uitgeschakeld.")
    assert refusals() == ["disabled"]


def test_an_account_linked_to_another_school_account_is_not_taken_over(browser, provider):
    teacher = make_teacher(email=ANNA)
    teacher.oidc_issuer, teacher.oidc_subject = provider.issuer, "someone-else"
    db.session.commit()
    response = sign_in(browser, provider, "anna")
    assert_refused(response, 403, "al gekoppeld aan een andere schoolaccount")
    assert user(ANNA).oidc_subject == "someone-else"
    assert refusals() == ["linked_elsewhere"]


def test_the_office_unlinks_a_school_account(app, make_client, browser, provider):
    admin = make_admin()
    make_teacher(email=ANNA, name="Anna de Boer")
    db.session.commit()
    sign_in(browser, provider, "anna")
    office = make_client()
    login_as(office, admin)
    assert "Schoolaccount ontkoppelen" in text_of(office.get("/beheer/medewerkers"))
    anna = user(ANNA)
    response = office.post(f"/beheer/medewerkers/{anna.id}/schoolaccount-ontkoppelen")
    assert response.status_code == 303
    assert user(ANNA).oidc_subject is None
    assert events(audit.SCHOOL_ACCOUNT)[-1].summary == (
        "Koppeling van Anna de Boer (anna@school.example) met de schoolaccount verbroken")
    # Her next sign-in links her again, by her verified address.
    browser.post("/logout")
    assert sign_in(browser, provider, "anna").status_code == 303
    assert user(ANNA).oidc_subject == "anna"


# -- multi-factor login ---------------------------------------------------------------


def require_two_factor():
    db.session.scalar(select(School)).require_two_factor = True
    db.session.commit()


def test_the_providers_multi_factor_login_counts_for_the_schools_rule(browser, make_client,
                                                                      provider):
    require_two_factor()
    make_teacher(email=BRAM, name="Bram Visser")
    make_teacher(email=ANNA, name="Anna de Boer")
    db.session.commit()
    assert sign_in(browser, provider, "bram").status_code == 303
    assert session_rows()[0].multi_factor is True
    assert browser.get("/account").status_code == 200  # not sent to set up parro's code
    assert events(audit.LOGIN)[0].details["multi_factor"] is True

    # A provider that says it with acr counts as well.
    make_teacher(email="erik@school.example")
    db.session.commit()
    assert sign_in(make_client(**provider.config()), provider, "erik").status_code == 303
    assert events(audit.LOGIN)[-1].details["multi_factor"] is True

    # A password at the provider is one factor: the school's rule still applies.
    other = make_client(**provider.config())
    assert sign_in(other, provider, "anna").status_code == 303
    response = other.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/tweestapsverificatie"


def test_parros_own_code_is_asked_only_without_the_providers_multi_factor_login(
        browser, make_client, provider):
    secret = pyotp.random_base32()
    for email in (ANNA, BRAM):
        teacher = make_teacher(email=email)
        teacher.totp_secret, teacher.totp_enabled_at = secret, clock.now()
    db.session.commit()

    # Bram passed the provider's MFA: straight in, no code.
    assert sign_in(browser, provider, "bram").status_code == 303
    assert browser.get("/account").status_code == 200

    # Anna typed only a password there: parro asks its code before any session exists.
    other = make_client(**provider.config())
    response = sign_in(other, provider, "anna")
    assert response.status_code == 303 and response.headers["Location"] == "/login/code"
    assert [r.user_id for r in session_rows()] == [user(BRAM).id]
    response = other.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 303
    anna_row = [r for r in session_rows() if r.user_id == user(ANNA).id][0]
    assert (anna_row.method, anna_row.multi_factor) == ("schoolaccount", True)
    assert events(audit.LOGIN)[-1].details["method"] == "schoolaccount"


def test_list_settings_may_be_written_as_text(make_app):
    app = make_app(OIDC_ALLOWED_DOMAINS="school.example, @Bestuur.Example",
                   OIDC_MFA_ACR_VALUES="urn:a urn:b")
    assert app.config["OIDC_ALLOWED_DOMAINS"] == ["school.example", "bestuur.example"]
    assert app.config["OIDC_MFA_ACR_VALUES"] == ["urn:a", "urn:b"]


# -- requiring the school account for staff ---------------------------------------------


def test_the_office_requires_the_school_account_and_staff_passwords_stop_working(
        app, make_client, browser, provider):
    admin = make_admin(email="office@school.example", name="De Administratie")
    make_teacher(email=ANNA, name="Anna de Boer")
    make_guardian(email="ouder@example.org")
    db.session.commit()
    settings = {"name": "Basisschool De Test", "colour": "#1f6f8b",
                "require_school_account": "y"}

    # An admin logged in with a password cannot switch it on: first prove it works.
    office = make_client(**provider.config())
    office.post("/login", data={"email": "office@school.example", "password": PASSWORD})
    response = office.post("/beheer/school", data=settings)
    assert response.status_code == 422
    assert "Log eerst zelf in met de schoolaccount" in text_of(response)
    assert db.session.scalar(select(School)).require_school_account is False

    # A teacher is logged in with her password meanwhile.
    teacher = make_client(**provider.config())
    teacher.post("/login", data={"email": ANNA, "password": PASSWORD})
    assert teacher.get("/account").status_code == 200

    office.post("/logout")
    admin.email = "bram@school.example"  # the office's account at the provider
    db.session.commit()
    assert sign_in(office, provider, "bram").status_code == 303
    assert office.post("/beheer/school", data=settings).status_code == 303
    assert db.session.scalar(select(School)).require_school_account is True
    assert events(audit.SECURITY)[-1].summary == (
        "Inloggen met de schoolaccount voor medewerkers verplicht")
    # The teacher's password session has ended; the office's own is kept.
    assert teacher.get("/account").status_code == 302
    assert office.get("/account").status_code == 200

    refused = make_client(**provider.config()).post(
        "/login", data={"email": ANNA, "password": PASSWORD})
    assert refused.status_code == 403
    assert "Medewerkers van deze school loggen in met hun schoolaccount" in text_of(refused)
    assert events(audit.LOGIN_FAILED)[-1].details == {"reason": "schoolaccount verplicht"}
    # Parents are not affected.
    parent = make_client(**provider.config())
    assert parent.post("/login", data={"email": "ouder@example.org",
                                       "password": PASSWORD}).status_code == 303

    # Emergency access from the server: passwords work again, and the log says so.
    result = app.test_cli_runner().invoke(args=["allow-staff-passwords"])
    assert "Staff may log in with their password again" in result.output
    assert make_client(**provider.config()).post(
        "/login", data={"email": ANNA, "password": PASSWORD}).status_code == 303
    assert events(audit.SECURITY)[-1].summary == (
        "Inloggen met de schoolaccount voor medewerkers niet meer verplicht")


def test_staff_who_only_used_the_school_account_can_choose_a_password_when_allowed(
        app, make_client, browser, provider):
    make_teacher(email=ANNA, password=None)
    school = db.session.scalar(select(School))
    school.require_school_account = True
    db.session.commit()
    assert sign_in(browser, provider, "anna").status_code == 303
    forgot = make_client(**provider.config())
    forgot.post("/wachtwoord-vergeten", data={"email": ANNA})
    assert mails_to(ANNA) == []  # a password would not work while the rule holds

    app.test_cli_runner().invoke(args=["allow-staff-passwords"])
    forgot.post("/wachtwoord-vergeten", data={"email": ANNA})
    (mail,) = mails_to(ANNA)
    assert "/wachtwoord-herstellen/" in mail.body_text


def test_without_the_provider_set_up_the_rule_does_not_lock_anyone_out(make_client, provider):
    db.session.scalar(select(School)).require_school_account = True
    make_teacher(email=ANNA)
    db.session.commit()
    # The operator removed PARRO_OIDC_ISSUER: the password works again.
    assert make_client().post("/login", data={"email": ANNA,
                                              "password": PASSWORD}).status_code == 303
    assert "Medewerkers loggen alleen in" not in text_of(_admin_settings(make_client))


def _admin_settings(make_client, **config):
    office = make_client(**config)
    login_as(office, make_admin())
    return office.get("/beheer/school")


def test_an_invited_teacher_activates_through_the_school_account_when_it_is_required(
        app, make_client, browser, provider):
    admin = make_admin()
    db.session.scalar(select(School)).require_school_account = True
    from parro.auth.service import invite_staff

    invite_staff(ANNA, "Anna de Boer", Role.TEACHER, admin)
    db.session.commit()
    from .helpers import activation_path

    page = browser.get(activation_path(ANNA))
    assert page.status_code == 200
    assert "Uw school laat medewerkers inloggen met hun schoolaccount" in text_of(page)
    assert 'name="password"' not in page.get_data(as_text=True)
    assert sign_in(browser, provider, "anna").status_code == 303
    assert user(ANNA).active


# -- logging out ----------------------------------------------------------------------


def test_logging_out_ends_the_session_and_offers_the_providers_logout(browser, provider):
    make_teacher(email=ANNA)
    db.session.commit()
    sign_in(browser, provider, "anna")
    response = browser.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?schoolaccount=uitgelogd"
    assert session_rows() == []
    page = browser.get(response.headers["Location"])
    assert "Bij uw schoolaccount bent u misschien nog ingelogd" in text_of(page)
    link = re.search(r'href="([^"]+)">Ook uitloggen bij de schoolaccount',
                     page.get_data(as_text=True)).group(1).replace("&amp;", "&")
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}{url.path}" == provider.issuer + "/session/end"
    query = parse_qs(url.query)
    assert query["client_id"] == ["parro"]
    assert query["post_logout_redirect_uri"] == ["http://parro.test/login"]
    # The provider accepts it: its page asks to confirm the logout.
    at_provider = requests.get(link, timeout=10)
    assert at_provider.status_code == 200 and "logout" in at_provider.text.lower()


def test_a_password_session_logs_out_without_the_offer(browser, provider):
    make_teacher(email=ANNA)
    db.session.commit()
    browser.post("/login", data={"email": ANNA, "password": PASSWORD})
    response = browser.post("/logout")
    assert response.headers["Location"] == "/login"


# -- refusals: each with a clear page -----------------------------------------------------


@pytest.fixture
def anna(provider):
    make_teacher(email=ANNA, name="Anna de Boer")
    db.session.commit()


@pytest.mark.parametrize("mode", ["payload", "none"])
def test_a_tampered_id_token_is_refused(browser, provider, anna, mode):
    """The provider signs a true ID token; between it and parro the token is changed:
    "payload" puts the admin's address in the signed claims (the RS256 signature no
    longer matches), "none" sends the claims unsigned with alg "none". Both are checked
    against the provider's published keys and refused."""
    with provider.tampered(mode):
        response = sign_in(browser, provider, "anna")
    assert_refused(response, 400, "niet door de school ondertekend of is onderweg veranderd")
    assert "Inloggen met de schoolaccount" in text_of(response)  # a button to try again
    assert refusals() == ["invalid"]
    assert user(ANNA).oidc_subject is None


def test_an_id_token_for_another_nonce_is_refused(browser, provider, anna):
    """The authorization request is changed on its way to the provider (another nonce),
    so the provider's genuine, correctly signed ID token carries a nonce that is not the
    one this browser's attempt was started with."""
    def other_nonce(url):
        return re.sub(r"nonce=[^&]+", "nonce=an-attackers-nonce-value", url)

    response = sign_in(browser, provider, "anna", edit_authorize=other_nonce)
    assert_refused(response, 400, "hoort bij een andere inlogpoging")
    assert refusals() == ["nonce"]


def test_a_replayed_answer_is_refused(browser, make_client, provider, anna):
    """The state is removed when used: the same answer (code and state) a second time,
    in the same browser or another, finds no attempt to belong to."""
    start = browser.get("/login/schoolaccount")
    callback = local_path(provider.log_in(start.headers["Location"], "anna"))
    assert browser.get(callback).status_code == 303
    browser.post("/logout")
    assert_refused(browser.get(callback), 400, "Deze inlogpoging is al gebruikt")
    assert_refused(make_client(**provider.config()).get(callback), 400,
                   "Deze inlogpoging is al gebruikt")
    assert refusals() == ["state", "state"]


def test_an_expired_id_token_is_refused(browser, provider, anna):
    """The provider issues ID tokens valid for an hour; parro's clock is moved past that
    hour and the allowed clock skew before the answer arrives, so the genuine token is
    expired by the time parro checks it (on parro's clock, not the machine's)."""
    start = browser.get("/login/schoolaccount")
    callback = local_path(provider.log_in(start.headers["Location"], "anna"))
    clock.set_now(clock.now() + timedelta(hours=1, seconds=LEEWAY + 60))
    assert_refused(browser.get(callback), 400, "Het antwoord van de schoolaccount was al verlopen")
    assert refusals() == ["expired"]


def test_without_email_verified_only_the_schools_own_domains_are_trusted(make_client,
                                                                          provider):
    """Entra ID sends no email_verified: refused, unless the operator trusts the
    addresses in the school's own domains (OIDC_TRUST_DOMAIN_EMAILS)."""
    make_teacher(email="dirk@school.example")
    db.session.commit()
    response = sign_in(make_client(**provider.config()), provider, "entra")
    assert_refused(response, 403, "geeft geen bevestigd e-mailadres door")

    trusting = make_client(**provider.config(OIDC_ALLOWED_DOMAINS="school.example",
                                             OIDC_TRUST_DOMAIN_EMAILS=True))
    assert sign_in(trusting, provider, "entra").status_code == 303
    assert user("dirk@school.example").oidc_subject == "entra"


def test_a_cancelled_sign_in_is_refused_clearly(browser, provider):
    start = browser.get("/login/schoolaccount")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    response = browser.get(f"/login/schoolaccount/terug?error=access_denied&state={state}")
    assert_refused(response, 400, "Het inloggen bij de schoolaccount is afgebroken")
    assert refusals() == ["cancelled"]


def test_an_unreachable_provider_gives_a_clear_page(make_client, provider):
    client = make_client(**provider.config(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}"))
    response = client.get("/login/schoolaccount")
    assert_refused(response, 502, "parro kan de inlogdienst van de school nu niet bereiken")
    assert refusals() == ["unreachable"]


def test_the_school_account_pages_are_valid_html(app, make_client, browser, provider,
                                                 tmp_path):
    from .test_valid_html import describe, vnu_errors

    make_admin(email="bram@school.example")
    make_teacher(email=ANNA)
    db.session.commit()
    pages = {"login": browser.get("/login"),
             "refused": sign_in(browser, provider, "nieuw")}
    sign_in(browser, provider, "anna")
    pages["logged-out"] = browser.get(browser.post("/logout").headers["Location"])
    office = make_client(**provider.config())
    sign_in(office, provider, "bram")
    pages["school-settings"] = office.get("/beheer/school")
    pages["staff"] = office.get("/beheer/medewerkers")
    assert "Medewerkers loggen alleen in met de schoolaccount" in text_of(pages["school-settings"])
    assert "Schoolaccount ontkoppelen" in text_of(pages["staff"])
    for name, response in pages.items():
        (tmp_path / f"{name}.html").write_bytes(response.data)
    errors = vnu_errors(tmp_path)
    assert not errors, "\n".join(describe(m, tmp_path) for m in errors)


def test_the_help_page_answers_staff_about_the_school_account(app, make_client, provider):
    question = "Kan ik inloggen met mijn account van school?"
    teacher = make_teacher()
    db.session.commit()
    for config, shown in (({}, False), (provider.config(), True)):
        client = make_client(**config)
        login_as(client, teacher)
        assert (question in text_of(client.get("/help"))) is shown
