"""The outbox: mail is queued in the caller's transaction and delivered afterwards.

queue_mail() adds a row; nothing talks to a mail server inside a request. The
sender claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single
writer does the same), delivers them over one SMTP connection outside any
transaction and marks each one sent, or schedules a retry with back-off.
Several processes may run a sender at once: a claim is a lease, so every mail
goes out once.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import event, or_, select

from .clock import now
from .database import writer_transactions
from .extensions import db
from .models import OutboxMail

log = logging.getLogger(__name__)

# A claim is a lease: a sender that died gives its mails back after this.
CLAIM = timedelta(minutes=15)
BATCH = 20


def queue_mail(
    recipient: str, subject, template: str, locale: str = "nl", send_after=None, **context
) -> None:
    """Queue a mail rendered from templates/email/<template>.txt (and .html if present).

    Everything is rendered in the recipient's language: pass the subject as a
    lazy string (`_l("Welkom bij {school}")`); `{name}` fields are filled from
    the context. Templates get only this context and `base_url`, not the page
    layout's, so mail can also be queued outside a request (CLI, sender thread).
    `send_after` (an aware datetime) holds the mail back until then (staff quiet hours).
    """
    env = current_app.jinja_env
    with force_locale(locale):
        context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
        body_text = env.get_template(f"email/{template}.txt").render(context)
        html_name = f"email/{template}.html"
        body_html = (
            env.get_template(html_name).render(context)
            if html_name in env.list_templates()
            else None
        )
        subject = str(subject).format(**context)
    mail = OutboxMail(recipient=recipient, subject=subject,
                      body_text=body_text, body_html=body_html)
    if send_after is not None:
        mail.next_attempt_at = send_after
    db.session.add(mail)
    _wake_after_commit()


# -- delivery -----------------------------------------------------------------


class _TimeoutConnection(Connection):
    """Flask-Mail's connection with a socket timeout (it has none of its own)."""

    def configure_host(self):
        m = self.mail
        timeout = current_app.config["MAIL_TIMEOUT"]
        cls = smtplib.SMTP_SSL if m.use_ssl else smtplib.SMTP
        host = cls(m.server, m.port, timeout=timeout)
        if m.use_tls:
            host.starttls()
        if m.username and m.password:
            host.login(m.username, m.password)
        return host


def claim_due(limit: int = BATCH) -> list[int]:
    """Take up to `limit` due mails for this sender and commit the claim."""
    with writer_transactions():
        return _claim(limit)


def _claim(limit: int) -> list[int]:
    moment = now()
    query = (
        select(OutboxMail)
        .where(
            OutboxMail.sent_at.is_(None),
            OutboxMail.failed_at.is_(None),
            OutboxMail.next_attempt_at <= moment,
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < moment),
        )
        .order_by(OutboxMail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(db.session.scalars(query))
    for row in rows:
        row.claimed_until = moment + CLAIM
    ids = [row.id for row in rows]
    db.session.commit()
    return ids


def _message(row: OutboxMail) -> Message:
    return Message(
        subject=row.subject,
        recipients=[row.recipient],
        body=row.body_text,
        html=row.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )


def _connection():
    """One SMTP connection for a batch, or none when mail goes to .eml files."""
    if current_app.config["MAIL_SERVER"]:
        return _TimeoutConnection(current_app.extensions["mail"])
    return nullcontext()


def _deliver(conn: Connection | None, mail_id: int, message: Message) -> None:
    if conn is not None:
        conn.send(message)
    else:
        folder = Path(current_app.config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{mail_id:08d}.eml").write_bytes(message.as_bytes())


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most 6 hours between tries."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


# The server refused this one mail; the connection is still good for the next.
_REFUSED = (
    smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError, BadHeaderError
)


def _permanent(exc: Exception) -> bool:
    """A 5xx answer (no such mailbox, ...) will not change by trying again."""
    if isinstance(exc, BadHeaderError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _record(mail_id: int, error: Exception | None) -> None:
    """Write down how one delivery went, in a short transaction of its own."""
    with writer_transactions():
        _record_result(mail_id, error)


def _record_result(mail_id: int, error: Exception | None) -> None:
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


def send_pending(limit: int = BATCH) -> tuple[int, int]:
    """Deliver what is due over one connection. Returns (sent, failed) for this round."""
    ids = claim_due(limit)
    if not ids:
        return 0, 0
    query = select(OutboxMail).where(OutboxMail.id.in_(ids)).order_by(OutboxMail.id)
    mails = [(row.id, _message(row)) for row in db.session.scalars(query)]
    # No transaction stays open while we talk to the mail server: on SQLite it
    # would hold the write lock, and every request that writes would wait.
    db.session.rollback()
    results: dict[int, Exception | None] = {}
    try:
        with _connection() as conn:
            for mail_id, message in mails:
                try:
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
    """A thread in the web process that delivers the outbox.

    It wakes when a transaction that queued mail commits, and every 30 seconds
    for retries that have come due.
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
            self.wake.wait(timeout=30)
            self.wake.clear()
            if self.stopping.is_set():
                break
            with self.app.app_context():
                try:
                    send_all()
                except Exception:  # the loop must survive a database hiccup
                    log.exception("outbox sender round failed")
                    db.session.rollback()
                finally:
                    db.session.remove()


def _wake_after_commit() -> None:
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
