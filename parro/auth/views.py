from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db, limiter
from ..models import LoginEvent, User
from ..models.user import normalize_email
from ..security import end_session, start_session
from . import bp
from .forms import AccountForm, EmptyForm, LoginForm
from .passwords import hash_password, needs_rehash, verify_password


def _account_key() -> str:
    return "login:" + normalize_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    return response.status_code != 303


def safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send anyone to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("feed.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_IP"], methods=["POST"],
               deduct_when=_failed)
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"],
               key_func=_account_key, deduct_when=_failed)
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")), 303)
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        user = db.session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, form.password.data)
        ok = ok and user.is_active
        db.session.add(
            LoginEvent(user_id=user.id if user else None, email=email, success=ok,
                       ip=(request.remote_addr or "")[:45])
        )
        if ok:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            start_session(user, remember=form.remember.data)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")), 303)
        db.session.commit()
        # One answer for unknown, wrong and disabled: no account enumeration.
        error = _("Dit e-mailadres en wachtwoord horen niet bij elkaar. Probeer het opnieuw.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Log out of this browser."""
    if EmptyForm().validate_on_submit():
        end_session()
        db.session.commit()
    return redirect(url_for("auth.login"), 303)


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
    return render_template("auth/account.html", form=form)
