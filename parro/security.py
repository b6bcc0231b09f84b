"""Server-side sessions and the security headers every response carries."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user, login_url
from sqlalchemy import bindparam, case, delete, exists, select, update
from sqlalchemy.orm import aliased

from .clock import now
from .database import write_now
from .extensions import db, login_manager
from .htmx import is_htmx
from .models import Guardianship, Role, SchoolStaff, Student, User, UserSession
from .sql import prebuilt

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; worker-src 'self'; "
    # blob: only for the previews of photos chosen for a post, made in the page itself
    "img-src 'self' blob:"
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


def _alive(user: User, remember: bool, created_at, last_seen_at, moment) -> bool:
    """Used recently enough (the idle limit), and not older than SESSION_MAX_DAYS."""
    if moment - created_at > timedelta(days=current_app.config["SESSION_MAX_DAYS"]):
        return False
    return moment - last_seen_at <= idle_limit(user, remember)


def is_live(row: UserSession, moment=None) -> bool:
    """Does this session still count: used recently enough, and not too old?"""
    return _alive(row.user, row.remember, row.created_at, row.last_seen_at, moment or now())


def start_session(user: User, remember: bool, method: str = "password",
                  multi_factor: bool = False, school_id: int | None = None) -> None:
    """Log the user in on this browser: a new session row and its cookie.

    `method` is how they signed in ("password" or "schoolaccount"); `multi_factor`
    says that a second factor was proven (parro's code or the provider's MFA);
    the browser works in `school_id`, by default the user's first school.
    """
    # Sessions that idled out are only rows now; tidy them when their owner comes back.
    for row in db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        if not is_live(row):
            db.session.delete(row)
    from .policy import school_ids

    token = new_token()
    if school_id is None:
        school_id = next(iter(school_ids(user)), None)
    db.session.add(
        UserSession(
            token_hash=hash_token(token),
            user=user,
            school_id=school_id,
            remember=remember,
            method=method,
            multi_factor=multi_factor,
            user_agent=(request.user_agent.string or "")[:255],
            ip=(request.remote_addr or "")[:45],
        )
    )
    # The Flask session (CSRF token, flashes) starts afresh with every login.
    session.clear()
    g.set_auth_cookie = (token, remember and not user.is_admin)


def end_session() -> None:
    """Log this browser out: its session row goes, so every copy of the cookie dies."""
    token = request.cookies.get(current_app.config["AUTH_COOKIE_NAME"])
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))
    session.clear()
    g.set_auth_cookie = None


def end_all_sessions(user: User) -> None:
    """Log the user out everywhere (password changed or reset, account disabled, two-factor
    login reset by an admin): their push subscriptions, each of one session, go with the
    sessions (ON DELETE CASCADE). Part of the caller's transaction; from the command line
    too."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    # Only the user's own browser loses its cookie: an admin who disables
    # someone else stays logged in.
    if has_request_context() and getattr(current_user, "id", None) == user.id:
        g.set_auth_cookie = None


def end_other_sessions(user: User) -> None:
    """Log the user out on every other browser; this one stays logged in."""
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.id != current_session_id()
        )
    )


def renew_session(user: User) -> None:
    """After a password change: every session ends, this browser gets a fresh one."""
    current = db.session.get(UserSession, current_session_id())
    kept = ({"remember": current.remember, "method": current.method,
             "multi_factor": current.multi_factor, "school_id": current.school_id}
            if current else {"remember": False})
    end_all_sessions(user)
    start_session(user, **kept)


def live_sessions(user: User) -> list[UserSession]:
    """The user's sessions that have not idled out, most recently used first."""
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    moment = now()
    return [row for row in rows if is_live(row, moment)]


def current_session_id() -> int | None:
    return g.get("user_session_id")


def current_session_method() -> str | None:
    """How this browser signed in: "password", "schoolaccount", or None (not logged in)."""
    # Asking current_user loads the session row (once per request) if nothing did yet.
    return g.get("user_session_method") if current_user.is_authenticated else None


def current_session_multi_factor() -> bool:
    """Did this browser's sign-in prove a second factor?"""
    return current_user.is_authenticated and bool(g.get("user_session_multi_factor"))


@login_manager.user_loader
def _no_flask_session_login(user_id):
    # Logins live only in UserSession rows, never in Flask's signed cookie.
    return None


@prebuilt
def _session_statement(board: bool = False):
    """The user behind a session token, with the session columns the request needs:
    one entity and a few columns (no joined UserSession object). On a board, also whether
    the user belongs to a school besides this browser's (the header's "Andere school"):
    staff, a school they work at; others, a school of a child of theirs. One school's
    statement stays without it."""
    elsewhere = []
    if board:
        staff = aliased(SchoolStaff)  # the outer statement joins this browser's row
        elsewhere = [case(
            (User.role == Role.GUARDIAN, exists().where(
                Guardianship.user_id == User.id, Student.id == Guardianship.student_id,
                Student.school_id != UserSession.school_id)),
            else_=exists().where(staff.user_id == User.id,
                                 staff.school_id != UserSession.school_id))]
    return (
        select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at,
               UserSession.remember, UserSession.method, UserSession.multi_factor,
               UserSession.school_id, SchoolStaff.id, *elsewhere)
        .select_from(UserSession)
        .join(User, UserSession.user_id == User.id)
        .outerjoin(SchoolStaff, (SchoolStaff.user_id == User.id)
                   & (SchoolStaff.school_id == UserSession.school_id))
        .where(UserSession.token_hash == bindparam("token_hash"))
    )


