from __future__ import annotations

from datetime import time

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit, notifications, policy, push, push_hours
from ..clock import now
from ..extensions import csrf, db, limiter
from ..forms import EmptyForm, add_error, form_status
from ..inputs import int_arg, way_back
from ..models import LoginEvent, School, User, UserSession
from ..models.user import normalize_email
from ..privacy import export
from ..security import (
    current_session_id,
    current_session_method,
    end_other_sessions,
    end_session,
    live_sessions,
    renew_session,
    start_session,
    switch_school,
)
from . import bp, sso, twofactor
from .devices import describe
from .forms import (
    AccountForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    notification_settings_form,
)
from .passwords import hash_password, needs_rehash, verify_password
from .reset import UNKNOWN, USED, complete_reset, find_reset, request_reset
from .service import user_by_email


def _config(name: str):
    return lambda: current_app.config[name]


def _email_key(prefix: str):
    return lambda: f"{prefix}:" + normalize_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    # Only failed attempts count: a family sharing one IP can log in all evening.
    return response.status_code != 303


def _login_limits(key_func):
    """A login step's limits on its POSTs, per IP and per account (failed attempts only)."""
    per_ip = limiter.limit(_config("RATELIMIT_LOGIN_IP"), methods=["POST"], deduct_when=_failed)
    per_account = limiter.limit(_config("RATELIMIT_LOGIN_ACCOUNT"), methods=["POST"],
                                key_func=key_func, deduct_when=_failed)
    return lambda view: per_ip(per_account(view))


def _per_user_limit(setting: str, prefix: str, **options):
    """The rate limit `setting` per logged-in user; login_required turns away the others."""
    return limiter.limit(
        _config(setting),
        key_func=lambda: f"{prefix}:{getattr(current_user, 'id', '')}",
        exempt_when=lambda: not current_user.is_authenticated,
        **options,
    )


@bp.route("/login", methods=["GET", "POST"])
@_login_limits(_email_key("login"))
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(way_back(request.args.get("next")), 303)
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        user = user_by_email(email)
        ok = verify_password(user.password_hash if user else None, form.password.data)
        ok = ok and user.is_active
        if ok and needs_rehash(user.password_hash):
            user.password_hash = hash_password(form.password.data)
        if ok and user.is_staff and sso.required_for_staff():
            record_login(user, email, False, reason="schoolaccount verplicht")
            db.session.commit()
            return _login_page(form, _(
                "Medewerkers van deze school loggen in met hun schoolaccount, niet met een "
                "wachtwoord. Gebruik de knop “Inloggen met de schoolaccount” hieronder."
            ), 403)
        if ok and user.has_two_factor:
            # The password was right; the session only starts after the app's code.
            twofactor.begin_login(user, form.remember.data)
            db.session.commit()
            return redirect(url_for("auth.login_code", next=request.args.get("next")), 303)
        record_login(user, email, ok)
        if ok:
            start_session(user, remember=form.remember.data)
            db.session.commit()
            return redirect(way_back(request.args.get("next")), 303)
        db.session.commit()
        # One answer for unknown, wrong and disabled: no account enumeration.
        error = _("Dit e-mailadres en wachtwoord horen niet bij elkaar. Probeer het opnieuw.")
    return _login_page(form, error, form_status())


def _login_page(form: LoginForm, error: str | None, status: int):
    # After logging out of a school-account session: offer the provider's own logout too.
    provider_logout = (sso.logout_url() if request.args.get("schoolaccount") == "uitgelogd"
                       else None)
    return render_template(
        "auth/login.html", form=form, error=error, school_account=sso.configured(),
        provider_logout=provider_logout,
    ), status


def record_login(user: User | None, email: str, ok: bool, **details) -> None:
    """A login attempt for the login history and the audit log."""
    db.session.add(
        LoginEvent(user_id=user.id if user else None, email=email, success=ok,
                   ip=(request.remote_addr or "")[:45])
    )
    audit.record(
        audit.LOGIN if ok else audit.LOGIN_FAILED, actor=user if ok else None, target=user,
        summary=email, **details,
    )


