"""Defaults. instance/config.py and PARRO_* environment variables override them.

`PARRO_MAIL_PORT=587` sets `MAIL_PORT`; values are parsed as JSON where they can
be (numbers, true/false), as Flask's `from_prefixed_env` does.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    # DATABASE_URL, SECRET_KEY and MEDIA_PATH are filled in by create_app when unset.
    DATABASE_URL: str | None = None
    BASE_URL = "http://127.0.0.1:5000"
    TIMEZONE = "Europe/Amsterdam"
    SCHOOL_PHONE = ""  # shown when chat is off, if the school settings have no phone number
    DEMO = False

    # Mail: with no MAIL_SERVER, mails are written to instance/mail/ as .eml files.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "parro@localhost"
    MAIL_TIMEOUT = 20  # seconds, for every SMTP socket operation
    MAIL_SENDER_THREAD = True  # deliver the outbox from a thread in each web process
    MAIL_SENDER_POLL_SECONDS = 30  # the thread wakes at every commit, and this often for retries
    MAIL_MAX_ATTEMPTS = 12

    # Web Push (README "Meldingen op de telefoon"). The VAPID key is made once in
    # instance/vapid_private_key.pem unless VAPID_PRIVATE_KEY (PEM, or the raw key in
    # base64url) is set; VAPID_CONTACT (an address or mailto:/https: URL) defaults to
    # MAIL_DEFAULT_SENDER. Pushes go only to https endpoints on these hosts ("*." for any
    # subdomain) that resolve to public addresses.
    VAPID_PRIVATE_KEY: str | None = None
    VAPID_CONTACT: str | None = None
    PUSH_HOSTS: list = [
        "fcm.googleapis.com", "android.googleapis.com",  # Chrome, Edge on Android, Samsung
        "updates.push.services.mozilla.com",  # Firefox
        "web.push.apple.com",  # Safari, iPhone apps on the home screen
        "*.notify.windows.com",  # Edge on Windows (WNS)
    ]
    PUSH_TIMEOUT = 10  # seconds for each request to a push service
    PUSH_MAX_ATTEMPTS = 10
    PUSH_TEST_ORIGIN = ""  # the tests' loopback push service; ignored unless TESTING
    RATELIMIT_PUSH_SUBSCRIBE = "10 per hour"  # devices a user turns on
    RATELIMIT_PUSH_TEST = "10 per 10 minutes"  # test pushes a user asks for

    # Accounts and sessions
    INVITATION_DAYS = 7
    PASSWORD_RESET_MINUTES = 60
    TWO_FACTOR_LOGIN_MINUTES = 5  # time to type the app's code after the password
    # Staff sign-in with the school's own account (OpenID Connect; README "Inloggen met de
    # schoolaccount"). Off while OIDC_ISSUER is empty.
    OIDC_ISSUER = ""  # e.g. "https://login.microsoftonline.com/<tenant id>/v2.0"
    OIDC_CLIENT_ID = ""
    OIDC_CLIENT_SECRET = ""
    # Only addresses in these domains are linked ("school.nl" or ["school.nl", "bestuur.nl"]);
    # empty: any domain.
    OIDC_ALLOWED_DOMAINS: list | str = []
    # A provider that sends no `email_verified` (Microsoft Entra ID): count an address in
    # OIDC_ALLOWED_DOMAINS as verified. An explicit `email_verified: false` is never trusted.
    OIDC_TRUST_DOMAIN_EMAILS = False
    # `acr` values that mean the provider asked for more than a password (besides amr "mfa").
    OIDC_MFA_ACR_VALUES: list = ["http://schemas.openid.net/pape/policies/2007/06/multi-factor"]
    OIDC_TIMEOUT = 10  # seconds for every request to the provider
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_MAX_LENGTH = 128
    # argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane): a login
    # takes about 19 MB in the worker for a moment instead of argon2-cffi's default 64 MB.
    # Hashes with other parameters still verify and are rehashed at the next login.
    PASSWORD_HASH = {"memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1}
    SESSION_IDLE_MINUTES = 12 * 60  # without "remember me"
    SESSION_ADMIN_IDLE_MINUTES = 30  # admins, whatever they chose
    SESSION_REMEMBER_DAYS = 90  # with "remember me"
    # However often it is used, a login ends this long after it began ("remember me"
    # included): a stolen cookie does not work for ever.
    SESSION_MAX_DAYS = 365
    SESSION_TOUCH_SECONDS = 300  # last use is written at most this often
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN_ACCOUNT = "10 per 15 minutes"
    RATELIMIT_LOGIN_IP = "50 per 15 minutes"
    RATELIMIT_RESET_EMAIL = "3 per 15 minutes"  # password-reset mails to one address
    RATELIMIT_RESET_IP = "20 per 15 minutes"
    RATELIMIT_EXPORT = "5 per hour"  # a guardian's own data download (builds a ZIP)
    RATELIMIT_HEADERS_ENABLED = False
    # When Redis is unreachable, log it and let requests through: a broken limiter
    # must not lock every family out of the login page.
    RATELIMIT_SWALLOW_ERRORS = True
    PROXY_FIX = False  # set to the number of proxies in front (e.g. 1 for nginx)

    # Absence (absentie): sick reports until this local time reach the teacher before
    # lessons; appointments at least this many school days ahead ("the day before").
    ABSENCE_SICK_CUTOFF = "08:30"
    ABSENCE_APPOINTMENT_MIN_SCHOOL_DAYS = 1
    ABSENCE_APPOINTMENT_MAX_DAYS_AHEAD = 180
    # Until this local time a guardian may still withdraw today's sick report after the
    # cut-off, with a note to the teacher ("the same morning"); after it: phone the school.
    ABSENCE_LATE_WITHDRAW_UNTIL = "12:00"
    # Jaarkalender: an .ics import holds at most this many events and bytes.
    CALENDAR_IMPORT_MAX_EVENTS = 1000
    CALENDAR_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    # Activities (activiteiten)
    ACTIVITIES_EARLY_DAYS = 3  # default per round: families with several children book earlier
    ACTIVITIES_REMIND_DAYS = 2  # remind who has not responded this many days before the deadline
    ACTIVITIES_MAX_SLOTS = 400  # per conference round
    # The counts in the navigation (new posts, unread messages, open activities)
    NAV_POLL_SECONDS = 10  # every page asks for them this often (backs off when idle)
    FEED_NEW_DAYS = 30  # older posts no longer count as new
    # Gesprekken (chat)
    CHAT_DEFAULT_WEEKDAYS = "12345"  # ISO weekdays staff read chats unless they set their own
    CHAT_DEFAULT_START = "08:00"
    CHAT_DEFAULT_END = "16:30"
    CHAT_POLL_SECONDS = 3  # an open conversation asks for news this often (backs off when idle)
    CHAT_PAGE_SIZE = 50  # messages per page; older ones behind "Eerdere berichten"
    CHAT_MAX_LENGTH = 4000  # characters per message
    CHAT_MAX_FILES = 5  # attachments per message
    CHAT_MAX_FILE_MB = 10  # per attachment (MAX_CONTENT_LENGTH caps the whole request)
    CHAT_NOTICE_MINUTES = 15  # unread this long: one email (members can switch it off)
    CHAT_NOTICE_MAX_DAYS = 3  # older unread messages never cause a notice
    RATELIMIT_CHAT_POST = "20 per minute;5 per 2 seconds"  # messages per user
    # Group feed and media. MEDIA_PATH (default instance/media) holds the files.
    FEED_PAGE_SIZE = 20
    # Rendered parts of posts and messages kept per worker process (parro/fragments.py;
    # about 2 kB each); 0: none.
    FRAGMENT_CACHE = 5000
    POST_MAX_CHARS = 10_000
    MEDIA_MAX_FILES = 20  # per post
    MEDIA_MAX_PHOTO_MB = 15
    MEDIA_MAX_VIDEO_MB = 200
    MEDIA_MAX_DOCUMENT_MB = 20
    # Request size limit for the upload forms only (MAX_CONTENT_LENGTH holds for the rest);
    # a reverse proxy in front needs at least this (nginx: client_max_body_size).
    MEDIA_MAX_REQUEST_MB = 320
    MEDIA_MAX_PIXELS = 60_000_000  # per photo; phones make 12 to 50 megapixels
    # All photos of one request together, as decoded (a JPEG at the scale it needs):
    # bounds the time one upload takes (see the gunicorn timeout in README).
    MEDIA_MAX_REQUEST_PIXELS = 500_000_000  # 20 iPhone photos of 24 MP (HEIC, decoded in full)
    MEDIA_DISPLAY_SIZE = 1600  # longest side of the stored photo, in pixels
    MEDIA_THUMB_SIZE = 480
    MEDIA_JPEG_QUALITY = 82
    MEDIA_WEBP_QUALITY = 80  # the WebP sizes browsers are given first (srcset)
    MEDIA_KEEP_ORIGINALS = False  # keep the uploaded file as well (never served)
    MEDIA_WORKERS = 2  # threads encoding photos within one upload request
    # The ffmpeg program that strips videos of their metadata (a name on PATH or a path);
    # without it videos are refused. Debian: apt-get install ffmpeg.
    MEDIA_FFMPEG = "ffmpeg"
    # The files of a refused post are kept for their uploader this long (the form shows
    # them again); the retention run removes older ones.
    PENDING_UPLOAD_HOURS = 24
    # Publish scheduled posts (their important-mail) from a thread in each web process;
    # off = run `flask --app app feed publish --loop` (or from cron) instead.
    FEED_PUBLISHER_THREAD = True

    # Retention: `flask --app app retention` keeps the current school year and the
    # RETENTION_YEARS - 1 before it, and removes what is older (README: "Gegevens bewaren").
    RETENTION_YEARS = 2

    # Flask / extensions
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SESSION_COOKIE_NAME = "parro"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the browser session
    BABEL_DEFAULT_LOCALE = "nl"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024  # a CSV import travels as a form field
    TEMPLATES_AUTO_RELOAD = None
    # Flask-Compress: every text response in brotli (or gzip for the few browsers
    # without it); static files too, as they stream. Behind Caddy this stays on:
    # Caddy passes compressed answers through and compresses only what it serves itself.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "gzip"]
    COMPRESS_BR_LEVEL = 5  # brotli's speed drops steeply after 5; pages are small


def secret_key(instance_path: Path) -> str:
    """Read the generated secret key from the instance folder, creating it once."""
    path = instance_path / "secret_key"
    if not path.exists():
        # Written aside and linked into place, so that two workers starting at
        # once agree on one key and never read a half-written file.
        tmp = path.with_name(f"secret_key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
