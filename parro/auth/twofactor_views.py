"""Two-factor login for staff and board admins: turning it on and off, and the second
login step."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit, policy
from ..extensions import db
from ..forms import add_error, form_status
from ..htmx import is_htmx
from ..inputs import way_back
from ..policy import current_school
from ..security import current_session_multi_factor, start_session
from . import bp, twofactor
from .forms import TwoFactorCodeForm, TwoFactorDisableForm
from .passwords import verify_password
from .views import _failed, _login_limits, _per_user_limit, record_login

SETUP = "totp_setup"  # the secret being set up, until it is confirmed with a code
# What someone who must set up two-factor login first may still open.
OPEN_WHILE_REQUIRED = {
    "auth.two_factor", "auth.two_factor_enable", "auth.logout", "static",
    "theme.stylesheet", "theme.manifest", "theme.service_worker", "theme.logo", "theme.icon",
    "healthz",
    "auth.unsubscribe",  # a link from a mail works for anyone who holds it
}


def _wrong_code() -> str:
    return _("Deze code klopt niet of is al gebruikt. Kijk of de tijd op uw telefoon goed staat "
             "en typ de code die de app nu laat zien.")


# -- the second login step --------------------------------------------------------


@bp.route("/login/code", methods=["GET", "POST"])
@_login_limits(lambda: "login-code:" + twofactor.pending_user_id())
def login_code():
    """After the password: the code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(way_back(request.args.get("next")), 303)
    pending = twofactor.pending_login()
    if pending is None:
        session.pop(twofactor.PENDING, None)
        flash(_("Inloggen duurde te lang. Log opnieuw in."), "info")
        return redirect(url_for("auth.login", next=request.args.get("next")), 303)
    user, remember = pending
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        method = twofactor.check_code(user, form.code.data)
        first_step = twofactor.pending_method()
        record_login(user, user.email, method is not None, second_step=method or "wrong code",
                     method=first_step)
        if method is not None:
            start_session(user, remember=remember, method=first_step, multi_factor=True)
            if method == "recovery":
                audit.record(audit.SECURITY, actor=user, target=user,
                             summary="Ingelogd met een herstelcode",
                             left=twofactor.recovery_codes_left(user))
            db.session.commit()
            if method == "recovery":
                flash(_("U bent ingelogd met een herstelcode. Die werkt nu niet meer; u heeft er "
                        "nog %(n)s.", n=twofactor.recovery_codes_left(user)), "info")
            return redirect(way_back(request.args.get("next")), 303)
        db.session.commit()
        add_error(form.code, _wrong_code())
    return render_template("auth/login_code.html", form=form), form_status()


# -- turning it on and off ------------------------------------------------------------


def _issuer() -> str:
    """The name the authenticator app shows: the school's; a board admin's, parro's."""
    school = None if current_user.is_board_admin else current_school()
    return school.name if school else "parro"


def _page(form=None, disable=None, renew=None, status=200):
    user = current_user
    context = {"required": _required(user)}
    if user.has_two_factor:
        context.update(disable=disable or TwoFactorDisableForm(formdata=None),
                       renew=renew or TwoFactorCodeForm(formdata=None, prefix="nieuw"),
                       codes_left=twofactor.recovery_codes_left(user))
    else:
        secret = session.get(SETUP)
        if not secret:
            secret = session[SETUP] = twofactor.new_secret()
        context.update(form=form or TwoFactorCodeForm(formdata=None), secret=secret,
                       grouped=twofactor.grouped(secret),
                       qr=twofactor.qr_svg(user, secret, _issuer()))
    return render_template("auth/two_factor.html", **context), status


def _own_limit():
    return _per_user_limit("RATELIMIT_LOGIN_ACCOUNT", "two-factor", methods=["POST"],
                           deduct_when=_failed)


@bp.get("/account/tweestapsverificatie")
@login_required
def two_factor():
    """Two-factor login: set it up with a QR code, or see that it is on and turn it off."""
    policy.require(policy.can_use_two_factor(current_user))
    return _page()


@bp.post("/account/tweestapsverificatie/aanzetten")
@login_required
@_own_limit()
def two_factor_enable():
    """Confirm the app with a code; two-factor login is on and the recovery codes are shown."""
    policy.require(policy.can_use_two_factor(current_user))
    secret = session.get(SETUP)
    if current_user.has_two_factor or not secret:
        return redirect(url_for("auth.two_factor"), 303)
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        codes = twofactor.enable(current_user, secret, form.code.data)
        if codes is not None:
            session.pop(SETUP, None)
            audit.record(audit.SECURITY, summary="Tweestapsverificatie aangezet",
                         target=current_user)
            db.session.commit()
            # Shown in this answer and never again (only their hashes are stored), so no
            # redirect: the codes would have to wait somewhere for the next request.
            return render_template("auth/recovery_codes.html", codes=codes)
        add_error(form.code, _wrong_code())
    return _page(form=form, status=422)


@bp.post("/account/tweestapsverificatie/herstelcodes")
@login_required
@_own_limit()
def recovery_codes():
    """Make new recovery codes, confirmed with a code from the app; the old ones stop working."""
    policy.require(policy.can_use_two_factor(current_user))
    if not current_user.has_two_factor:
        return redirect(url_for("auth.two_factor"), 303)
    form = TwoFactorCodeForm(prefix="nieuw")
    if form.validate_on_submit():
        codes = twofactor.renew_recovery_codes(current_user, form.code.data)
        if codes is not None:
            # Shown once, in this answer (see two_factor_enable).
            return render_template("auth/recovery_codes.html", codes=codes, renewed=True)
        add_error(form.code, _wrong_code())
    return _page(renew=form, status=422)


@bp.post("/account/tweestapsverificatie/uitzetten")
@login_required
@_own_limit()
def two_factor_disable():
    """Turn two-factor login off, with the password or a code as proof."""
    policy.require(policy.can_use_two_factor(current_user))
    if not current_user.has_two_factor:
        return redirect(url_for("auth.two_factor"), 303)
    form = TwoFactorDisableForm()
    if form.validate_on_submit():
        proof = form.proof.data
        if verify_password(current_user.password_hash, proof) or twofactor.check_code(
            current_user, proof
        ):
            twofactor.disable(current_user)
            audit.record(audit.SECURITY, summary="Tweestapsverificatie uitgezet",
                         target=current_user)
            db.session.commit()
            flash(_("Tweestapsverificatie staat uit. U logt weer in met alleen uw wachtwoord."),
                  "success")
            return redirect(url_for("auth.account"), 303)
        db.session.commit()  # a code that matched but was spent stays spent
        add_error(form.proof, _("Dit is niet uw wachtwoord en ook geen geldige code."))
    return _page(disable=form, status=422)


# -- required: by the school for its staff, always for a board admin --------------------


def _required(user) -> bool:
    return policy.must_use_two_factor(user, None if user.is_board_admin else current_school())


@bp.before_app_request
def _set_up_two_factor_first():
    """Make whoever must use two-factor login and has none set it up first: staff when
    their school requires it, a board admin always."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in OPEN_WHILE_REQUIRED:
        return None
    user = current_user._get_current_object()  # the user, not the proxy: asked three times
    if not (user.is_authenticated and not user.has_two_factor
            and policy.can_use_two_factor(user)):
        return None
    if current_session_multi_factor():
        return None  # the school account's own multi-factor login counts
    if not _required(user):
        return None
    target = url_for("auth.two_factor")
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)