@bp.post("/logout")
def logout():
    """Log out of this browser."""
    if EmptyForm().validate_on_submit():
        via_school_account = current_session_method() == sso.METHOD
        end_session()
        db.session.commit()
        flash(_("U bent uitgelogd."), "success")
        # After a school-account session the login page offers the provider's logout too.
        response = redirect(url_for("auth.login", schoolaccount="uitgelogd")
                            if via_school_account else url_for("auth.login"), 303)
        # A shared classroom PC keeps none of this family's photos in its cache.
        response.headers["Clear-Site-Data"] = '"cache"'
        return response
    return redirect(url_for("auth.login"), 303)


# -- password reset -----------------------------------------------------------


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
@limiter.limit(_config("RATELIMIT_RESET_IP"), methods=["POST"])
@limiter.limit(_config("RATELIMIT_RESET_EMAIL"), methods=["POST"], key_func=_email_key("reset"))
def forgot_password():
    """Ask for an email with a link to choose a new password."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_reset(form.email.data)
        db.session.commit()
        # The same answer for every address: nobody learns who has an account.
        flash(
            _(
                "Als %(email)s bij ons bekend is, ontvangt u binnen enkele minuten een e-mail "
                "met een link om een nieuw wachtwoord te kiezen. Kijk ook in uw map met "
                "ongewenste e-mail.",
                email=normalize_email(form.email.data),
            ),
            "success",
        )
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/forgot_password.html", form=form), form_status()


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with the link from the reset email."""
    reset, problem = find_reset(token)
    if problem is None:
        user = reset.user
        form = NewPasswordForm(user_inputs=[user.email, user.name])
        if form.validate_on_submit():
            if complete_reset(reset, form.password.data):
                db.session.commit()
                flash(
                    _("Uw nieuwe wachtwoord is opgeslagen. Log hiermee in."), "success"
                )
                return redirect(url_for("auth.login"), 303)
            db.session.rollback()
            problem = USED
        else:
            return render_template("auth/reset_password.html", form=form), form_status()
    status = 404 if problem == UNKNOWN else 410
    return render_template("auth/reset_invalid.html", problem=problem), status


# -- the user's own account ---------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Show and change the user's own name and language."""
    form = AccountForm(obj=current_user)
    if form.validate_on_submit():
        current_user.name = form.name.data.strip()
        current_user.locale = form.locale.data
        db.session.commit()
        with force_locale(current_user.locale):
            flash(_("Uw gegevens zijn opgeslagen."), "success")
        return redirect(url_for("auth.account"), 303)
    return render_template(
        "auth/account.html",
        form=form,
        two_factor=policy.can_use_two_factor(current_user),
        notifications=policy.can_choose_notifications(current_user),
        own_reports=policy.can_see_own_reports(current_user),
        sessions=live_sessions(current_user),
        current_session_id=current_session_id(),
        describe=describe,
    ), form_status()


@bp.route("/account/meldingen", methods=["GET", "POST"])
@login_required
def notification_settings():
    """Meldingen: per category push on or off and the mail; the digest time; quiet hours."""
    policy.require(policy.can_choose_notifications(current_user))
    form = notification_settings_form(
        current_user, request.form if request.method == "POST" else None)
    categories = form.categories
    if form.validate_on_submit():
        quiet = None
        if not current_user.is_staff:
            quiet = (form.quiet.data, time.fromisoformat(form.quiet_from.data),
                     time.fromisoformat(form.quiet_until.data))
        notifications.save(
            current_user,
            {c.key: (form[f"{c.key}_push"].data, form[c.key].data) for c in categories},
            time.fromisoformat(form.digest_time.data),
            quiet,
        )
        db.session.commit()
        flash(_("Uw keuzes voor meldingen zijn opgeslagen."), "success")
        return redirect(url_for("auth.notification_settings"), 303)
    status = form_status()
    hours = push_hours.working_hours(current_user) if current_user.is_staff else None
    return render_template("auth/notification_settings.html", form=form,
                           categories=categories, hours=hours,
                           devices=len(push.devices_of(current_user))), status


@bp.route("/account/e-mailberichten")
@login_required
def email_settings():
    """The page's old address, in mails sent before it became Meldingen."""
    return redirect(url_for("auth.notification_settings"), 301)


