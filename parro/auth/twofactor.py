"""Two-factor login with an authenticator app (TOTP, RFC 6238) and recovery codes.

The secret is stored once the user has confirmed it with a code. A code counts
once: the time step it belongs to is remembered, and only a later step is
accepted after it (an atomic update, so two requests with the same code
cannot both win). Recovery codes are stored as hashes and used once.
"""

from __future__ import annotations

import re
import secrets

import pyotp
import segno
from flask import current_app, session
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..clock import now
from ..extensions import db
from ..inputs import as_id
from ..models import LoginEvent, RecoveryCode, User
from ..security import end_all_sessions, hash_token

RECOVERY_CODES = 8
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to confuse
# A code from the previous or the next 30-second step is accepted too: phone
# clocks drift and people type slowly.
WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def grouped(secret: str) -> str:
    """ "JBSW Y3DP EHPK 3PXP": easier to type over from the screen."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(user: User, secret: str, issuer: str) -> str:
    """The otpauth:// link as an inline SVG QR code for the authenticator app."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, title="QR-code")


def matching_counter(secret: str, code: str) -> int | None:
    """The time step `code` belongs to (within the window), or None."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now())
    for counter in range(current - WINDOW, current + WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def _use_counter(user: User, counter: int) -> bool:
    """Remember `counter` as used; False when it (or a later one) already was."""
    result = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter),
        )
        .values(totp_last_counter=counter),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 1:
        set_committed_value(user, "totp_last_counter", counter)
        return True
    return False


def use_recovery_code(user: User, code: str) -> bool:
    code = re.sub(r"[\s-]", "", (code or "").lower())
    if len(code) != 10:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def check_code(user: User, code: str) -> str | None:
    """'app' or 'recovery' when `code` lets this user in (and is now spent), else None."""
    if not user.has_two_factor:
        return None
    counter = matching_counter(user.totp_secret, code)
    if counter is not None:
        return "app" if _use_counter(user, counter) else None
    return "recovery" if use_recovery_code(user, code) else None


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.used_at.is_(None))
    )


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
             for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_token(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn two-factor login on when `code` matches `secret`; returns the recovery codes."""
    counter = matching_counter(secret, code)
    if counter is None or user.has_two_factor:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = now()
    user.totp_last_counter = counter  # the confirming code cannot log in again
    return _new_recovery_codes(user)


def renew_recovery_codes(user: User, code: str) -> list[str] | None:
    """New recovery codes, confirmed with a code from the app (not a recovery code: the
    new ones are to stand in for the phone, so the phone proves it); the old ones stop
    working. Committed, with an audit line; None (nothing changed) when the code is wrong
    or already used."""
    if not user.has_two_factor:
        return None
    counter = matching_counter(user.totp_secret, code)
    if counter is None or not _use_counter(user, counter):
        db.session.rollback()
        return None
    codes = _new_recovery_codes(user)
    audit.record(audit.SECURITY, summary="Nieuwe herstelcodes gemaakt", target=user)
    db.session.commit()
    return codes


def reset_by_admin(user: User) -> None:
    """An admin turns off a staff member's two-factor login (a lost phone); for a board
    admin, the operator does (flask board-admin EMAIL --reset-two-factor). The lost phone
    may still be logged in: every session of theirs ends, in the same transaction."""
    disable(user)
    end_all_sessions(user)
    audit.record(audit.SECURITY, summary="Tweestapsverificatie uitgezet door beheerder; "
                 "overal uitgelogd", target=user)
    db.session.commit()


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


# -- the half-way login -------------------------------------------------------------
# Between the password and the code nobody is logged in: there is no UserSession
# yet, only this note in Flask's signed session cookie, valid for a few minutes.
# The cookie is the browser's, so a copy of it would outlive the login; the note
# also names the user's last successful login, and ends when a later one completes.

PENDING = "pending_login"


def _last_login_id(user_id: int) -> int:
    return db.session.scalar(
        select(func.max(LoginEvent.id)).where(LoginEvent.user_id == user_id,
                                              LoginEvent.success.is_(True))
    ) or 0


def begin_login(user: User, remember: bool, method: str = "password") -> None:
    """The first step (password, or the school account without MFA) was right."""
    session.clear()
    minutes = current_app.config["TWO_FACTOR_LOGIN_MINUTES"]
    session[PENDING] = {"user": user.id, "remember": bool(remember), "method": method,
                        "until": now().timestamp() + minutes * 60,
                        "after": _last_login_id(user.id)}


def _pending() -> dict:
    """The half-way login's note in this browser's session; {} when there is none."""
    pending = session.get(PENDING)
    return pending if isinstance(pending, dict) else {}


def pending_login() -> tuple[User, bool] | None:
    """The user who typed the right password here a moment ago, and "remember me".

    None when the note ran out, or when a login of the user completed since it began
    (this one or another): a half-finished login ends when the login is done.
    """
    pending = _pending()
    if now().timestamp() > pending.get("until", 0):
        return None
    user = db.session.get(User, as_id(pending.get("user")))
    if user is None or not user.is_active or not user.has_two_factor:
        return None
    if _last_login_id(user.id) != pending.get("after"):
        return None
    return user, pending.get("remember", False)


def pending_method() -> str:
    """How the half-way login began: "password" or "schoolaccount"."""
    return _pending().get("method", "password")


def pending_user_id() -> str:
    return str(_pending().get("user", ""))
