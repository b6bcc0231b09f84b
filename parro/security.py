"""Server-side sessions and the security headers every response carries."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import Flask, Response, current_app, g, request
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from .clock import now
from .database import writing
from .extensions import db, login_manager
from .models import User, UserSession

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


# -- sessions ---------------------------------------------------------------


def idle_limit(user: User, remember: bool) -> timedelta:
    cfg = current_app.config
    if user.is_admin:
        return timedelta(minutes=cfg["SESSION_ADMIN_IDLE_MINUTES"])
    if remember:
        return timedelta(days=cfg["SESSION_REMEMBER_DAYS"])
    return timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])


def start_session(user: User, remember: bool) -> None:
    """Log the user in on this browser: a new session row and its cookie."""
    token = new_token()
    db.session.add(
        UserSession(
            token_hash=hash_token(token),
            user=user,
            remember=remember,
            user_agent=(request.user_agent.string or "")[:255],
            ip=(request.remote_addr or "")[:45],
        )
    )
    g.set_auth_cookie = (token, remember and not user.is_admin)


def end_session() -> None:
    """Log this browser out: its session row goes, so every copy of the cookie dies."""
    token = request.cookies.get(current_app.config["AUTH_COOKIE_NAME"])
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))
    g.set_auth_cookie = None


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    # Only the user's own browser loses its cookie: an admin who disables
    # someone else stays logged in.
    if getattr(current_user, "id", None) == user.id:
        g.set_auth_cookie = None


def current_session_id() -> int | None:
    return g.get("user_session_id")


@login_manager.user_loader
def _no_flask_session_login(user_id):
    # Logins live only in UserSession rows, never in Flask's signed cookie.
    return None


@login_manager.request_loader
def load_user_from_cookie(req) -> User | None:
    token = req.cookies.get(current_app.config["AUTH_COOKIE_NAME"])
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.token_hash == hash_token(token))
    )
    if row is None:
        return None
    user = row.user
    moment = now()
    if not user.is_active or moment - row.last_seen_at > idle_limit(user, row.remember):
        return None
    if (moment - row.last_seen_at).total_seconds() > current_app.config["SESSION_TOUCH_SECONDS"]:
        _touch(row.id, moment)
    g.user_session_id = row.id
    return user


def _touch(session_id: int, moment) -> None:
    # In its own short write transaction, so a GET never upgrades a read to a write.
    db.session.commit()
    with writing():
        db.session.execute(
            update(UserSession).where(UserSession.id == session_id).values(last_seen_at=moment)
        )
        db.session.commit()


class Anonymous(AnonymousUserMixin):
    is_admin = is_teacher = is_guardian = is_staff = False
    locale = None


login_manager.anonymous_user = Anonymous
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page itself says what to do


# -- headers ------------------------------------------------------------------


def init_app(app: Flask) -> None:
    app.after_request(_after_request)


def _after_request(response: Response) -> Response:
    cfg = current_app.config
    if "set_auth_cookie" in g:
        value = g.set_auth_cookie
        name = cfg["AUTH_COOKIE_NAME"]
        if value is None:
            response.delete_cookie(name, path="/", secure=cfg["HTTPS"], httponly=True, samesite="Lax")
        else:
            token, persistent = value
            response.set_cookie(
                name,
                token,
                max_age=int(timedelta(days=cfg["SESSION_REMEMBER_DAYS"]).total_seconds())
                if persistent
                else None,
                path="/",
                secure=cfg["HTTPS"],
                httponly=True,
                samesite="Lax",
            )
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "same-origin"
    h["X-Frame-Options"] = "DENY"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if cfg["HTTPS"]:
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static" and "Cache-Control" not in h:
        # Pages hold children's data: nothing stays in a shared PC's cache or history.
        h["Cache-Control"] = "no-store"
    if request.headers.get("HX-Request"):
        h.add("Vary", "HX-Request")
    return response
