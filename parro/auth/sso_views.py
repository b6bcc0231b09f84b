"""Signing in with the school's own account: away to the provider and back."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db, limiter
from ..inputs import way_back
from ..security import end_session, start_session
from . import bp, sso, twofactor
from .views import _config, _failed, record_login

_AGAIN = _l("Probeer het opnieuw met de knop hieronder.")
# Why a sign-in was refused: the HTTP status (403: only someone at the school can help;
# otherwise trying again may), the page's title and what the person can do.
REFUSALS = {
    "unknown": (403, _l("U heeft nog geen account"), _l(
        "U heeft nog geen account in parro. Vraag de administratie van de school om u uit te "
        "nodigen; daarna logt u hier in met uw schoolaccount.")),
    "guardian": (403, _l("Ouders loggen in met hun wachtwoord"), _l(
        "Dit e-mailadres hoort bij een ouder of verzorger. Ouders loggen in met hun e-mailadres "
        "en wachtwoord, niet met een schoolaccount.")),
    "disabled": (403, _l("Uw account is uitgeschakeld"), _l(
        "Uw account in parro is uitgeschakeld. Neem contact op met de administratie van de "
        "school als dat niet klopt.")),
    "linked_elsewhere": (403, _l("Al gekoppeld aan een andere schoolaccount"), _l(
        "Het account in parro met dit e-mailadres is al gekoppeld aan een andere schoolaccount. "
        "Vraag de administratie om die koppeling te verbreken.")),
    "unverified": (403, _l("E-mailadres niet bevestigd"), _l(
        "Uw schoolaccount geeft geen bevestigd e-mailadres door, dus parro weet niet welk "
        "account van u is. Vraag de ICT-beheerder van de school om hulp.")),
    "domain": (403, _l("Ander e-mailadres dan van de school"), _l(
        "Met dit e-mailadres kunt u hier niet inloggen: het hoort niet bij de school. Log in "
        "met het account dat u van de school heeft.")),
    "cancelled": (400, _l("Inloggen afgebroken"), _l(
        "Het inloggen bij de schoolaccount is afgebroken. U bent niet ingelogd.")),
    "state": (400, _l("Deze inlogpoging is niet meer geldig"), _l(
        "Deze inlogpoging is al gebruikt, verlopen, of in een andere browser begonnen. U bent "
        "niet ingelogd.")),
    "nonce": (400, _l("Het antwoord hoort niet bij deze inlogpoging"), _l(
        "Het antwoord van de schoolaccount hoort bij een andere inlogpoging. Voor de zekerheid "
        "bent u niet ingelogd.")),
    "expired": (400, _l("Het antwoord was verlopen"), _l(
        "Het antwoord van de schoolaccount was al verlopen toen het hier aankwam. U bent niet "
        "ingelogd.")),
    "invalid": (400, _l("Het antwoord klopt niet"), _l(
        "Het antwoord van de schoolaccount is niet door de school ondertekend of is onderweg "
        "veranderd. Voor de zekerheid bent u niet ingelogd.")),
    "provider": (502, _l("De schoolaccount gaf een fout"), _l(
        "De schoolaccount kon het inloggen niet afmaken. U bent niet ingelogd.")),
    "unreachable": (502, _l("De schoolaccount is niet bereikbaar"), _l(
        "parro kan de inlogdienst van de school nu niet bereiken. Probeer het over een paar "
        "minuten opnieuw.")),
}


def _refused(refused: sso.Refused):
    db.session.rollback()
    record_login(refused.user, refused.email, False, method=sso.METHOD, reason=refused.reason,
                 detail=refused.detail)
    db.session.commit()
    status, title, message = REFUSALS[refused.reason]
    retry = status != 403
    return render_template(
        "auth/schoolaccount.html", title=title, message=message, alert=True,
        again=_AGAIN if retry else None, button=retry,
    ), status


def _not_set_up():
    if not sso.configured():
        abort(404)


# A link, not a form: a browser refuses a form whose answer redirects to another site
# (the CSP's form-action 'self'), and starting a sign-in changes nothing but this
# browser's own attempt (the state in its session cookie).
@bp.get("/login/schoolaccount")
def schoolaccount_start():
    """Go to the school's own sign-in page."""
    _not_set_up()
    if current_user.is_authenticated:
        return redirect(way_back(request.args.get("next")), 303)
    try:
        url = sso.authorization_url(request.args.get("next"))
    except sso.Refused as refused:
        return _refused(refused)
    return redirect(url, 303)


@bp.get("/login/schoolaccount/terug")
@limiter.limit(_config("RATELIMIT_LOGIN_IP"), deduct_when=_failed)
def schoolaccount_callback():
    """Come back from the school's sign-in page: check its answer and log in."""
    _not_set_up()
    try:
        signed_in = sso.sign_in(sso.finish())
    except sso.Refused as refused:
        return _refused(refused)
    user, mfa = signed_in.user, signed_in.multi_factor
    next_path = session.pop(sso.NEXT, None)
    if current_user.is_authenticated:
        end_session()  # someone else was logged in on this browser
    if user.has_two_factor and not mfa:
        # The provider asked for a password only: parro's own code is the second factor.
        twofactor.begin_login(user, remember=False, method=sso.METHOD)
        db.session.commit()
        return redirect(url_for("auth.login_code", next=next_path), 303)
    record_login(user, signed_in.email, True, method=sso.METHOD, multi_factor=mfa,
                 linked=signed_in.linked)
    start_session(user, remember=False, method=sso.METHOD, multi_factor=mfa)
    db.session.commit()
    return redirect(way_back(next_path), 303)
