"""Two-factor login with an authenticator app for staff, and its administration."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import AuditEvent, RecoveryCode, School, User, UserSession

from .factories import PASSWORD, make_admin, make_guardian, make_school, make_teacher
from .helpers import fetch, login_as, text_of

MOMENT = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
EMAIL = "juf@example.org"


def code(secret, moment=None, steps=0):
    """What the app on the phone shows at `moment` (the frozen clock by default)."""
    return pyotp.TOTP(secret).at(moment or clock.now(), counter_offset=steps)


def password_step(client, email=EMAIL, **extra):
    return client.post("/login", data={"email": email, "password": PASSWORD, **extra})


def setup_page_secret(client) -> str:
    page = client.get("/account/tweestapsverificatie")
    assert page.status_code == 200
    grouped = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.get_data(as_text=True))
    return grouped.group(1).replace(" ", "")


def enable(client) -> tuple[str, list[str]]:
    """Turn two-factor login on as a user would: scan, type the code, note the codes."""
    secret = setup_page_secret(client)
    response = client.post("/account/tweestapsverificatie/aanzetten",
                           data={"code": code(secret)})
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.get_data(as_text=True))
    return secret, codes


def teacher_with_two_factor(make_client):
    """A teacher who turned two-factor login on; returns (secret, recovery codes)."""
    make_school()
    make_teacher(email=EMAIL)
    db.session.commit()
    client = make_client()
    login_as(client, db.session.scalar(select(User).where(User.email == EMAIL)))
    secret, codes = enable(client)
    clock.set_now(clock.now() + timedelta(seconds=30))  # the next code on the phone
    return secret, codes


def the_user() -> User:
    (user,) = fetch(select(User).where(User.email == EMAIL))
    return user


def security_events() -> list[str]:
    return [e.summary for e in fetch(select(AuditEvent).where(AuditEvent.action == "security")
                                     .order_by(AuditEvent.id))]


def sessions() -> int:
    return len(fetch(select(UserSession)))


# -- turning it on ------------------------------------------------------------------


def test_a_teacher_turns_it_on_with_the_qr_code_and_gets_recovery_codes(app, make_client):
    clock.set_now(MOMENT)
    make_school(name="De Regenboog")
    make_teacher(email=EMAIL)
    db.session.commit()
    client = make_client()
    login_as(client, the_user())
    assert "Tweestapsverificatie aanzetten" in text_of(client.get("/account"))
    page = client.get("/account/tweestapsverificatie")
    html = page.get_data(as_text=True)
    assert "<svg" in html and "Scan deze QR-code" in html
    secret = setup_page_secret(client)
    assert len(secret) == 32
    # the same secret on reload: someone who scanned first and typed later is fine
    assert setup_page_secret(client) == secret
    assert the_user().has_two_factor is False

    response = client.post("/account/tweestapsverificatie/aanzetten",
                           data={"code": code(secret)})
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.get_data(as_text=True))
    assert len(set(codes)) == 8
    assert "U ziet deze codes maar één keer." in text_of(response)
    user = the_user()
    assert user.has_two_factor and user.totp_secret == secret
    hashes = [r.code_hash for r in fetch(select(RecoveryCode))]
    assert len(hashes) == 8 and not any(c in h or c.replace("-", "") in h
                                        for c in codes for h in hashes)
    assert security_events() == ["Tweestapsverificatie aangezet"]
    page = text_of(client.get("/account/tweestapsverificatie"))
    assert "U heeft nog 8 herstelcodes." in page
    assert client.get("/account/tweestapsverificatie").get_data(as_text=True).count(
        codes[0]) == 0  # shown once


def test_a_wrong_code_enables_nothing(app, make_client):
    clock.set_now(MOMENT)
    make_teacher(email=EMAIL)
    db.session.commit()
    client = make_client()
    login_as(client, the_user())
    secret = setup_page_secret(client)
    for wrong in ["123456", "abc", code(secret, MOMENT - timedelta(minutes=5))]:
        response = client.post("/account/tweestapsverificatie/aanzetten", data={"code": wrong})
        assert response.status_code == 422, wrong
        assert "Deze code klopt niet of is al gebruikt." in text_of(response)
    assert the_user().has_two_factor is False
    assert fetch(select(RecoveryCode)) == []
    assert security_events() == []


def test_guardians_cannot_turn_it_on(app, make_client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client = make_client()
    login_as(client, fetch(select(User))[0])
    assert "Tweestapsverificatie" not in text_of(client.get("/account"))
    assert client.get("/account/tweestapsverificatie").status_code == 403
    assert client.post("/account/tweestapsverificatie/aanzetten",
                       data={"code": "123456"}).status_code == 403


# -- logging in -------------------------------------------------------------------------


def test_the_session_starts_only_after_the_code(app, make_client):
    clock.set_now(MOMENT)
    secret, _ = teacher_with_two_factor(make_client)
    before = sessions()
    client = make_client()
    response = password_step(client, next="/account")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login/code")
    assert sessions() == before  # nobody is logged in yet
    assert client.get("/account").status_code == 302
    page = client.get("/login/code")
    assert "Code invullen" in text_of(page)

    response = client.post("/login/code?next=/account", data={"code": code(secret)})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert sessions() == before + 1
    assert client.get("/account").status_code == 200
    assert the_user().totp_last_counter == pyotp.TOTP(secret).timecode(clock.now())


def test_a_code_works_once(app, make_client):
    clock.set_now(MOMENT)
    secret, _ = teacher_with_two_factor(make_client)
    first = make_client()
    password_step(first)
    assert first.post("/login/code", data={"code": code(secret)}).status_code == 303
    second = make_client()  # someone who looked over the shoulder, in the same 30 seconds
    password_step(second)
    response = second.post("/login/code", data={"code": code(secret)})
    assert response.status_code == 422
    assert "Deze code klopt niet of is al gebruikt." in text_of(response)
    assert second.get("/account").status_code == 302
    # an older code is no good after a newer one either
    assert second.post("/login/code", data={"code": code(secret, steps=-1)}).status_code == 422
    clock.set_now(clock.now() + timedelta(seconds=30))
    assert second.post("/login/code", data={"code": code(secret)}).status_code == 303


def test_a_wrong_code_is_refused_and_logged(app, make_client):
    clock.set_now(MOMENT)
    secret, _ = teacher_with_two_factor(make_client)
    client = make_client()
    password_step(client)
    before = sessions()
    response = client.post("/login/code", data={"code": "000000"})
    assert response.status_code == 422
    assert sessions() == before
    (failed,) = fetch(select(AuditEvent).where(AuditEvent.action == "login_failed"))
    assert failed.details == {"second_step": "wrong code", "method": "password"}


def test_the_half_login_expires(app, make_client):
    clock.set_now(MOMENT)
    secret, _ = teacher_with_two_factor(make_client)
    client = make_client()
    password_step(client)
    clock.set_now(clock.now() + timedelta(minutes=6))
    response = client.post("/login/code", data={"code": code(secret)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert "Inloggen duurde te lang. Log opnieuw in." in text_of(client.get("/login"))
    assert client.get("/account").status_code == 302


def test_the_half_login_ends_when_the_login_completes(app, make_client):
    """A copy of the browser's cookie taken between the password and the code (the
    note lives in it) is no good once the login is done."""
    clock.set_now(MOMENT)
    secret, _ = teacher_with_two_factor(make_client)
    client = make_client()
    password_step(client)
    copy = make_client()
    for cookie in client._cookies.values():
        copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    assert client.post("/login/code", data={"code": code(secret)}).status_code == 303
    before = sessions()

    clock.set_now(clock.now() + timedelta(seconds=30))  # the next code, within 5 minutes
    response = copy.post("/login/code", data={"code": code(secret)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert sessions() == before
    assert copy.get("/account").status_code == 302
    # A new password step starts a new half-way login, which works (the refused
    # attempt did not spend the code).
    password_step(copy)
    assert copy.post("/login/code", data={"code": code(secret)}).status_code == 303


def test_the_code_page_without_a_password_step_sends_to_login(app, make_client):
    client = make_client()
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_a_recovery_code_logs_in_once(app, make_client):
    clock.set_now(MOMENT)
    _, codes = teacher_with_two_factor(make_client)
    client = make_client()
    password_step(client)
    response = client.post("/login/code", data={"code": " " + codes[0].upper() + " "})
    assert response.status_code == 303
    assert "u heeft er nog 7" in text_of(client.get("/account"))
    assert "Ingelogd met een herstelcode" in security_events()
    again = make_client()
    password_step(again)
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 422
    assert again.post("/login/code", data={"code": codes[1].replace("-", "")}).status_code == 303


def test_guessing_codes_is_rate_limited(app, make_client):
    clock.set_now(MOMENT)
    secret, _ = teacher_with_two_factor(make_client)
    client = make_client(RATELIMIT_LOGIN_ACCOUNT="3 per 15 minutes")
    password_step(client)
    for guess in ("111111", "222222", "333333"):
        assert client.post("/login/code", data={"code": guess}).status_code == 422
    assert client.post("/login/code", data={"code": code(secret)}).status_code == 429


def test_users_without_two_factor_log_in_as_before(app, make_client):
    make_teacher(email=EMAIL)
    db.session.commit()
    client = make_client()
    response = password_step(client)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert sessions() == 1


# -- turning it off ------------------------------------------------------------------


def test_turning_it_off_needs_the_password_or_a_code(app, make_client):
    clock.set_now(MOMENT)
    secret, _ = teacher_with_two_factor(make_client)
    client = make_client()
    login_as(client, the_user())
    response = client.post("/account/tweestapsverificatie/uitzetten", data={"proof": "geraden"})
    assert response.status_code == 422
    assert "Dit is niet uw wachtwoord en ook geen geldige code." in text_of(response)
    assert the_user().has_two_factor
    response = client.post("/account/tweestapsverificatie/uitzetten",
                           data={"proof": code(secret)})
    assert response.status_code == 303
    assert the_user().has_two_factor is False
    assert fetch(select(RecoveryCode)) == []
    assert security_events()[-1] == "Tweestapsverificatie uitgezet"
    assert password_step(make_client()).headers["Location"] == "/"


def test_turning_it_off_with_the_password_keeps_one_logged_in(app, make_client):
    """Turning it off oneself (with the password or a code, in a browser one is logged in
    with) is no lost phone: the sessions stay."""
    clock.set_now(MOMENT)
    teacher_with_two_factor(make_client)
    client = make_client()
    login_as(client, the_user())
    response = client.post("/account/tweestapsverificatie/uitzetten", data={"proof": PASSWORD})
    assert response.status_code == 303
    assert the_user().has_two_factor is False
    assert client.get("/account").status_code == 200


def _lost_phone(make_client, user):
    """A phone logged in as `user` with push notifications on: (the browser, its device)."""
    from parro.models import PushSubscription

    phone = make_client()
    login_as(phone, user)
    session_id = db.session.scalar(
        select(func.max(UserSession.id)).where(UserSession.user_id == user.id))
    device = PushSubscription(user_id=user.id, session_id=session_id, p256dh="x", auth="y",
                              endpoint=f"https://push.example.org/{user.id}")
    db.session.add(device)
    db.session.commit()
    assert phone.get("/account").status_code == 200
    return phone, device.id


def test_an_admin_resets_a_lost_phone(app, make_client):
    """The lost phone may be logged in: the reset logs the teacher out on every device (its
    push notifications stop), and the admin is told so; the admin stays logged in."""
    from parro.models import PushSubscription

    clock.set_now(MOMENT)
    teacher_with_two_factor(make_client)
    admin = make_admin(email="admin@example.org")
    db.session.commit()
    teacher = the_user()
    phone, device_id = _lost_phone(make_client, teacher)
    client = make_client()
    login_as(client, admin)
    page = text_of(client.get("/beheer/medewerkers"))
    assert "Tweestapsverificatie uitzetten" in page
    response = client.post(f"/beheer/medewerkers/{teacher.id}/tweestapsverificatie-uitzetten")
    assert response.status_code == 303
    name = teacher.display_name
    assert (f"De tweestapsverificatie van {name} staat uit en {name} is op alle apparaten "
            "uitgelogd." in text_of(client.get("/beheer/medewerkers")))
    assert the_user().has_two_factor is False
    assert fetch(select(UserSession).where(UserSession.user_id == teacher.id)) == []
    assert fetch(select(PushSubscription).where(PushSubscription.id == device_id)) == []
    assert phone.get("/account").status_code == 302  # to the login
    (event,) = fetch(select(AuditEvent).where(AuditEvent.action == "security",
                                              AuditEvent.actor_id == admin.id))
    assert event.summary == "Tweestapsverificatie uitgezet door beheerder; overal uitgelogd"
    assert event.target_id == teacher.id
    assert password_step(make_client()).headers["Location"] == "/"


# -- required by the school ------------------------------------------------------------


def require(on=True):
    school = fetch(select(School))[0]
    db.session.merge(school).require_two_factor = on
    db.session.commit()


def test_the_admin_can_require_it_in_the_school_settings(app, make_client):
    make_school()
    admin = make_admin(email="admin@example.org")
    db.session.commit()
    client = make_client()
    login_as(client, admin)
    response = client.post("/beheer/school", data={
        "name": "De Test", "colour": "#1f6f8b", "require_two_factor": "y"})
    assert response.status_code == 303
    assert fetch(select(School))[0].require_two_factor is True
    assert security_events() == ["Tweestapsverificatie voor medewerkers verplicht"]
    # the admin has no app set up yet either: that comes first now
    response = client.get("/beheer/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/tweestapsverificatie"


def test_staff_without_it_must_set_it_up_before_anything_else(app, make_client):
    clock.set_now(MOMENT)
    make_school()
    make_teacher(email=EMAIL)
    guardian = make_guardian(email="ouder@example.org")
    db.session.commit()
    require()
    client = make_client()
    response = password_step(client)
    assert response.status_code == 303
    for url in ("/", "/account", "/groepen/", "/gesprekken/"):
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == "/account/tweestapsverificatie"
    fragment = client.get("/account", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Redirect"] == "/account/tweestapsverificatie"
    page = client.get("/account/tweestapsverificatie")
    assert "De school vraagt alle medewerkers" in text_of(page)
    enable(client)
    assert client.get("/account").status_code == 200
    # guardians are not asked
    parent = make_client()
    login_as(parent, guardian)
    assert parent.get("/account").status_code == 200
    # logging out stays possible
    other = make_client()
    make_teacher(email="meester@example.org")
    db.session.commit()
    password_step(other, email="meester@example.org")
    assert other.post("/logout").status_code == 303


# -- new recovery codes (issue 19, point 7) -----------------------------------------------


def _signed_in_with_two_factor(make_client):
    make_school()
    make_teacher(email=EMAIL)
    db.session.commit()
    client = make_client()
    login_as(client, the_user())
    secret, codes = enable(client)
    clock.set_now(clock.now() + timedelta(seconds=30))  # the next code on the phone
    return client, secret, codes


def test_new_recovery_codes_replace_the_old_ones_and_are_shown_once(app, make_client):
    clock.set_now(MOMENT)
    client, secret, old = _signed_in_with_two_factor(make_client)
    page = text_of(client.get("/account/tweestapsverificatie"))
    assert "Nieuwe herstelcodes maken" in page
    response = client.post("/account/tweestapsverificatie/herstelcodes",
                           data={"nieuw-code": code(secret)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", html)
    assert len(new) == 8 and not set(new) & set(old)
    assert "Uw oude herstelcodes werken niet meer." in text_of(response)
    assert "Nieuwe herstelcodes gemaakt" in security_events()
    assert len(fetch(select(RecoveryCode))) == 8
    # Only their hashes are kept: the page never shows them again.
    page = client.get("/account/tweestapsverificatie").get_data(as_text=True)
    assert new[0] not in page and "U heeft nog 8 herstelcodes." in text_of(
        client.get("/account/tweestapsverificatie"))
    # An old code no longer logs in, a new one does.
    login = make_client()
    password_step(login)
    assert login.post("/login/code", data={"code": old[0]}).status_code == 422
    assert login.post("/login/code", data={"code": new[0]}).status_code == 303


@pytest.mark.parametrize("proof", ["", "123", "recovery", "same code twice", "password"])
def test_new_recovery_codes_need_a_fresh_code_from_the_app(app, make_client, proof):
    clock.set_now(MOMENT)
    client, secret, old = _signed_in_with_two_factor(make_client)
    typed = {"": "", "123": "123", "recovery": old[0], "password": PASSWORD,
             "same code twice": code(secret)}[proof]
    if proof == "same code twice":  # the code was just used to log in or for new codes
        assert client.post("/account/tweestapsverificatie/herstelcodes",
                           data={"nieuw-code": typed}).status_code == 200
        before = {c.code_hash for c in fetch(select(RecoveryCode))}
    else:
        before = {c.code_hash for c in fetch(select(RecoveryCode))}
    response = client.post("/account/tweestapsverificatie/herstelcodes",
                           data={"nieuw-code": typed})
    assert response.status_code == 422
    page = text_of(response)
    assert "Vul de code uit de app in." in page or "Deze code klopt niet of is al gebruikt." in page
    assert {c.code_hash for c in fetch(select(RecoveryCode))} == before  # nothing changed


def test_only_staff_with_two_factor_make_recovery_codes(app, make_client):
    make_school()
    guardian = make_guardian(email="ouder@example.org")
    make_teacher(email=EMAIL)
    db.session.commit()
    client = make_client()
    login_as(client, guardian)
    assert client.post("/account/tweestapsverificatie/herstelcodes",
                       data={"nieuw-code": "123456"}).status_code == 403
    login_as(client, the_user())  # a teacher without two-factor login: back to setting it up
    response = client.post("/account/tweestapsverificatie/herstelcodes",
                           data={"nieuw-code": "123456"})
    assert response.status_code == 303
    assert fetch(select(RecoveryCode)) == []


# -- board admins: always required (issue: board admin two-factor login) ----------------

BOARD_EMAIL = "bestuur@example.org"


def _board_admin(**kw) -> User:
    from parro.models import Role

    from .factories import make_user

    return make_user(Role.BOARD, email=BOARD_EMAIL, name="Bestuursbureau", **kw)


def test_a_board_admin_sets_it_up_before_reaching_the_board(app, make_client):
    """The school setting's mechanism, always on for a board admin: every page but the
    set-up sends there (htmx too); once on, the board opens and the next login asks the
    code. The event is in the board's own log, no school's."""
    clock.set_now(MOMENT)
    make_school(name="De Regenboog")
    _board_admin(two_factor=False)
    db.session.commit()
    assert fetch(select(School))[0].require_two_factor is False  # no school asks it
    client = make_client()
    assert password_step(client, email=BOARD_EMAIL).headers["Location"] == "/"
    for url in ("/", "/bestuur/", "/bestuur/scholen/nieuw", "/account", "/help"):
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == "/account/tweestapsverificatie", url
    fragment = client.get("/bestuur/", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Redirect"] == "/account/tweestapsverificatie"
    page = text_of(client.get("/account/tweestapsverificatie"))
    assert "logt een beheerder van het schoolbestuur altijd in met een code" in page
    assert "De school vraagt" not in page and "De Regenboog" not in page
    assert client.post("/bestuur/scholen/nieuw", data={"name": "Het Anker"}).status_code == 303
    assert len(fetch(select(School))) == 1  # nothing was added on the way

    secret, _codes = enable(client)
    assert client.get("/bestuur/").status_code == 200
    (event,) = fetch(select(AuditEvent).where(AuditEvent.action == "security"))
    assert event.summary == "Tweestapsverificatie aangezet" and event.school_id is None
    page = text_of(client.get("/account/tweestapsverificatie"))
    assert "Een beheerder van het schoolbestuur logt altijd in met tweestapsverificatie" in page

    clock.set_now(MOMENT + timedelta(seconds=30))
    login = make_client()
    assert password_step(login, email=BOARD_EMAIL).headers["Location"].startswith("/login/code")
    assert login.get("/bestuur/").status_code == 302  # not logged in yet
    assert login.post("/login/code", data={"code": code(secret)}).status_code == 303
    assert login.get("/bestuur/").status_code == 200


def test_the_board_admins_account_page_offers_it(app, make_client):
    make_school()
    board_admin = _board_admin(two_factor=False)
    db.session.commit()
    client = make_client()
    login_as(client, board_admin)
    enable(client)
    page = client.get("/account").get_data(as_text=True)
    assert "Tweestapsverificatie beheren" in page
    assert "/meldingen/" not in page  # a board admin reports nothing: no 403 behind a link


def test_the_operator_resets_a_board_admins_lost_phone(app, make_client):
    """Lost phone and recovery codes: flask board-admin EMAIL --reset-two-factor turns it
    off (audit log); at the next login the board admin sets it up again. Anyone else's
    address is refused and changes nothing."""
    clock.set_now(MOMENT)
    make_school()
    board_admin = _board_admin()
    teacher = make_teacher(email=EMAIL)
    teacher.totp_secret, teacher.totp_enabled_at = "JBSWY3DPEHPK3PXP", MOMENT
    db.session.commit()
    phone, _device = _lost_phone(make_client, board_admin)
    runner = app.test_cli_runner()
    for address in (EMAIL, "niemand@example.org"):
        refused = runner.invoke(args=["board-admin", address, "--reset-two-factor"])
        assert refused.exit_code != 0 and "is not a board admin's address" in refused.output
    assert the_user().has_two_factor and security_events() == []

    done = runner.invoke(args=["board-admin", BOARD_EMAIL.upper(), "--reset-two-factor"])
    assert done.exit_code == 0, done.output
    assert "is off" in done.output
    board_admin = fetch(select(User).where(User.email == BOARD_EMAIL))[0]
    assert not board_admin.has_two_factor and fetch(select(RecoveryCode)) == []
    (event,) = fetch(select(AuditEvent).where(AuditEvent.action == "security"))
    assert event.summary == "Tweestapsverificatie uitgezet door beheerder; overal uitgelogd"
    assert (event.target_id, event.actor_id, event.school_id) == (board_admin.id, None, None)
    assert fetch(select(UserSession).where(UserSession.user_id == board_admin.id)) == []
    assert phone.get("/bestuur/").status_code == 302  # the lost phone: to the login
    assert "logged out on every device" in done.output
    again = runner.invoke(args=["board-admin", BOARD_EMAIL, "--reset-two-factor"])
    assert again.exit_code == 0 and "nothing changed" in again.output

    client = make_client()
    assert password_step(client, email=BOARD_EMAIL).headers["Location"] == "/"
    assert client.get("/bestuur/").headers["Location"] == "/account/tweestapsverificatie"
