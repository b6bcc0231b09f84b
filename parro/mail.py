"""The outbox: mail is queued in the caller's transaction and delivered afterwards.

queue_mail() adds a row; nothing talks to a mail server inside a request. The
sender claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single
writer does the same), delivers them over one SMTP connection outside any
transaction and marks each one sent, or schedules a retry with back-off.
Several processes may run a sender at once: a claim is a lease, so every mail
goes out once.
"""

from __future__ import annotations

import email.policy
import logging
import re
import smtplib
import threading
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import event, or_, select

from .clock import now
from .database import writer_transactions
from .extensions import db
from .models import OutboxMail, School
from .models.outbox import Delivery
from .theme.colour import brand
from .user_text import render_text

log = logging.getLogger(__name__)

# A claim is a lease: a sender that died gives its mails back after this.
CLAIM = timedelta(minutes=15)
BATCH = 20


CURRENT = object()  # queue_mail's school: the current one (a request's, else the first)


def queue_mail(
    recipient: str, subject, template: str, locale: str = "nl", send_after=None,
    unsubscribe_url: str | None = None, school=CURRENT, **context
) -> None:
    """Queue a mail rendered from templates/email/<template>.txt (and .html if present).

    Everything is rendered in the recipient's language: pass the subject as a
    lazy string (`_l("Welkom bij {school}")`); `{name}` fields are filled from
    the context. Templates get only this context, `base_url` and `school_name`,
    not the page layout's, so mail can also be queued outside a request (CLI,
    sender thread). Without an .html template the HTML part is the text in the
    school's layout (templates/email/_layout.html). `send_after` (an aware
    datetime) holds the mail back until then (staff quiet hours).
    `unsubscribe_url` makes it a notification mail: List-Unsubscribe with
    one-click POST (RFC 8058) and a line at the end that offers the same.
    `school`: the school the mail is about (the post's, the child's, the activity's), whose
    name signs it and whose colour it has; None for the board's neutral "parro". By
    default the current school, which outside a request is the first: a mail queued from
    the command line (digests, reminders) must say.
    """
    from .policy import current_school

    env = current_app.jinja_env
    if school is CURRENT:
        school = current_school()
    colour = brand(school.colour if school else None)
    with force_locale(locale):
        context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
        context.setdefault("school_name", school.name if school else "parro")
        body_text = env.get_template(f"email/{template}.txt").render(context)
        # One line, whatever a name in it holds (a school name saved with a line break
        # before forms refused them): a header with a line break can never be sent.
        subject = " ".join(str(subject).format(**context).split())
        html_name = f"email/{template}.html"
        body_html = env.get_template(
            html_name if html_name in env.list_templates() else "email/_layout.html"
        ).render(context, subject=subject, body=text_to_html(body_text, colour), colour=colour,
                 locale=locale, unsubscribe_url=unsubscribe_url)
        if unsubscribe_url:
            body_text += "\n\n-- \n" + _("Deze e-mails niet meer ontvangen? Met één klik:")
            body_text += f"\n{unsubscribe_url}\n"
    headers = None
    if unsubscribe_url:
        headers = {"List-Unsubscribe": f"<{unsubscribe_url}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    mail = OutboxMail(recipient=recipient, subject=subject, body_text=body_text,
                      body_html=body_html, headers=headers)
    if send_after is not None:
        mail.next_attempt_at = send_after
    db.session.add(mail)
    wake_sender_after_commit()


def school_of(school_ids) -> School | None:
    """The school a mail about these schools' things is signed with: theirs when they are
    all of one school, else none (the board's neutral "parro")."""
    ids = set(school_ids)
    return db.session.get(School, ids.pop()) if len(ids) == 1 else None


def account_school(user) -> School | None:
    """The school an account-level mail (a password reset, a daily digest) is signed with:
    the user's one school; none for a user of several (or a board admin)."""
    from .policy import school_ids

    return school_of(school_ids(user))