@bp.route("/afmelden/<token>", methods=["GET", "POST"])
@csrf.exempt  # the mail program's one-click POST has no form token: the signed link is the key
def unsubscribe(token: str):
    """Turn off the mail a notification link names: asked first, or at once by one-click POST."""
    link = notifications.read_unsubscribe_token(token)
    if not policy.can_unsubscribe(link):
        abort(404)
    user, categories = link
    done = None
    if request.method == "POST":
        done = [c for c in categories if notifications.turn_off_mail(user, c.key)]
        db.session.commit()
    with force_locale(user.locale):
        return render_template("auth/unsubscribe.html", categories=categories, done=done,
                               email=user.email)


@bp.route("/account/wachtwoord", methods=["GET", "POST"])
@login_required
@_per_user_limit("RATELIMIT_LOGIN_ACCOUNT", "password", methods=["POST"], deduct_when=_failed)
def change_password():
    """Change the password; every other device is logged out."""
    form = ChangePasswordForm(user_inputs=[current_user.email, current_user.name])
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current.data):
            current_user.password_hash = hash_password(form.password.data)
            current_user.password_changed_at = now()
            renew_session(current_user)
            audit.record(audit.SECURITY, target=current_user,
                         summary=f"Wachtwoord gewijzigd door {audit.person(current_user)}; "
                                 "andere apparaten uitgelogd")
            db.session.commit()
            flash(
                _("Uw wachtwoord is gewijzigd. Op andere apparaten bent u uitgelogd."),
                "success",
            )
            return redirect(url_for("auth.account"), 303)
        add_error(form.current, _("Dit is niet uw huidige wachtwoord."))
    return render_template("auth/change_password.html", form=form), form_status()


@bp.post("/account/gegevens-downloaden")
@login_required
@_per_user_limit("RATELIMIT_EXPORT", "export")
def export_data():
    """Inzage: download everything the app holds about me and my children (a ZIP)."""
    me = current_user._get_current_object()
    policy.require(policy.can_export_data(me, me))
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.account"), 303)
    return export.download(me, by_admin=False)


@bp.post("/account/apparaten/<int:session_id>/uitloggen")
@login_required
def end_device(session_id: int):
    """Log out one of the user's devices."""
    row = db.get_or_404(UserSession, session_id)
    policy.require(policy.can_end_session(current_user, row))
    if EmptyForm().validate_on_submit():
        if row.id == current_session_id():
            end_session()
            db.session.commit()
            flash(_("U bent uitgelogd."), "success")
            return redirect(url_for("auth.login"), 303)
        db.session.delete(row)
        audit.record(audit.SECURITY, target=current_user, device=describe(row.user_agent),
                     summary=f"{audit.person(current_user)} logde een ander apparaat uit")
        db.session.commit()
        flash(_("Dat apparaat is uitgelogd."), "success")
    return redirect(url_for("auth.account"), 303)


@bp.post("/account/apparaten/andere-uitloggen")
@login_required
def end_other_devices():
    """Log out every device except this one."""
    if EmptyForm().validate_on_submit():
        end_other_sessions(current_user)
        audit.record(audit.SECURITY, target=current_user,
                     summary=f"{audit.person(current_user)} logde alle andere apparaten uit")
        db.session.commit()
        flash(_("U bent op alle andere apparaten uitgelogd."), "success")
    return redirect(url_for("auth.account"), 303)


@bp.route("/scholen", methods=["GET", "POST"])
@login_required
def schools():
    """Choose the school to work in, for staff and parents at several schools of a board."""
    status = 200
    if request.method == "POST":
        form = EmptyForm()
        chosen = db.session.get(School, int_arg("school_id", request.form) or 0)
        if form.validate_on_submit() and chosen is not None \
                and policy.can_switch_to(current_user, chosen):
            switch_school(chosen.id)
            db.session.commit()
            flash(_("U werkt nu in %(school)s.", school=chosen.name), "success")
            return redirect(way_back(request.form.get("next")), 303)
        flash(_("Kies een van uw scholen."), "error")
        status = 422
    return render_template("auth/schools.html", choices=policy.schools(current_user),
                           current_id=policy.current_school_id()), status
