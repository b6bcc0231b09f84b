"""Password reset by email: a single-use link, valid for PASSWORD_RESET_MINUTES."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import audit
from ..clock import now
from ..extensions import db
from ..mail import account_school, queue_mail
from ..models import PasswordReset
from ..security import end_all_sessions, hash_token, new_token
from . import sso
from .passwords import hash_password
from .service import user_by_email

UNKNOWN, USED, EXPIRED = "unknown", "used", "expired"


def request_reset(email: str) -> None:
    """Mail a reset link when the address belongs to an account that may log in.

    The caller answers the same whatever happens here: nobody learns from the
    page which addresses have an account.
    """
    user = user_by_email(email)
    if user is None or not user.is_active:
        return
    if user.is_staff and sso.required_for_staff():
        return  # a staff password would not work: they sign in with the school account
    # An account that signed in only with the school account has no password yet:
    # this is how it gets one (when the school allows staff passwords).
    moment = now()
    # Only the newest link works; an older one in the same inbox stops.
    db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > moment,
        )
        .values(expires_at=moment)
    )
    token = new_token()
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    reset = PasswordReset(
        user=user, token_hash=hash_token(token), expires_at=moment + timedelta(minutes=minutes)
    )
    db.session.add(reset)
    queue_mail(
        user.email,
        _l("Een nieuw wachtwoord kiezen"),
        "password_reset",
        locale=user.locale,
        user=user,
        school=account_school(user),  # their one school; of several, parro's own
        url=current_app.config["BASE_URL"].rstrip("/")
        + url_for("auth.reset_password", token=token),
        minutes=minutes,
        expires_at=reset.expires_at,
    )


def find_reset(token: str) -> tuple[PasswordReset | None, str | None]:
    """The reset this link belongs to, or why it cannot be used (UNKNOWN, USED, EXPIRED)."""
    if len(token) > 100:
        return None, UNKNOWN
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    )
    if reset is None:
        return None, UNKNOWN
    if reset.used_at is not None:
        return reset, USED
    if not reset.is_usable() or not reset.user.is_active:
        return reset, EXPIRED
    return reset, None


def complete_reset(reset: PasswordReset, password: str) -> bool:
    """Set the new password and end every session. False when the link was used meanwhile."""
    moment = now()
    # Claimed with a conditional update, so two clicks at once cannot both succeed.
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=moment)
    ).rowcount
    if claimed != 1:
        return False
    user = reset.user
    user.password_hash = hash_password(password)
    user.password_changed_at = moment
    end_all_sessions(user)
    audit.record(audit.SECURITY, actor=user, target=user,
                 summary=f"Nieuw wachtwoord via e-maillink voor {audit.person(user)}; "
                         "overal uitgelogd")
    return True
