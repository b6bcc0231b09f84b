"""Accepting an invitation: the code of conduct, a name, a language and a password."""

from __future__ import annotations

from contextlib import nullcontext

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..forms import add_error, form_status
from ..i18n import LOCALES
from ..policy import current_school
from ..security import end_session, start_session
from . import bp, sso
from .forms import ActivationForm
from .passwords import password_problem
from .service import activate as activate_account
from .service import find_invitation, invitation_problem


@bp.route("/activeren/<token>", methods=["GET", "POST"])
def activate(token: str):
    """Activate an invited account and log it in."""
    invitation = find_invitation(token)
    problem = invitation_problem(invitation)
    if problem:
        return _unusable(problem, invitation.user.locale if invitation else None)
    user = invitation.user
    # The page speaks the invitation's language until the visitor picks another.
    chosen = request.form.get("locale") or request.args.get("taal")
    locale = chosen if chosen in LOCALES else user.locale
    with force_locale(locale):
        if user.is_staff and sso.required_for_staff():
            # No password for staff here: the first sign-in with the school account
            # opens the account (and spends this link).
            return render_template(
                "auth/schoolaccount.html", title=_("Welkom bij parro"), button=True,
                message=_("Uw school laat medewerkers inloggen met hun schoolaccount. Log in "
                          "met de knop hieronder; daarmee is uw account meteen klaar."),
            )
        school = current_school()
        code = (school.code_of_conduct if school else "").strip()
        form = ActivationForm(name=user.name, locale=locale)
        if not code:
            del form.accept
        if form.validate_on_submit():
            weak = password_problem(
                form.password.data, [user.email, form.name.data, school.name if school else ""]
            )
            if weak:
                add_error(form.password, weak)
            elif not activate_account(invitation, form.name.data, form.locale.data,
                                      form.password.data):
                return _unusable("used", locale)
            else:
                if current_user.is_authenticated:
                    end_session()  # someone else was logged in on this device
                start_session(user, remember=False)
                db.session.commit()
                flash(_("Welkom, %(name)s! Uw account is klaar.", name=user.name), "success")
                if user.is_guardian:  # the next step asks the privacy questions, if any
                    return redirect(url_for("privacy.mine", welkom=1), 303)
                return redirect(url_for("feed.index"), 303)
        other = current_user if current_user.is_authenticated else None
        return render_template(
            "auth/activate.html",
            form=form,
            user=user,
            code=code,
            other_user=other,
            locale=locale,
            min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        ), form_status()


def _unusable(problem: str, locale: str | None):
    """A friendly page for a link that no longer works, in the invitation's language."""
    with force_locale(locale) if locale else nullcontext():
        return render_template(
            "auth/activation_unusable.html", problem=problem,
            days=current_app.config["INVITATION_DAYS"],
        ), (404 if problem == "unknown" else 410)