@login_manager.request_loader
def load_user_from_cookie(req) -> User | None:
    token = req.cookies.get(current_app.config["AUTH_COOKIE_NAME"])
    if not token or len(token) > 100:
        return None
    from .policy import is_board

    board = is_board()
    row = db.session.execute(_session_statement(board),
                             {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    (user, session_id, created_at, last_seen_at, remember, method, multi_factor, school_id,
     staff_here) = row[:9]
    moment = now()
    if not user.is_active or not _alive(user, remember, created_at, last_seen_at, moment):
        g.set_auth_cookie = None  # the browser may forget it too
        return None
    # Another school besides this browser's? Not known when the browser is moved to one
    # (policy.several_schools asks then).
    g.user_elsewhere = bool(row[9]) if board else False
    if school_id is None or (user.is_staff and staff_here is None):
        g.user_elsewhere = None
        school_id = _first_school(user, session_id, left=school_id)
        if school_id is None and user.is_staff:
            # Removed from the last school they worked at: nothing is theirs to see.
            write_now(delete(UserSession).where(UserSession.user_id == user.id))
            flash(_("Uw account hoort bij geen school meer. Vraag de administratie of het "
                    "schoolbestuur om hulp."), "warning")
            g.set_auth_cookie = None
            return None
    if (moment - last_seen_at).total_seconds() > current_app.config["SESSION_TOUCH_SECONDS"]:
        _touch(session_id, moment)
    g.school_id = school_id
    g.user_session_id = session_id
    g.user_session_method = method
    g.user_session_multi_factor = multi_factor
    return user


def _first_school(user: User, session_id: int, left: int | None) -> int | None:
    """The user's first school, now this browser's: it chose none yet, or the staff
    member no longer works at the one it chose (`left`), which they are told."""
    from .policy import school_ids

    ids = school_ids(user)
    school_id = ids[0] if ids else None
    if school_id is not None:
        write_now(update(UserSession).where(UserSession.id == session_id)
                  .values(school_id=school_id))
        if left is not None:
            flash(_("U werkt niet meer bij die school in parro; u ziet nu uw andere school."),
                  "warning")
    return school_id


def switch_school(school_id: int) -> None:
    """This browser works in another school of the user's from now on."""
    db.session.execute(update(UserSession).where(UserSession.id == current_session_id())
                       .values(school_id=school_id))
    g.school_id = school_id


def _touch(session_id: int, moment) -> None:
    write_now(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=moment))


class Anonymous(AnonymousUserMixin):
    is_admin = is_teacher = is_guardian = is_staff = is_board_admin = False
    locale = None


login_manager.anonymous_user = Anonymous
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page itself says what to do


@login_manager.unauthorized_handler
def _to_login():
    if is_htmx():
        # htmx would put the login page inside a fragment; the whole page goes there
        # instead, and back to the page the user was on afterwards.
        back = request.headers.get("HX-Current-URL") or request.url
        return Response(status=401, headers={"HX-Redirect": login_url("auth.login", back)})
    return redirect(login_url("auth.login", request.url))


# -- headers ------------------------------------------------------------------


class _SessionCookie(SecureCookieSessionInterface):
    """Flask's signed session cookie, its serializer made once per secret key
    instead of twice per request."""

    _made: tuple | None = None

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = self._made
        if made is None or made[0] != keys:
            made = self._made = (keys, super().get_signing_serializer(app))
        return made[1]


def init_app(app: Flask) -> None:
    app.session_interface = _SessionCookie()
    app.after_request(_after_request)


def _after_request(response: Response) -> Response:
    cfg = current_app.config
    if "set_auth_cookie" in g:
        value = g.set_auth_cookie
        name = cfg["AUTH_COOKIE_NAME"]
        options = {"path": "/", "secure": cfg["HTTPS"], "httponly": True, "samesite": "Lax"}
        if value is None:
            response.delete_cookie(name, **options)
        else:
            token, persistent = value
            remember = timedelta(days=cfg["SESSION_REMEMBER_DAYS"])
            response.set_cookie(name, token,
                                max_age=int(remember.total_seconds()) if persistent else None,
                                **options)
    h = response.headers
    # The names the view set, in one pass: asking Headers for one it lacks raises (and
    # catches) an exception, twice per request here.
    present = {name.lower() for name, _value in h.items()}
    if "content-security-policy" not in present:
        h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "same-origin"
    h["X-Frame-Options"] = "DENY"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if cfg["HTTPS"]:
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static" and "cache-control" not in present:
        # Pages hold children's data: nothing stays in a shared PC's cache or history.
        h["Cache-Control"] = "no-store"
    if is_htmx():
        h.add("Vary", "HX-Request")
    return response