def text_to_html(text: str, colour: str) -> Markup:
    """A mail's text as HTML: paragraphs at blank lines, line breaks kept, links clickable.

    Inline styles only: mail programs drop <style> blocks and classes.
    """
    blocks = [b.strip("\n") for b in re.split(r"\n[ \t]*\n", text.strip()) if b.strip()]
    paragraph = Markup('<p style="margin:16px 0;">{}</p>')
    return Markup("\n").join(
        paragraph.format(render_text(b, link_style=f"color:{colour};")) for b in blocks)


# -- delivery -----------------------------------------------------------------


def claim(model: type[Delivery], limit: int, lease: timedelta) -> list[int]:
    """Take up to `limit` due rows of an outbox (OutboxMail, PushMessage) for this sender
    and commit the claim: a lease of `lease`, after which a sender that died gives them back."""
    db.session.commit()  # a snapshot read before would hide what came due since
    with writer_transactions():
        moment = now()
        rows = list(db.session.scalars(
            select(model)
            .where(
                model.sent_at.is_(None),
                model.failed_at.is_(None),
                model.next_attempt_at <= moment,
                or_(model.claimed_until.is_(None), model.claimed_until < moment),
            )
            .order_by(model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ))
        for row in rows:
            row.claimed_until = moment + lease
        ids = [row.id for row in rows]
        db.session.commit()
        return ids


def claim_due(limit: int = BATCH) -> list[int]:
    """Take up to `limit` due mails for this sender and commit the claim."""
    return claim(OutboxMail, limit, CLAIM)


def message_of(row: OutboxMail) -> EmailMessage:
    """The mail as it goes out: multipart/alternative, a plain-text and an HTML part.

    Python's email package with its SMTP policy writes the headers (a long
    non-ASCII subject folds without losing a space). Message-ID uses the domain
    of PARRO_BASE_URL and is the same on every try; Auto-Submitted tells
    auto-responders not to answer (RFC 3834). A header with a line break raises
    ValueError: such a mail can never be sent.
    """
    cfg = current_app.config
    domain = urlsplit(cfg["BASE_URL"]).hostname or "localhost"
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = row.subject
    message["From"] = cfg["MAIL_DEFAULT_SENDER"]
    message["To"] = row.recipient
    message["Date"] = format_datetime(now())
    message["Message-ID"] = f"<parro.{row.id}.{row.created_at:%Y%m%d%H%M%S%f}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.body_text)
    message.add_alternative(row.body_html or _plain_layout(row), subtype="html")
    return message


def _plain_layout(row: OutboxMail) -> str:
    """The HTML part of a mail queued without one (rows from before HTML parts)."""
    return current_app.jinja_env.get_template("email/_layout.html").render(
        subject=row.subject, body=text_to_html(row.body_text, brand(None)), colour=brand(None),
        locale="nl", school_name="parro", unsubscribe_url=None)


@contextmanager
def _connection():
    """One SMTP connection for a batch (with a timeout on every socket operation), or none
    when mail goes to .eml files."""
    cfg = current_app.config
    if not cfg["MAIL_SERVER"]:
        yield None
        return
    cls = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with cls(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as host:
        if cfg["MAIL_USE_TLS"]:
            host.starttls()
        if cfg["MAIL_USERNAME"] and cfg["MAIL_PASSWORD"]:
            host.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        yield host


def _deliver(host: smtplib.SMTP | None, mail_id: int, message: EmailMessage) -> None:
    if host is not None:
        host.send_message(message)
    else:
        folder = Path(current_app.config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{mail_id:08d}.eml").write_bytes(message.as_bytes())


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most 6 hours between tries."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


# The server refused this one mail (or it could not be written); the connection is
# still good for the next.
_REFUSED = (
    smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError, ValueError
)


def _permanent(exc: Exception) -> bool:
    """A 5xx answer (no such mailbox, ...) will not change by trying again."""
    if isinstance(exc, ValueError):  # a header with a line break: never sendable
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _record(mail_id: int, error: Exception | None) -> None:
    """Write down how one delivery went, in a short transaction of its own."""
    with writer_transactions():
        row = db.session.get(OutboxMail, mail_id)
        row.attempts += 1
        row.claimed_until = None
        if error is None:
            row.sent_at = now()
        else:
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            if _permanent(error) or row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
                row.failed_at = now()
                log.error("mail %s to %s given up: %s", row.id, row.recipient, row.last_error)
            else:
                row.next_attempt_at = now() + backoff(row.attempts)
                log.warning("mail %s to %s failed, will retry: %s", row.id, row.recipient, error)
        db.session.commit()


def _built(row: OutboxMail) -> EmailMessage | ValueError:
    try:
        return message_of(row)
    except ValueError as exc:  # recorded as this mail's failure, the others go on
        return exc


def send_pending(limit: int = BATCH) -> tuple[int, int]:
    """Deliver what is due over one connection. Returns (sent, failed) for this round."""
    ids = claim_due(limit)
    if not ids:
        return 0, 0
    query = select(OutboxMail).where(OutboxMail.id.in_(ids)).order_by(OutboxMail.id)
    mails = [(row.id, _built(row)) for row in db.session.scalars(query)]
    # No transaction stays open while we talk to the mail server: on SQLite it
    # would hold the write lock, and every request that writes would wait.
    db.session.rollback()
    results: dict[int, Exception | None] = {}
    try:
        with _connection() as conn:
            for mail_id, message in mails:
                try:
                    if isinstance(message, Exception):
                        raise message
                    _deliver(conn, mail_id, message)
                except _REFUSED as exc:
                    results[mail_id] = exc
                else:
                    results[mail_id] = None
                _record(mail_id, results[mail_id])
    except Exception as exc:  # no server, a timeout, a broken connection: the rest waits
        db.session.rollback()
        for mail_id, _ in mails:
            if mail_id not in results:
                results[mail_id] = exc
                _record(mail_id, exc)
    sent = sum(1 for error in results.values() if error is None)
    return sent, len(results) - sent


def send_all() -> tuple[int, int]:
    """Deliver everything due now (for the CLI and tests)."""
    total_sent = total_failed = 0
    while True:
        sent, failed = send_pending()
        total_sent += sent
        total_failed += failed
        if sent + failed == 0:
            return total_sent, total_failed


# -- the background sender ----------------------------------------------------


class Sender:
    """A thread in the web process that delivers the outbox (mail, and the rounds
    registered with register_round(): push).

    It wakes when a transaction that queued mail commits, and every
    MAIL_SENDER_POLL_SECONDS (30) for retries that have come due.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self.thread is None:
                self.wake.set()  # mail may be waiting from before this process
                self.thread = threading.Thread(target=self._run, name="outbox", daemon=True)
                self.thread.start()

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait(timeout=self.app.config["MAIL_SENDER_POLL_SECONDS"])
            self.wake.clear()
            if self.stopping.is_set():
                break
            for deliver in [send_all, *self.app.extensions.get("parro_outbox_rounds", [])]:
                with self.app.app_context():
                    try:
                        deliver()
                    except Exception:  # the loop must survive a database hiccup
                        log.exception("outbox sender round failed")
                        db.session.rollback()
                    finally:
                        db.session.remove()


def register_round(app: Flask, deliver) -> None:
    """Have the sender thread also run `deliver()` at each wake-up (the push outbox)."""
    app.extensions.setdefault("parro_outbox_rounds", []).append(deliver)


def wake_sender_after_commit() -> None:
    """Wake this process's sender when the current transaction commits."""
    sender = current_app.extensions.get("parro_outbox")
    session = db.session()
    if sender is None or session.info.get("mail_wake_hooked"):
        return
    session.info["mail_wake_hooked"] = True

    @event.listens_for(session, "after_commit", once=True)
    def _after_commit(s):
        s.info.pop("mail_wake_hooked", None)
        sender.wake.set()


def init_app(app: Flask) -> None:
    if not app.config["MAIL_SENDER_THREAD"]:
        return
    sender = app.extensions["parro_outbox"] = Sender(app)

    @app.before_request
    def _start_sender():
        # Started on the first request, so CLI commands and gunicorn's master
        # never run one; each worker process gets its own.
        if sender.thread is None:
            sender.start()
