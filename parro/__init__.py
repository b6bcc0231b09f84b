"""parro: school and parent communication that a school runs itself."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from flask import Flask, g, request

from .config import ROOT, Defaults, secret_key
from .database import database_problem, end_transaction, read_without_transaction
from .extensions import babel, compress, csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    instance = os.environ.get("PARRO_INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PARRO")
    if test_config:
        app.config.update(test_config)
    _derive_config(app)

    from . import inputs

    inputs.init_app(app)  # first: the id converter, and no NUL reaches anything below
    db.init_app(app)
    _warn_about_limits_per_worker(app)

    @app.before_request  # before the session lookup, the request's first statement
    def _polls_read_without_transaction():
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "parro_polled", False):
            read_without_transaction(db.session())

    @app.teardown_appcontext  # runs before Flask-SQLAlchemy's (teardowns run in reverse)
    def _end_transaction(exception):
        if exception is None:
            end_transaction(db.session())
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    limits_on_views_only(app)
    login_manager.init_app(app)

    from . import assets, feedback, fragments, i18n, layout, security
    from .user_text import render_text

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    layout.init_app(app)
    fragments.init_app(app)
    feedback.init_app(app)
    app.add_template_filter(render_text, "user_text")

    from . import audit, errors, push  # noqa: F401 (audit: append-only guard)
    from . import mail as outbox

    errors.init_app(app)
    outbox.init_app(app)
    push.init_app(app)

    from .auth import sso

    sso.init_app(app)

    from .absence import bp as absence_bp
    from .activities import bp as activities_bp
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .board import bp as board_bp
    from .calendar import bp as calendar_bp
    from .chat import bp as chat_bp
    from .feed import bp as feed_bp
    from .help import bp as help_bp
    from .media.views import bp as media_bp
    from .moderation import bp as moderation_bp
    from .navigation import bp as navigation_bp
    from .privacy import bp as privacy_bp
    from .students import bp as students_bp
    from .theme import bp as theme_bp

    for bp in (auth_bp, admin_bp, feed_bp, students_bp, absence_bp, activities_bp, calendar_bp,
               chat_bp, media_bp, privacy_bp, help_bp, theme_bp, moderation_bp, navigation_bp,
               board_bp):
        app.register_blueprint(bp)
    if app.config["DEMO"] and not app.config["MAIL_SERVER"]:
        from .devmail import bp as devmail_bp

        app.register_blueprint(devmail_bp)
    if app.config["DEMO"]:
        from .devmail import push_bp as devpush_bp

        app.register_blueprint(devpush_bp)

    from . import cli

    cli.init_app(app)

    @app.get("/")
    def home():
        """Show a teacher their morning overview, everyone else their groups' posts (a
        board admin goes to the board's page).

        Served here, not redirected: `/` is the installed app's start URL, and a
        phone would pay a round trip before the first page.
        """
        from flask_login import current_user

        if not current_user.is_authenticated:
            from .auth.views import login

            return login()
        if current_user.is_board_admin:  # no school's staff: the board's page is theirs
            from flask import redirect, url_for

            return redirect(url_for("board.index"))
        if current_user.is_teacher:
            from .absence.views import teacher_home

            return teacher_home()
        from .feed.views import index

        return index()

    @app.get("/healthz")
    @limiter.exempt
    def healthz():
        """200 when the database is the one set up and takes writes, 503 with the reason when not.

        See database_problem(): the check ends in a rollback and leaves nothing behind.
        """
        problem = database_problem(db.session())
        if problem:
            reason, details = problem
            app.logger.error("health check: %s: %s", reason, details)
            return reason, 503, {"Content-Type": "text/plain; charset=utf-8"}
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    return app


def _derive_config(app: Flask) -> None:
    cfg = app.config
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = secret_key(Path(app.instance_path))
    cfg["SQLALCHEMY_DATABASE_URI"] = cfg["DATABASE_URL"] or (
        f"sqlite:///{Path(app.instance_path) / 'parro.sqlite3'}"
    )
    cfg.setdefault("MEDIA_PATH", str(Path(app.instance_path) / "media"))
    cfg.setdefault("MAIL_DIR", str(Path(app.instance_path) / "mail"))
    cfg["MAIL_SERVER"] = cfg["MAIL_SERVER"] or None
    secure = cfg["BASE_URL"].startswith("https://")
    cfg["HTTPS"] = secure
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure,
    # host-only and for path /: nothing on another subdomain can plant or read it.
    cfg["SESSION_COOKIE_SECURE"] = secure
    cfg["SESSION_COOKIE_NAME"] = "__Host-parro" if secure else cfg["SESSION_COOKIE_NAME"]
    cfg["AUTH_COOKIE_NAME"] = "__Host-parro_auth" if secure else "parro_auth"
    cfg["PREFERRED_URL_SCHEME"] = "https" if secure else "http"


def limits_on_views_only(app: Flask) -> None:
    """From here on, rate limits apply: the views' own (limiter.limit, checked inside the view).

    Registered after Flask-Limiter's before_request hook, whose check on every request
    finds nothing to do (see extensions._before_the_view). Were default or application-wide
    limits configured, they would apply from before that hook on.
    """

    def view_limits_apply():
        g.parro_view_limits = True

    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        app.before_request_funcs.setdefault(None, []).insert(0, view_limits_apply)
    else:
        app.before_request(view_limits_apply)


def gunicorn_workers() -> int | None:
    """How many workers the gunicorn running this process starts; None outside gunicorn.

    Read as gunicorn reads it: WEB_CONCURRENCY, then GUNICORN_CMD_ARGS, then the
    command line (a worker is a fork of its master: sys.argv is the master's), with
    gunicorn's own option parser. A `workers` setting in a gunicorn config file
    (`-c`, or ./gunicorn.conf.py) is not seen.
    """
    if "gunicorn.arbiter" not in sys.modules:
        return None
    try:
        from gunicorn.config import Config

        parser = Config().parser()
        workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
        for args in (shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")), sys.argv[1:]):
            parsed = parser.parse_args(args)
            if parsed.workers is not None:
                workers = int(parsed.workers)
        return workers
    except (SystemExit, Exception):  # noqa: BLE001 (an argument this parser does not know)
        return None


def _warn_about_limits_per_worker(app: Flask) -> None:
    """Each gunicorn worker keeps memory:// counts of its own: with 3 workers, 30 wrong
    passwords get through where the limit says 10. Say so where the operator looks."""
    workers = gunicorn_workers()
    if workers and workers > 1 and app.config["RATELIMIT_STORAGE_URI"].startswith("memory:"):
        app.logger.warning(
            "rate limits: %d gunicorn workers count failed logins, two-factor codes and reset "
            "mails each in memory of their own, so up to %d times each limit gets through; "
            "set PARRO_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (README, Running in "
            "production)", workers, workers)
