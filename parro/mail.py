"""The outbox: mail is queued in the caller's transaction and delivered afterwards.

queue_mail() adds a row; nothing talks to a mail server inside a request. The
sender claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single
writer does the same), delivers them outside any transaction and marks each
one sent, or schedules a retry with back-off. Several processes may run a
sender at once: a claim is a lease, so every mail goes out once.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from flask_mail import Connection, Message
from sqlalchemy import event, or_, select

from .clock import now
from .extensions import db
from .models import OutboxMail

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=5)
BATCH = 20


def queue_mail(recipient: str, subject, template: str, locale: str = "nl", **context) -> None:
    """Queue a mail rendered from templates/email/<template>.txt (and .html if present).

    Everything is rendered in the recipient's language: pass the subject as a
    lazy string (`_l("Welkom bij {school}")`); `{name}` fields are filled from
    the context.
    """
    with force_locale(locale):
        context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
        body_text = render_template(f"email/{template}.txt", **context)
        html_name = f"email/{template}.html"
        body_html = (
            render_template(html_name, **context)
            if html_name in current_app.jinja_env.list_templates()
            else None
        )
        subject = str(subject).format(**context)
    db.session.add(
        OutboxMail(recipient=recipient, subject=subject, body_text=body_text, body_html=body_html)
    )
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


def _deliver(row: OutboxMail) -> None:
    cfg = current_app.config
    msg = Message(
        subject=row.subject,
        recipients=[row.recipient],
        body=row.body_text,
        html=row.body_html,
        sender=cfg["MAIL_DEFAULT_SENDER"],
    )
    if cfg["MAIL_SERVER"]:
        with _TimeoutConnection(current_app.extensions["mail"]) as conn:
            conn.send(msg)
    else:
        folder = Path(cfg["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{row.id:08d}.eml").write_bytes(msg.as_bytes())


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most 6 hours between tries."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


def send_pending(limit: int = BATCH) -> tuple[int, int]:
    """Deliver what is due. Returns (sent, failed) for this round."""
    sent = failed = 0
    for mail_id in claim_due(limit):
        row = db.session.get(OutboxMail, mail_id)
        try:
            _deliver(row)
        except Exception as exc:  # any failure: keep the mail, try again later
            failed += 1
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            row.claimed_until = None
            if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
                row.failed_at = now()
                log.error("mail %s to %s given up: %s", row.id, row.recipient, row.last_error)
            else:
                row.next_attempt_at = now() + backoff(row.attempts)
                log.warning("mail %s to %s failed, retrying: %s", row.id, row.recipient, exc)
        else:
            sent += 1
            row.attempts += 1
            row.sent_at = now()
            row.claimed_until = None
        db.session.commit()
    return sent, failed


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

_wake = threading.Event()
_started = False
_start_lock = threading.Lock()


def _wake_after_commit() -> None:
    session = db.session()
    if not session.info.get("mail_wake_hooked"):
        session.info["mail_wake_hooked"] = True

        @event.listens_for(session, "after_commit", once=True)
        def _after_commit(s):
            s.info.pop("mail_wake_hooked", None)
            _wake.set()


def _sender_loop(app: Flask) -> None:
    while True:
        _wake.wait(timeout=30)
        _wake.clear()
        with app.app_context():
            try:
                send_all()
            except Exception:  # the loop must survive a database hiccup
                log.exception("outbox sender round failed")
                db.session.rollback()
            finally:
                db.session.remove()


def init_app(app: Flask) -> None:
    if not app.config["MAIL_SENDER_THREAD"]:
        return

    @app.before_request
    def _start_sender():
        # Started on the first request, so CLI commands and gunicorn's master
        # never run one; each worker process gets its own.
        global _started
        if _started:
            return
        with _start_lock:
            if not _started:
                threading.Thread(
                    target=_sender_loop, args=(app,), name="outbox", daemon=True
                ).start()
                _started = True
